"""Test-split metrics against scikit-learn, and the learning-curve diagnosis."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn import metrics as sk

from runtime.data import load_dataset
from runtime.diagnosis import diagnose
from runtime.evaluation import evaluate
from tests.runtime.runtime_helpers import tiny_dataset


def fixed_model(weights: np.ndarray, bias: np.ndarray, activation: str) -> keras.Model:
    """A one-layer model with known weights, so predictions are known."""
    inputs = keras.Input((weights.shape[0],))
    dense = keras.layers.Dense(weights.shape[1], activation=activation)
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([weights.astype("float32"), bias.astype("float32")])
    return model


def test_multiclass_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 3))
    y = np.argmax(x + rng.normal(scale=0.8, size=x.shape), axis=1)
    dataset = tiny_dataset(x, y, classes=3)
    report = evaluate(fixed_model(np.eye(3), np.zeros(3), "softmax"), dataset)
    predicted = np.argmax(x, axis=1)
    assert report.metrics["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert report.metrics["f1_macro"] == pytest.approx(sk.f1_score(y, predicted, average="macro"))
    assert report.metrics["precision_weighted"] == pytest.approx(
        sk.precision_score(y, predicted, average="weighted")
    )
    np.testing.assert_array_equal(report.confusion, sk.confusion_matrix(y, predicted))
    np.testing.assert_array_equal(report.misclassified, np.flatnonzero(predicted != y))
    assert [c.support for c in report.per_class] == list(np.bincount(y))
    probabilities = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert report.metrics["roc_auc"] == pytest.approx(
        sk.roc_auc_score(y, probabilities, multi_class="ovr"), rel=1e-4
    )
    assert set(report.to_dict()) == {
        "task",
        "metrics",
        "per_class",
        "confusion_matrix",
        "class_names",
    }
    assert "f1_macro" in report.table()


def test_binary_logits_get_sigmoid_for_roc_auc():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 1))
    y = (x[:, 0] + rng.normal(scale=0.5, size=80) > 0).astype("int64")
    report = evaluate(fixed_model(np.array([[2.0]]), np.zeros(1), "linear"), tiny_dataset(x, y))
    assert report.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(y, x[:, 0]), rel=1e-4)
    assert report.metrics["accuracy"] == pytest.approx(sk.accuracy_score(y, x[:, 0] > 0))


def test_regression_metrics():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 2))
    y = (x @ np.array([1.0, -2.0]) + rng.normal(scale=0.1, size=50)).astype("float32")
    dataset = tiny_dataset(x, y, task="regression")
    report = evaluate(fixed_model(np.array([[1.0], [-2.0]]), np.zeros(1), "linear"), dataset)
    predicted = x @ np.array([1.0, -2.0])
    assert report.metrics["mse"] == pytest.approx(sk.mean_squared_error(y, predicted), rel=1e-4)
    assert report.metrics["mae"] == pytest.approx(sk.mean_absolute_error(y, predicted), rel=1e-4)
    assert report.metrics["r2"] == pytest.approx(sk.r2_score(y, predicted), rel=1e-4)


def test_reconstruction_ignores_constant_pixels_in_r2():
    dataset = load_dataset({"name": "digits", "target": "inputs"})
    identity = fixed_model(np.eye(64), np.zeros(64), "linear")
    report = evaluate(identity, dataset)
    assert report.metrics["mse"] == pytest.approx(0.0, abs=1e-8)
    assert report.metrics["r2"] == pytest.approx(1.0)


def test_diagnose_overfitting():
    history = {"loss": [1.0, 0.6, 0.4, 0.2, 0.1], "val_loss": [1.0, 0.7, 0.6, 0.8, 1.0]}
    text = diagnose(history)
    assert text.startswith("Overfitting: the validation loss was lowest at epoch 3")
    assert "dropout" in text


def test_diagnose_accuracy_gap_overfitting():
    history = {
        "loss": [0.5, 0.3, 0.29],
        "val_loss": [0.6, 0.5, 0.49],
        "accuracy": [0.9, 0.99, 0.99],
        "val_accuracy": [0.7, 0.8, 0.8],
    }
    assert diagnose(history).startswith("Overfitting: training accuracy 99.0%")


def test_diagnose_underfitting():
    history = {"loss": [2.3, 2.2, 2.2], "accuracy": [0.2, 0.3, 0.3]}
    assert diagnose(history).startswith("Underfitting: training accuracy is only 30.0%")


def test_diagnose_still_learning_and_good_fit():
    assert diagnose({"loss": [1.0, 0.7, 0.5, 0.3]}).startswith("Still learning")
    steady = {"loss": [0.5, 0.31, 0.30, 0.30], "val_loss": [0.5, 0.33, 0.32, 0.32]}
    assert diagnose(steady).startswith("Good fit")
    assert diagnose({"loss": [1.0]}).startswith("Too few epochs")
    # A loss near 0 that still halves is a model that has learned, not one to train longer.
    learned = {
        "loss": [0.69, 0.05, 0.0004, 0.0003, 0.0002],
        "val_loss": [0.5, 0.01, 0.0002, 0.0001, 0.00008],
        "accuracy": [0.6, 0.99, 1.0, 1.0, 1.0],
        "val_accuracy": [0.7, 1.0, 1.0, 1.0, 1.0],
    }
    assert diagnose(learned).startswith("Good fit")
    # the same when a large fall comes just before the end (a text model's 4 epochs)
    perfect = {
        "loss": [0.58, 0.0589, 0.0004, 0.000086],
        "val_loss": [0.29, 0.004, 0.0001, 0.00006],
        "accuracy": [0.66, 0.98, 1.0, 1.0],
        "val_accuracy": [0.9, 1.0, 1.0, 1.0],
    }
    assert diagnose(perfect).startswith("Good fit")
    # a large loss still falling a little at the end is still learning
    assert diagnose({"loss": [1000.0, 100.0, 20.0, 12.0, 10.0]}).startswith("Still learning")


def _mlp_request(options: dict):
    from pathlib import Path

    from graph.files import graph_to_yaml, load_graph
    from runtime.runs.base import RunRequest

    examples = Path(__file__).parents[2] / "examples"
    graph = load_graph(examples / "mlp_digits.yaml")
    return graph, RunRequest("evaluate", graph_to_yaml(graph), examples, options)


def test_the_evaluate_run_scores_the_weights_it_is_given():
    from runtime.builder import build_model
    from runtime.events import RunFailed, RunFinished
    from runtime.runs.local import run_inline

    graph, _ = _mlp_request({})
    model = build_model(graph)
    _, request = _mlp_request({"weights": model.get_weights()})
    outcome = run_inline(request)
    assert isinstance(outcome, RunFinished), getattr(outcome, "message", "")
    result = outcome.result
    dataset = load_dataset(graph.dataset)
    assert result.report.metrics == evaluate(model, dataset).metrics
    assert result.test_size == len(dataset.x_test) == result.report.confusion.sum()
    assert len(result.roc) == 10 and result.gallery == []  # tabular digits: no pictures
    failed = run_inline(_mlp_request({})[1])
    assert isinstance(failed, RunFailed) and "no trained model" in failed.message
    wrong = run_inline(_mlp_request({"weights": model.get_weights()[:1]})[1])
    assert isinstance(wrong, RunFailed) and "do not fit this graph" in wrong.message
