"""The `validate` and `summary` commands: check and describe a graph file headless.

Both run on the pure-Python graph package only, so they answer in a fraction
of a second without importing TensorFlow.

Exit codes: 0 when the graph is valid, 1 when it has errors (validate only),
2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.files import GraphFileError, load_graph
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis
from graph.summary import summary_table
from graph.validation import ERROR, validate

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_BAD_FILE = 2


def add_arguments(command: str, parser: argparse.ArgumentParser) -> None:
    """Declares the arguments of `command` ("validate" or "summary")."""
    parser.add_argument("file", type=Path, help="the graph file (.yaml)")


def run(command: str, args: argparse.Namespace) -> int:
    """Runs `command` on `args.file`; returns the process exit code."""
    try:
        graph = load_graph(args.file)
    except GraphFileError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_FILE
    analysis = ShapeAnalysis(graph)
    try:
        if command == "summary":
            print(summary_table(graph, analysis))
            return EXIT_OK
        return _validate(graph, analysis)
    finally:
        analysis.close()


def _validate(graph: NetworkGraph, analysis: ShapeAnalysis) -> int:
    problems = validate(graph, analysis)
    for problem in problems:
        print(f"{problem.severity}: {problem.message}")
    errors = sum(problem.severity == ERROR for problem in problems)
    if errors:
        plural = "error" if errors == 1 else "errors"
        print(f"INVALID: {errors} {plural} in {len(graph)} layers", file=sys.stderr)
        return EXIT_INVALID
    print(f"OK: {len(graph)} layers, {analysis.total_params():,} parameters")
    return EXIT_OK
