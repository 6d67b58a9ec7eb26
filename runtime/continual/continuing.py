"""Continue training a trained model on new data without forgetting the old.

What a practitioner does when this month's data arrives: the model keeps its
weights and trains on the new data, and, with rehearsal (on by default), each
new batch is trained together with a batch from a replay memory filled from
the old data (Experience Replay, see runtime.continual.buffer). Accuracy on
the old and the new data's test splits is measured before and after, so the
forgetting (or its absence) is plain to see.

The old data is the graph's dataset; the new data is a file or a built-in
dataset read with the same settings. Both are split into train and test with
the dataset's test_size and seed, and scaled with statistics of the old
training data, as the model was when it was trained.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from graph.model import NetworkGraph
from graph.params import ParamError
from graph.settings import DATASET_PARAMS, coerce_section
from runtime.continual.errors import ContinualError
from runtime.continual.learner import ContinualLearner
from runtime.continual.tasks import continual_settings, raw_data, sequence_from_raw
from runtime.data import DataError
from runtime.learned_state import set_trained_weights, split_trained_weights, trained_weights


@dataclass
class ContinueResult:
    """Accuracy on old and new data before and after continuing to train.

    Attributes:
        old_name: The old data's name.
        new_name: The new data's name.
        rehearsal: Whether old samples were replayed.
        before: {"old": accuracy, "new": accuracy} before training on the new data.
        after: The same after it.
        loss: The last epoch's training loss.
        weights: The model's weights after (runtime.learned_state.trained_weights).
    """

    old_name: str
    new_name: str
    rehearsal: bool
    before: dict[str, float]
    after: dict[str, float]
    loss: float
    weights: list[np.ndarray] = field(default_factory=list)

    def final_test_metrics(self) -> dict[str, float]:
        """Accuracy on the old and the new data's test splits after training."""
        return {f"{data} data accuracy": value for data, value in self.after.items()}


def continue_training(
    graph: NetworkGraph,
    weights: list[np.ndarray],
    new_data: dict,
    base_dir: Path | None = None,
    rehearsal: bool = True,
    overrides: dict | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> ContinueResult:
    """Trains the model of `graph` with `weights` on `new_data`, replaying old data if asked.

    Args:
        graph: The graph the model was built from (its dataset is the old data).
        weights: The trained model's weights and learned state
            (runtime.learned_state.trained_weights).
        new_data: Dataset settings that differ for the new data, e.g.
            {"source": "csv", "path": "march.csv"} or {"source": "builtin", "name": "wine"}.
        base_dir: The folder relative paths start from.
        rehearsal: Replay old samples while training on the new ones.
        overrides: Continual settings for this run (epochs_per_task, buffer_size, seed...).
        on_epoch: Called with (epoch, loss) after each epoch.

    Raises:
        ContinualError: when the new data or the weights do not fit the graph.
    """
    settings = continual_settings({**graph.settings["continual"], **(overrides or {})})
    settings["strategy"] = "replay" if rehearsal else "naive"
    settings["scenario"] = "class_incremental"
    try:
        old_settings = coerce_section(DATASET_PARAMS, graph.dataset, "dataset")
        new_settings = coerce_section(DATASET_PARAMS, {**old_settings, **new_data}, "new data")
        old = raw_data(old_settings, base_dir)
        new = raw_data(new_settings, base_dir)
    except (DataError, ParamError) as error:
        raise ContinualError(str(error)) from None
    if old[0] == new[0]:
        new = (f"{new[0]} (new)", new[1])
    sequence = sequence_from_raw([old, new], old_settings, f"{old[0]} then {new[0]}")
    if rehearsal:
        settings["buffer_size"] = min(settings["buffer_size"], len(sequence.tasks[0].x_train))
    learner = ContinualLearner(graph, sequence, settings)
    model_weights = learner.model.get_weights()
    plain, _ = split_trained_weights(weights)
    if len(plain) != len(model_weights) or any(
        np.shape(w) != np.shape(m) for w, m in zip(plain, model_weights, strict=False)
    ):
        raise ContinualError(
            "the trained weights do not fit the graph (it changed since it was trained): "
            "train it again first"
        )
    try:
        set_trained_weights(learner.model, weights)
    except ValueError as error:
        raise ContinualError(str(error)) from None
    learner.remember(0)
    before = learner.evaluate()
    loss = learner.train_task(1, on_epoch)
    after = learner.evaluate()
    return ContinueResult(
        old_name=old[0],
        new_name=new[0],
        rehearsal=rehearsal,
        before={"old": before[0], "new": before[1]},
        after={"old": after[0], "new": after[1]},
        loss=loss,
        weights=trained_weights(learner.model),
    )
