"""Hyperparameter search with Optuna: TPE sampling, median pruning per epoch.

Each trial trains a copy of the graph with the sampled settings through the
Trainer and scores it by its lowest validation loss (training loss without a
validation split). Trial 0 is always the baseline: the graph's own settings,
trained the same way, so a "best" trial that does not beat it is recognised
(`TuningFinished.beats_baseline`). Every trial trains the graph's epochs
unless fewer are asked for. Hyperparameter names in results:

- `learning_rate`, `batch_size`, `optimizer`: training settings;
- `l1`, `l2`: the kernel_regularizer of every layer that has one;
- `<node>.units` / `<node>.filters`: the width of a hidden Dense,
  convolution or recurrent layer (output layers and layers whose width
  other layers depend on, e.g. a branch into Add, are left alone);
- `<node>.rate`: the rate of a Dropout layer.

`apply_best` turns such a dict into one undoable command.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import keras
import optuna

from graph.model import Batch, Command, NetworkGraph, Node, SetParams, SetSettings
from graph.settings import SECTIONS
from graph.validation import is_valid, validate
from runtime.data import Dataset
from runtime.events import EpochEnd, TrainingFailed, TrialFinished, TrialStarted, TuningFinished
from runtime.trainer import Trainer

WIDTH_PARAMS = {
    "Dense": "units",
    "SimpleRNN": "units",
    "LSTM": "units",
    "GRU": "units",
    "Conv1D": "filters",
    "Conv2D": "filters",
    "Conv3D": "filters",
}


@dataclass
class SearchSpace:
    """What to search, with the user's ranges; None leaves a hyperparameter as it is.

    Attributes:
        learning_rate: (low, high), sampled on a log scale.
        batch_sizes: Batch sizes to choose from.
        l1: (low, high) of the L1 kernel penalty, log scale.
        l2: (low, high) of the L2 kernel penalty, log scale.
        dropout: (low, high) of every Dropout layer's rate.
        units: (low, high) of every tunable layer's width, log scale; None
            with `tune_widths` searches from half to double each layer's width.
        tune_widths: Whether to search layer widths at all.
        optimizers: Optimizer names to choose from.
    """

    learning_rate: tuple[float, float] | None = (1e-4, 1e-2)
    batch_sizes: tuple[int, ...] | None = (16, 32, 64)
    l1: tuple[float, float] | None = None
    l2: tuple[float, float] | None = (1e-6, 1e-2)
    dropout: tuple[float, float] | None = (0.0, 0.5)
    units: tuple[int, int] | None = None
    tune_widths: bool = True
    optimizers: tuple[str, ...] | None = ("adam", "rmsprop", "sgd")


class SearchSpaceError(ValueError):
    """A search range outside what the settings or the data allow; the message gives the range."""


def _training_param(name: str):
    return next(p for p in SECTIONS["training"].params if p.name == name)


def check_search_space(space: SearchSpace, dataset: Dataset) -> None:
    """Refuses ranges every trial would fail on, before the first trial.

    Args:
        space: The ranges to search.
        dataset: The data trials train on (a batch holds at most its training split).

    Raises:
        SearchSpaceError: naming the hyperparameter, the allowed range and the value.
    """
    if space.learning_rate:
        param = _training_param("learning_rate")
        low, high = space.learning_rate
        if low < param.minimum or high > param.maximum or low > high:
            raise SearchSpaceError(
                f"learning rate range must lie within {param.minimum:g} to {param.maximum:g} "
                f"(low <= high). Received: {low:g} to {high:g}"
            )
    if space.batch_sizes:
        largest = min(int(_training_param("batch_size").maximum), len(dataset.x_train))
        wrong = [size for size in space.batch_sizes if not 1 <= size <= largest]
        if wrong:
            raise SearchSpaceError(
                f"batch sizes must lie within 1 to {largest:,} (the training split has "
                f"{len(dataset.x_train):,} samples). Received: {', '.join(map(str, wrong))}"
            )
    if space.optimizers:
        allowed = _training_param("optimizer").choices
        unknown = [name for name in space.optimizers if name not in allowed]
        if unknown:
            raise SearchSpaceError(
                f"optimizers must be among {', '.join(allowed)}. Received: {', '.join(unknown)}"
            )
    ranges = {"l1": space.l1, "l2": space.l2, "dropout": space.dropout, "units": space.units}
    upper = {"l1": math.inf, "l2": math.inf, "dropout": 1.0, "units": math.inf}
    for name, bounds in ranges.items():
        if not bounds:
            continue
        low, high = bounds
        lowest = 1 if name == "units" else 0.0
        if not (math.isfinite(low) and math.isfinite(high)) or not lowest <= low <= high:
            raise SearchSpaceError(
                f"{name} range must be finite with {lowest:g} <= low <= high. "
                f"Received: {low:g} to {high:g}"
            )
        if high >= upper[name]:
            raise SearchSpaceError(
                f"{name} range must stay below {upper[name]:g}. Received: {low:g} to {high:g}"
            )


class _TrialError(Exception):
    """A trial whose training failed (e.g. NaN loss); Optuna records it as failed."""


class _Pruning(keras.callbacks.Callback):
    """Reports each epoch's monitored loss to Optuna and stops a trial it prunes."""

    def __init__(self, trial: optuna.Trial | None, monitor: str) -> None:
        super().__init__()
        self.trial = trial
        self.monitor = monitor
        self.pruned = False
        self.best = math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        self.best = min(self.best, value)
        if self.trial is None:  # the baseline is measured, never pruned
            return
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def tunable_widths(graph: NetworkGraph) -> list[tuple[Node, str]]:
    """Hidden layers whose width can change alone without breaking the graph."""
    outputs = {node.id for node in graph.output_nodes()}
    result = []
    for node in graph.nodes:
        param = WIDTH_PARAMS.get(node.type)
        if param is None or node.id in outputs:
            continue
        trial = graph.copy()
        trial.set_params(node.id, **{param: node.params[param] + 1})
        if is_valid(validate(trial)):
            result.append((node, param))
    return result


def apply_best(graph: NetworkGraph, params: dict) -> Batch:
    """One undoable command that writes tuned `params` (names as above) into `graph`.

    The command is returned unapplied: the GUI pushes it on its undo stack,
    the CLI applies it with `graph.apply(command)`.

    Raises:
        ValueError: for a name that matches no setting or node.
    """
    commands: list[Command] = []
    training = {k: params[k] for k in ("learning_rate", "batch_size", "optimizer") if k in params}
    if training:
        commands.append(SetSettings("training", training))
    if "l1" in params or "l2" in params:
        penalty = {"l1": float(params.get("l1", 0.0)), "l2": float(params.get("l2", 0.0))}
        for node in graph.nodes:
            if "kernel_regularizer" in node.params:
                commands.append(SetParams(node.id, {"kernel_regularizer": penalty}))
    for key, value in params.items():
        if "." not in key:
            if key not in ("learning_rate", "batch_size", "optimizer", "l1", "l2"):
                raise ValueError(f"Unknown tuned hyperparameter {key!r}")
            continue
        name, param = key.rsplit(".", 1)
        node = graph.find(name)
        if node is None or param not in node.params:
            raise ValueError(f"Tuned hyperparameter {key!r} names no node parameter in the graph")
        commands.append(SetParams(node.id, {param: value}))
    return Batch(commands, "Apply tuned hyperparameters")


def baseline_params(graph: NetworkGraph, space: SearchSpace, widths) -> dict:
    """The graph's own values of what `space` searches, named as trials name them."""
    training = graph.training
    params = {}
    for name, searched in (
        ("learning_rate", space.learning_rate),
        ("batch_size", space.batch_sizes),
        ("optimizer", space.optimizers),
    ):
        if searched:
            params[name] = training[name]
    penalties = [
        node.params["kernel_regularizer"]
        for node in graph.nodes
        if isinstance(node.params.get("kernel_regularizer"), dict)
    ]
    for name, searched in (("l1", space.l1), ("l2", space.l2)):
        if searched:
            params[name] = float(penalties[0].get(name, 0.0)) if penalties else 0.0
    if space.dropout:
        for node in graph.nodes:
            if node.type == "Dropout":
                params[f"{node.name}.rate"] = node.params["rate"]
    for node, param in widths:
        params[f"{node.name}.{param}"] = node.params[param]
    return params


def _suggest(trial: optuna.Trial, graph: NetworkGraph, space: SearchSpace, widths) -> dict:
    params = {}
    if space.learning_rate:
        params["learning_rate"] = trial.suggest_float(
            "learning_rate", *space.learning_rate, log=True
        )
    if space.batch_sizes:
        params["batch_size"] = trial.suggest_categorical("batch_size", list(space.batch_sizes))
    if space.optimizers:
        params["optimizer"] = trial.suggest_categorical("optimizer", list(space.optimizers))
    if space.l1:
        params["l1"] = trial.suggest_float("l1", *space.l1, log=True)
    if space.l2:
        params["l2"] = trial.suggest_float("l2", *space.l2, log=True)
    if space.dropout:
        for node in graph.nodes:
            if node.type == "Dropout":
                params[f"{node.name}.rate"] = trial.suggest_float(
                    f"{node.name}.rate", *space.dropout
                )
    for node, param in widths:
        current = node.params[param]
        low, high = space.units or (max(1, current // 2), current * 2)
        key = f"{node.name}.{param}"
        params[key] = trial.suggest_int(key, low, high, log=True)
    return params


class Tuner:
    """Searches `space` for `trials` trials, reporting tuning events to `on_event`.

    Args:
        graph: The graph to tune (left unchanged; see `apply_best`).
        dataset: The data to train on.
        space: What to search.
        trials: The trial budget.
        on_event: Receives TrialStarted, EpochEnd (of the running trial),
            TrialFinished and TuningFinished events.
        epochs: Epochs per trial; graph.training["epochs"] when None (more
            than the graph's are not trained: a trial is a run of the graph).
    """

    def __init__(
        self,
        graph: NetworkGraph,
        dataset: Dataset,
        space: SearchSpace | None = None,
        trials: int = 10,
        on_event: Callable[[object], None] | None = None,
        epochs: int | None = None,
    ) -> None:
        self.graph = graph
        self.dataset = dataset
        self.space = space or SearchSpace()
        self.trials = trials
        self.on_event = on_event
        limit = graph.training["epochs"]
        self.epochs = limit if epochs is None else min(epochs, limit)
        self.study: optuna.Study | None = None
        self._stop = threading.Event()
        self._paused = False
        self._trainer: Trainer | None = None
        self._params: dict[int, dict] = {}
        self._messages: dict[int, str] = {}

    def stop(self) -> None:
        """Ends the running trial after its current batch and starts no other."""
        self._stop.set()
        if self._trainer is not None:
            self._trainer.stop()

    def pause(self) -> None:
        """Holds the running trial (and the next ones) after the current batch."""
        self._paused = True
        if self._trainer is not None:
            self._trainer.pause()

    def resume(self) -> None:
        self._paused = False
        if self._trainer is not None:
            self._trainer.resume()

    def _emit(self, event: object) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _forward(self, event: object) -> None:
        if isinstance(event, EpochEnd):
            self._emit(event)

    def _train(self, number: int, params: dict, trial: optuna.Trial | None) -> float:
        """Trains the graph with `params` as trial `number`; returns its score.

        Raises:
            _TrialError: training failed or reported no finite score.
            optuna.TrialPruned: the pruner stopped it.
        """
        self._params[number] = params
        self._emit(TrialStarted(number, params))
        candidate = self.graph.copy()
        candidate.apply(apply_best(candidate, params))
        monitor = "val_loss" if self.dataset.has_validation else "loss"
        pruning = _Pruning(trial, monitor)
        self._trainer = Trainer(
            candidate, self.dataset, self._forward, self.epochs, extra_callbacks=[pruning]
        )
        if self._stop.is_set():
            self._trainer.stop()
        elif self._paused:
            self._trainer.pause()
        result = self._trainer.run()
        if isinstance(result, TrainingFailed):
            self._messages[number] = result.message
            raise _TrialError(result.message)
        if pruning.pruned:
            raise optuna.TrialPruned()
        if not math.isfinite(pruning.best):
            self._messages[number] = f"no finite {monitor} was reported"
            raise _TrialError(self._messages[number])
        return pruning.best

    def _objective(self, trial: optuna.Trial, widths) -> float:
        # Optuna numbers its trials from 0; trial 0 is the baseline, run before them.
        return self._train(trial.number + 1, _suggest(trial, self.graph, self.space, widths), trial)

    def _baseline(self, widths) -> float | None:
        """Trains trial 0, the graph's own settings; its score, or None when it failed."""
        params = baseline_params(self.graph, self.space, widths)
        try:
            value = self._train(0, params, None)
        except _TrialError:
            self._emit(TrialFinished(0, params, None, "fail", self._messages.get(0, "")))
            return None
        self._emit(TrialFinished(0, params, value, "complete"))
        return value

    def _trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        state = {
            optuna.trial.TrialState.COMPLETE: "complete",
            optuna.trial.TrialState.PRUNED: "pruned",
        }.get(trial.state, "fail")
        number = trial.number + 1
        self._emit(
            TrialFinished(
                number,
                self._params.get(number, dict(trial.params)),
                trial.value if state == "complete" else None,
                state,
                self._messages.get(number, ""),
            )
        )
        if self._stop.is_set():
            study.stop()

    def run(self) -> TuningFinished:
        """Runs the search (blocking) and returns (and emits) TuningFinished.

        Raises:
            SearchSpaceError: before the first trial, for a range no trial can use.
        """
        check_search_space(self.space, self.dataset)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        seed = self.graph.training["seed"]
        self.study = optuna.create_study(
            direction="minimize",
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
        )
        widths = tunable_widths(self.graph) if self.space.tune_widths else []
        baseline = None if self._stop.is_set() else self._baseline(widths)
        if not self._stop.is_set() and self.trials > 1:
            self.study.optimize(
                lambda trial: self._objective(trial, widths),
                n_trials=self.trials - 1,
                callbacks=[self._trial_done],
                catch=(_TrialError,),
            )
        scores = [
            (trial.value, trial.number + 1)
            for trial in self.study.trials
            if trial.state == optuna.trial.TrialState.COMPLETE
        ]
        if baseline is not None:
            scores.append((baseline, 0))
        # On a tie the baseline wins: a tuned trial must be better to be "best".
        best = min(scores, key=lambda score: (score[0], score[1] != 0)) if scores else None
        event = TuningFinished(
            best_params=self._params.get(best[1], {}) if best else {},
            best_value=best[0] if best else None,
            trials=len(self.study.trials) + (0 in self._params),
            baseline_value=baseline,
        )
        self._emit(event)
        return event
