"""A NaN loss names the first node whose output is not finite, as the failure's node_id."""

from __future__ import annotations

import numpy as np

from runtime.builder import build_model
from runtime.data import load_dataset
from runtime.nan_trace import first_non_finite_node
from runtime.trainer import Trainer
from tests.runtime.runtime_helpers import mlp


def test_a_diverging_run_names_the_layer_that_overflowed():
    graph = mlp(
        input_shape=(20, 1),
        units=1,
        activation="linear",
        hidden=64,
        optimizer="sgd",
        learning_rate=10.0,
        epochs=3,
        metrics=(),
        dataset={"name": "sine", "samples": 200, "normalization": "none"},
    )
    result = Trainer(graph, load_dataset(graph.dataset)).run()
    assert result.node_id is not None, result.message
    node = graph.node(result.node_id)
    assert node.type == "Dense"
    assert (
        f"{node.label} is the first layer whose output is not finite" in result.message
        or f"the outputs of {node.label} stayed finite but grew to" in result.message
    )
    assert "at epoch 1, batch" in result.message


def test_the_first_non_finite_output_is_found_layer_by_layer():
    graph = mlp(input_shape=(4,), units=3, hidden=8)
    model = build_model(graph)
    x = np.ones((5, 4), dtype="float32")
    assert first_non_finite_node(graph, model, x) is None
    hidden, output = [node for node in graph.nodes if node.type == "Dense"]
    kernel, bias = model.get_layer(output.name).get_weights()
    model.get_layer(output.name).set_weights([np.full_like(kernel, 1e38), bias])
    model.get_layer(hidden.name).set_weights(
        [np.full_like(w, 1.0) for w in model.get_layer(hidden.name).get_weights()]
    )
    assert first_non_finite_node(graph, model, x) == output
    x[2, 1] = np.inf
    assert first_non_finite_node(graph, model, x).type == "Input"
