"""Federated simulation on the digits MLP: accuracy against centralized, privacy, FedProx, MIA."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from graph.files import load_graph
from runtime.data import load_dataset
from runtime.federated.simulation import FederatedSimulation
from runtime.privacy.membership import membership_inference_auc

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def digits_graph(**federated):
    graph = load_graph(EXAMPLES / "mlp_digits.yaml")
    graph.training["learning_rate"] = 0.003
    graph.settings["federated"] = {**graph.settings["federated"], **federated}
    return graph


@pytest.fixture(scope="module")
def digits():
    graph = load_graph(EXAMPLES / "mlp_digits.yaml")
    return load_dataset(graph.dataset, EXAMPLES)


@pytest.fixture(scope="module")
def iid_run(digits):
    reports = []
    graph = digits_graph(clients=4, rounds=10, local_epochs=1, centralized_baseline=True)
    result = FederatedSimulation(graph, digits, on_round=reports.append).run()
    return result, reports


def test_iid_fedavg_reaches_centralized_accuracy_within_three_points(iid_run):
    result, _ = iid_run
    federated = result.test_logs["accuracy"]
    centralized = result.baseline_test_logs["accuracy"]
    assert centralized > 0.9
    assert federated >= centralized - 0.03, (federated, centralized)
    assert len(result.baseline_history["val_accuracy"]) == 10


def test_each_round_reports_global_and_client_metrics(iid_run, digits):
    result, reports = iid_run
    assert [r.round for r in reports] == list(range(1, 11))
    assert result.history["val_accuracy"] == [r.logs["val_accuracy"] for r in reports]
    assert result.history["val_accuracy"][-1] > result.history["val_accuracy"][0]
    last = reports[-1]
    assert [c.client for c in last.clients] == [1, 2, 3, 4]
    assert sum(c.samples for c in last.clients) == len(digits.x_train)
    assert all({"loss", "accuracy"} <= set(c.logs) for c in last.clients)
    # Dense 64x64 + 64 biases, Dense 64x10 + 10 biases, float32.
    assert last.clients[0].bytes_sent == (64 * 64 + 64 + 64 * 10 + 10) * 4
    assert result.rounds_done == 10 and not result.stopped
    # The result's weights are the graph's model's weights: it can be rebuilt.
    _model(digits_graph()).set_weights(result.weights)


def test_a_model_that_does_not_overfit_leaks_little_membership(iid_run):
    result, _ = iid_run
    assert abs(result.membership_auc - 0.5) < 0.1


def test_a_model_that_memorises_a_tiny_set_leaks_membership(digits):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    x, y = digits.x_train[:40], digits.y_train[:40]
    # 100 full-batch steps over 40 samples, in few epochs (fit costs per epoch).
    model.fit(np.tile(x, (25, 1)), np.tile(y, 25), epochs=4, batch_size=40, verbose=0)
    auc = membership_inference_auc(model, x, y, digits.x_test, digits.y_test)
    assert auc > 0.75


def test_privacy_reports_a_growing_epsilon_and_bounds_updates(digits):
    reports = []
    graph = digits_graph(
        clients=10,
        clients_per_round=5,
        rounds=3,
        clip_norm=0.5,
        noise_multiplier=1.0,
        centralized_baseline=False,
    )
    result = FederatedSimulation(graph, digits, on_round=reports.append).run()
    epsilons = [r.logs["epsilon"] for r in reports]
    assert epsilons[0] < epsilons[1] < epsilons[2] < np.inf
    assert result.history["epsilon"] == epsilons
    assert all(len(r.clients) == 5 for r in reports)
    assert result.baseline_history == {}


def test_fedprox_keeps_client_updates_closer_to_the_global_model(digits):
    def mean_update_norm(**federated):
        reports = []
        graph = digits_graph(clients=4, rounds=1, centralized_baseline=False, **federated)
        FederatedSimulation(graph, digits, on_round=reports.append).run()
        return np.mean([c.update_norm for c in reports[0].clients])

    plain = mean_update_norm(aggregation="fedavg")
    proximal = mean_update_norm(aggregation="fedprox", mu=50.0)
    assert proximal < 0.8 * plain


def test_stop_before_a_round_keeps_the_rounds_done(digits):
    graph = digits_graph(clients=4, rounds=5, centralized_baseline=False)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2

    result = FederatedSimulation(graph, digits, should_stop=should_stop).run()
    assert result.stopped and result.rounds_done == 2
    assert len(result.history["val_loss"]) == 2


def _model(graph):
    from runtime.builder import build_model

    return build_model(graph)
