"""Validation: every kind of problem, with its exact message, node and severity."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.catalog import CATALOG, layer_type
from graph.generators import branched_graph, chain_graph
from graph.layer_type import ShapeError
from graph.model import (
    MAX_PORT,
    AddEdge,
    AddNode,
    Command,
    Edge,
    GraphError,
    NetworkGraph,
    RemoveEdge,
    RemoveNode,
    RenameNode,
    SetParams,
)
from graph.params import ParamError
from graph.shapes import ShapeAnalysis
from graph.validation import (
    ERROR,
    WARNING,
    LiveValidation,
    Problem,
    is_valid,
    memory_problems,
    validate,
)
from tests.graph.strategies import NAMES, graphs, nodes, param_values


def chain(*specs: tuple[str, dict]) -> tuple[NetworkGraph, list[str]]:
    """A graph of the given (type, params) nodes, each fed by the previous one."""
    graph = NetworkGraph()
    ids: list[str] = []
    for type_name, params in specs:
        node = graph.add_node(type_name, params=params)
        if ids:
            graph.connect(ids[-1], node.id)
        ids.append(node.id)
    return graph, ids


def messages(graph: NetworkGraph) -> list[tuple[str, str | None]]:
    return [(problem.message, problem.node_id) for problem in validate(graph)]


def test_valid_graphs_have_no_problems():
    for graph in (chain_graph(30), branched_graph(30)):
        problems = validate(graph)
        assert problems == []
        assert is_valid(problems)


def test_warnings_alone_keep_a_graph_valid():
    assert is_valid([Problem(WARNING, "something to consider")])
    assert not is_valid([Problem(WARNING, "w"), Problem(ERROR, "e")])


def test_empty_graph():
    assert messages(NetworkGraph()) == [
        ("The graph is empty: add an Input layer and an output layer", None)
    ]


def test_missing_input():
    graph, _ = chain(("Dense", {}))
    assert messages(graph) == [
        ("The graph has no Input layer: data has nowhere to enter", None),
        ("dense_1 (Dense): has no input; connect a layer to it", "n1"),
    ]


def test_missing_output_and_dangling_input():
    graph, _ = chain(("Input", {}))
    assert messages(graph) == [
        ("The graph has no output layer: connect a layer after Input", None),
        ("input_1 (Input): is not connected to anything", "n1"),
    ]


def test_cycle():
    graph, ids = chain(
        ("Input", {"shape": (8,)}), ("Dense", {"units": 8}), ("Dense", {"units": 8}), ("Dense", {})
    )
    graph.connect(ids[2], ids[1], 1)
    assert messages(graph) == [
        ("dense_1 (Dense): is part of a cycle dense_1 -> dense_2 -> dense_1", "n2"),
        ("dense_1 (Dense): expects 1 input. Received: 2", "n2"),
    ]


def test_duplicate_names():
    graph, ids = chain(("Input", {"shape": (8,)}), ("Dense", {}), ("Dense", {}))
    # Graph files may hold such names; RenameNode itself refuses them.
    graph.apply(RenameNode(ids[2], "dense_1", checked=False))
    assert messages(graph) == [
        (
            "dense_1 (Dense): the name 'dense_1' is used by 2 layers; layer names must be unique",
            "n3",
        )
    ]


def test_unconnected_port():
    graph, ids = chain(("Input", {"shape": (8,)}))
    subtract = graph.add_node("Subtract")
    graph.connect(ids[0], subtract.id, 1)
    assert messages(graph) == [("subtract_1 (Subtract): input 0 is not connected", "n2")]


def test_a_port_number_far_past_the_inputs_names_the_first_free_one():
    # Validation once listed every port below the highest (port 10**20 hung it).
    graph, ids = chain(("Input", {"shape": (8,)}))
    concatenate = graph.add_node("Concatenate")
    graph.connect(ids[0], concatenate.id, 0)
    graph.connect(ids[0], concatenate.id, MAX_PORT)
    assert messages(graph) == [("concatenate_1 (Concatenate): input 1 is not connected", "n2")]


def test_dangling_nodes():
    graph, _ = chain(("Input", {"shape": (8,)}), ("Dense", {}))
    graph.add_node("Input")
    graph.add_node("Dense")
    assert messages(graph) == [
        ("input_2 (Input): is not connected to anything", "n3"),
        ("dense_2 (Dense): has no input; connect a layer to it", "n4"),
    ]


def test_input_layer_fed_by_another_layer():
    graph, ids = chain(("Input", {"shape": (8,)}), ("Dense", {}))
    second = graph.add_node("Input")
    graph.connect(ids[1], second.id)
    problems = validate(graph)
    assert problems[-1] == Problem(
        ERROR, "input_2 (Input): an Input layer takes no inputs", "n3", Edge("n2", "n3", 0)
    )


@pytest.mark.parametrize(
    ("type_name", "count", "message"),
    [
        ("Subtract", 3, "subtract_1 (Subtract): expects 2 inputs. Received: 3"),
        ("Dense", 2, "dense_1 (Dense): expects 1 input. Received: 2"),
        ("Add", 1, "add_1 (Add): expects at least 2 inputs. Received: 1"),
    ],
)
def test_wrong_number_of_inputs(type_name, count, message):
    graph, ids = chain(("Input", {"shape": (8,)}))
    node = graph.add_node(type_name)
    for port in range(count):
        graph.connect(ids[0], node.id, port)
    assert messages(graph) == [(message, "n2")]


def test_merge_shape_mismatch():
    graph, ids = chain(("Input", {"shape": (64,)}), ("Dense", {"units": 64}))
    narrow = graph.add_node("Dense", params={"units": 32})
    graph.connect(ids[0], narrow.id)
    add = graph.add_node("Add")
    graph.connect(ids[1], add.id, 0)
    graph.connect(narrow.id, add.id, 1)
    assert messages(graph) == [("add_1 (Add): input shapes (None, 64) and (None, 32) differ", "n4")]


def test_concatenate_mismatch():
    graph = NetworkGraph()
    first = graph.add_node("Input", params={"shape": (4, 3)})
    second = graph.add_node("Input", params={"shape": (5, 3)})
    merge = graph.add_node("Concatenate")
    graph.connect(first.id, merge.id, 0)
    graph.connect(second.id, merge.id, 1)
    assert messages(graph) == [
        (
            "concatenate_1 (Concatenate): input shapes (None, 4, 3) and (None, 5, 3) must match "
            "except on axis -1",
            "n3",
        )
    ]


def test_conv2d_on_a_2d_tensor():
    graph, _ = chain(("Input", {"shape": (64,)}), ("Conv2D", {}))
    assert messages(graph) == [
        (
            "conv2d_1 (Conv2D): expects an input of rank 4, like (None, 28, 28, 3). "
            "Received: input shape (None, 64)",
            "n2",
        )
    ]


def test_kernel_larger_than_input():
    graph, _ = chain(("Input", {"shape": (4, 4, 1)}), ("Conv2D", {"kernel_size": (5, 5)}))
    assert messages(graph) == [
        ("conv2d_1 (Conv2D): kernel of size 5 is larger than the input's 4", "n2")
    ]


def test_flatten_after_unknown_dimensions():
    # Input shapes are always known, so no graph of today's catalog makes an
    # unknown dimension; the rule itself reports it with the shape.
    with pytest.raises(ShapeError) as caught:
        layer_type("Flatten").shape_rule({}, [(None, None, 8)])
    assert str(caught.value) == (
        "cannot flatten a tensor with unknown dimensions. Received: input shape (None, None, 8)"
    )


def test_only_the_failing_node_is_reported_not_what_follows():
    graph, _ = chain(
        ("Input", {"shape": (64,)}), ("Conv2D", {}), ("Flatten", {}), ("Dense", {"units": 2})
    )
    assert [node_id for _, node_id in messages(graph)] == ["n2"]


def test_invalid_parameter_values():
    graph, ids = chain(("Input", {"shape": (8,)}), ("Dense", {}))
    # Commands refuse bad values; a graph edited around them still gets reported.
    graph.node(ids[1]).params["units"] = -3
    assert messages(graph) == [("dense_1 (Dense): units must be >= 1. Received: -3", "n2")]


def test_unknown_layer_type():
    graph, ids = chain(("Input", {"shape": (8,)}), ("Dense", {}))
    graph.node(ids[1]).type = "Densest"
    assert messages(graph) == [("dense_1 (Densest): unknown layer type 'Densest'", "n2")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  ", "n2 (Dense): the layer has no name"),
        ("my/dense", "my/dense (Dense): layer names cannot contain '/'. Received: 'my/dense'"),
    ],
)
def test_bad_names(name, message):
    graph, ids = chain(("Input", {"shape": (8,)}), ("Dense", {}))
    graph.apply(RenameNode(ids[1], name, checked=False))
    assert messages(graph) == [(message, "n2")]


def test_validation_reuses_a_live_analysis():
    graph, ids = chain(("Input", {"shape": (8,)}), ("Dense", {}), ("Dense", {}))
    analysis = ShapeAnalysis(graph)
    assert validate(graph, analysis) == []
    graph.set_params(ids[2], units=3)
    assert validate(graph, analysis) == []
    assert analysis.recomputed == 3 + 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_live_validation_gives_what_a_fresh_validation_gives_after_any_edit(data):
    graph = data.draw(graphs(max_nodes=6))
    analysis = ShapeAnalysis(graph)
    live = LiveValidation(graph, analysis)
    assert live.problems() + memory_problems(graph, analysis) == validate(graph)
    for _ in range(data.draw(st.integers(1, 10))):
        command = data.draw(_edits(graph))
        if command is None:
            continue
        try:
            graph.apply(command)
        except (GraphError, ParamError):
            continue
        if data.draw(st.booleans()):
            assert live.problems() + memory_problems(graph, analysis) == validate(graph)
            assert analysis.all() == ShapeAnalysis(graph).all()
    assert live.problems() + memory_problems(graph, analysis) == validate(graph)
    assert analysis.all() == ShapeAnalysis(graph).all()


@st.composite
def _edits(draw: st.DrawFn, graph: NetworkGraph) -> Command | None:
    """One random edit of `graph` of any kind that can change its problems."""
    ids = [node.id for node in graph.nodes]
    kind = draw(st.sampled_from(["add", "remove", "connect", "disconnect", "rename", "params"]))
    if kind == "add":
        return AddNode(draw(nodes(graph.new_id())))
    if not ids:
        return None
    node = graph.node(draw(st.sampled_from(ids)))
    if kind == "remove":
        return RemoveNode(node.id)
    if kind == "connect":
        source = draw(st.sampled_from(ids))
        return AddEdge(Edge(source, node.id, draw(st.integers(0, 2))))
    if kind == "disconnect":
        edges = graph.in_edges(node.id)
        return RemoveEdge(draw(st.sampled_from(edges))) if edges else None
    if kind == "rename":
        return RenameNode(node.id, draw(NAMES))
    params = CATALOG[node.type].params
    if not params:
        return None
    param = draw(st.sampled_from(params))
    return SetParams(node.id, {param.name: draw(param_values(param))})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  ", "dense_1 (Dense): the layer has no name"),
        ("my/dense", "dense_1 (Dense): layer names cannot contain '/'. Received: 'my/dense'"),
        ("my dense", "dense_1 (Dense): layer names may contain only letters"),
        ("input_1", "dense_1 (Dense): the name 'input_1' is already used by another layer"),
    ],
)
def test_rename_refuses_what_validation_reports(name, message):
    graph, ids = chain(("Input", {"shape": (8,)}), ("Dense", {}))
    with pytest.raises(GraphError, match=re.escape(message)):
        graph.apply(RenameNode(ids[1], name))
    assert graph.node(ids[1]).name == "dense_1"
    inverse = graph.apply(RenameNode(ids[1], "head.out-1"))
    graph.apply(inverse)
    assert graph.node(ids[1]).name == "dense_1"
