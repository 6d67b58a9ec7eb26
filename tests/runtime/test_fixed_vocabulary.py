"""Fixed vocabularies and bin edges: in files, built into the layer, exported and imported alike."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import keras
import numpy as np
import pytest

from codegen.python_source import export_model_code, export_training_script
from graph.files import graph_from_yaml, graph_to_yaml, load_graph
from graph.model import NetworkGraph
from graph.validation import ERROR, validate
from runtime.builder import build_model
from runtime.importer import import_model
from runtime.learned_state import set_trained_weights, trained_weights
from runtime.trainer import adapt_normalization

EXAMPLES = Path(__file__).parents[2] / "examples"

PARAMS = {
    "words": ("TextVectorization", {"vocabulary": ("good", "bad", "film"), "max_tokens": 10}),
    "colour": ("StringLookup", {"vocabulary": ("red", "green", "a, b"), "output_mode": "one_hot"}),
    "code": ("IntegerLookup", {"vocabulary": (70, 80, 0), "output_mode": "multi_hot"}),
    "age": ("Discretization", {"num_bins": None, "bin_boundaries": (18.0, 65.0)}),
}
INPUTS = {
    "words": ({"shape": [1], "dtype": "string"}),
    "colour": ({"shape": [1], "dtype": "string"}),
    "code": ({"shape": [1], "dtype": "int64"}),
    "age": ({"shape": [1]}),
}


def fixed_graph() -> NetworkGraph:
    graph = NetworkGraph("fixed")
    for name, (type_name, params) in PARAMS.items():
        source = graph.add_node("Input", f"{name}_in", INPUTS[name])
        node = graph.add_node(type_name, name, params)
        graph.connect(source.id, node.id)
    return graph


def samples():
    return [
        np.array([["good film"], ["bad"], ["unseen words"]], dtype=object),
        np.array([["green"], ["a, b"], ["blue"]], dtype=object),
        np.array([[80], [0], [5]], dtype="int64"),
        np.array([[10.0], [30.0], [70.0]], dtype="float32"),
    ]


def outputs(model, x):
    return [
        keras.ops.convert_to_numpy(y) for y in model([keras.ops.convert_to_tensor(a) for a in x])
    ]


@pytest.fixture(scope="module")
def built():
    graph = fixed_graph()
    assert [p.message for p in validate(graph) if p.severity == ERROR] == []
    return graph, build_model(graph)


def test_a_fixed_vocabulary_round_trips_through_a_graph_file(built):
    graph, _ = built
    again = graph_from_yaml(graph_to_yaml(graph))
    for name, (_, params) in PARAMS.items():
        assert {k: again.find(name).params[k] for k in params} == params


def test_the_built_layers_use_the_vocabulary_and_are_not_adapted(built):
    _, model = built
    x = samples()
    adapt_normalization(model, [np.array([["other words"]] * 3, dtype=object), *x[1:]])
    assert model.get_layer("words").get_vocabulary() == ["", "[UNK]", "good", "bad", "film"]
    assert model.get_layer("colour").get_vocabulary() == ["[UNK]", "red", "green", "a, b"]
    words, colour, code, age = outputs(model, x)
    assert words[:, :2].tolist() == [[2, 4], [3, 0], [1, 1]]
    assert colour.argmax(axis=-1).tolist() == [2, 3, 0]
    assert code.argmax(axis=-1).tolist() == [2, 3, 0]
    assert age.ravel().tolist() == [0, 1, 2]


def test_the_exported_code_builds_the_same_layers(built):
    graph, model = built
    namespace = {"__name__": "exported_model"}
    exec(compile(export_model_code(graph), "exported_model.py", "exec"), namespace)
    exported = namespace["build_model"]()
    for name in PARAMS:
        assert exported.get_layer(name).get_config() == model.get_layer(name).get_config()
    x = samples()
    for ours, theirs in zip(outputs(model, x), outputs(exported, x), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_a_saved_keras_model_with_a_fixed_vocabulary_imports_it(built, tmp_path):
    _, model = built
    model.save(tmp_path / "fixed.keras")
    imported = import_model(tmp_path / "fixed.keras")
    for name, (type_name, params) in PARAMS.items():
        node = imported.find(name)
        assert node.type == type_name
        assert {k: node.params[k] for k in params} == params


def test_the_exported_training_script_keeps_the_fixed_vocabulary_through_adapting(monkeypatch):
    graph = load_graph(EXAMPLES / "text_sentiment.yaml")
    graph.dataset["samples"] = 60
    words = graph.find("words")
    graph.set_params(words.id, vocabulary=("dull", "boring", "great"))
    script = types.ModuleType("exported_script")  # its dataclasses look their module up
    monkeypatch.setitem(sys.modules, script.__name__, script)
    namespace = script.__dict__
    exec(compile(export_training_script(graph, "train.py"), "train.py", "exec"), namespace)
    (x_train, _), _, _, _ = namespace["load_data"]()
    model = namespace["build_model"]()
    namespace["adapt_normalization"](model, x_train)
    app_model = build_model(graph)
    adapt_normalization(app_model, x_train)
    expected = ["", "[UNK]", "dull", "boring", "great"]
    assert model.get_layer("words").get_vocabulary() == expected
    assert app_model.get_layer("words").get_vocabulary() == expected


def test_a_model_with_fixed_vocabularies_is_rebuilt_from_its_trained_weights(built):
    graph, model = built
    rebuilt = build_model(graph)
    set_trained_weights(rebuilt, trained_weights(model))
    for ours, theirs in zip(outputs(model, samples()), outputs(rebuilt, samples()), strict=True):
        np.testing.assert_array_equal(ours, theirs)
