"""The explain run kind end to end, through runtime.runs.local.run_inline."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from graph.files import load_graph
from runtime.builder import build_model
from runtime.data import load_dataset
from runtime.data_contract import BUILTINS, split_positions
from runtime.events import Progress, RunFailed, RunFinished
from runtime.runs import RunRequest
from runtime.runs.local import run_inline
from tests.runtime.runtime_helpers import png_header

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CNN = EXAMPLES / "cnn_digits.yaml"


@pytest.fixture(scope="module")
def cnn():
    """The digits CNN with seeded (untrained) weights, its YAML and its dataset."""
    keras.utils.set_random_seed(0)
    graph = load_graph(CNN)
    model = build_model(graph)
    return CNN.read_text(), model, load_dataset(graph.dataset, EXAMPLES)


def explain_run(graph_yaml: str, **options) -> RunFinished | RunFailed:
    events = []
    outcome = run_inline(RunRequest("explain", graph_yaml, EXAMPLES, options), events.append)
    if isinstance(outcome, RunFinished):
        assert [e.fraction for e in events if isinstance(e, Progress)][-1] == 1.0
    return outcome


def test_gradcam_of_a_test_sample(cnn):
    graph_yaml, model, dataset = cnn
    outcome = explain_run(graph_yaml, method="gradcam", weights=model.get_weights(), sample=3)
    assert isinstance(outcome, RunFinished), outcome
    result = outcome.result
    assert result.explanation.node == "conv2d_1"
    assert result.explanation.heatmap.shape == (8, 8)
    np.testing.assert_array_equal(result.sample, dataset.x_test[3])
    assert result.label == int(dataset.y_test[3]) and result.images
    assert result.class_names == dataset.class_names and len(result.feature_names) == 64
    probabilities = model.predict(dataset.x_test[3:4], verbose=0)[0]
    np.testing.assert_allclose(result.explanation.prediction, probabilities, atol=1e-5)
    assert result.explanation.target == int(np.argmax(probabilities))


def test_a_saved_keras_file_gives_the_same_numbers_as_the_weights(cnn, tmp_path):
    graph_yaml, model, _ = cnn
    path = tmp_path / "model.keras"
    model.save(path)
    by_file = explain_run(graph_yaml, method="ig", weights_path=str(path), sample=5, steps=16)
    by_weights = explain_run(
        graph_yaml, method="ig", weights=model.get_weights(), sample=5, steps=16
    )
    np.testing.assert_allclose(
        by_file.result.explanation.attributions, by_weights.result.explanation.attributions
    )


def test_a_raw_input_is_preprocessed_like_the_training_data(cnn):
    graph_yaml, model, dataset = cnn
    settings = load_graph(CNN).dataset
    raw = BUILTINS[settings["name"]](settings)
    test_positions = split_positions(raw.y, {**settings, "stratify": True}, True)[2]
    raw_test = raw.x[test_positions]
    from_split = explain_run(graph_yaml, method="occlusion", weights=model.get_weights(), sample=7)
    loaded = explain_run(
        graph_yaml, method="occlusion", weights=model.get_weights(), input=raw_test[7]
    )
    np.testing.assert_allclose(loaded.result.sample, from_split.result.sample, atol=1e-5)
    np.testing.assert_allclose(
        loaded.result.explanation.attributions,
        from_split.result.explanation.attributions,
        atol=1e-5,
    )
    assert loaded.result.sample_index is None and loaded.result.label is None


def test_permutation_importance_and_node_outputs(cnn):
    graph_yaml, model, dataset = cnn
    importance = explain_run(
        graph_yaml, method="permutation", weights=model.get_weights(), repeats=1
    )
    assert importance.result.explanation.attributions.shape == (64,)
    assert importance.result.sample is None
    outputs = explain_run(
        graph_yaml, weights=model.get_weights(), sample=0, node_outputs=["n2", "n5"]
    )
    assert outputs.result.explanation is None
    maps = outputs.result.node_outputs["n2"].values
    sub_model = keras.Model(model.inputs, model.get_layer("conv2d_1").output)
    np.testing.assert_allclose(maps, sub_model.predict(dataset.x_test[:1], verbose=0)[0], atol=1e-6)
    assert outputs.result.node_outputs["n5"].values.shape == (10,)


def test_a_model_with_two_inputs_is_explained_from_one_sample():
    graph_yaml = (EXAMPLES / "multi_input.yaml").read_text()
    keras.utils.set_random_seed(0)
    model = build_model(load_graph(EXAMPLES / "multi_input.yaml"))
    outcome = explain_run(graph_yaml, method="ig", weights=model.get_weights(), sample=0, steps=64)
    extra = outcome.result.explanation.extra
    assert outcome.result.explanation.attributions.shape == (64,)
    assert extra["attribution_sum"] == pytest.approx(extra["score_change"], rel=0.01)


def test_bad_requests_fail_with_a_clear_message_and_node(cnn, tmp_path):
    graph_yaml, model, _ = cnn
    weights = model.get_weights()
    cases = [
        ({"method": "gradcam", "sample": 0}, "no trained model to explain", None),
        ({"method": "gradcam", "weights": weights, "sample": 0, "node": "n5"}, "spatial", "n5"),
        ({"method": "gradcam", "weights": weights, "sample": 0, "node": "nope"}, "no node", None),
        ({"method": "ig", "weights": weights, "sample": 9999}, "choose a sample from 0", None),
        ({"method": "ig", "weights": weights, "input": np.zeros(5)}, "wrong shape", None),
        ({"method": "ig", "weights": weights[:-1], "sample": 0}, "do not fit this graph", None),
        ({"method": "lime", "weights": weights, "sample": 0}, "Unknown explanation", None),
        ({"method": "ig", "weights_path": str(tmp_path / "x.keras"), "sample": 0}, "no such", None),
    ]
    not_an_image = tmp_path / "photo.png"
    not_an_image.write_text("hello")
    cases.append(
        (
            {"method": "ig", "weights": weights, "input_path": str(not_an_image)},
            "not a readable image",
            None,
        )
    )
    bomb = tmp_path / "huge.png"
    bomb.write_bytes(png_header(30_000, 30_000))  # 2.7 GB decoded: refused before
    cases.append(
        (
            {"method": "ig", "weights": weights, "input_path": str(bomb)},
            "huge.png: not a readable image (it declares 30,000 x 30,000 pixels",
            None,
        )
    )
    for options, message, node in cases:
        outcome = explain_run(graph_yaml, **options)
        assert isinstance(outcome, RunFailed), options
        assert message in outcome.message, (message, outcome.message)
        assert outcome.node_id == node


def test_a_batch_explains_each_listed_sample(cnn):
    graph_yaml, model, _ = cnn
    weights = model.get_weights()
    outcome = explain_run(graph_yaml, method="gradcam", weights=weights, batch=[2, 9])
    assert [index for index, _ in outcome.result.batch] == [2, 9]
    single = explain_run(graph_yaml, method="gradcam", weights=weights, sample=9)
    np.testing.assert_allclose(
        outcome.result.batch[1][1].attributions, single.result.explanation.attributions
    )
    refused = explain_run(graph_yaml, method="permutation", weights=weights, batch=[1])
    assert "explains one sample" in refused.message


def test_training_health_per_node_on_a_validation_batch(cnn):
    graph_yaml, model, _ = cnn
    outcome = explain_run(graph_yaml, weights=model.get_weights(), sample=0, health=True)
    health = outcome.result.health
    assert set(health) == {"n2", "n3", "n4", "n5"}
    assert 0.0 <= health["n2"].dead_fraction <= 1.0 and health["n5"].dead_fraction is None
    assert health["n2"].gradient_norm > 0 and health["n3"].gradient_norm is None
    assert all(badge.node in health for badge in outcome.result.badges)
