"""Print a Keras-style summary of a graph file (with --time, the estimated time per epoch).

`deepwire summary FILE [--time]`. Without --time it runs on the pure-Python
graph package only (no TensorFlow, answers at once); the table itself is
graph.summary's. With --time the totals end with the estimated time per epoch
on this machine: read from the probe cache (runtime.probe_cache, the folder
`deepwire train` uses), else timed once by the `estimate_time` run, a few
training steps of the graph's own model on its data, and kept. A graph that
is not valid, or whose training would not fit in memory, is not timed: the
line says why and the command exits with 1. It lives in runtime/cli, not
graph/cli, because timing needs runtime/ (which graph/ may not import).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.cli.exit_codes import EXIT_INVALID, EXIT_OK
from graph.cli.graph_file import add_file_argument, with_analysed_graph
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis
from graph.summary import summary_table
from graph.validation import ERROR, validate

TIME_LABEL = "Time per epoch (estimate):"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_argument(parser)
    parser.add_argument(
        "--time",
        action="store_true",
        help="also estimate the time per epoch on this machine (times a few training steps "
        "once, a second or two, then reads the cached result)",
    )


def run(args: argparse.Namespace) -> int:
    def summarise(graph: NetworkGraph, analysis: ShapeAnalysis) -> int:
        if not args.time:
            print(summary_table(graph, analysis))
            return EXIT_OK
        line, code = _time_line(graph, analysis, args.file.resolve().parent)
        print(summary_table(graph, analysis, [f"{TIME_LABEL} {line}"]))
        return code

    return with_analysed_graph(args.file, summarise)


def _time_line(graph: NetworkGraph, analysis: ShapeAnalysis, base_dir: Path) -> tuple[str, int]:
    """The estimate's text and the exit code: probed only for a valid graph that fits."""
    from runtime.cost_estimate import check_training_memory
    from runtime.probe_cache import ProbeCache, epoch_time_details

    # Before validity, which reports the same as a problem of a layer: this says it whole.
    verdict = check_training_memory(graph)
    if verdict.severity == ERROR:
        return f"none, {verdict.message}", EXIT_INVALID
    if any(problem.severity == ERROR for problem in validate(graph, analysis)):
        return "none, the graph is not valid (see the problems below)", EXIT_INVALID
    cached = ProbeCache().lookup(graph)
    if cached is not None:
        return epoch_time_details(cached, True), EXIT_OK
    return _probe(graph, base_dir)


def _probe(graph: NetworkGraph, base_dir: Path) -> tuple[str, int]:
    """Times the graph with the `estimate_time` run (which keeps the result in the cache)."""
    from graph.files import graph_to_yaml
    from runtime.cli.common import start_tensorflow
    from runtime.cli.loop import drive
    from runtime.events import RunFailed
    from runtime.probe_cache import epoch_time_details
    from runtime.runs.base import RunRequest

    print("timing a few training steps of the graph on this machine…", file=sys.stderr)
    start_tensorflow()
    outcome = drive(RunRequest("estimate_time", graph_to_yaml(graph), base_dir, {}))
    if isinstance(outcome, RunFailed) and outcome.stopped_by_user:
        return "none, the timing was stopped", EXIT_INVALID
    if isinstance(outcome, RunFailed):
        print(f"error: {outcome.message}", file=sys.stderr)
        return "none, the timing failed (see the error above)", outcome.exit_code or EXIT_INVALID
    result = outcome.result
    if result.estimate is None:  # the data made it too large for memory
        return f"none, {result.message.removeprefix('no time estimate: ')}", EXIT_INVALID
    return epoch_time_details(result.estimate, result.cached), EXIT_OK
