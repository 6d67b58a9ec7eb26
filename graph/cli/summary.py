"""Print a Keras-style summary of a graph file.

Runs on the pure-Python graph package only (no TensorFlow).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.cli.exit_codes import EXIT_BAD_FILE, EXIT_OK
from graph.files import GraphFileError, load_graph
from graph.shapes import ShapeAnalysis
from graph.summary import summary_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the graph file (.yaml)")


def run(args: argparse.Namespace) -> int:
    try:
        graph = load_graph(args.file)
    except GraphFileError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_FILE
    analysis = ShapeAnalysis(graph)
    try:
        print(summary_table(graph, analysis))
        return EXIT_OK
    finally:
        analysis.close()
