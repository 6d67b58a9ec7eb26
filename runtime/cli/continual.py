"""Learn a sequence of tasks and show what the network forgets.

`deepwire continual FILE --strategy naive|replay|ewc|lwf [--strategy ...] [options]`
learns the task sequence the graph's continual settings describe (options
override them) with each strategy and prints each one's accuracy matrix and
the average accuracy, backward and forward transfer. It runs the app's
`continual` run kind, so the numbers are the app's for the same seed.

`deepwire continual FILE --continue-from model.keras --new-data march.csv`
continues training a trained model (saved by `deepwire train`) on new data,
replaying old samples unless `--no-rehearsal`, and prints accuracy on the old
and new data before and after.

Ctrl-C once stops at the next task boundary and prints what was learned so
far; twice exits at once (runtime.cli.loop).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from graph.cli.outputs import OutputRefusedError, add_force_argument, check_output, json_file
from graph.settings import (
    CONTINUAL_PARAMS,
    CONTINUAL_STRATEGIES,
    STRATEGY_EXPLANATIONS,
    data_settings_at,
)
from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    drive_to_end,
    fail,
    load_valid_graph,
    start_tensorflow,
)
from runtime.cli.recording import add_runs_dir_argument, command_journal
from runtime.events import Progress, RoundEnd

# The continual settings that have a command-line option, as --name-with-dashes.
_SETTING_OPTIONS = (
    "split",
    "classes_per_task",
    "scenario",
    "column",
    "files",
    "buffer_size",
    "buffer_selection",
    "ewc_lambda",
    "fisher_samples",
    "lwf_alpha",
    "lwf_temperature",
    "epochs_per_task",
    "seed",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument(
        "--strategy",
        action="append",
        choices=CONTINUAL_STRATEGIES,
        help="strategy to learn with; repeat to compare several (default: the file's)",
    )
    params = {p.name: p for p in CONTINUAL_PARAMS}
    types = {"int": int, "float": float, "str": str, "choice": str}
    for name in _SETTING_OPTIONS:
        param = params[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=types[param.kind],
            choices=param.choices or None,
            help=f"{param.help} (default: the file's)",
        )
    parser.add_argument(
        "--continue-from",
        type=Path,
        metavar="MODEL",
        help="continue training this trained model (.keras) on --new-data",
    )
    parser.add_argument("--new-data", metavar="PATH", help="the new data file or folder")
    parser.add_argument("--new-dataset", metavar="NAME", help="or a built-in dataset as new data")
    parser.add_argument(
        "--no-rehearsal", action="store_true", help="do not replay old data (see it forget)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the numbers as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_force_argument(parser)
    add_runs_dir_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        if args.json:  # refused before the run, not after it
            _check_json_output(args)
        request = _request(args)
        start_tensorflow()
        outcome = drive_to_end(
            request, _show, args.quiet, command_journal(args.runs_dir, args.file)
        )
        result = outcome.result
        if args.continue_from:
            print(format_continue(result))
            numbers = continue_numbers(result)
        else:
            print(format_sequence(result))
            numbers = sequence_numbers(result)
        if args.json:
            _save_json(args.json, numbers)
        return 0
    except CommandError as error:
        return fail(error)


def _request(args: argparse.Namespace):
    from graph.files import graph_to_yaml
    from runtime.runs import RunRequest

    graph = load_valid_graph(args.file)
    overrides = {
        name: getattr(args, name) for name in _SETTING_OPTIONS if getattr(args, name) is not None
    }
    options: dict = {"settings": overrides}
    if args.strategy:
        options["strategies"] = args.strategy
    if args.continue_from:
        options["continue_from"] = {
            "model_path": str(args.continue_from.resolve()),
            "new_data": _new_data(args),
            "rehearsal": not args.no_rehearsal,
        }
    elif args.new_data or args.new_dataset or args.no_rehearsal:
        raise CommandError("--new-data, --new-dataset and --no-rehearsal need --continue-from")
    return RunRequest("continual", graph_to_yaml(graph), args.file.resolve().parent, options)


def _new_data(args: argparse.Namespace) -> dict:
    if bool(args.new_data) == bool(args.new_dataset):
        raise CommandError("--continue-from needs either --new-data PATH or --new-dataset NAME")
    if args.new_dataset:
        return {"source": "builtin", "name": args.new_dataset}
    return data_settings_at(str(Path(args.new_data).resolve()), None)


def _show(event: object) -> None:
    if isinstance(event, RoundEnd) and "strategy" in event.details:
        row = " ".join(f"{value:.3f}" for value in event.details["row"])
        print(
            f"  task {event.round}/{event.rounds} ({event.details['task']}): accuracies {row}",
            file=sys.stderr,
        )
    elif isinstance(event, Progress) and sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{event.text}")
        sys.stderr.flush()


def _number(value: float) -> str:
    return "   n/a" if math.isnan(value) else f"{value:+.3f}" if value < 0 else f"{value:.3f}"


def format_sequence(run) -> str:
    """Each strategy's accuracy matrix and metrics, as the command prints them."""
    from runtime.continual.metrics import METRIC_EXPLANATIONS, METRIC_TITLES

    names = run.task_names
    width = max(8, *(len(name) + 2 for name in names))
    lines = [f"{run.source}: tasks {', '.join(names)}"]
    for strategy, result in run.results.items():
        lines += ["", f"strategy {strategy}: {STRATEGY_EXPLANATIONS[strategy]}"]
        if result.stopped:
            lines.append(f"(stopped after {len(result.matrix)} of {len(names)} tasks)")
        lines.append("accuracy on each task (columns) after training on each task (rows):")
        lines.append("after".ljust(width) + "".join(name.rjust(width) for name in names))
        for name, row in zip(names, result.matrix, strict=False):
            lines.append(name.ljust(width) + "".join(f"{v:.3f}".rjust(width) for v in row))
        for key, value in result.metrics.items():
            lines.append(
                f"{METRIC_TITLES[key] + ':':<20}{_number(value):>7}   {METRIC_EXPLANATIONS[key]}"
            )
    if run.stopped:
        lines += ["", "stopped before every strategy finished"]
    return "\n".join(lines)


def sequence_numbers(run) -> dict:
    """The numbers of a sequence run as plain JSON data."""
    return {
        "source": run.source,
        "tasks": run.task_names,
        "stopped": run.stopped,
        "strategies": {
            name: {
                "matrix": result.matrix,
                "initial": result.initial,
                "metrics": result.metrics,
                "seconds": result.seconds,
            }
            for name, result in run.results.items()
        },
    }


def format_continue(result) -> str:
    """Old and new accuracy before and after continuing to train."""
    replay = "with rehearsal of old samples" if result.rehearsal else "without rehearsal"
    lines = [
        f"continued training on {result.new_name} {replay}",
        f"{'accuracy':<12}{'before':>8}{'after':>8}",
        f"{'old data':<12}{result.before['old']:>8.3f}{result.after['old']:>8.3f}"
        f"   ({result.old_name})",
        f"{'new data':<12}{result.before['new']:>8.3f}{result.after['new']:>8.3f}"
        f"   ({result.new_name})",
    ]
    return "\n".join(lines)


def continue_numbers(result) -> dict:
    return {
        "old": result.old_name,
        "new": result.new_name,
        "rehearsal": result.rehearsal,
        "before": result.before,
        "after": result.after,
    }


def _check_json_output(args: argparse.Namespace) -> None:
    try:
        inputs = [args.file, args.continue_from]
        check_output(args.json, inputs, json_file, "the numbers as JSON", args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None


def _save_json(path: Path, numbers: dict) -> None:
    from graph.atomic import write_text

    text = json.dumps(numbers, indent=2, allow_nan=True) + "\n"
    try:
        write_text(path, text)
    except OSError as error:
        raise CommandError(f"{path}: cannot save ({error.strerror})", EXIT_FILE) from None
