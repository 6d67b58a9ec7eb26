"""Shape inference: shapes and counts per node, and incremental recomputation."""

from __future__ import annotations

import pytest

from graph.generators import branched_graph, chain_graph
from graph.layer_type import ShapeError
from graph.layers.einsum import analyze
from graph.model import (
    AddEdge,
    Edge,
    MoveNodes,
    NetworkGraph,
    RemoveEdge,
    RemoveNode,
    RenameNode,
    SetSettings,
)
from graph.shapes import CYCLE_ERROR, NodeInfo, ShapeAnalysis


def cnn() -> NetworkGraph:
    graph = NetworkGraph("CNN")
    names = []
    for type_name, params in [
        ("Input", {"shape": (28, 28, 1)}),
        ("Conv2D", {"filters": 8, "kernel_size": (3, 3)}),
        ("MaxPooling2D", {}),
        ("Flatten", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    ]:
        node = graph.add_node(type_name, params=params)
        if names:
            graph.connect(names[-1], node.id)
        names.append(node.id)
    return graph


def test_shapes_and_parameter_counts_of_a_cnn():
    graph = cnn()
    analysis = ShapeAnalysis(graph)
    assert [
        (analysis.info(n.id).output_shape, analysis.info(n.id).param_count) for n in graph.nodes
    ] == [
        ((None, 28, 28, 1), 0),
        ((None, 26, 26, 8), 80),
        ((None, 13, 13, 8), 0),
        ((None, 1352), 0),
        ((None, 10), 13530),
    ]
    assert analysis.total_params() == 13610
    assert analysis.info("n2").input_shapes == ((None, 28, 28, 1),)


def test_a_failing_node_has_the_error_and_nodes_downstream_have_no_shape():
    graph = cnn()
    graph.set_params("n1", shape=(28, 28))
    analysis = ShapeAnalysis(graph)
    assert analysis.info("n2") == NodeInfo(
        None,
        error="expects an input of rank 4, like (None, 28, 28, 3). "
        "Received: input shape (None, 28, 28)",
        input_shapes=((None, 28, 28),),
        needed_rank=4,
    )
    assert analysis.info("n3") == NodeInfo(None, input_shapes=(None,))
    assert analysis.info("n5").output_shape is None
    assert analysis.total_params() == 0


def test_unconnected_and_missing_ports_give_no_shape_and_no_error():
    graph = NetworkGraph()
    inputs = graph.add_node("Input", params={"shape": (4,)})
    merge = graph.add_node("Add")
    lonely = graph.add_node("Dense")
    graph.connect(inputs.id, merge.id, 1)
    analysis = ShapeAnalysis(graph)
    assert analysis.info(merge.id) == NodeInfo(None)
    assert analysis.info(lonely.id) == NodeInfo(None)


def test_multi_input_merge():
    graph = NetworkGraph()
    first = graph.add_node("Input", params={"shape": (4,)})
    second = graph.add_node("Input", params={"shape": (6,)})
    merge = graph.add_node("Concatenate")
    graph.connect(first.id, merge.id, 0)
    graph.connect(second.id, merge.id, 1)
    analysis = ShapeAnalysis(graph)
    assert analysis.info(merge.id).output_shape == (None, 10)
    assert analysis.info(merge.id).input_shapes == ((None, 4), (None, 6))


def test_first_read_computes_every_node_once():
    graph = chain_graph(20)
    analysis = ShapeAnalysis(graph)
    assert analysis.recomputed == 0
    analysis.all()
    analysis.all()
    assert analysis.recomputed == 20


def test_an_edit_that_changes_no_output_shape_recomputes_only_its_node():
    graph = chain_graph(20)
    analysis = ShapeAnalysis(graph)
    analysis.all()
    tenth = graph.nodes[10]
    graph.set_params(tenth.id, **_same_shape_change(tenth.type))
    analysis.all()
    assert analysis.recomputed == 20 + 1
    graph.set_params(graph.nodes[-1].id, units=4)
    assert analysis.info(graph.nodes[-1].id).output_shape == (None, 4)
    assert analysis.recomputed == 20 + 1 + 1


def test_a_shape_change_propagates_until_outputs_stop_changing():
    graph = NetworkGraph()
    ids = [
        graph.add_node(type_name, params=params).id
        for type_name, params in [
            ("Input", {"shape": (8,)}),
            ("Dense", {"units": 4}),
            ("Dropout", {}),
            ("Dense", {"units": 3}),
            ("Dense", {"units": 2}),
        ]
    ]
    for source, target in zip(ids, ids[1:], strict=False):
        graph.connect(source, target)
    analysis = ShapeAnalysis(graph)
    analysis.all()
    graph.set_params(ids[1], units=6)
    infos = analysis.all()
    # Dense(6), Dropout (new shape), Dense(3) (same output, more weights); not the last Dense.
    assert analysis.recomputed == 5 + 3
    assert infos[ids[2]].output_shape == (None, 6)
    assert infos[ids[3]] == NodeInfo((None, 3), 6 * 3 + 3, input_shapes=((None, 6),), macs=6 * 3)
    assert infos[ids[4]].input_shapes == ((None, 3),)


def test_a_node_fed_by_two_changed_branches_is_recomputed_once_after_both():
    graph = branched_graph(8)  # input, dense, dense, add, dense, dense, concatenate, dense
    analysis = ShapeAnalysis(graph)
    analysis.all()
    graph.set_params(graph.nodes[0].id, shape=(7,))
    graph.set_params(graph.nodes[1].id, units=5)
    infos = analysis.all()
    fresh = ShapeAnalysis(graph).all()
    assert infos == fresh
    assert analysis.recomputed == 8 + 8


def test_edits_on_a_branch_leave_the_other_branch_alone():
    graph = branched_graph(8)  # input, dense, dense, add, dense, dense, concatenate, dense
    analysis = ShapeAnalysis(graph)
    analysis.all()
    left = graph.nodes[1]
    graph.set_params(left.id, activation="tanh")
    analysis.all()
    assert analysis.recomputed == 8 + 1


def test_a_param_edit_after_a_cycle_is_reported_like_a_fresh_analysis():
    graph = chain_graph(6)
    analysis = ShapeAnalysis(graph)
    analysis.all()
    graph.apply(AddEdge(Edge("n4", "n3", 1)))
    graph.set_params("n2", units=9)
    graph.set_params("n6", units=3)
    assert analysis.all() == ShapeAnalysis(graph).all()
    assert analysis.has_cycle()
    graph.apply(RemoveEdge(Edge("n4", "n3", 1)))
    graph.set_params("n2", units=11)
    assert analysis.all() == ShapeAnalysis(graph).all()
    assert not analysis.has_cycle()


def test_shape_neutral_edits_recompute_nothing():
    graph = chain_graph(10)
    analysis = ShapeAnalysis(graph)
    analysis.all()
    graph.apply(RenameNode("n3", "renamed"))
    graph.apply(MoveNodes({"n3": (1, 1)}))
    graph.apply(SetSettings("training", {"epochs": 2}))
    analysis.all()
    assert analysis.recomputed == 10


def test_edge_and_node_removal_update_downstream():
    graph = chain_graph(6)
    analysis = ShapeAnalysis(graph)
    analysis.all()
    graph.apply(RemoveEdge(Edge("n3", "n4", 0)))
    assert analysis.info("n4").output_shape is None
    assert analysis.info("n6").output_shape is None
    assert analysis.recomputed == 6 + 3
    graph.apply(AddEdge(Edge("n3", "n4", 0)))
    assert analysis.info("n6").output_shape == (None, 10)
    graph.apply(RemoveNode("n2"))
    assert "n2" not in analysis.all()
    assert analysis.info("n3").output_shape is None


def test_cycles_are_found_and_what_follows_them_has_no_shape():
    graph = chain_graph(5)
    analysis = ShapeAnalysis(graph)
    assert not analysis.has_cycle()
    graph.apply(AddEdge(Edge("n4", "n2", 1)))
    assert analysis.has_cycle()
    infos = analysis.all()
    assert {node_id for node_id, info in infos.items() if info.error == CYCLE_ERROR} == {
        "n2",
        "n3",
        "n4",
    }
    assert infos["n5"] == NodeInfo(None)
    assert infos["n1"].output_shape == (None, 32)
    graph.apply(RemoveEdge(Edge("n4", "n2", 1)))
    assert not analysis.has_cycle()
    assert analysis.info("n5").output_shape == (None, 10)


def test_close_stops_listening():
    graph = chain_graph(4)
    analysis = ShapeAnalysis(graph)
    analysis.all()
    analysis.close()
    graph.set_params("n2", units=5)
    assert analysis.all()["n2"].output_shape == (None, 32)


def _same_shape_change(type_name: str) -> dict:
    return {
        "Dense": {"activation": "selu"},
        "Dropout": {"rate": 0.3},
        "Activation": {"activation": "relu"},
    }[type_name]


def test_einsum_refuses_several_axes_under_a_leading_ellipsis_that_keras_reverses():
    params = {"equation": "...b,bc->...c", "output_shape": (4,), "bias_axes": None}
    # One axis, or axes that read the same both ways: Keras's reading is right.
    assert analyze(params, (None, 3, 2)).output == (None, 3, 4)
    assert analyze(params, (None, 2, 2, 2)).output == (None, 2, 2, 4)
    # (3, 2) would be declared as (2, 3) by Keras while the data stays (3, 2).
    with pytest.raises(ShapeError, match=r"stands for the axes \(3, 2\).*reverse order"):
        analyze(params, (None, 3, 2, 2))
