"""A trained model for a graph: loaded from a .keras file, or trained on the spot.

The compression and report runs take a model the user trained before
(``--weights model.keras``); without one they train the graph first, with its
own settings and seed, so the numbers match a training run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras

from graph.model import NetworkGraph
from runtime.data import DataError, Dataset, model_inputs
from runtime.events import TrainingFailed


class ModelLoadError(ValueError):
    """A model file that cannot be used; the message names the file and the reason."""


def load_trained_model(path: Path | str, dataset: Dataset | None = None) -> keras.Model:
    """Loads a Keras model (safe mode) and checks it takes `dataset`'s samples.

    Raises:
        ModelLoadError: for a missing or unreadable file, or inputs that do not fit the data.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        lines = str(error).strip().splitlines()
        raise ModelLoadError(
            f"{path}: not a Keras model ({lines[0][:200] if lines else type(error).__name__})"
        ) from None
    if dataset is not None:
        shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
        try:
            model_inputs(dataset.x_test[:1], shapes)
        except DataError as error:
            raise ModelLoadError(f"{path}: the model does not fit the dataset: {error}") from None
    return model


def train_model(
    graph: NetworkGraph, dataset: Dataset, on_event: Callable[[object], None] | None = None
) -> keras.Model:
    """Trains `graph` on `dataset` with its own settings; returns the trained model.

    Raises:
        ModelLoadError: with the trainer's message when training fails.
    """
    from runtime.trainer import Trainer

    trainer = Trainer(graph, dataset, on_event=on_event)
    result = trainer.run()
    if isinstance(result, TrainingFailed) or trainer.model is None:
        raise ModelLoadError(result.message if result else "training ended without a model")
    return trainer.model
