"""Continual learning on split digits: forgetting, replay, EWC, LwF, the matrix and its metrics."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.continual.buffer import ReplayBuffer
from runtime.continual.learner import ContinualLearner
from runtime.continual.metrics import METRIC_EXPLANATIONS, summary_metrics
from runtime.continual.strategies import EwcPenalty, FisherEstimator, distillation_loss
from runtime.continual.tasks import build_sequence
from tests.runtime.continual_helpers import split_digits_graph


@pytest.fixture(scope="module")
def graph():
    return split_digits_graph()


@pytest.fixture(scope="module")
def sequence(graph):
    return build_sequence(graph.dataset, graph.settings["continual"])


@pytest.fixture(scope="module")
def results(graph, sequence):
    """naive and replay on the same sequence, learned once for the module."""
    return {
        name: ContinualLearner(graph, sequence, graph.settings["continual"], name).run()
        for name in ("naive", "replay")
    }


def test_split_digits_is_five_tasks_of_two_classes(sequence):
    assert sequence.names == ["0-1", "2-3", "4-5", "6-7", "8-9"]
    for index, task in enumerate(sequence.tasks):
        assert task.classes == (2 * index, 2 * index + 1)
        assert set(np.unique(task.y_train)) == set(task.classes)
        assert set(np.unique(task.y_test)) == set(task.classes)


def test_naive_fine_tuning_forgets_and_replay_forgets_less(results):
    naive, replay = results["naive"], results["replay"]
    assert naive.metrics["backward_transfer"] < -0.4
    assert replay.metrics["backward_transfer"] > naive.metrics["backward_transfer"] + 0.15
    assert replay.metrics["average_accuracy"] > naive.metrics["average_accuracy"] + 0.1
    # Each task was learned when it was trained on.
    assert all(naive.matrix[i][i] > 0.85 for i in range(5))


def test_the_replay_buffer_ends_full_and_never_larger(results):
    counts = results["replay"].buffer_counts
    assert sum(counts.values()) == 100
    assert set(counts) == set(range(10))


def test_the_diagonal_is_each_tasks_accuracy_right_after_training_on_it(graph, sequence):
    learner = ContinualLearner(
        graph, sequence, {**graph.settings["continual"], "epochs_per_task": 1}
    )
    measured = []

    def right_after(report):
        task = sequence.tasks[report.index]
        predicted = np.argmax(learner.model.predict(task.x_test, verbose=0), axis=1)
        measured.append(float(np.mean(predicted == task.y_test)))

    result = learner.run(on_task=right_after)
    assert len(result.matrix) == 5 and all(len(row) == 5 for row in result.matrix)
    assert [result.matrix[i][i] for i in range(5)] == pytest.approx(measured, abs=1e-9)
    assert len(result.initial) == 5 and result.weights


def test_ewc_forgets_less_than_naive(graph, sequence, results):
    ewc = ContinualLearner(graph, sequence, graph.settings["continual"], "ewc").run()
    assert ewc.metrics["backward_transfer"] > results["naive"].metrics["backward_transfer"] + 0.1


def test_task_incremental_masks_other_tasks_classes(graph, sequence, results):
    settings = {**graph.settings["continual"], "scenario": "task_incremental"}
    task_il = ContinualLearner(graph, sequence, settings, "naive").run()
    # Told the task, the network only has to tell its two digits apart: little is forgotten.
    assert task_il.metrics["backward_transfer"] > -0.1
    assert task_il.metrics["average_accuracy"] > results["naive"].metrics["average_accuracy"]


def test_lwf_runs_the_sequence(graph, sequence):
    settings = {**graph.settings["continual"], "epochs_per_task": 1}
    lwf = ContinualLearner(graph, sequence, settings, "lwf").run()
    assert lwf.strategy == "lwf" and len(lwf.matrix) == 5
    assert all(math.isfinite(loss) for loss in lwf.losses)


def _tiny_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(4, activation="softmax")(keras.layers.Dense(5)(inputs))
    return keras.Model(inputs, outputs)


def test_ewc_penalty_is_zero_at_the_anchor_and_grows_away_from_it():
    model = _tiny_model()
    penalty = EwcPenalty(model, strength=10.0)
    fisher = [np.full(w.shape, 0.5) for w in model.trainable_variables]
    penalty.consolidate(fisher)
    assert float(penalty()) == pytest.approx(0.0, abs=1e-12)
    anchor = [w.numpy() for w in model.trainable_variables]
    values = []
    for step in (0.01, 0.1, 1.0):
        for w, a in zip(model.trainable_variables, anchor, strict=True):
            w.assign(a + step)
        values.append(float(penalty()))
    count = sum(a.size for a in anchor)
    # lambda / 2 * sum F (theta - theta*)^2
    assert values[-1] == pytest.approx(0.5 * 10.0 * 0.5 * count, rel=1e-5)
    assert 0 < values[0] < values[1] < values[2]


def test_fisher_is_the_same_whatever_the_batch_size():
    model = _tiny_model()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)).astype("float32"), rng.integers(0, 4, 50)
    small = FisherEstimator(model, from_logits=False, batch_size=7)(x, y)
    whole = FisherEstimator(model, from_logits=False, batch_size=64)(x, y)
    for a, b in zip(small, whole, strict=True):
        assert a.shape == b.shape and np.all(a >= 0)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-9)
    # One sample's Fisher is its squared gradient of log p(y|x).
    with tf.GradientTape() as tape:
        log_p = tf.math.log(model(x[:1])[0, int(y[0])])
    gradients = tape.gradient(log_p, model.trainable_variables)
    one = FisherEstimator(model, from_logits=False)(x[:1], y[:1])
    for f, g in zip(one, gradients, strict=True):
        np.testing.assert_allclose(f, np.square(g.numpy()), rtol=1e-4, atol=1e-9)


def test_distillation_is_lowest_when_the_new_outputs_keep_the_old_answers():
    rng = np.random.default_rng(1)
    old = tf.nn.softmax(rng.normal(size=(8, 4))).numpy().astype("float32")
    old_scores = np.log(old)
    classes, weights = tf.constant([1.0, 1.0, 0.0, 0.0]), tf.ones(8)
    kept = float(distillation_loss(old_scores, old, classes, weights, False, 2.0))
    for _ in range(5):
        other = tf.nn.softmax(rng.normal(size=(8, 4))).numpy().astype("float32")
        assert float(distillation_loss(old_scores, other, classes, weights, False, 2.0)) > kept


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(1, 30),
    labels=st.lists(st.integers(0, 5), min_size=0, max_size=120),
    selection=st.sampled_from(["random", "class_balanced"]),
)
def test_the_buffer_never_exceeds_its_size(size, labels, selection):
    buffer = ReplayBuffer(size, selection, seed=1)
    for start in range(0, len(labels), 17):
        chunk = np.array(labels[start : start + 17], dtype="int64")
        buffer.add(chunk[:, None].astype("float32"), chunk)
        assert len(buffer) <= size
        assert sum(buffer.class_counts().values()) == len(buffer)
        # Every stored sample is one that was offered, with its own label.
        assert np.all(buffer.x[:, 0] == buffer.y)
    assert len(buffer) == min(size, len(labels))


@settings(max_examples=25, deadline=None)
@given(size=st.integers(10, 60), per_class=st.integers(30, 80), classes=st.integers(2, 10))
def test_a_class_balanced_buffer_keeps_classes_level(size, per_class, classes):
    buffer = ReplayBuffer(size, "class_balanced", seed=2)
    for first in range(0, classes, 2):  # tasks of two classes, as split digits
        labels = np.repeat(np.arange(first, min(first + 2, classes)), per_class)
        buffer.add(labels[:, None].astype("float32"), labels)
    counts = list(buffer.class_counts().values())
    assert len(buffer) == size and len(counts) == classes
    assert max(counts) - min(counts) <= 1


def test_a_random_buffer_is_a_uniform_sample_of_the_stream():
    labels = np.repeat(np.arange(4), 500)  # four tasks of one class in turn
    totals = np.zeros(4)
    for seed in range(20):
        buffer = ReplayBuffer(100, "random", seed=seed)
        buffer.add(labels[:, None].astype("float32"), labels)
        totals += [buffer.class_counts().get(c, 0) for c in range(4)]
    assert np.all(np.abs(totals / 20 - 25) < 5)


def test_metrics_follow_lopez_paz_and_ranzato():
    matrix = [[0.9, 0.1, 0.2], [0.5, 0.8, 0.3], [0.4, 0.6, 0.7]]
    initial = [0.1, 0.15, 0.25]
    metrics = summary_metrics(matrix, initial)
    assert metrics["average_accuracy"] == pytest.approx((0.4 + 0.6 + 0.7) / 3)
    assert metrics["backward_transfer"] == pytest.approx(((0.4 - 0.9) + (0.6 - 0.8)) / 2)
    assert metrics["forward_transfer"] == pytest.approx(((0.1 - 0.15) + (0.3 - 0.25)) / 2)
    partial = summary_metrics(matrix[:1], initial)
    assert partial["average_accuracy"] == pytest.approx(0.9)
    assert math.isnan(partial["backward_transfer"]) and math.isnan(partial["forward_transfer"])
    assert set(METRIC_EXPLANATIONS) == set(metrics)
