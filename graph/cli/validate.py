"""Check a graph file; exit code 1 when it is invalid.

Runs on the pure-Python graph package only, so it answers in a fraction of a
second without importing TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.cli.exit_codes import EXIT_BAD_FILE, EXIT_INVALID, EXIT_OK
from graph.files import GraphFileError, load_graph
from graph.shapes import ShapeAnalysis
from graph.validation import ERROR, validate


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
    finally:
        analysis.close()
