"""Search hyperparameters of a graph file with Optuna.

`deepwire tune FILE --trials N [-o TUNED.yaml]`.

Prints one line per trial and the best settings, and writes the graph with
the best settings applied to TUNED.yaml (default: FILE's name + _tuned.yaml
beside it); the input file is never overwritten unless -o names it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from graph.cli.outputs import OutputRefusedError, add_force_argument, check_output, graph_file
from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    drive_to_end,
    load_valid_graph,
    tensorflow_command,
)
from runtime.cli.recording import add_runs_dir_argument, command_journal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument(
        "--trials",
        type=int,
        default=10,
        help="trial budget, trial 0 being the graph's own settings (default 10)",
    )
    parser.add_argument(
        "--epochs", type=int, help="epochs per trial (default and most: the graph's)"
    )
    parser.add_argument("-o", "--output", type=Path, metavar="TUNED.yaml", help="tuned graph")
    parser.add_argument(
        "--lr", nargs=2, type=float, metavar=("LOW", "HIGH"), help="learning rate range (log)"
    )
    parser.add_argument("--batch-sizes", nargs="+", type=int, metavar="N", help="batch sizes")
    parser.add_argument("--optimizers", nargs="+", metavar="NAME", help="optimizers to try")
    parser.add_argument("--l1", nargs=2, type=float, metavar=("LOW", "HIGH"), help="L1 range")
    parser.add_argument("--l2", nargs=2, type=float, metavar=("LOW", "HIGH"), help="L2 range")
    parser.add_argument(
        "--dropout", nargs=2, type=float, metavar=("LOW", "HIGH"), help="dropout rate range"
    )
    parser.add_argument(
        "--units", nargs=2, type=int, metavar=("LOW", "HIGH"), help="hidden layer width range"
    )
    parser.add_argument("--no-widths", action="store_true", help="keep layer widths as drawn")
    add_force_argument(parser)
    add_runs_dir_argument(parser)


def _space(args: argparse.Namespace):
    from graph.settings import OPTIMIZERS
    from runtime.tuning import SearchSpace

    defaults = SearchSpace()
    for name in ("lr", "l1", "l2", "dropout", "units"):
        value = getattr(args, name)
        if value is not None and not 0 <= value[0] <= value[1]:
            raise CommandError(f"--{name} needs 0 <= LOW <= HIGH. Received: {value[0]} {value[1]}")
    for name in ("lr", "l1", "l2", "units"):
        value = getattr(args, name)
        if value is not None and value[0] <= 0:
            raise CommandError(f"--{name} is searched on a log scale: LOW must be > 0")
    if args.dropout is not None and args.dropout[1] >= 1:
        raise CommandError(f"--dropout HIGH must be below 1. Received: {args.dropout[1]}")
    unknown = sorted(set(args.optimizers or ()) - set(OPTIMIZERS))
    if unknown:
        raise CommandError(
            f"--optimizers: unknown {', '.join(unknown)} (choose from {', '.join(OPTIMIZERS)})"
        )
    if args.batch_sizes and min(args.batch_sizes) < 1:
        raise CommandError(f"--batch-sizes must be positive. Received: {args.batch_sizes}")
    return SearchSpace(
        learning_rate=tuple(args.lr) if args.lr else defaults.learning_rate,
        batch_sizes=tuple(args.batch_sizes) if args.batch_sizes else defaults.batch_sizes,
        l1=tuple(args.l1) if args.l1 else defaults.l1,
        l2=tuple(args.l2) if args.l2 else defaults.l2,
        dropout=tuple(args.dropout) if args.dropout else defaults.dropout,
        units=tuple(args.units) if args.units else None,
        tune_widths=not args.no_widths,
        optimizers=tuple(args.optimizers) if args.optimizers else defaults.optimizers,
    )


def _format(params: dict) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _print_event(event: object) -> None:
    from runtime.events import TrialFinished, TrialStarted

    if isinstance(event, TrialStarted):
        print(f"trial {event.number}: {_format(event.params)}", file=sys.stderr)
    elif isinstance(event, TrialFinished):
        value = "" if event.value is None else f" loss {event.value:.4f}"
        reason = f": {event.message.splitlines()[0]}" if event.message else ""
        print(f"trial {event.number} {event.state}{value}{reason}", file=sys.stderr)


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from graph.files import graph_to_yaml, save_graph
    from runtime.runs.base import RunRequest
    from runtime.tuning import apply_best

    if args.trials < 1:
        raise CommandError(f"--trials must be at least 1. Received: {args.trials}")
    if args.epochs is not None and args.epochs < 1:
        raise CommandError(f"--epochs must be at least 1. Received: {args.epochs}")
    space = _space(args)
    output = args.output or args.file.with_name(f"{args.file.stem}_tuned.yaml")
    try:
        check_output(output, [args.file], graph_file, "the tuned graph", args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    graph = load_valid_graph(args.file)
    options = {"space": asdict(space), "trials": args.trials, "epochs": args.epochs}
    request = RunRequest("tune", graph_to_yaml(graph), args.file.resolve().parent, options)
    outcome = drive_to_end(request, _print_event, journal=command_journal(args.runs_dir, args.file))
    finished = outcome.result
    if not finished.best_params:
        raise CommandError("no trial completed: nothing to apply (see the trial messages above)")
    print(f"best loss {finished.best_value:.4f} with {_format(finished.best_params)}")
    if not finished.beats_baseline:
        print(
            f"warning: no tuned trial beat the graph's own settings (trial 0, loss "
            f"{finished.baseline_value:.4f}); {output} keeps them",
            file=sys.stderr,
        )
    graph.apply(apply_best(graph, finished.best_params))
    try:
        save_graph(graph, output)
    except OSError as error:
        raise CommandError(f"{output}: cannot be written ({error.strerror})", EXIT_FILE) from None
    print(f"wrote {output}", file=sys.stderr)
    return 0
