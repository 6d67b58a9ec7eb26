"""Export a trained model for deployment.

`deepwire deploy FILE --format keras|saved_model|tflite|onnx|all [-o DIR]`.

Trains the graph first (or takes `--model model.keras`), then exports each
format, verifies it by loading it back with its own runtime and comparing
outputs with the Keras model on test samples, and prints file size, single
sample latency (p50/p95) and batch throughput.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.cli.outputs import (
    OutputRefusedError,
    add_force_argument,
    check_output_folder,
    keras_file,
    onnx_file,
    saved_model_folder,
    tflite_file,
)
from graph.input_files import InputFileError, check_model_file
from graph.messages import first_line
from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    fail,
    load,
    load_valid_graph,
    make_output_dir,
    start_tensorflow,
)

FORMATS = ("keras", "saved_model", "tflite", "onnx")
# How an earlier export of each format is recognised (rewriting it needs no --force).
RECOGNISERS = {
    "keras": keras_file,
    "saved_model": saved_model_folder,
    "tflite": tflite_file,
    "onnx": onnx_file,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument(
        "--format",
        nargs="+",
        choices=(*FORMATS, "all"),
        default=["keras"],
        help="formats to export (default keras)",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="DIR", help="folder to write to")
    parser.add_argument("--model", type=Path, help="a trained .keras model instead of training")
    parser.add_argument("--epochs", type=int, help="override the graph's epochs when training")
    parser.add_argument("-q", "--quiet", action="store_true", help="no training progress")
    add_force_argument(parser)


def run(args: argparse.Namespace) -> int:
    start_tensorflow()
    try:
        return _run(args)
    except CommandError as error:
        return fail(error)


def _load_model(path: Path):
    import keras

    try:
        check_model_file(path)
    except InputFileError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        first = first_line(error)
        raise CommandError(f"{path}: not a loadable Keras model ({first})", EXIT_FILE) from None


def _run(args: argparse.Namespace) -> int:
    from runtime.cli.common import train
    from runtime.data import model_inputs
    from runtime.deploy import HEADER, DeployError, export_model, export_path, keras_latency

    formats = FORMATS if "all" in args.format else tuple(dict.fromkeys(args.format))
    output = args.output or Path(f"{args.file.stem}_deploy")
    files = {export_path(output, "model", fmt).name: RECOGNISERS[fmt] for fmt in formats}
    try:
        check_output_folder(output, [args.file, args.model], files, args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    if args.model is not None:
        graph, dataset = load(args.file)
        model = _load_model(args.model)
    else:
        graph = load_valid_graph(args.file)
        trained, dataset = train(graph, args.file.resolve().parent, args.epochs, args.quiet)
        model = trained.model
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
    try:
        sample = model_inputs(dataset.x_test[:8], shapes)
    except ValueError as error:
        source = args.model or args.file
        raise CommandError(f"{source}: the model does not fit the data: {error}") from None
    sample = sample if isinstance(sample, list) else [sample]
    output = make_output_dir(output)
    p50, p95, throughput = keras_latency(model)
    print(HEADER)
    print(f"{'(in memory)':<12} {'':>10} {p50:>9.3f} {p95:>9.3f} {throughput:>12,.0f}  keras model")
    failures = 0
    for fmt in formats:
        try:
            report = export_model(model, fmt, export_path(output, "model", fmt), sample)
        except DeployError as error:
            print(f"error: {error}", file=sys.stderr)
            failures += 1
            continue
        print(report.line())
    return 1 if failures else 0
