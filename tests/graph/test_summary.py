"""summary_rows / summary_totals: the data behind the Keras-style summary."""

from __future__ import annotations

from graph.model import NetworkGraph, Node
from graph.shapes import NodeInfo, ShapeAnalysis
from graph.summary import (
    ParamTotals,
    SummaryRow,
    non_trainable_count,
    summary_rows,
    summary_table,
    summary_totals,
    topological_nodes,
)


def residual_graph() -> NetworkGraph:
    graph = NetworkGraph("Residual")
    # Added out of order on purpose: the summary lists layers after their inputs.
    head = graph.add_node("Dense", params={"units": 3})
    add = graph.add_node("Add")
    inputs = graph.add_node("Input", params={"shape": (8,)})
    dense = graph.add_node("Dense", params={"units": 8})
    graph.connect(inputs.id, dense.id)
    graph.connect(dense.id, add.id, 0)
    graph.connect(inputs.id, add.id, 1)
    graph.connect(add.id, head.id)
    return graph


def test_rows_are_in_topological_order_with_shapes_counts_and_sources():
    graph = residual_graph()
    rows = summary_rows(graph)
    assert [(r.name, r.type, r.output_shape, r.param_count, r.connected_to) for r in rows] == [
        ("input_1", "Input", "(None, 8)", 0, ()),
        ("dense_2", "Dense", "(None, 8)", 72, ("input_1",)),
        ("add_1", "Add", "(None, 8)", 0, ("dense_2", "input_1")),
        ("dense_1", "Dense", "(None, 3)", 27, ("add_1",)),
    ]
    assert isinstance(rows[0], SummaryRow)
    assert summary_totals(graph) == ParamTotals(total=99, trainable=99, non_trainable=0)


def test_unknown_shapes_are_question_marks_and_left_out_of_totals():
    graph = residual_graph()
    dense = graph.find("dense_2")
    graph.set_params(dense.id, units=4)
    analysis = ShapeAnalysis(graph)
    rows = {row.name: row for row in summary_rows(graph, analysis)}
    assert (rows["add_1"].output_shape, rows["add_1"].param_count) == ("?", None)
    assert (rows["dense_1"].output_shape, rows["dense_1"].param_count) == ("?", None)
    assert summary_totals(graph, analysis).total == 36
    table = summary_table(graph, analysis)
    assert (
        "Problems (1):\n  error: add_1 (Add): input shapes (None, 4) and (None, 8) differ" in table
    )


def test_batch_normalization_moving_statistics_are_non_trainable():
    node = Node("n1", "BatchNormalization", "batch_normalization_1", {"axis": -1})
    info = NodeInfo((None, 10, 16), 64, input_shapes=((None, 10, 16),))
    assert non_trainable_count(node, info) == 32
    dense = Node("n2", "Dense", "dense_1", {"units": 4})
    assert non_trainable_count(dense, NodeInfo((None, 4), 20, input_shapes=((None, 4),))) == 0


def test_a_cycle_keeps_graph_order():
    graph = NetworkGraph()
    first = graph.add_node("Dense")
    second = graph.add_node("Dense")
    graph.connect(first.id, second.id)
    graph.connect(second.id, first.id)
    assert [node.id for node in topological_nodes(graph)] == [first.id, second.id]
    table = summary_table(graph)
    assert "error: dense_1 (Dense): is part of a cycle dense_1 -> dense_2 -> dense_1" in table
