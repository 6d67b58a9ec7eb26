"""Compress a trained model: quantized and pruned variants, each measured against the float model.

`deepwire compress FILE [--weights model.keras] [--variants ...] [--sparsity 0.5] [-o DIR]`.

Without --weights the graph is trained first. Each variant is scored on the
test split like the float model (accuracy, or MSE for regression), with its
file size and single-sample latency p50/p95; a '!' marks one that lost more
than 1 accuracy point (1% more error). Writes the variants and
DIR/compression.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from graph.cli.outputs import (
    OutputRefusedError,
    add_force_argument,
    check_output_folder,
    json_file,
    keras_file,
    tflite_file,
)
from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    drive_to_end,
    load_valid_graph,
    print_progress_text,
    tensorflow_command,
)

VARIANTS = ("tflite_dynamic", "tflite_int8", "tflite_float16", "keras_int8", "pruned")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument("--weights", type=Path, help="the trained model (.keras); else train first")
    parser.add_argument(
        "--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS), help="what to make"
    )
    parser.add_argument(
        "--sparsity", type=float, default=0.5, help="share of weights pruned, in (0, 1)"
    )
    parser.add_argument("--fine-tune-epochs", type=int, default=2, help="epochs while pruning")
    parser.add_argument(
        "--representative", type=Path, help="a .npy of samples calibrating tflite_int8"
    )
    parser.add_argument("-o", "--output", type=Path, metavar="DIR", help="folder to write to")
    add_force_argument(parser)


def _outputs(variants) -> dict:
    """The files the command writes in its folder, each with how its own copy is recognised."""
    from runtime.compression.files import FLOAT_MODEL, variant_file, zipped

    files = {FLOAT_MODEL: keras_file, "compression.json": json_file}
    for variant in variants:
        name = variant_file(variant)
        files[name] = keras_file if name.endswith(".keras") else tflite_file
    for name in [name for name in files if name.endswith(".keras")]:
        files[zipped(name)] = zipfile.is_zipfile  # the size measured as shipped
    return files


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from graph.atomic import write_text
    from graph.files import graph_to_yaml
    from runtime.runs import RunRequest

    if "pruned" in args.variants and not 0 < args.sparsity < 1:
        raise CommandError(
            f"--sparsity must lie strictly between 0 and 1. Received: {args.sparsity}", EXIT_FILE
        )
    if args.fine_tune_epochs < 1:
        raise CommandError(
            f"--fine-tune-epochs must be at least 1. Received: {args.fine_tune_epochs}", EXIT_FILE
        )
    output = args.output or Path(f"{args.file.stem}_compressed")
    try:
        check_output_folder(output, [args.file, args.weights], _outputs(args.variants), args.force)
    except OutputRefusedError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    graph = load_valid_graph(args.file)
    options = {
        "output_dir": str(output),
        "variants": list(args.variants),
        "sparsity": args.sparsity,
        "fine_tune_epochs": args.fine_tune_epochs,
    }
    if args.weights:
        options["model_path"] = str(args.weights)
    if args.representative:
        options["representative_path"] = str(args.representative)
    request = RunRequest("compress", graph_to_yaml(graph), args.file.resolve().parent, options)

    result = drive_to_end(request, print_progress_text)
    report = _report(result.result)
    print(report)
    path = output / "compression.json"
    try:
        write_text(path, json.dumps(result.result, indent=2) + "\n")
    except OSError as error:
        raise CommandError(f"{path}: cannot write ({error.strerror})", EXIT_FILE) from None
    print(f"saved the variants and {path}", file=sys.stderr)
    return 0


def _report(data: dict) -> str:
    from runtime.compression import CompressionReport, VariantResult

    fields = VariantResult.__dataclass_fields__
    results = [
        VariantResult(**{k: v for k, v in row.items() if k in fields}) for row in data["variants"]
    ]
    return CompressionReport(results, dict(data["failures"])).table()
