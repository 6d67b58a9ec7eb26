"""Plain events a training or tuning run reports to whoever listens.

Frozen dataclasses, free of Qt and of Keras types except the finished
model: the GUI turns them into signals, the command line prints them.
Epochs and batches are counted from 1, as people count them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.cli.exit_codes import EXIT_INVALID


@dataclass(frozen=True)
class BatchEnd:
    """A training batch finished.

    Attributes:
        epoch: The epoch it belongs to (from 1).
        batch: The batch within the epoch (from 1).
        batches: Batches per epoch.
        logs: Running means of the loss and metrics over the epoch so far.
    """

    epoch: int
    batch: int
    batches: int
    logs: dict[str, float]


@dataclass(frozen=True)
class EpochEnd:
    """An epoch finished.

    Attributes:
        epoch: The epoch (from 1).
        epochs: Epochs planned.
        logs: Loss and metrics, with val_* entries when there is a validation split.
    """

    epoch: int
    epochs: int
    logs: dict[str, float]


@dataclass(frozen=True)
class HealthChecked:
    """Every layer's training health, sampled on one batch after an epoch.

    Attributes:
        epoch: The epoch just finished (from 1).
        layers: Node id -> runtime.explain.result.LayerHealth.
        badges: runtime.explain.result.Badge per problem found, with node ids.
    """

    epoch: int
    layers: dict[str, Any]
    badges: tuple[Any, ...] = ()


@dataclass(frozen=True)
class TrainingFinished:
    """Training ended normally, early, or because the user stopped it.

    Attributes:
        history: Each logged metric's values per epoch.
        stopped_early: True when early stopping or the user ended training
            before the planned epochs.
        model: The trained keras.Model (with the best weights when
            checkpoint_best is set).
        best_epoch: The epoch (from 1) whose weights the model holds, or None.
        stopped_by_user: True when `Trainer.stop()` ended training.
    """

    history: dict[str, list[float]]
    stopped_early: bool
    model: Any
    best_epoch: int | None
    stopped_by_user: bool = False


@dataclass(frozen=True)
class TrainingFailed:
    """Training could not run or could not go on.

    Attributes:
        message: What went wrong and what to try.
        node_id: The graph node at fault, when there is one.
        epoch: The epoch (from 1) where it failed, or None before training.
        batch: The batch (from 1) where it failed, or None.
    """

    message: str
    node_id: str | None = None
    epoch: int | None = None
    batch: int | None = None


@dataclass(frozen=True)
class TrialStarted:
    """A tuning trial begins with `params`."""

    number: int
    params: dict[str, Any]


@dataclass(frozen=True)
class TrialFinished:
    """A tuning trial ended.

    Attributes:
        number: The trial number (from 0, as Optuna counts).
        params: The hyperparameters it tried.
        value: Its best validation loss, or None when it failed or was pruned early.
        state: "complete", "pruned" or "fail".
        message: Why it failed, when it did.
    """

    number: int
    params: dict[str, Any]
    value: float | None
    state: str
    message: str = ""


@dataclass(frozen=True)
class TuningFinished:
    """Tuning ended; the best trial's settings and value (None when no trial completed).

    `baseline_value` is trial 0's: the graph's settings as they were, the bar a
    tuned trial has to beat (None when it did not complete).
    """

    best_params: dict[str, Any] = field(default_factory=dict)
    best_value: float | None = None
    trials: int = 0
    baseline_value: float | None = None

    @property
    def beats_baseline(self) -> bool:
        """Whether the best trial is better (lower) than the baseline, trial 0."""
        if self.best_value is None:
            return False
        return self.baseline_value is None or self.best_value < self.baseline_value


# Events every run kind may emit (runtime.runs) ---------------------------------------


@dataclass(frozen=True)
class Progress:
    """Work advanced.

    Attributes:
        fraction: Done so far, from 0 to 1, or None when unknown.
        text: What is happening, for a status line ("Round 3 of 10").
    """

    fraction: float | None
    text: str = ""


@dataclass(frozen=True)
class LogLine:
    """A line worth showing the user in the run's log."""

    text: str


@dataclass(frozen=True)
class RoundEnd:
    """A round of a multi-step run ended (a federated round, a continual task, a trial).

    Attributes:
        round: The round (from 1).
        rounds: Rounds planned.
        logs: Its headline metrics (e.g. val_loss, val_accuracy, epsilon).
        details: Anything else the kind's panel draws (plain, picklable values).
    """

    round: int
    rounds: int
    logs: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFinished:
    """A run ended with a result (also when the user stopped it and a partial result was kept).

    Attributes:
        kind: The run kind's name.
        result: What the kind's `execute` returned (plain and picklable).
        stopped_by_user: True when the user's stop ended it early.
    """

    kind: str
    result: Any
    stopped_by_user: bool = False


@dataclass(frozen=True)
class RunFailed:
    """A run could not run or could not go on.

    Attributes:
        kind: The run kind's name.
        message: What went wrong and what to try.
        node_id: The graph node at fault, when there is one.
        stopped_by_user: True when it ended because the user stopped it, with no result.
        interrupted: True when what ran it died (the training process crashed),
            rather than the run failing.
        exit_code: What a command driving the run exits with
            (graph.cli.exit_codes): EXIT_INVALID, or EXIT_BAD_FILE for a bad file.
    """

    kind: str
    message: str
    node_id: str | None = None
    stopped_by_user: bool = False
    interrupted: bool = False
    exit_code: int = EXIT_INVALID
