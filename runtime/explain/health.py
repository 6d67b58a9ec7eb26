"""Training health per layer: dead ReLU units and gradient norms, from one sampled batch.

Computed from a batch of validation samples, never per training batch: one
forward and one backward pass, on demand (the explain run) or every few
epochs of a training run (`HealthMonitor`). Which numbers earn a badge, and
what it says, is declared in `runtime.explain.health_rules`.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from graph.messages import first_line
from runtime.events import HealthChecked, LogLine
from runtime.explain.health_rules import badges
from runtime.explain.result import Badge, LayerHealth

RELU_FAMILY = {"relu", "relu6"}
HEALTH_BATCH = 256  # samples of the one batch health is measured on


def _relu_family(layer: keras.layers.Layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") in RELU_FAMILY


def _first(output):
    return output[0] if isinstance(output, (list, tuple)) else output


class HealthProbe:
    """Measures the health of every layer of `model` but its Inputs; built once, called often.

    Args:
        model: A compiled model (its loss gives the gradients).
    """

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self.layers = [
            layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)
        ]
        outputs = [_first(layer.output) for layer in self.layers]
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        self.probe = keras.Model(inputs, [*outputs, *model.outputs])

    def __call__(self, x, y) -> list[LayerHealth]:
        """Health on the batch (x, y), given as `model.fit` takes them."""
        layers, model = self.layers, self.model
        with tf.GradientTape() as tape:
            values = self.probe(x, training=False)
            predictions = values[len(layers) :]
            prediction = predictions[0] if len(predictions) == 1 else predictions
            loss = model.compute_loss(x=x, y=y, y_pred=prediction, training=False)
        weights = [w for layer in layers for w in layer.trainable_weights]
        gradients = dict(zip((id(w) for w in weights), tape.gradient(loss, weights), strict=True))
        report = []
        for layer, value in zip(layers, values[: len(layers)], strict=True):
            value = keras.ops.convert_to_numpy(value)
            dead = None
            if _relu_family(layer) and value.ndim >= 2:
                fired = (value > 0).reshape(-1, value.shape[-1]).any(axis=0)
                dead = float(1 - fired.mean())
            layer_gradients = [gradients[id(w)] for w in layer.trainable_weights]
            norm = None
            if layer_gradients and all(g is not None for g in layer_gradients):
                # Embeddings' gradients arrive as IndexedSlices.
                squares = [
                    tf.reduce_sum(tf.square(tf.convert_to_tensor(g))) for g in layer_gradients
                ]
                norm = float(np.sqrt(sum(float(s) for s in squares)))
            numbers = value.astype("float64") if value.dtype.kind in "biuf" else np.zeros(1)
            report.append(
                LayerHealth(layer.name, dead, float(numbers.mean()), float(numbers.std()), norm)
            )
        return report


def health_batch(dataset, heads, shapes: list[tuple]) -> tuple:
    """(x, y) of the batch health is measured on, as `model.fit` takes them.

    The first HEALTH_BATCH samples of the validation split, or of the
    training split when there is none (the test split stays unseen).

    Args:
        dataset: The runtime.data.Dataset.
        heads: What runtime.compile.compile_model returned for the model.
        shapes: The model's input shapes without the batch dimension.
    """
    from runtime.compile import fit_targets
    from runtime.data import model_inputs

    if dataset.has_validation:
        x, y = dataset.x_val, dataset.y_val
    else:
        x, y = dataset.x_train, dataset.y_train
    return (
        model_inputs(x[:HEALTH_BATCH], shapes),
        fit_targets(heads, y[:HEALTH_BATCH], dataset),
    )


def layer_health(model: keras.Model, x, y) -> list[LayerHealth]:
    """Health of every layer but the Inputs on the batch (x, y) (see HealthProbe)."""
    return HealthProbe(model)(x, y)


class HealthMonitor(keras.callbacks.Callback):
    """Checks layer health during training: every `every` epochs and after the last one.

    Sampled, not per batch: each check is one forward and backward pass on
    the same fixed batch, reported as a `runtime.events.HealthChecked`. A
    check that fails says so once in a LogLine; training goes on.

    Args:
        x, y: The batch, as `model.fit` takes them.
        node_ids: Layer name -> graph node id.
        emit: Receives the events.
        every: Epochs between checks.
    """

    def __init__(
        self, x, y, node_ids: dict[str, str], emit: Callable[[object], None], every: int
    ) -> None:
        super().__init__()
        self.x, self.y = x, y
        self.node_ids = node_ids
        self.emit = emit
        self.every = max(1, int(every))
        self.epochs_done = 0
        self.checked_at = 0
        self._probe: HealthProbe | None = None
        self._broken = False

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        if self.epochs_done % self.every == 0:
            self._check()

    def on_train_end(self, logs=None):
        if self.epochs_done and self.checked_at != self.epochs_done:
            self._check()

    def _check(self) -> None:
        if self._broken:
            return
        self.checked_at = self.epochs_done
        try:
            if self._probe is None:
                self._probe = HealthProbe(self.model)
            report = self._probe(self.x, self.y)
        except Exception as error:  # a diagnostic must never end the training it watches
            self._broken = True
            self.emit(LogLine(f"Layer health could not be checked: {first_line(error)}"))
            return
        ids = self.node_ids
        self.emit(
            HealthChecked(
                self.epochs_done,
                {ids.get(h.node, h.node): h for h in report},
                tuple(
                    Badge(ids.get(b.node, b.node), b.kind, b.problem, b.fix) for b in badges(report)
                ),
            )
        )
