"""How graph checking scales: full validation + shape inference, and one edit.

For chains and branched graphs of 100, 1,000 and 10,000 nodes this times:

- full pass: a fresh ShapeAnalysis plus validate() over the whole graph,
  what opening a file costs;
- edit: one parameter change in the middle of the graph, then validate() on
  the live analysis (which recomputes only what lies downstream), what every
  keystroke in the inspector costs.

Targets (issue): one edit on 1,000 nodes within one frame (16 ms), a full pass
on 1,000 nodes under 50 ms, linear growth. Other sizes are held to the
1,000-node target scaled linearly. Ratios are measured / target: <= 1 meets it.
Each figure is the best of --repeat runs: on a shared machine the best run is
the one least disturbed by other processes, as timeit recommends.

Run: `python bench/graph_scale.py [--repeat 5]`
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.generators import branched_graph, chain_graph
from graph.model import NetworkGraph, SetParams
from graph.shapes import ShapeAnalysis
from graph.validation import validate

SIZES = (100, 1_000, 10_000)
KINDS: dict[str, Callable[[int], NetworkGraph]] = {"chain": chain_graph, "branched": branched_graph}
FULL_TARGET_MS_PER_1000 = 50.0
EDIT_TARGET_MS_PER_1000 = 16.0


def time_full_pass(graph: NetworkGraph, repeat: int) -> float:
    """Best milliseconds of a fresh inference and validation of `graph`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        analysis = ShapeAnalysis(graph)
        validate(graph, analysis)
        times.append(time.perf_counter() - start)
        analysis.close()
    return min(times) * 1000


def time_edit(graph: NetworkGraph, repeat: int) -> tuple[float, int]:
    """Best milliseconds of one edit in the middle plus re-validation.

    Returns:
        The time, and how many nodes each edit recomputed.
    """
    analysis = ShapeAnalysis(graph)
    validate(graph, analysis)
    dense = [node for node in graph.nodes if node.type == "Dense"]
    middle = dense[len(dense) // 2]
    times = []
    before = analysis.recomputed
    for index in range(repeat):
        activation = "tanh" if index % 2 == 0 else "relu"
        start = time.perf_counter()
        graph.apply(SetParams(middle.id, {"activation": activation}))
        validate(graph, analysis)
        times.append(time.perf_counter() - start)
    recomputed = (analysis.recomputed - before) // repeat
    analysis.close()
    return min(times) * 1000, recomputed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs per figure (best)")
    args = parser.parse_args(argv)
    header = (
        f"{'size':>7}  {'kind':<9} {'full ms':>9} {'target':>7} {'ratio':>6}   "
        f"{'edit ms':>8} {'target':>7} {'ratio':>6}  {'recomputed':>10}"
    )
    print(header)
    print("-" * len(header))
    results: dict[tuple[str, int], tuple[float, float]] = {}
    for kind, build in KINDS.items():
        for size in SIZES:
            graph = build(size)
            full = time_full_pass(graph, args.repeat)
            edit, recomputed = time_edit(graph, args.repeat)
            results[kind, size] = (full, edit)
            full_target = FULL_TARGET_MS_PER_1000 * size / 1000
            edit_target = EDIT_TARGET_MS_PER_1000 * size / 1000
            print(
                f"{size:>7,}  {kind:<9} {full:>9.2f} {full_target:>7.1f} {full / full_target:>6.2f}"
                f"   {edit:>8.2f} {edit_target:>7.1f} {edit / edit_target:>6.2f}  {recomputed:>10,}"
            )
    print()
    print("Growth from 1,000 to 10,000 nodes (linear = 10x; ratio = growth / 10):")
    for kind in KINDS:
        full_growth = results[kind, 10_000][0] / results[kind, 1_000][0]
        edit_growth = results[kind, 10_000][1] / results[kind, 1_000][1]
        print(
            f"  {kind:<9} full pass {full_growth:5.1f}x (ratio {full_growth / 10:.2f})   "
            f"edit {edit_growth:5.1f}x (ratio {edit_growth / 10:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
