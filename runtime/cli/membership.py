"""Check whether a trained model leaks which samples it trained on (membership inference).

`deepwire membership FILE --model MODEL.keras`: loads FILE's dataset (the same
split as training), scores the model's loss on training and test samples and
prints the loss-threshold attack's AUC (0.5: no better than a coin flip).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runtime.cli.common import EXIT_FILE, CommandError, load, tensorflow_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml) the model was trained from")
    parser.add_argument(
        "--model", type=Path, required=True, metavar="MODEL.keras", help="the trained model"
    )


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from runtime.cli.loop import drive
    from runtime.events import RunFailed
    from runtime.runs.base import RunRequest

    if not args.model.is_file():
        raise CommandError(f"{args.model}: file not found", EXIT_FILE)
    load(args.file)  # checks the graph file and its data first, with their messages
    request = RunRequest(
        "membership",
        args.file.read_text(encoding="utf-8"),
        args.file.resolve().parent,
        {"model_path": str(args.model)},
    )
    ended = drive(request, quiet=True)
    if isinstance(ended, RunFailed):
        raise CommandError(f"{args.file}: {ended.message}", ended.exit_code)
    report = ended.result
    print(f"membership inference AUC: {report.auc:.4f} ({report.samples} samples per group)")
    print(report.explanation)
    return 0
