"""Wiring rules shared by the Keras builder and the code exporter."""

import pytest

from graph.model import NetworkGraph
from graph.wiring import LIST, POSITIONAL, SINGLE, call_style, model_name, topological_nodes


def test_topological_order_keeps_graph_order_among_ready_nodes():
    graph = NetworkGraph()
    late = graph.add_node("Dense", "late", {"units": 2})
    source = graph.add_node("Input", "x", {"shape": [3]})
    early = graph.add_node("Dense", "early", {"units": 2})
    other = graph.add_node("Dense", "other", {"units": 2})
    graph.connect(source.id, early.id)
    graph.connect(source.id, other.id)
    graph.connect(other.id, late.id)
    assert [n.name for n in topological_nodes(graph)] == ["x", "early", "other", "late"]


def test_nodes_on_a_cycle_are_left_out():
    graph = NetworkGraph()
    source = graph.add_node("Input", "x", {"shape": [3]})
    a = graph.add_node("Dense", "a", {"units": 3})
    b = graph.add_node("Add", "b")
    graph.connect(source.id, b.id, 0)
    graph.connect(a.id, b.id, 1)
    graph.connect(b.id, a.id)
    assert [n.name for n in topological_nodes(graph)] == ["x"]


@pytest.mark.parametrize(
    ("type_name", "style"),
    [("Dense", SINGLE), ("Add", LIST), ("Attention", LIST), ("MultiHeadAttention", POSITIONAL)],
)
def test_call_styles(type_name, style):
    assert call_style(type_name) == style


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MLP on digits", "MLP_on_digits"),
        ("a/b", "a_b"),
        ("", "model"),
        ("\u00e9\u00e9", "model"),
        ("-x", "model_-x"),
        ("v1.2>final", "v1.2>final"),
    ],
)
def test_model_names_are_valid_tensorflow_scopes(name, expected):
    assert model_name(NetworkGraph(name)) == expected
