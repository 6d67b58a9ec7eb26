"""Optimizer, learning-rate schedule, loss and metrics from a graph's training settings.

The rules are graph.recipe's, shared with the exported script; this module makes them.
"""

from __future__ import annotations

import keras
import numpy as np

from graph import recipe
from graph.model import NetworkGraph
from graph.task import LossChoice
from runtime.data import Dataset, training_targets
from runtime.heads import OutputHead, output_heads
from runtime.recipe import instantiate


def make_learning_rate(training: dict):
    """The learning rate: a float, or a keras schedule when lr_schedule is set."""
    return instantiate(recipe.learning_rate(training))


def make_optimizer(training: dict) -> keras.optimizers.Optimizer:
    """The keras optimizer that graph.training describes (graph.recipe.optimizer)."""
    return instantiate(recipe.optimizer(training))


def make_loss(choice: LossChoice):
    """A keras loss object (crossentropies honour from_logits) or a loss name."""
    return instantiate(recipe.loss(choice))


def make_metrics(head: OutputHead, metrics: tuple[str, ...], task: str) -> list:
    """Keras metrics for one output, named as the settings name them (graph.recipe.metrics)."""
    return instantiate(recipe.metrics(head.loss, metrics, task))


def compile_model(model: keras.Model, graph: NetworkGraph, dataset: Dataset) -> list[OutputHead]:
    """Compiles `model` with the graph's optimizer, loss and metrics for `dataset`'s task.

    Args:
        model: The model built from `graph`.
        graph: Its graph (training settings, output nodes).
        dataset: The data it will train on (task, number of classes).

    Returns:
        The output heads, in model output order, with their resolved losses.
    """
    heads = output_heads(graph, dataset.task)
    training = graph.training
    losses = [make_loss(head.loss) for head in heads]
    metrics = [make_metrics(head, training["metrics"], dataset.task) for head in heads]
    single = len(heads) == 1
    model.compile(
        optimizer=make_optimizer(training),
        loss=losses[0] if single else losses,
        metrics=metrics[0] if single else metrics,
    )
    return heads


def fit_targets(heads: list[OutputHead], y: np.ndarray | None, dataset: Dataset):
    """`y` as each output's loss wants it; one array per output when there are several.

    Every output learns the same target (multi-output graphs repeat it).
    """
    if y is None:
        return None
    targets = [training_targets(y, head.loss.name, dataset.num_classes) for head in heads]
    return targets[0] if len(targets) == 1 else targets
