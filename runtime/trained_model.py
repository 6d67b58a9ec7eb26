"""A trained model for a graph: loaded from a .keras file, or trained on the spot.

Runs that take a trained model (evaluation, deployment export, compression,
report) read it from their options with `model_for_run`: the weights of a run
the app trained, or a model the user saved (``--model model.keras``); without
either they train the graph first, with its own settings and seed, so the
numbers match a training run.
"""

from __future__ import annotations

from pathlib import Path

import keras

from graph.cli.exit_codes import EXIT_BAD_FILE, EXIT_INVALID
from graph.input_files import InputFileError, check_model_file
from graph.messages import first_line
from graph.model import NetworkGraph
from runtime.data import DataError, Dataset, model_inputs
from runtime.events import BatchEnd, EpochEnd, LogLine, Progress, TrainingFailed
from runtime.runs.base import RunContext, RunError


class ModelLoadError(ValueError):
    """A model that cannot be had; the message names the file (or training) and the reason.

    Args:
        message: What is wrong.
        exit_code: EXIT_BAD_FILE for a file that cannot be read as a model,
            EXIT_INVALID for a model that does not fit or training that failed.
    """

    def __init__(self, message: str, exit_code: int = EXIT_BAD_FILE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_trained_model(path: Path | str, dataset: Dataset | None = None) -> keras.Model:
    """Loads a Keras model (safe mode) and checks it takes `dataset`'s samples.

    Raises:
        ModelLoadError: for a missing or unreadable file, or inputs that do not fit the data.
    """
    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"{path}: model file not found")
    try:
        check_model_file(path)  # a folder, a device or a zip bomb is refused unopened
    except InputFileError as error:
        raise ModelLoadError(str(error)) from None
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise ModelLoadError(f"{path}: not a loadable Keras model ({first_line(error)})") from None
    if dataset is not None:
        shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
        try:
            model_inputs(dataset.x_test[:1], shapes)
        except DataError as error:
            raise ModelLoadError(
                f"{path}: the model does not fit the dataset: {error}", EXIT_INVALID
            ) from None
    return model


def train_model(
    graph: NetworkGraph,
    dataset: Dataset,
    context: RunContext | None = None,
    epochs: int | None = None,
) -> keras.Model:
    """Trains `graph` on `dataset` with its own settings; returns the trained model.

    Args:
        graph: The graph to train.
        dataset: Its data.
        context: The run it trains for: progress goes there (plain events
            only: the trainer's last event holds the Keras model) and its
            stop / pause / resume reach the trainer.
        epochs: Overrides the graph's epochs.

    Raises:
        ModelLoadError: with the trainer's message when training fails.
    """
    from runtime.trainer import Trainer

    def forward(event: object) -> None:
        if isinstance(event, (BatchEnd, EpochEnd, LogLine)):
            context.emit(event)

    trainer = Trainer(graph, dataset, on_event=forward if context else None, epochs=epochs)
    if context is not None:
        context.on_control(trainer)
    result = trainer.run()
    if isinstance(result, TrainingFailed) or trainer.model is None:
        message = result.message if result else "training ended without a model"
        raise ModelLoadError(message, EXIT_INVALID)
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
        options: `weights` (a `runtime.learned_state.trained_weights` list for `graph`)
            or `model_path` (a saved .keras model); `epochs` overrides the
            graph's when it is trained first.
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
        return train_model(graph, dataset, context, options.get("epochs"))
    except ModelLoadError as error:
        raise RunError(str(error), exit_code=error.exit_code) from None


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
