"""Simulate federated training of a graph file (its `federated` settings) headless.

`deepwire federate FILE [--rounds N] [--clients N] [-o DIR] [-q]`.

Runs the same `federated` run kind as the app, so the same seed gives the
same numbers. Prints a line per round to stderr and a summary to stdout, and
saves DIR/model.keras (the final global model) and DIR/federated.json (the
per-round history, the baseline, class counts per client, epsilon and the
membership-inference AUC). Ctrl-C stops after the current round and keeps the
rounds done.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from graph.cli.outputs import (
    OutputRefusedError,
    add_force_argument,
    check_output_folder,
    json_file,
    keras_file,
)
from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    load,
    make_output_dir,
    tensorflow_command,
)
from runtime.cli.recording import add_runs_dir_argument, command_journal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument("--rounds", type=int, help="override the graph's federated rounds")
    parser.add_argument("--clients", type=int, help="override the graph's federated clients")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="folder for model.keras and federated.json (default: FILE's name + _federated)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_force_argument(parser)
    add_runs_dir_argument(parser)


def federate(file: Path, overrides: dict, on_event, quiet: bool = False, journal=None) -> object:
    """Runs the `federated` kind on `file` with the CLI's run loop (Ctrl-C stops at a round end).

    `journal` (runtime.runs.recording.RunJournal) records the run when given.

    Returns:
        The run's outcome (runtime.runs.kinds.federated.FederatedOutcome).

    Raises:
        CommandError: when the run fails or ends without a round.
    """
    from runtime.cli.loop import drive
    from runtime.events import RunFailed
    from runtime.runs.base import RunRequest

    request = RunRequest(
        "federated",
        file.read_text(encoding="utf-8"),
        file.resolve().parent,
        {"federated": overrides},
    )
    ended = drive(request, on_event, quiet, journal)
    if isinstance(ended, RunFailed):
        raise CommandError(f"{file}: {ended.message}", ended.exit_code)
    return ended.result


def _print_event(event: object) -> None:
    from runtime.events import RoundEnd
    from runtime.federated.events import BaselineEpochEnd, FederationPlanned

    if isinstance(event, FederationPlanned):
        sizes = [sum(counts) for counts in event.class_counts]
        print(f"{len(sizes)} clients holding {min(sizes)} to {max(sizes)} samples", file=sys.stderr)
    elif isinstance(event, BaselineEpochEnd):
        print(
            f"baseline epoch {event.epoch}/{event.epochs}  {_format(event.logs)}", file=sys.stderr
        )
    elif isinstance(event, RoundEnd):
        print(f"round {event.round}/{event.rounds}  {_format(event.logs)}", file=sys.stderr)


def _format(logs: dict) -> str:
    return "  ".join(f"{name} {value:.4f}" for name, value in logs.items())


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from graph.atomic import write_text
    from runtime.saving import save_keras_model
    from runtime.training_process import rebuild_model

    overrides = {}
    for name in ("rounds", "clients"):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise CommandError(f"--{name} must be at least 1. Received: {value}")
            overrides[name] = value
    output = args.output or Path(f"{args.file.stem}_federated")
    outputs = {"model.keras": keras_file, "federated.json": json_file}
    try:
        check_output_folder(output, [args.file], outputs, args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    graph, dataset = load(args.file)
    output = make_output_dir(output)
    journal = command_journal(args.runs_dir, args.file)
    outcome = federate(args.file, overrides, _print_event, args.quiet, journal)
    federated = outcome.federated
    summary = _summary(federated)
    for name, value in summary.items():
        print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")
    graph.settings["federated"] = federated.settings
    model = rebuild_model(graph, dataset, federated.weights)
    try:
        save_keras_model(model, output / "model.keras")
        report = {
            "summary": summary,
            "history": federated.history,
            "baseline_history": federated.baseline_history,
            "class_counts": federated.class_counts,
            "client_sizes": federated.client_sizes,
            "settings": federated.settings,
        }
        write_text(output / "federated.json", json.dumps(_finite(report), indent=2) + "\n")
    except OSError as error:
        raise CommandError(f"{output}: cannot be written ({error.strerror})", EXIT_FILE) from None
    print(f"wrote {output / 'model.keras'} and {output / 'federated.json'}", file=sys.stderr)
    return 0


def _summary(federated) -> dict:
    summary: dict = {"rounds": federated.rounds_done}
    summary.update({f"test_{k}": v for k, v in federated.test_logs.items()})
    summary.update({f"baseline_test_{k}": v for k, v in federated.baseline_test_logs.items()})
    if "epsilon" in federated.history:
        summary["epsilon"] = federated.history["epsilon"][-1]
        summary["delta"] = federated.settings["delta"]
    if federated.membership_auc is not None:
        summary["membership_inference_auc"] = federated.membership_auc
    summary["bytes_per_client_round"] = federated.bytes_per_client_round
    return summary


def _finite(value):
    """JSON has no infinity or NaN: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
