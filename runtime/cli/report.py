"""Write a deployment report: one self-contained HTML page that answers "can this ship?".

`deepwire report FILE [--weights model.keras] -o report.html [--formats ...]
[--compression compression.json] [--privacy privacy.json] [--no-quantize]`.

The page shows the graph, the data and its splits, the training settings and
seed, test metrics per class, the confusion matrix, the cost figures, every
exported format (size, latency, max difference from Keras), the quantized
variants and a privacy section (DP epsilon and membership-inference AUC when
--privacy gives them).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from graph.cli.outputs import OutputRefusedError, add_force_argument, check_output, html_page
from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    drive_to_end,
    load_valid_graph,
    print_progress_text,
    tensorflow_command,
)

FORMATS = ("keras", "saved_model", "tflite", "onnx")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument("--weights", type=Path, help="the trained model (.keras); else train first")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="HTML", help="page to write (default FILE_report.html)"
    )
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=FORMATS,
        default=["keras", "tflite", "onnx"],
        help="export formats to measure",
    )
    parser.add_argument(
        "--compression", type=Path, help="compression.json from `deepwire compress`"
    )
    parser.add_argument(
        "--privacy",
        type=Path,
        help="JSON with dp_used, epsilon, delta, membership_auc, notes (all optional)",
    )
    parser.add_argument(
        "--no-quantize", action="store_true", help="skip measuring quantized variants"
    )
    add_force_argument(parser)


def _json_file(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"{path}: cannot read {what} ({error.strerror})", EXIT_FILE) from None
    except ValueError as error:
        raise CommandError(f"{path}: {what} is not valid JSON ({error})", EXIT_FILE) from None


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from graph.files import graph_to_yaml
    from runtime.runs import RunRequest

    output = args.output or Path(f"{args.file.stem}_report.html")
    inputs = [args.file, args.weights, args.compression, args.privacy]
    try:
        check_output(output, inputs, html_page, "the report page", args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    options: dict = {"formats": list(args.formats), "quantize": not args.no_quantize}
    if args.compression:
        compression = _json_file(args.compression, "the compression results")
        if not isinstance(compression, dict) or not isinstance(compression.get("variants"), list):
            raise CommandError(
                f"{args.compression}: not compression results (expected an object with "
                "'variants', as `deepwire compress` writes)",
                EXIT_FILE,
            )
        options["compression"] = compression
    if args.privacy:
        options["privacy"] = _json_file(args.privacy, "the privacy figures")
    graph = load_valid_graph(args.file)
    options["output_path"] = str(output)
    if args.weights:
        options["model_path"] = str(args.weights)
    request = RunRequest("report", graph_to_yaml(graph), args.file.resolve().parent, options)

    result = drive_to_end(request, print_progress_text)
    print(f"wrote {result.result['path']}")
    return 0
