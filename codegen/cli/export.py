"""Export a graph file as Python code (the model, or a full training script with --script).

Exit codes: 0 exported, 1 the graph is invalid (its problems are listed),
2 the file cannot be read or the output cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codegen.model_code import ExportError
from codegen.python_source import export_model_code, export_training_script
from graph import atomic
from graph.cli.outputs import OutputRefusedError, add_force_argument, check_output, python_export
from graph.files import GraphFileError, load_graph


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml) to export")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="OUT.py", help="write here instead of stdout"
    )
    parser.add_argument(
        "--script",
        action="store_true",
        help="export a full training script (data, compile, fit, evaluate, save)",
    )
    add_force_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        graph = load_graph(args.file)
    except GraphFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if args.script:
            name = args.output.name if args.output else "train.py"
            source = export_training_script(graph, name, args.file.resolve().parent)
        else:
            source = export_model_code(graph)
    except ExportError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(source)
        return 0
    try:
        check_output(args.output, [args.file], python_export, "Python code", args.force)
    except OutputRefusedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        atomic.write_text(args.output, source)
    except OSError as error:
        print(f"error: {args.output}: cannot be written ({error.strerror})", file=sys.stderr)
        return 2
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
