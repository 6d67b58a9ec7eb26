"""Synthetic graphs for tests and benchmarks: exact sizes, valid, laid out."""

from __future__ import annotations

import pytest

from graph.generators import COLUMNS, X_STEP, Y_STEP, branched_graph, chain_graph
from graph.shapes import ShapeAnalysis
from graph.validation import validate


@pytest.mark.parametrize("build", [chain_graph, branched_graph])
@pytest.mark.parametrize("size", [2, 3, 7, 8, 13, 100])
def test_generated_graphs_have_exactly_n_valid_nodes(build, size):
    graph = build(size)
    analysis = ShapeAnalysis(graph)
    assert len(graph) == size
    assert validate(graph, analysis) == []
    assert [n.type for n in graph.input_nodes()] == ["Input"]
    (output,) = graph.output_nodes()
    assert analysis.info(output.id).output_shape == (None, 10)
    assert len({node.name for node in graph.nodes}) == size


def test_branched_graph_merges_with_add_and_concatenate():
    types = [node.type for node in branched_graph(14).nodes]
    assert types == ["Input"] + ["Dense", "Dense", "Add", "Dense", "Dense", "Concatenate"] * 2 + [
        "Dense"
    ]


def test_layout_runs_left_to_right_in_rows():
    graph = chain_graph(COLUMNS + 2)
    positions = [node.position for node in graph.nodes]
    assert positions[:3] == [(0, 0), (X_STEP, 0), (2 * X_STEP, 0)]
    assert positions[COLUMNS] == (0, Y_STEP)


@pytest.mark.parametrize("build", [chain_graph, branched_graph])
def test_too_small_a_size_is_refused(build):
    with pytest.raises(ValueError, match=r"n >= 2\. Received: 1"):
        build(1)
