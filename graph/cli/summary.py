"""Print a Keras-style summary of a graph file.

Runs on the pure-Python graph package only (no TensorFlow).
"""

from __future__ import annotations

import argparse

from graph.cli.exit_codes import EXIT_OK
from graph.cli.graph_file import add_file_argument, with_analysed_graph
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis
from graph.summary import summary_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_argument(parser)


def run(args: argparse.Namespace) -> int:
    return with_analysed_graph(args.file, _print_summary)


def _print_summary(graph: NetworkGraph, analysis: ShapeAnalysis) -> int:
    print(summary_table(graph, analysis))
    return EXIT_OK
