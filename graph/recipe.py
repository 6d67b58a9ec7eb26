"""The recipe: which Keras constructs a graph's training settings stand for, written once.

Each function returns plain data: a `Construct` (a Keras class or function by its
dotted path, with arguments) or a plain value. `runtime.recipe.instantiate` makes
the real Keras object from it; `codegen.recipe_code.construct_expr` prints it as
source. The app and the exported script therefore cannot drift apart: a rule
lives here or nowhere. This module imports neither Keras nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.task import LossChoice


@dataclass(frozen=True)
class Ref:
    """A name the surrounding code defines (`monitor`): a value at run time, a name in code."""

    name: str


@dataclass(frozen=True)
class Construct:
    """`path(*args, **kwargs)`: a Keras object to make.

    Attributes:
        path: The dotted path from the `keras` package ("keras.optimizers.Adam").
        args: Positional arguments: plain values, Refs or Constructs.
        kwargs: Keyword arguments in the order they are written, as (name, value) pairs.
    """

    path: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = field(default=())


def _make(path: str, *args: Any, **kwargs: Any) -> Construct:
    return Construct(path, args, tuple(kwargs.items()))


# Optimizers --------------------------------------------------------------------------

_SCHEDULES = {
    "exponential_decay": "keras.optimizers.schedules.ExponentialDecay",
    "cosine_decay": "keras.optimizers.schedules.CosineDecay",
}
_OPTIMIZERS = {
    "sgd": "keras.optimizers.SGD",
    "adam": "keras.optimizers.Adam",
    "adamw": "keras.optimizers.AdamW",
    "rmsprop": "keras.optimizers.RMSprop",
    "adagrad": "keras.optimizers.Adagrad",
    "nadam": "keras.optimizers.Nadam",
}
# AdamW needs a decay; Keras's own default.
ADAMW_DEFAULT_DECAY = 0.004


def learning_rate(training: dict) -> float | Construct:
    """The learning rate: a float, or a schedule when `lr_schedule` is set."""
    rate = training["learning_rate"]
    schedule = training["lr_schedule"]
    if schedule == "exponential_decay":
        return _make(
            _SCHEDULES[schedule],
            rate,
            decay_steps=training["decay_steps"],
            decay_rate=training["decay_rate"],
        )
    if schedule == "cosine_decay":
        return _make(_SCHEDULES[schedule], rate, decay_steps=training["decay_steps"])
    return rate


def optimizer(training: dict) -> Construct:
    """The optimizer the training settings describe (optimizer, learning rate, momentum, decay)."""
    name, decay = training["optimizer"], training["weight_decay"]
    rate = learning_rate(training)
    extra = {} if decay is None else {"weight_decay": decay}
    if name == "sgd":
        return _make(
            _OPTIMIZERS[name],
            rate,
            momentum=training["momentum"],
            nesterov=training["nesterov"],
            **extra,
        )
    if name == "rmsprop":
        return _make(_OPTIMIZERS[name], rate, momentum=training["momentum"], **extra)
    if name == "adamw":
        return _make(
            _OPTIMIZERS[name], rate, weight_decay=ADAMW_DEFAULT_DECAY if decay is None else decay
        )
    return _make(_OPTIMIZERS[name], rate, **extra)


# Losses and metrics -------------------------------------------------------------------

_LOSS_CLASSES = {
    "sparse_categorical_crossentropy": "keras.losses.SparseCategoricalCrossentropy",
    "categorical_crossentropy": "keras.losses.CategoricalCrossentropy",
    "binary_crossentropy": "keras.losses.BinaryCrossentropy",
}


def loss(choice: LossChoice) -> str | Construct:
    """A loss object (crossentropies honour from_logits) or a Keras loss name."""
    if choice.name in _LOSS_CLASSES:
        return _make(_LOSS_CLASSES[choice.name], from_logits=choice.from_logits)
    if choice.name == "huber":
        return _make("keras.losses.Huber")
    return choice.name


def metrics(choice: LossChoice, names: tuple[str, ...], task: str) -> list[str | Construct]:
    """The metrics of one output, named as the settings name them.

    Metrics that cannot apply are skipped: precision, recall and auc need one
    probability per class (a binary output, or one-hot targets without logits);
    accuracy does not apply to regression; mae and mse not to classes.
    """
    loss_name, logits = choice.name, choice.from_logits
    threshold = 0.0 if logits else 0.5
    probabilities = loss_name == "binary_crossentropy" or (
        loss_name == "categorical_crossentropy" and not logits
    )
    result: list[str | Construct] = []
    for name in names:
        if task == "regression":
            if name in ("mae", "mse"):
                result.append(name)
        elif name == "accuracy":
            if loss_name == "binary_crossentropy":
                result.append(_make("keras.metrics.BinaryAccuracy", name=name, threshold=threshold))
            elif loss_name == "categorical_crossentropy":
                result.append(_make("keras.metrics.CategoricalAccuracy", name=name))
            else:
                result.append(_make("keras.metrics.SparseCategoricalAccuracy", name=name))
        elif name in ("precision", "recall") and probabilities:
            path = "keras.metrics.Precision" if name == "precision" else "keras.metrics.Recall"
            result.append(_make(path, name=name, thresholds=threshold))
        elif name == "auc" and probabilities:
            result.append(_make("keras.metrics.AUC", name=name, from_logits=logits))
    return result


# Callbacks ----------------------------------------------------------------------------


def setting_callbacks(training: dict, monitor: str | Ref) -> list[Construct]:
    """The callbacks the training settings ask for (early stopping, LR on plateau, TensorBoard).

    Args:
        training: A graph's training settings.
        monitor: What they watch: "val_loss" with a validation split, else "loss"
            (a Ref where the script decides at run time).
    """
    callbacks = []
    if training["early_stopping"]:
        callbacks.append(
            _make("keras.callbacks.EarlyStopping", monitor=monitor, patience=training["patience"])
        )
    # A schedule owns the learning rate; ReduceLROnPlateau cannot set it then.
    if training["reduce_lr_on_plateau"] and training["lr_schedule"] == "constant":
        callbacks.append(
            _make(
                "keras.callbacks.ReduceLROnPlateau",
                monitor=monitor,
                factor=training["reduce_lr_factor"],
                patience=training["reduce_lr_patience"],
            )
        )
    if training["tensorboard_dir"]:
        callbacks.append(_make("keras.callbacks.TensorBoard", log_dir=training["tensorboard_dir"]))
    return callbacks


def uses_monitor(training: dict) -> bool:
    """Whether any callback watches a loss (then the script computes `monitor`)."""
    return (
        training["early_stopping"]
        or training["checkpoint_best"]
        or (training["reduce_lr_on_plateau"] and training["lr_schedule"] == "constant")
    )


# Distribution ------------------------------------------------------------------------

STRATEGIES = {
    "mirrored": "tf.distribute.MirroredStrategy",
    "multi_worker": "tf.distribute.MultiWorkerMirroredStrategy",
}
"""The tf.distribute strategy of each `strategy` setting; "default" needs none."""
