"""Export a trained model for deployment.

`deepwire deploy FILE --format keras|saved_model|tflite|onnx|all [-o DIR]`.

Drives the `deploy` run kind: trains the graph first (or takes `--model
model.keras`), then exports each format, verifies it by loading it back with
its own runtime and comparing outputs with the Keras model on test samples,
and prints file size, single sample latency (p50/p95) and batch throughput.
Exit codes: 0 every format written; 1 an invalid graph, unusable data, failed
training or a failed format; 2 a bad graph file, --model file or output folder.
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
from runtime.cli.common import (
    EXIT_FAILED,
    EXIT_FILE,
    CommandError,
    Progress,
    drive_to_end,
    load_valid_graph,
    make_output_dir,
    tensorflow_command,
)
from runtime.deploy_report import FORMATS

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


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from graph.files import graph_to_yaml
    from runtime.deploy import export_path
    from runtime.deploy_report import HEADER
    from runtime.runs import RunRequest

    formats = FORMATS if "all" in args.format else tuple(dict.fromkeys(args.format))
    output = args.output or Path(f"{args.file.stem}_deploy")
    files = {export_path(output, "model", fmt).name: RECOGNISERS[fmt] for fmt in formats}
    try:
        check_output_folder(output, [args.file, args.model], files, args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    graph = load_valid_graph(args.file)
    options = {
        "output_dir": str(make_output_dir(output)),
        "formats": list(formats),
        "epochs": args.epochs,
        "keras_baseline": True,
    }
    if args.model is not None:
        options["model_path"] = str(args.model)
    request = RunRequest("deploy", graph_to_yaml(graph), args.file.resolve().parent, options)
    outcome = drive_to_end(request, Progress(), quiet=args.quiet)
    result = outcome.result
    p50, p95, throughput = result.keras_baseline
    print(HEADER)
    print(f"{'(in memory)':<12} {'':>10} {p50:>9.3f} {p95:>9.3f} {throughput:>12,.0f}  keras model")
    for report in result.reports:
        print(report.line())
    for message in result.failures.values():
        print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED if result.failures else 0
