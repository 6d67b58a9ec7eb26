"""List a graph file's recorded runs, or export one as a reproducibility bundle.

`deepwire runs FILE [--runs-dir DIR]` prints the runs of FILE, newest first:
id, name, when, duration, how it ended and the final metrics, each named
with the split it was measured on ("test accuracy", "last epoch val_loss").
`deepwire runs FILE --bundle RUN_ID -o run.zip` writes that run as one zip
(graph, settings, seeds, versions, metrics, weights and the training script)
that `deepwire reproduce` retrains.
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from pathlib import Path

from graph.cli.exit_codes import EXIT_BAD_FILE as EXIT_FILE
from graph.cli.exit_codes import EXIT_INVALID
from graph.cli.outputs import OutputRefusedError, add_force_argument, check_output
from runtime.cli.recording import add_runs_dir_argument
from runtime.run_store import (
    FAILED,
    RunRecord,
    RunStore,
    RunStoreError,
    default_store_folder,
    graph_key_for,
    labelled_metrics,
)


class CommandError(Exception):
    """One clear message for stderr, and the exit code. (Not runtime.cli.common's:
    that module imports TensorFlow, and listing runs must answer at once.)"""

    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.code = code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml) whose runs to list")
    parser.add_argument("--bundle", metavar="RUN_ID", help="export this run as a bundle")
    parser.add_argument("-o", "--output", type=Path, metavar="ZIP", help="the bundle's path")
    add_runs_dir_argument(parser)
    add_force_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.code


def _run(args: argparse.Namespace) -> int:
    if args.bundle and args.output is None:
        raise CommandError("--bundle needs -o ZIP, the bundle's path", EXIT_FILE)
    if args.output is not None and not args.bundle:
        raise CommandError("-o is the path of a bundle: give --bundle RUN_ID too", EXIT_FILE)
    try:
        store = RunStore.open(args.runs_dir or default_store_folder())
    except RunStoreError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    with store:
        if args.bundle:
            return _bundle(store, args)
        try:
            runs = store.runs_of(graph_key_for(args.file))
        except RunStoreError as error:
            raise CommandError(str(error), EXIT_FILE) from None
        for problem in store.damaged:
            print(f"warning: {problem}; it is left out of the list", file=sys.stderr)
    if not runs:
        if not args.file.is_file():  # a deleted file's runs are still listed, above
            raise CommandError(f"{args.file}: no such file, and no recorded runs", EXIT_FILE)
        print(f"{args.file}: no recorded runs in {store.folder}", file=sys.stderr)
        return 0
    print(runs_table(runs))
    return 0


def _bundle(store: RunStore, args: argparse.Namespace) -> int:
    from runtime.run_bundle import BundleError, training_script, write_bundle

    try:
        run = store.get(args.bundle)
    except RunStoreError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    if run.graph_key != graph_key_for(args.file):
        raise CommandError(f"run {run.id} is a run of {run.graph_key}, not of {args.file}")
    try:
        check_output(args.output, [args.file], _is_bundle, "a run bundle", args.force)
        write_bundle(run, args.output, training_script(run))
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    except BundleError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"{args.output}: cannot write the bundle ({error})", EXIT_FILE) from None
    print(f"saved run {run.id} ({run.name}) as {args.output}", file=sys.stderr)
    return 0


def _is_bundle(path: Path) -> bool:
    """Whether `path` holds a bundle this command wrote (a zip with a run.json)."""
    from runtime.run_bundle import RECORD_MEMBER

    try:
        with zipfile.ZipFile(path) as archive:
            return RECORD_MEMBER in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _ending(run: RunRecord) -> str:
    return f"{run.status}: {run.message}" if run.status == FAILED and run.message else run.status


def runs_table(runs: list[RunRecord]) -> str:
    """A plain-text table of runs: one line each, final metrics last."""
    header = ("id", "name", "started", "duration", "ended", "final metrics")
    rows = [
        (
            run.id,
            ("* " if run.starred else "") + run.name,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)),
            _duration(run.duration),
            _ending(run),
            "  ".join(f"{label} {value:.4f}" for label, value in labelled_metrics(run).items()),
        )
        for run in runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
