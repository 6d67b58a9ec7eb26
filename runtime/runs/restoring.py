"""Restoring a recorded run: its graph, its data and its trained weights, without training.

`load_restored_run` is what the `restore` run kind does after the app made
the run's graph the document again: the weights come from the store (or
from memory) and the dataset is loaded as the run loaded it, so evaluation,
explanation and export see the model the run trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class RestoreError(Exception):
    """A run that cannot be restored; the message says which run and why."""


@dataclass(frozen=True)
class RestoredRun:
    """A recorded run made usable again.

    Attributes:
        graph: The graph it trained (a graph.model.NetworkGraph).
        dataset: Its runtime.data.Dataset, loaded again.
        weights: The trained weight arrays.
        history: Its per-epoch metrics.
        model: The trained keras.Model, built from the graph with the weights set.
    """

    graph: Any
    dataset: Any
    weights: list
    history: dict
    model: Any


def restored_graph(run: Any) -> Any:
    """The graph a recorded run trained.

    Raises:
        RestoreError: its stored graph cannot be read.
    """
    from graph.files import GraphFileError, graph_from_yaml

    try:
        return graph_from_yaml(run.graph_yaml, source=f"run {run.name!r}")
    except GraphFileError as error:
        raise RestoreError(f"Run {run.name!r}: its stored graph cannot be read ({error})") from None


def load_restored_run(run: Any, base_dir: Path | None, weights: list | None = None) -> RestoredRun:
    """Loads `run`'s weights (`weights` when its journal keeps them in memory, else its
    weights file) and dataset; builds its model.

    Builds with TensorFlow: the `restore` run kind calls it.

    Raises:
        RestoreError: the run kept no weights (it failed, or it was a tuning
            run), its weights file is missing or damaged, or its data cannot be
            loaded.
    """
    from runtime.data import DataError, load_dataset
    from runtime.runs.recording import stored_weights

    graph = restored_graph(run)
    try:
        weights = weights if weights is not None else stored_weights(run)
    except (OSError, ValueError, KeyError) as error:
        raise RestoreError(
            f"Run {run.name!r}: its weights cannot be read from {run.weights} ({error})"
        ) from None
    if not weights:
        raise RestoreError(
            f"Run {run.name!r} kept no trained weights ({run.kind}, {run.status}): "
            "its graph and settings are restored; train it to get a model."
        )
    try:
        dataset = load_dataset(graph.dataset, base_dir)
    except DataError as error:
        raise RestoreError(f"Run {run.name!r}: its data cannot be loaded ({error})") from None
    from runtime.training_process import rebuild_model

    try:
        model = rebuild_model(graph, dataset, list(weights))
    except ValueError as error:  # Keras: the weights do not fit the graph's layers
        raise RestoreError(
            f"Run {run.name!r}: its weights do not fit its graph ({str(error).splitlines()[0]})"
        ) from None
    return RestoredRun(graph, dataset, list(weights), dict(run.epochs), model)
