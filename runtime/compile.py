"""Optimizer, learning-rate schedule, loss and metrics from a graph's training settings."""

from __future__ import annotations

import keras
import numpy as np

from graph.model import NetworkGraph
from graph.task import LossChoice
from runtime.data import Dataset, training_targets
from runtime.heads import OutputHead, output_heads

_LOSS_CLASSES = {
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
}


def make_learning_rate(training: dict):
    """The learning rate: a float, or a keras schedule when lr_schedule is set."""
    rate = training["learning_rate"]
    if training["lr_schedule"] == "exponential_decay":
        return keras.optimizers.schedules.ExponentialDecay(
            rate, decay_steps=training["decay_steps"], decay_rate=training["decay_rate"]
        )
    if training["lr_schedule"] == "cosine_decay":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=training["decay_steps"])
    return rate


def make_optimizer(training: dict) -> keras.optimizers.Optimizer:
    """The keras optimizer that graph.training describes.

    Args:
        training: A graph's training settings (optimizer, learning_rate,
            momentum, nesterov, weight_decay, lr_schedule, decay_*).
    """
    rate = make_learning_rate(training)
    name, decay = training["optimizer"], training["weight_decay"]
    extra = {} if decay is None else {"weight_decay": decay}
    if name == "sgd":
        return keras.optimizers.SGD(
            rate, momentum=training["momentum"], nesterov=training["nesterov"], **extra
        )
    if name == "rmsprop":
        return keras.optimizers.RMSprop(rate, momentum=training["momentum"], **extra)
    if name == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=0.004 if decay is None else decay)
    classes = {
        "adam": keras.optimizers.Adam,
        "adagrad": keras.optimizers.Adagrad,
        "nadam": keras.optimizers.Nadam,
    }
    return classes[name](rate, **extra)


def make_loss(choice: LossChoice):
    """A keras loss object (crossentropies honour from_logits) or a loss name."""
    if choice.name in _LOSS_CLASSES:
        return _LOSS_CLASSES[choice.name](from_logits=choice.from_logits)
    if choice.name == "huber":
        return keras.losses.Huber()
    return choice.name


def make_metrics(head: OutputHead, metrics: tuple[str, ...], task: str) -> list:
    """Keras metrics for one output, named as the settings name them.

    Metrics that cannot apply are skipped: precision, recall and auc need one
    probability per class (a binary output, or one-hot targets without
    logits); accuracy does not apply to regression; mae and mse to classes.
    """
    loss, logits = head.loss.name, head.loss.from_logits
    result = []
    for name in metrics:
        if task == "regression":
            if name in ("mae", "mse"):
                result.append(name)
            continue
        if name == "accuracy":
            if loss == "binary_crossentropy":
                threshold = 0.0 if logits else 0.5
                result.append(keras.metrics.BinaryAccuracy(name=name, threshold=threshold))
            elif loss == "categorical_crossentropy":
                result.append(keras.metrics.CategoricalAccuracy(name=name))
            else:
                result.append(keras.metrics.SparseCategoricalAccuracy(name=name))
            continue
        probabilities = loss == "binary_crossentropy" or (
            loss == "categorical_crossentropy" and not logits
        )
        if name in ("precision", "recall") and probabilities:
            threshold = 0.0 if logits else 0.5
            kind = keras.metrics.Precision if name == "precision" else keras.metrics.Recall
            result.append(kind(name=name, thresholds=threshold))
        elif name == "auc" and probabilities:
            result.append(keras.metrics.AUC(name=name, from_logits=logits))
    return result


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
