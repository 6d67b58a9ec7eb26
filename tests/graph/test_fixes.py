"""Structured fixes: validation offers them as data, and applying one removes its problem."""

from __future__ import annotations

import pytest

from graph.fixes import (
    Fix,
    InsertAfter,
    InsertBefore,
    SetNodeParams,
    SetSectionValues,
    shape_of_rank,
)
from graph.model import GraphError, NetworkGraph, RenameNode
from graph.validation import ERROR, validate


def conv_on_flat_input() -> NetworkGraph:
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": (64,)}, position=(0, 0))
    conv = graph.add_node("Conv2D", params={"filters": 4}, position=(240, 0))
    flatten = graph.add_node("Flatten", position=(480, 0))
    dense = graph.add_node("Dense", params={"units": 10}, position=(720, 0))
    graph.connect(source.id, conv.id)
    graph.connect(conv.id, flatten.id)
    graph.connect(flatten.id, dense.id)
    return graph


def errors(graph: NetworkGraph) -> list:
    return [p for p in validate(graph) if p.severity == ERROR]


def test_a_rank_error_offers_to_set_the_input_shape_or_insert_a_reshape():
    graph = conv_on_flat_input()
    (problem,) = errors(graph)
    assert "expects an input of rank 4" in problem.message
    assert [fix.text for fix in problem.fixes] == [
        "Set input_1 shape to (8, 8, 1)",
        "Insert a Reshape to (8, 8, 1) before conv2d_1",
    ]
    assert problem.fixes[0].changes == (SetNodeParams("n1", {"shape": (8, 8, 1)}),)


@pytest.mark.parametrize("which", [0, 1])
def test_applying_either_rank_fix_makes_the_graph_build_and_undoes(which):
    graph = conv_on_flat_input()
    before = (len(graph), len(graph.edges), graph.node("n1").params["shape"])
    fix = errors(graph)[0].fixes[which]
    inverse = graph.apply(fix.command(graph))
    assert errors(graph) == []
    if which == 1:
        (reshape,) = [n for n in graph.nodes if n.type == "Reshape"]
        assert [e.source for e in graph.in_edges("n2")] == [reshape.id]
        assert 0 < reshape.position[0] < 240
    graph.apply(inverse)
    assert (len(graph), len(graph.edges), graph.node("n1").params["shape"]) == before


def test_no_reshape_is_offered_when_no_shape_of_that_rank_holds_the_values():
    graph = conv_on_flat_input()
    graph.set_params("n1", shape=(10,))
    (problem,) = errors(graph)
    assert problem.fixes == ()
    assert shape_of_rank(10, 3) is None
    assert shape_of_rank(10, 2) == (10, 1)


def test_bad_and_duplicate_names_offer_a_rename():
    graph = conv_on_flat_input()
    graph.set_params("n1", shape=(8, 8, 1))
    graph.apply(RenameNode("n3", "my flatten", checked=False))
    graph.apply(RenameNode("n4", "conv2d_1", checked=False))
    problems = errors(graph)
    assert [fix.text for p in problems for fix in p.fixes] == [
        "Rename conv2d_1 to conv2d_1_1",
        "Rename my flatten to my_flatten",
    ]
    for problem in problems:
        graph.apply(problem.fixes[0].command(graph))
    assert errors(graph) == []


def test_a_settings_fix_and_a_fix_for_a_deleted_node():
    graph = conv_on_flat_input()
    fix = Fix("Use mse", (SetSectionValues("training", {"loss": "mean_squared_error"}),))
    graph.apply(fix.command(graph))
    assert graph.training["loss"] == "mean_squared_error"
    gone = Fix("x", (InsertBefore("n99", "Reshape", {"target_shape": (8, 8, 1)}),))
    with pytest.raises(GraphError, match="n99"):
        gone.command(graph)


def test_a_chain_inserted_after_a_node_feeds_all_it_fed_makes_room_and_undoes():
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": (1,), "dtype": "string"}, position=(0, 0))
    first = graph.add_node("Dense", params={"units": 8}, position=(220, -60))
    second = graph.add_node("Dense", params={"units": 8}, position=(220, 60))
    joined = graph.add_node("Concatenate", position=(440, 0))
    graph.connect(source.id, first.id)
    graph.connect(source.id, second.id)
    graph.connect(first.id, joined.id, 0)
    graph.connect(second.id, joined.id, 1)
    before = (graph.nodes, sorted(graph.edges))
    fix = Fix(
        "text chain",
        (
            InsertAfter(
                source.id,
                (
                    ("TextVectorization", {"max_tokens": 30, "output_sequence_length": 5}),
                    ("Embedding", {"input_dim": 30, "output_dim": 4}),
                    ("GlobalAveragePooling1D", {}),
                ),
            ),
        ),
    )
    inverse = graph.apply(fix.command(graph))
    vectorizer, embedding, pooling = graph.nodes[4:]
    assert [n.type for n in (vectorizer, embedding, pooling)] == [
        "TextVectorization",
        "Embedding",
        "GlobalAveragePooling1D",
    ]
    assert [e.target for e in graph.out_edges(source.id)] == [vectorizer.id]
    assert [e.source for e in graph.in_edges(embedding.id)] == [vectorizer.id]
    assert {e.target for e in graph.out_edges(pooling.id)} == {first.id, second.id}
    assert [vectorizer.position, embedding.position, pooling.position] == [
        (220.0, 0.0),
        (440.0, 0.0),
        (660.0, 0.0),
    ]
    # what followed the Input moved right by the chain's length, keeping its shape
    assert [graph.node(n.id).position for n in (first, second, joined)] == [
        (880.0, -60.0),
        (880.0, 60.0),
        (1100.0, 0.0),
    ]
    assert errors(graph) == []
    graph.apply(inverse)
    assert (graph.nodes, sorted(graph.edges)) == before


def test_a_hidden_linear_layer_gets_a_relu_hint_and_the_output_does_not():
    from graph.hints import activation_hint

    graph = conv_on_flat_input()
    graph.set_params("n1", shape=(8, 8, 1))
    hint = activation_hint(graph, "n2")
    assert hint is not None and "relu" in hint.text
    assert activation_hint(graph, "n4") is None  # the output
    assert activation_hint(graph, "n3") is None  # Flatten has no activation
    graph.apply(hint.fix.command(graph))
    assert graph.node("n2").params["activation"] == "relu"
    assert activation_hint(graph, "n2") is None
