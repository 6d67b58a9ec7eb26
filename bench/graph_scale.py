"""How graph checking scales: full validation + shape inference, and one edit.

For chains and branched graphs of 100, 1,000 and 10,000 nodes this times:

- full pass: a fresh ShapeAnalysis plus validate() over the whole graph,
  what opening a file costs;
- edit: one parameter change in the middle of the graph that changes no
  output shape, then the live validation's problems(), what every keystroke
  in the inspector costs.

Targets (issue 12): an edit that changes no output shape costs <= 16 ms on
10,000 nodes (shape inference stops where outputs are unchanged, and
validation re-checks only what the edit touched).
Earlier targets: one edit on 1,000 nodes within one frame (16 ms), a full pass
on 1,000 nodes under 50 ms, linear growth. Other sizes are held to the
1,000-node target scaled linearly. Ratios are measured / target: <= 1 meets it.
Blocks (issue 12): a 10,000-node graph made of 100 instances of one
100-layer block. An edit inside the definition re-infers only what it reaches
(target <= 16 ms), and a full pass over the blocked graph is no slower than
over the same graph drawn flat (ratio blocked / flat <= 1).
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

from graph.block_type import BLOCK
from graph.generators import branched_graph, chain_graph
from graph.model import AddBlock, NetworkGraph, SetParams
from graph.shapes import ShapeAnalysis
from graph.validation import LiveValidation, validate

SIZES = (100, 1_000, 10_000)
KINDS: dict[str, Callable[[int], NetworkGraph]] = {"chain": chain_graph, "branched": branched_graph}
FULL_TARGET_MS_PER_1000 = 50.0
EDIT_TARGET_MS_PER_1000 = 16.0
SHAPE_NEUTRAL_EDIT_MS = 16.0


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
    validation = LiveValidation(graph, analysis)
    validation.problems()
    dense = [node for node in graph.nodes if node.type == "Dense"]
    middle = dense[len(dense) // 2]
    times = []
    before = analysis.recomputed
    for index in range(repeat):
        activation = "tanh" if index % 2 == 0 else "relu"
        start = time.perf_counter()
        graph.apply(SetParams(middle.id, {"activation": activation}))
        validation.problems()
        times.append(time.perf_counter() - start)
    recomputed = (analysis.recomputed - before) // repeat
    validation.close()
    analysis.close()
    return min(times) * 1000, recomputed


BLOCK_LAYERS = 99
INSTANCES = 100


def _dense_chain(graph: NetworkGraph, source: str, count: int, prefix: str = "") -> str:
    for index in range(count):
        units = 16 if index % 2 else 32
        node = graph.add_node("Dense", f"{prefix}dense_{index}", {"units": units})
        graph.connect(source, node.id)
        source = node.id
    return source


def block_graphs() -> tuple[NetworkGraph, NetworkGraph]:
    """The same 10,000-layer model twice: 100 instances of one block, and drawn flat."""
    definition = NetworkGraph()
    entry = definition.add_node("Input", "x", {"shape": (16,)})
    _dense_chain(definition, entry.id, BLOCK_LAYERS)
    blocked, flat = NetworkGraph(), NetworkGraph()
    blocked.apply(AddBlock("stage", definition))
    source = blocked.add_node("Input", "input_1", {"shape": (16,)}).id
    flat_source = flat.add_node("Input", "input_1", {"shape": (16,)}).id
    for number in range(INSTANCES):
        instance = blocked.add_node(BLOCK, f"stage_{number}", {"block": "stage"})
        blocked.connect(source, instance.id)
        source = instance.id
        flat_source = _dense_chain(flat, flat_source, BLOCK_LAYERS, f"stage_{number}.")
    return blocked, flat


def time_block_full_pass(graph: NetworkGraph, repeat: int) -> float:
    """Best milliseconds of a fresh inference and validation, nothing known of the blocks."""
    times = []
    for _ in range(repeat):
        graph.blocks.forget_results()
        start = time.perf_counter()
        analysis = ShapeAnalysis(graph)
        validate(graph, analysis)
        times.append(time.perf_counter() - start)
        analysis.close()
    return min(times) * 1000


def time_definition_edit(graph: NetworkGraph, repeat: int) -> tuple[float, int]:
    """Best milliseconds of one edit inside the block definition plus re-validation."""
    analysis = ShapeAnalysis(graph)
    validation = LiveValidation(graph, analysis)
    validation.problems()
    definition = graph.blocks.get("stage")
    middle = definition.find(f"dense_{BLOCK_LAYERS // 2}")
    times = []
    before = analysis.recomputed
    for index in range(repeat):
        activation = "tanh" if index % 2 == 0 else "relu"
        start = time.perf_counter()
        definition.apply(SetParams(middle.id, {"activation": activation}))
        assert validation.problems() == []
        times.append(time.perf_counter() - start)
    recomputed = (analysis.recomputed - before) // repeat
    validation.close()
    analysis.close()
    return min(times) * 1000, recomputed


def report_blocks(repeat: int) -> None:
    blocked, flat = block_graphs()
    layers = 1 + INSTANCES * BLOCK_LAYERS
    print(f"Blocks: {INSTANCES} instances of one {BLOCK_LAYERS}-layer block ({layers:,} layers):")
    blocked_ms = time_block_full_pass(blocked, repeat)
    flat_ms = time_full_pass(flat, repeat)
    print(
        f"  full pass: blocked {blocked_ms:8.2f} ms, flat {flat_ms:8.2f} ms   "
        f"ratio blocked / flat {blocked_ms / flat_ms:.3f} (target <= 1)"
    )
    edit, recomputed = time_definition_edit(blocked, repeat)
    print(
        f"  edit inside the definition: {edit:8.2f} ms (target {SHAPE_NEUTRAL_EDIT_MS:.0f} ms)"
        f"   ratio {edit / SHAPE_NEUTRAL_EDIT_MS:.3f}   instances re-inferred {recomputed}"
    )


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
    target = SHAPE_NEUTRAL_EDIT_MS
    print(f"Edit that changes no output shape, 10,000 nodes (target {target:.0f} ms):")
    for kind in KINDS:
        edit = results[kind, 10_000][1]
        print(f"  {kind:<9} {edit:8.2f} ms   ratio {edit / SHAPE_NEUTRAL_EDIT_MS:.3f}")
    print()
    print("Growth from 1,000 to 10,000 nodes (linear = 10x; ratio = growth / 10):")
    for kind in KINDS:
        full_growth = results[kind, 10_000][0] / results[kind, 1_000][0]
        edit_growth = results[kind, 10_000][1] / results[kind, 1_000][1]
        print(
            f"  {kind:<9} full pass {full_growth:5.1f}x (ratio {full_growth / 10:.2f})   "
            f"edit {edit_growth:5.1f}x (ratio {edit_growth / 10:.2f})"
        )
    print()
    report_blocks(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
