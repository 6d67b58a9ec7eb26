"""Check a graph file; exit code 1 when it is invalid.

Runs on the pure-Python graph package only, so it answers in a fraction of a
second without importing TensorFlow.
"""

from __future__ import annotations

import argparse
import sys

from graph.cli.exit_codes import EXIT_INVALID, EXIT_OK
from graph.cli.graph_file import add_file_argument, with_analysed_graph
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis
from graph.validation import ERROR, validate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_argument(parser)


def run(args: argparse.Namespace) -> int:
    return with_analysed_graph(args.file, _report_problems)


def _report_problems(graph: NetworkGraph, analysis: ShapeAnalysis) -> int:
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
