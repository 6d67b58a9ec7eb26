"""Plain events a training or tuning run reports to whoever listens.

Frozen dataclasses, free of Qt and of Keras types except the finished
model: the GUI turns them into signals, the command line prints them.
Epochs and batches are counted from 1, as people count them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    """Tuning ended; the best trial's settings and value (None when no trial completed)."""

    best_params: dict[str, Any] = field(default_factory=dict)
    best_value: float | None = None
    trials: int = 0
