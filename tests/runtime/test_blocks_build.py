"""Blocks in Keras: nested or flattened models, exported functions, all computing the same."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codegen.python_source import export_model_code
from graph.block_commands import expand_block, make_block
from graph.block_templates import TEMPLATES, place_template
from graph.block_type import BLOCK
from graph.files import graph_from_yaml
from graph.model import AddBlock, NetworkGraph, SetSettings
from graph.shapes import ShapeAnalysis
from graph.validation import validate
from runtime.builder import build_model
from runtime.events import RunFinished
from runtime.importer import graph_from_model
from runtime.runs.base import RunRequest
from runtime.runs.local import run_inline
from tests.codegen.test_export import ruff_problems
from tests.graph.test_blocks import document


def nested_document() -> NetworkGraph:
    """res_1 (block res), res_2 (block stage, which holds block1 of block res), head."""
    graph = document(2)
    stage = NetworkGraph()
    entry = stage.add_node("Input", "x", {"shape": (8,)})
    inner = stage.add_node("Block", "block1", {"block": "res"})
    stage.connect(entry.id, inner.id)
    graph.apply(AddBlock("stage", stage))
    graph.set_params(graph.find("res_2").id, block="stage")
    return graph


def nested_layer(model: keras.Model, dotted: str) -> keras.layers.Layer:
    """The layer a flattened name (`res_2.block1.dense_a`) names inside nested models."""
    layer = model
    for part in dotted.split("."):
        layer = layer.get_layer(part)
    return layer


def weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if layer.weights]


def outputs(model: keras.Model, data: np.ndarray) -> np.ndarray:
    return np.asarray(model(data, training=False))


@pytest.fixture(scope="module")
def flat_and_data():
    graph = nested_document()
    flat = build_model(graph, nested_blocks=False)
    data = np.random.default_rng(0).normal(size=(5, 8)).astype("float32")
    return graph, flat, data


def test_nested_and_flattened_models_compute_the_same(flat_and_data):
    graph, flat, data = flat_and_data
    nested = build_model(graph)  # the default setting: nested
    assert [layer.name for layer in nested.layers] == ["input_1", "res_1", "res_2", "head"]
    assert isinstance(nested.get_layer("res_2").get_layer("block1"), keras.Model)
    assert nested.count_params() == flat.count_params() == ShapeAnalysis(graph).total_params()
    graph.apply(SetSettings("build", {"blocks": "flatten"}))
    assert [layer.name for layer in build_model(graph).layers] == [
        layer.name for layer in flat.layers
    ]
    graph.apply(SetSettings("build", {"blocks": "nested"}))
    for layer in weighted_layers(flat):
        nested_layer(nested, layer.name).set_weights(layer.get_weights())
    np.testing.assert_array_equal(outputs(nested, data), outputs(flat, data))


def test_exported_functions_build_the_same_model(flat_and_data):
    graph, flat, data = flat_and_data
    source = export_model_code(graph)
    assert "def res_block(x, prefix):" in source and "def stage_block(x, prefix):" in source
    assert 'res_2 = stage_block(res_1, prefix="res_2.")' in source
    # Executed in this process: a subprocess costs a TensorFlow start-up (20 s here).
    namespace = {"__name__": "exported"}
    exec(compile(source, "<exported>", "exec"), namespace)
    exported = namespace["build_model"]()
    assert [layer.name for layer in exported.layers] == [layer.name for layer in flat.layers]
    for layer in weighted_layers(flat):
        exported.get_layer(layer.name).set_weights(layer.get_weights())
    np.testing.assert_array_equal(outputs(exported, data), outputs(flat, data))


def chain(widths: list[int], taps: list[int] = ()) -> NetworkGraph:
    """Dense layers in a chain; with `taps`, those layers also feed a final Concatenate."""
    graph = NetworkGraph()
    previous = graph.add_node("Input", "input_1", {"shape": (4,)})
    dense = []
    for index, units in enumerate(widths):
        node = graph.add_node("Dense", f"dense_{index}", {"units": units, "activation": "tanh"})
        graph.connect(previous.id, node.id)
        previous = node
        dense.append(node)
    tapped = [dense[index] for index in dict.fromkeys(taps) if index < len(dense) - 1]
    if tapped:
        join = graph.add_node("Concatenate", "join")
        for port, node in enumerate([previous, *tapped]):
            graph.connect(node.id, join.id, port)
    return graph


def fully_expanded(graph: NetworkGraph) -> NetworkGraph:
    graph = graph.copy()
    while blocks := [n for n in graph.nodes if n.type == BLOCK]:
        graph.apply(expand_block(graph, blocks[0].id))
    return graph


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    widths=st.lists(st.integers(1, 6), min_size=3, max_size=6),
    taps=st.lists(st.integers(0, 5), max_size=3),
    start=st.integers(0, 4),
    span=st.integers(2, 6),
    new_units=st.integers(1, 6),
)
@example(widths=[3, 4, 5, 2], taps=[0, 1], start=0, span=3, new_units=2)
def test_blocks_made_nested_edited_and_expanded_build_the_flat_model(
    widths, taps, start, span, new_units
):
    graph = chain(widths, taps)
    dense = [n.id for n in graph.nodes if n.type == "Dense"]
    start = min(start, len(dense) - 2)
    cut = dense[start : start + span]
    # Each tapped layer inside the cut, and the cut's last layer, is an output of the block.
    successors = graph.nx_graph._succ
    exits = [n for n in cut if not successors[n] or set(successors[n]) - set(cut)]
    graph.apply(make_block(graph, cut, "outer"))
    outer = graph.blocks.get("outer")
    assert len(outer.output_nodes()) == len(exits)
    inner_ids = [n.id for n in outer.nodes if n.type == "Dense"][:1]
    outer.apply(make_block(outer, inner_ids, "inner"))  # a block inside a block
    inner = graph.blocks.get("inner")
    inner.set_params(inner.nodes[-1].id, units=new_units)  # an edit inside the definition
    flat = fully_expanded(graph)
    assert ShapeAnalysis(flat).total_params() == ShapeAnalysis(graph).total_params()
    data = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    expected = build_model(flat)
    for nested in (True, False):
        model = build_model(graph, nested_blocks=nested)
        assert model.count_params() == expected.count_params()
        for layer in weighted_layers(expected):
            target = nested_layer(model, layer.name) if nested else model.get_layer(layer.name)
            target.set_weights(layer.get_weights())
        np.testing.assert_allclose(outputs(model, data), outputs(expected, data), rtol=1e-6)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_templates_build_in_keras_with_the_counted_parameters(name):
    graph = NetworkGraph()
    template = TEMPLATES[name].build()
    shape = template.input_nodes()[0].params["shape"]
    entry = graph.add_node("Input", "input_1", {"shape": shape})
    first, place = place_template(graph, name, (200, 0))
    graph.apply(place)
    second, place = place_template(graph, name, (400, 0))
    graph.apply(place)
    graph.connect(entry.id, first.id)
    graph.connect(first.id, second.id)
    assert len(graph.blocks) == 1
    model = build_model(graph)
    assert model.count_params() == ShapeAnalysis(graph).total_params()
    assert tuple(model.output.shape) == ShapeAnalysis(graph).info(second.id).output_shape


def staged_model() -> keras.Model:
    """Features -> two nested Sequential models of one structure -> head."""

    def stage(name: str) -> keras.Model:
        return keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(6, activation="relu"), keras.layers.Dense(6)],
            name=name,
        )

    inputs = keras.Input((6,), name="features")
    hidden = stage("stage_b")(stage("stage_a")(inputs))
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(hidden))


def test_import_turns_nested_models_into_blocks_sharing_repeated_structure():
    model = staged_model()
    graph = graph_from_model(model, blocks=True)
    assert list(graph.blocks) == ["stage_a"]
    assert [(n.name, n.type) for n in graph.nodes if n.type == BLOCK] == [
        ("stage_a", BLOCK),
        ("stage_b", BLOCK),
    ]
    built = build_model(graph)
    assert built.count_params() == model.count_params()
    for name in ("stage_a", "stage_b", "head"):
        built.get_layer(name).set_weights(model.get_layer(name).get_weights())
    data = np.random.default_rng(2).normal(size=(4, 6)).astype("float32")
    np.testing.assert_allclose(outputs(built, data), outputs(model, data), rtol=1e-6)
    flat = graph_from_model(model)  # the default still inlines nested models
    assert not len(flat.blocks) and len(flat) == len(fully_expanded(graph))


def test_the_import_run_takes_the_blocks_option(tmp_path):
    path = tmp_path / "staged.keras"
    staged_model().save(path)
    outcome = run_inline(RunRequest("import", "", None, {"path": str(path), "blocks": True}))
    assert isinstance(outcome, RunFinished), outcome
    graph = graph_from_yaml(outcome.result)
    assert list(graph.blocks) == ["stage_a"] and validate(graph) == []


@pytest.fixture(scope="module")
def fork_graph():
    from tests.graph.test_blocks import split_block

    return split_block()


def test_a_block_with_several_outputs_builds_nested_flat_and_exported_alike(fork_graph):
    graph = fork_graph
    data = np.random.default_rng(3).normal(size=(4, 8)).astype("float32")
    flat = build_model(graph, nested_blocks=False)
    nested = build_model(graph, nested_blocks=True)
    assert len(nested.get_layer("fork_1").outputs) == 2
    for layer in weighted_layers(flat):
        nested_layer(nested, layer.name).set_weights(layer.get_weights())
    np.testing.assert_array_equal(outputs(nested, data), outputs(flat, data))
    source = export_model_code(graph)
    assert ruff_problems(source) == ""
    assert "Returns its outputs, in this order: left, right." in source
    assert "return left, right" in source
    assert 'fork_1_left, fork_1_right = fork_block(input_1, prefix="fork_1.")' in source
    namespace = {"__name__": "exported"}
    exec(compile(source, "<exported>", "exec"), namespace)
    exported = namespace["build_model"]()
    assert [layer.name for layer in exported.layers] == [layer.name for layer in flat.layers]
    for layer in weighted_layers(flat):
        exported.get_layer(layer.name).set_weights(layer.get_weights())
    np.testing.assert_array_equal(outputs(exported, data), outputs(flat, data))


def test_import_turns_a_nested_model_with_several_outputs_into_such_a_block():
    entry = keras.Input((6,), name="x")
    trunk = keras.layers.Dense(5, activation="relu", name="trunk")(entry)
    fork = keras.Model(
        entry,
        [keras.layers.Dense(3, name="left")(trunk), keras.layers.Dense(2, name="right")(trunk)],
        name="fork",
    )
    features = keras.Input((6,), name="features")
    left, right = fork(features)
    joined = keras.layers.Concatenate(name="join")([right, left])
    model = keras.Model(features, keras.layers.Dense(2, name="head")(joined))
    graph = graph_from_model(model, blocks=True)
    instance = graph.find("fork")
    assert [n.name for n in graph.blocks.get("fork").output_nodes()] == ["left", "right"]
    assert [(e.source_port, e.port) for e in graph.in_edges(graph.find("join").id)] == [
        (1, 0),
        (0, 1),
    ]
    assert instance.type == BLOCK and validate(graph) == []
    built = build_model(graph)
    for name in ("fork", "head"):
        built.get_layer(name).set_weights(model.get_layer(name).get_weights())
    data = np.random.default_rng(4).normal(size=(3, 6)).astype("float32")
    np.testing.assert_allclose(outputs(built, data), outputs(model, data), rtol=1e-6)
