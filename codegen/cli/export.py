"""Export a graph file as Python code (the model, a training script, or a Flower app).

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
    parser.add_argument(
        "--flower",
        type=Path,
        metavar="OUT_DIR",
        help="write a Flower app (federated training on real devices) into OUT_DIR",
    )
    add_force_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        graph = load_graph(args.file)
    except GraphFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.flower is not None:
        return _export_flower(graph, args.file, args.flower)
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


def _export_flower(graph, file: Path, out_dir: Path) -> int:
    from codegen.flower_app import flower_app_files
    from graph.atomic import write_text

    try:
        files = flower_app_files(graph, file.resolve().parent)
    except ExportError as error:
        print(f"{file}: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        for relative, text in files.items():
            path = out_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(path, text)
    except OSError as error:
        print(f"error: {out_dir}: cannot be written ({error.strerror})", file=sys.stderr)
        return 2
    print(f"wrote a Flower app to {out_dir} (see its README.md)", file=sys.stderr)
    return 0
