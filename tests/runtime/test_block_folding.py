"""Folding an imported model's repeats: the folded graph builds the same model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from graph.block_folding import find_repeats, fold_repeats
from graph.files import load_graph
from main import main
from runtime.builder import build_model
from runtime.importer import graph_from_model, layer_weights, transfer_weights
from tests.runtime.test_blocks_build import nested_layer, outputs


def unit_model(count: int = 3) -> keras.Model:
    """features -> stem -> `count` residual units (Dense, Dense, Add skip, ReLU) -> head."""
    inputs = keras.Input((8,), name="features")
    x = keras.layers.Dense(8, name="stem")(inputs)
    for number in range(1, count + 1):
        h = keras.layers.Dense(8, activation="relu", name=f"unit{number}_dense_a")(x)
        h = keras.layers.Dense(8, name=f"unit{number}_dense_b")(h)
        h = keras.layers.Add(name=f"unit{number}_add")([h, x])
        x = keras.layers.ReLU(name=f"unit{number}_out")(h)
    head = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, head, name="resnet_mini")


@pytest.fixture(scope="module")
def model() -> keras.Model:
    keras.utils.set_random_seed(3)
    return unit_model()


def test_a_folded_import_builds_the_same_model_flat_and_nested(model):
    graph = graph_from_model(model)
    folded = fold_repeats(graph, find_repeats(graph))
    assert list(folded.graph.blocks) == ["unit"] and len(folded.graph) == 6
    data = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    want = outputs(model, data)
    flat = build_model(folded.graph, nested_blocks=False)
    assert flat.count_params() == model.count_params()
    transfer_weights(model, flat, folded.layer_names)
    np.testing.assert_allclose(outputs(flat, data), want, rtol=1e-6)
    nested = build_model(folded.graph, nested_blocks=True)
    assert [layer.name for layer in nested.layers][2:5] == ["unit1", "unit2", "unit3"]
    weights = layer_weights(model)
    for dotted, original in folded.layer_names.items():
        if original in weights:
            nested_layer(nested, dotted).set_weights(weights[original])
    np.testing.assert_allclose(outputs(nested, data), want, rtol=1e-6)


def test_import_command_folds_with_fold(model, tmp_path, capsys):
    path, out = tmp_path / "units.keras", tmp_path / "units.yaml"
    model.save(path)
    assert main(["import", str(path), "--fold", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "resnet_mini: 3 repeated blocks of 1 kind found; folded" in err
    graph = load_graph(out)
    assert list(graph.blocks) == ["unit"]
    assert [n.name for n in graph.nodes if n.type == "Block"] == ["unit1", "unit2", "unit3"]
