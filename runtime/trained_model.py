"""A trained model for a graph: loaded from a .keras file, or trained on the spot.

Runs that take a trained model (evaluation, deployment export, compression,
report) read it from their options with `model_for_run`: the weights of a run
the app trained, or a model the user saved (``--model model.keras``); without
either they train the graph first, with its own settings and seed, so the
numbers match a training run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras

from graph.messages import first_line
from graph.model import NetworkGraph
from runtime.data import DataError, Dataset, model_inputs
from runtime.events import Progress, TrainingFailed
from runtime.runs.base import RunContext, RunError


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


def model_for_run(
    graph: NetworkGraph,
    dataset: Dataset,
    options: dict,
    context: RunContext,
    train_first: bool = True,
) -> keras.Model:
    """The trained model a run's options name, the way every model-taking kind reads them.

    Args:
        graph: The request's graph.
        dataset: Its dataset (the model must take its samples).
        options: `weights` (a `runtime.learned_state.trained_weights` list for `graph`) or
            `model_path` (a saved .keras model).
        context: The run's context (training progress goes there).
        train_first: Without either option, train the graph first (else refuse).

    Raises:
        RunError: naming what is missing or does not fit.
    """
    try:
        if options.get("weights") is not None:
            return _rebuilt(graph, dataset, options["weights"])
        if options.get("model_path"):
            return load_trained_model(options["model_path"], dataset)
        if not train_first:
            raise RunError(
                "There is no trained model: train the graph first, or give a saved .keras model."
            )
        context.emit(Progress(None, "training the model first"))
        return train_model(graph, dataset, context.emit)
    except ModelLoadError as error:
        raise RunError(str(error)) from None


def dataset_for_run(graph: NetworkGraph, base_dir: Path | None) -> Dataset:
    """The graph's dataset, or a RunError naming what is wrong with it."""
    from runtime.data import load_dataset

    try:
        return load_dataset(graph.dataset, base_dir=base_dir)
    except DataError as error:
        raise RunError(f"dataset: {error}") from None


def _rebuilt(graph: NetworkGraph, dataset: Dataset, weights: list) -> keras.Model:
    from runtime.builder import BuildError
    from runtime.training_process import rebuild_model

    try:
        return rebuild_model(graph, dataset, weights)
    except BuildError as error:
        node = error.problems[0].node_id if error.problems else None
        raise RunError(str(error), node) from None
    except ValueError as error:
        raise RunError(
            f"The weights do not fit this graph (was it edited after training?): "
            f"{first_line(error)}"
        ) from None
