"""Events only a federated run emits (its rounds use runtime.events.RoundEnd)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FederationPlanned:
    """The training split was divided among clients; training starts next.

    Attributes:
        class_counts: Samples of each class per client (one count per client
            for regression).
        class_names: The classes, in count order (empty for regression).
        rounds: Rounds planned.
    """

    class_counts: list[list[int]]
    class_names: tuple[str, ...]
    rounds: int


@dataclass(frozen=True)
class BaselineEpochEnd:
    """An epoch of the centralized baseline (the same graph trained on all the data) ended.

    Attributes:
        epoch: The epoch (from 1).
        epochs: Epochs planned (rounds x local epochs).
        logs: Its metrics, with val_* entries.
    """

    epoch: int
    epochs: int
    logs: dict[str, float]
