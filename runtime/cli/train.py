"""Train a graph file on its dataset.

`deepwire train FILE [--epochs N] [-o DIR]`.

Prints the estimated time per epoch (timed once per graph and machine, then
cached) and progress to stderr, neither with `-q`, and a metrics table of the
test split to stdout; then saves DIR/model.keras and DIR/metrics.json (history,
test metrics, diagnosis). Same seed, same numbers as the app. The run is also recorded in
the run store (`--runs-dir`; see `deepwire runs FILE`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graph import atomic
from graph.cli.outputs import (
    OutputRefusedError,
    add_force_argument,
    check_output_folder,
    json_file,
    keras_file,
)
from graph.messages import first_line
from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    load_valid_graph,
    make_output_dir,
    tensorflow_command,
    train,
)
from runtime.cli.cost_warning import warn_about_memory
from runtime.cli.recording import RunRecorder, add_runs_dir_argument

# What the command writes in its folder, and how an earlier run's copy is recognised.
OUTPUTS = {"model.keras": keras_file, "metrics.json": json_file}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument("--epochs", type=int, help="override the graph's epochs")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="folder for model.keras and metrics.json (default: FILE's name + _run)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_force_argument(parser)
    add_runs_dir_argument(parser)


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from graph.files import graph_to_yaml
    from runtime.diagnosis import diagnose, one_class_warning
    from runtime.evaluation import evaluate
    from runtime.run_store import FAILED, FINISHED, STOPPED
    from runtime.saving import save_keras_model

    if args.epochs is not None and args.epochs < 1:
        raise CommandError(f"--epochs must be at least 1. Received: {args.epochs}")
    output = args.output or Path(f"{args.file.stem}_run")
    try:
        check_output_folder(output, [args.file], OUTPUTS, args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    graph = load_valid_graph(args.file)
    warn_about_memory(graph)
    output = make_output_dir(output)
    recorder = RunRecorder(
        args.runs_dir, args.file, "train", graph_to_yaml(graph), {"epochs": args.epochs}
    )
    try:
        result, dataset = train(
            graph, args.file.resolve().parent, args.epochs, args.quiet, estimate_time=not args.quiet
        )
    except CommandError as error:
        recorder.finish(FAILED, message=str(error))
        raise
    model_path, metrics_path = output / "model.keras", output / "metrics.json"
    try:
        report = evaluate(result.model, dataset)
    except Exception as error:  # the model is trained: keep it, then say what failed
        raise _evaluation_failed(error, result, model_path, recorder) from None
    recorder.finish(
        STOPPED if result.stopped_by_user else FINISHED,
        epochs=result.history,
        final_metrics=dict(report.metrics),
        model=result.model,
    )
    diagnosis = diagnose(result.history, report)
    print(f"test metrics ({len(dataset.x_test)} samples):")
    print(report.table())
    print()
    print(diagnosis)
    if one_class_warning(report):
        print("warning: every test prediction is the same class (see above)", file=sys.stderr)
    metrics = {
        "graph": str(args.file),
        "dataset": dataset.describe(),
        "epochs_run": len(result.history.get("loss", [])),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "history": result.history,
        "test": report.to_dict(),
        "diagnosis": diagnosis,
    }
    try:
        save_keras_model(result.model, model_path)
        atomic.write_text(metrics_path, json.dumps(metrics, indent=2) + "\n")
    except OSError as error:
        raise CommandError(f"{output}: cannot save the results ({error})", EXIT_FILE) from None
    print(f"saved {model_path} and {metrics_path}", file=sys.stderr)
    return 0


def _evaluation_failed(error, result, model_path, recorder) -> CommandError:
    """The error to end with when the trained model's evaluation fails; the model is saved first.

    The run is recorded as failed, with its history and weights: training is not lost.
    """
    from runtime.run_store import FAILED
    from runtime.saving import save_keras_model

    reason = f"{type(error).__name__}: {first_line(error)}"
    try:
        save_keras_model(result.model, model_path)
        kept = f"the trained model is saved as {model_path}"
    except OSError as save_error:
        kept = f"the trained model could not be saved either ({save_error})"
    message = f"the model trained, but evaluating it on the test split failed ({reason}); {kept}"
    recorder.finish(FAILED, message=message, epochs=result.history, model=result.model)
    return CommandError(message)
