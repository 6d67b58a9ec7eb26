"""Federated training simulated in one process with one model.

Every client trains the same Keras model in turn: the model's weights are set
to the global weights, its optimizer state is reset (a client starts fresh
each round, as a real device would), it trains on the client's part only
(`local_training.LocalTrainer`), and its weights are read back. The model is
built and compiled once, so a round costs about what fitting the same samples
centrally costs. Image folders stay files: each client holds its file names and
streams them (the training split is never decoded whole).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from graph.model import NetworkGraph
from runtime.builder import build_model
from runtime.compile import compile_model, fit_targets
from runtime.data import Dataset, feed, model_inputs, validation_data
from runtime.federated import aggregation
from runtime.federated.accounting import epsilon
from runtime.federated.local_training import LocalTrainer, take_rows
from runtime.federated.plan import FederatedPlan, plan_federation
from runtime.heads import input_shapes
from runtime.learned_state import trained_weights
from runtime.privacy.membership import membership_inference_auc
from runtime.trainer import adapt_normalization


@dataclass(frozen=True)
class ClientReport:
    """One client's part in a round.

    Attributes:
        client: The client's number (from 1).
        samples: Its training samples.
        logs: Its local training metrics after its last local epoch.
        update_norm: The L2 norm of the update it sent (before clipping).
        bytes_sent: Bytes of the weights it sent.
    """

    client: int
    samples: int
    logs: dict[str, float]
    update_norm: float
    bytes_sent: int


@dataclass(frozen=True)
class RoundReport:
    """What a round produced.

    Attributes:
        round: The round (from 1).
        rounds: Rounds planned.
        logs: The global model's metrics on the validation split (the test
            split when there is none), named val_loss, val_accuracy, ...; and
            epsilon when noise is added.
        clients: The sampled clients' reports.
        seconds: Wall time of the round.
    """

    round: int
    rounds: int
    logs: dict[str, float]
    clients: list[ClientReport]
    seconds: float


@dataclass
class FederatedResult:
    """The outcome, plain and picklable.

    Attributes:
        weights: The final global model's weights and learned state
            (runtime.learned_state.trained_weights): rebuild it with
            runtime.training_process.rebuild_model.
        history: Each global metric's value per round (val_loss, ...).
        baseline_history: The centralized baseline's metrics per epoch, when run.
        class_counts: Samples of each class per client.
        client_sizes: Training samples per client.
        rounds_done: Rounds completed (fewer than planned when stopped).
        stopped: True when the user stopped the run early.
        bytes_per_client_round: Bytes one client sends per round.
        test_logs: The final global model's metrics on the test split.
        baseline_test_logs: The centralized baseline's metrics on the test split.
        membership_auc: The loss-threshold attack's AUC on the final model, or None.
        baseline_membership_auc: The same for the centralized baseline, or None.
        settings: The federated settings used.
    """

    weights: list[np.ndarray]
    history: dict[str, list[float]]
    baseline_history: dict[str, list[float]] = field(default_factory=dict)
    class_counts: list[list[int]] = field(default_factory=list)
    client_sizes: list[int] = field(default_factory=list)
    rounds_done: int = 0
    stopped: bool = False
    bytes_per_client_round: int = 0
    test_logs: dict[str, float] = field(default_factory=dict)
    baseline_test_logs: dict[str, float] = field(default_factory=dict)
    membership_auc: float | None = None
    baseline_membership_auc: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)


class FederatedSimulation:
    """Runs the federated rounds that `graph.settings["federated"]` describe on `dataset`.

    Args:
        graph: A valid graph; its training settings give the optimizer and loss,
            its federated settings the rest.
        dataset: The loaded data; its training split is divided among clients.
        on_round: Called with each RoundReport as its round ends.
        on_baseline_epoch: Called with (epoch, epochs, logs) for each epoch of
            the centralized baseline.
        should_stop: Called before each round; True ends the run (it may
            block while the user pauses).
        check_membership: Run the membership-inference attack on the final
            models (benchmarks of training speed turn it off).

    Raises:
        FederatedSettingsError: at construction, for settings the data cannot meet.
    """

    def __init__(
        self,
        graph: NetworkGraph,
        dataset: Dataset,
        on_round: Callable[[RoundReport], None] | None = None,
        on_baseline_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        check_membership: bool = True,
    ) -> None:
        self.graph = graph
        self.dataset = dataset
        self.plan: FederatedPlan = plan_federation(graph.settings["federated"], dataset)
        self.on_round = on_round or (lambda _report: None)
        self.on_baseline_epoch = on_baseline_epoch or (lambda *_args: None)
        self.should_stop = should_stop or (lambda: False)
        self.check_membership = check_membership

    def run(self) -> FederatedResult:
        settings = self.plan.settings
        keras.utils.set_random_seed(settings["seed"])
        rng = np.random.default_rng(settings["seed"] + 1)
        dataset = self.dataset
        model = build_model(self.graph)
        heads = compile_model(model, self.graph, dataset)
        self._from_logits = heads[0].loss.from_logits
        shapes = input_shapes(self.graph)
        x_all = model_inputs(dataset.x_train, shapes)
        adapt_normalization(model, x_all)
        y_all = fit_targets(heads, dataset.y_train, dataset)
        x_eval, y_eval = (
            (dataset.x_val, dataset.y_val)
            if dataset.has_validation
            else (dataset.x_test, dataset.y_test)
        )
        evaluation = (model_inputs(x_eval, shapes), fit_targets(heads, y_eval, dataset))
        test = (model_inputs(dataset.x_test, shapes), fit_targets(heads, dataset.y_test, dataset))
        clients = [
            (take_rows(x_all, part), take_rows(y_all, part), len(part)) for part in self.plan.parts
        ]
        strength = 0.0
        if settings["aggregation"] == "fedprox":
            strength = float(self.graph.training["learning_rate"]) * settings["mu"]
        local = LocalTrainer(model, settings["batch_size"], strength)
        initial = model.get_weights()

        result = FederatedResult(
            weights=initial,
            history={},
            class_counts=self.plan.class_counts,
            client_sizes=self.plan.client_sizes,
            bytes_per_client_round=aggregation.payload_bytes(initial),
            settings=dict(settings),
        )
        if settings["centralized_baseline"]:
            result.baseline_history = self._baseline(model, x_all, y_all, evaluation, settings)
            result.baseline_test_logs = local.evaluate(*test)
            result.baseline_membership_auc = self._membership(model)
            model.set_weights(initial)
        global_weights = initial
        rounds = settings["rounds"]
        per_round = self.plan.clients_per_round
        sampled_share = per_round / settings["clients"]
        for round_number in range(1, rounds + 1):
            if self.should_stop():
                result.stopped = True
                break
            started = time.perf_counter()
            chosen = np.sort(rng.choice(settings["clients"], per_round, replace=False))
            updates, counts, reports = [], [], []
            for client in chosen:
                x, y, samples = clients[client]
                model.set_weights(global_weights)
                logs = local.train(x, y, settings["local_epochs"], rng)
                update = aggregation.difference(model.get_weights(), global_weights)
                updates.append(update)
                counts.append(samples)
                reports.append(
                    ClientReport(
                        client=int(client) + 1,
                        samples=samples,
                        logs=logs,
                        update_norm=aggregation.global_norm(update),
                        bytes_sent=result.bytes_per_client_round,
                    )
                )
            global_weights = self._aggregate(global_weights, updates, counts, settings, rng)
            model.set_weights(global_weights)
            logs = {f"val_{k}": v for k, v in local.evaluate(*evaluation).items()}
            if settings["noise_multiplier"] > 0:
                logs["epsilon"] = epsilon(
                    settings["noise_multiplier"],
                    sampled_share,
                    round_number,
                    settings["delta"],
                    settings["accountant"],
                )
            for name, value in logs.items():
                result.history.setdefault(name, []).append(value)
            result.rounds_done = round_number
            result.weights = global_weights
            self.on_round(
                RoundReport(round_number, rounds, logs, reports, time.perf_counter() - started)
            )
        if result.rounds_done:
            result.test_logs = local.evaluate(*test)
            result.membership_auc = self._membership(model)
        result.weights = trained_weights(model, result.weights)
        return result

    def _aggregate(self, global_weights, updates, counts, settings, rng):
        clip = settings["clip_norm"]
        if settings["noise_multiplier"] > 0:
            step = aggregation.noisy_mean(updates, clip, settings["noise_multiplier"], rng)
            return aggregation.add(global_weights, step)
        if clip is not None:
            updates = [aggregation.clip_update(update, clip) for update in updates]
        models = [aggregation.add(global_weights, update) for update in updates]
        return aggregation.weighted_average(models, counts)

    def _baseline(self, model, x, y, evaluation, settings) -> dict[str, list[float]]:
        """Trains `model` on the whole training split for rounds * local_epochs epochs."""
        epochs = settings["rounds"] * settings["local_epochs"]
        report = self.on_baseline_epoch

        class Report(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                report(epoch + 1, epochs, {k: float(v) for k, v in (logs or {}).items()})

        history = model.fit(
            **feed(x, y, settings["batch_size"], shuffle=True, seed=settings["seed"]),
            epochs=epochs,
            validation_data=validation_data(*evaluation, settings["batch_size"]),
            callbacks=[Report()],
            verbose=0,
        )
        return {k: [float(v) for v in values] for k, values in history.history.items()}

    def _membership(self, model) -> float | None:
        dataset = self.dataset
        if not self.check_membership:
            return None
        if dataset.task != "classification" or dataset.target != "labels":
            return None
        shapes = input_shapes(self.graph)
        return membership_inference_auc(
            model,
            model_inputs(dataset.x_train, shapes),
            dataset.y_train,
            model_inputs(dataset.x_test, shapes),
            dataset.y_test,
            seed=self.plan.settings["seed"],
            from_logits=self._from_logits,
        )
