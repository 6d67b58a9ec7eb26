"""Training health per layer: dead ReLU units and gradient norms, from one sampled batch.

Computed on demand from a batch of validation samples (never per training
batch), so it costs one forward and one backward pass. A layer whose ReLU
units never fire, or whose gradients vanish or explode, gets a `Badge` with a
plain explanation and the fix to try (the words are ours, declared here).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from runtime.explain.result import Badge, LayerHealth

RELU_FAMILY = {"relu", "relu6"}
DEAD_THRESHOLD = 0.5  # share of dead units that earns a badge
VANISHING = 1e-7
EXPLODING = 1e3

DEAD_TEXT = (
    "Most of this layer's ReLU units output zero for every sample: they no longer learn.",
    "Lower the learning rate, use He initialization, or try leaky_relu / elu.",
)
VANISHING_TEXT = (
    "The gradients reaching this layer are almost zero: its weights barely change.",
    "Use ReLU-family activations, batch normalization or residual connections.",
)
EXPLODING_TEXT = (
    "The gradients reaching this layer are huge: training may jump around or turn NaN.",
    "Lower the learning rate, normalize the inputs, or add batch normalization.",
)


def _relu_family(layer: keras.layers.Layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") in RELU_FAMILY


def layer_health(model: keras.Model, x, y) -> list[LayerHealth]:
    """Health of every layer but the Inputs on the batch (x, y).

    Args:
        model: A compiled model (its loss gives the gradients).
        x: A batch of model inputs (as `model.fit` takes them).
        y: Its targets (as `model.fit` takes them).
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    outputs = [layer.output for layer in layers]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [*outputs, *model.outputs])
    with tf.GradientTape() as tape:
        values = probe(x, training=False)
        predictions = values[len(layers) :]
        prediction = predictions[0] if len(predictions) == 1 else predictions
        loss = model.compute_loss(x=x, y=y, y_pred=prediction, training=False)
    weights = [w for layer in layers for w in layer.trainable_weights]
    gradients = dict(zip((id(w) for w in weights), tape.gradient(loss, weights), strict=True))
    report = []
    for layer, value in zip(layers, values[: len(layers)], strict=True):
        value = np.asarray(value)
        dead = None
        if _relu_family(layer) and value.ndim >= 2:
            fired = (value > 0).reshape(-1, value.shape[-1]).any(axis=0)
            dead = float(1 - fired.mean())
        layer_gradients = [gradients[id(w)] for w in layer.trainable_weights]
        norm = None
        if layer_gradients and all(g is not None for g in layer_gradients):
            norm = float(np.sqrt(sum(float(tf.reduce_sum(tf.square(g))) for g in layer_gradients)))
        report.append(LayerHealth(layer.name, dead, float(value.mean()), float(value.std()), norm))
    return report


def badges(
    report: list[LayerHealth],
    dead_threshold: float = DEAD_THRESHOLD,
    vanishing: float = VANISHING,
    exploding: float = EXPLODING,
) -> list[Badge]:
    """The badges `report` earns, layer by layer."""
    found = []
    for health in report:
        if health.dead_fraction is not None and health.dead_fraction > dead_threshold:
            found.append(Badge(health.node, "dead", *DEAD_TEXT))
        if health.gradient_norm is not None and health.gradient_norm < vanishing:
            found.append(Badge(health.node, "vanishing", *VANISHING_TEXT))
        if health.gradient_norm is not None and health.gradient_norm > exploding:
            found.append(Badge(health.node, "exploding", *EXPLODING_TEXT))
    return found
