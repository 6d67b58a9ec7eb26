"""Turn a saved Keras model (.keras, .h5 or a JSON config) into a graph file.

`deepwire import MODEL [-o graph.yaml] [--blocks] [--fold]`.

Exit codes: 0 imported, 1 the model uses something the catalog lacks,
2 the model file is missing or the output cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.cli.outputs import OutputRefusedError, add_force_argument, check_output, graph_file

COMMAND = "import"  # the module cannot be called import.py


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="a .keras or .h5 model, or a .json model config")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="GRAPH.yaml", help="write here instead of stdout"
    )
    parser.add_argument(
        "--blocks",
        action="store_true",
        help="turn nested models into blocks (repeated ones share a definition)",
    )
    parser.add_argument(
        "--fold",
        action="store_true",
        help="fold runs of identical consecutive subgraphs into blocks (e.g. ResNet's units)",
    )
    add_force_argument(parser)


def run(args: argparse.Namespace) -> int:
    from graph.files import graph_from_yaml, save_graph
    from runtime.cli.common import start_tensorflow
    from runtime.cli.loop import drive
    from runtime.events import RunFinished
    from runtime.runs.base import RunRequest

    if not args.model.exists():  # before TensorFlow starts: a typo answers at once
        print(f"error: {args.model}: file not found", file=sys.stderr)
        return 2
    if args.output is not None:
        try:
            check_output(args.output, [args.model], graph_file, "a graph file", args.force)
        except OutputRefusedError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    start_tensorflow()
    outcome = drive(
        RunRequest("import", "", None, {"path": str(args.model), "blocks": args.blocks}), quiet=True
    )
    if not isinstance(outcome, RunFinished):
        print(f"error: {outcome.message}", file=sys.stderr)
        return 1
    text = outcome.result
    if args.fold:
        text = _folded(text)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    graph = graph_from_yaml(text)
    try:
        save_graph(graph, args.output)
    except OSError as error:
        print(f"error: {args.output}: cannot be written ({error.strerror})", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {len(graph)} layers", file=sys.stderr)
    return 0


def _folded(text: str) -> str:
    """The imported graph with its repeats folded into blocks; says what it found."""
    from graph.block_folding import describe, find_repeats, fold_repeats
    from graph.files import graph_from_yaml, graph_to_yaml

    graph = graph_from_yaml(text)
    repeats = find_repeats(graph)
    print(describe(graph.name, repeats) + ("; folded" if repeats else ""), file=sys.stderr)
    return graph_to_yaml(fold_repeats(graph, repeats).graph) if repeats else text
