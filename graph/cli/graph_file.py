"""What the graph commands share: a graph file argument, opened and shape-analysed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from graph.cli.exit_codes import EXIT_BAD_FILE
from graph.files import GraphFileError, load_graph
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis


def add_file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the graph file (.yaml)")


def with_analysed_graph(path: Path, work: Callable[[NetworkGraph, ShapeAnalysis], int]) -> int:
    """Opens the graph file and runs `work` on it and its shape analysis; returns its exit code.

    A file that cannot be read or is not a graph file prints its message and
    gives EXIT_BAD_FILE.
    """
    try:
        graph = load_graph(path)
    except GraphFileError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_FILE
    analysis = ShapeAnalysis(graph)
    try:
        return work(graph, analysis)
    finally:
        analysis.close()
