"""Gradient methods: Grad-CAM, integrated gradients and SmoothGrad, on Keras directly.

Built on `tf.GradientTape` since the libraries that package them (tf-keras-vis,
alibi, shap's DeepExplainer) do not support Keras 3. References:
Selvaraju et al. 2017 (Grad-CAM, arXiv:1610.02391), Sundararajan et al. 2017
(integrated gradients, arXiv:1703.01365), Smilkov et al. 2017 (SmoothGrad,
arXiv:1706.03825).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from runtime.explain.errors import ExplainError
from runtime.explain.methods import NO_CONVOLUTION
from runtime.explain.scoring import ModelScorer

GRADIENT_BATCH = 256


def _is_spatial(layer: keras.layers.Layer) -> bool:
    """True when the layer outputs positions x channels: (steps, c) or (height, width, c)."""
    return len(layer.output.shape) in (3, 4)


def spatial_layers(model: keras.Model) -> list[str]:
    """Names of the layers Grad-CAM can use (spatial output, not Inputs), in model order."""
    return [
        layer.name
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer) and _is_spatial(layer)
    ]


def _conv_layer(model: keras.Model, node: str | None) -> keras.layers.Layer:
    if node is None:
        convolutions = [
            layer for layer in model.layers if "Conv" in type(layer).__name__ and _is_spatial(layer)
        ]
        if not convolutions:
            raise ExplainError(NO_CONVOLUTION)
        return convolutions[-1]
    try:
        layer = model.get_layer(node)
    except ValueError:
        choices = ", ".join(spatial_layers(model)) or "none"
        raise ExplainError(
            f"There is no node named {node!r} in the model. Nodes Grad-CAM can use: {choices}",
            node,
        ) from None
    if isinstance(layer, keras.layers.InputLayer) or not _is_spatial(layer):
        shape = tuple(layer.output.shape)
        raise ExplainError(
            f"Grad-CAM needs a node with spatial output (steps x channels or height x width "
            f"x channels); {node} ({type(layer).__name__}) outputs {shape}. "
            f"Choose a convolution or pooling node.",
            node,
        )
    return layer


def _resize(cam: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`cam` (positions of the layer) stretched over the sample's positions when they differ."""
    if cam.ndim == 2 and len(shape) >= 2 and cam.shape != tuple(shape[:2]):
        resized = tf.image.resize(cam[..., None], shape[:2], method="bilinear")
        return resized.numpy()[..., 0]
    if cam.ndim == 1 and len(shape) >= 1 and cam.shape[0] != shape[0]:
        return np.interp(np.linspace(0, 1, shape[0]), np.linspace(0, 1, cam.shape[0]), cam).astype(
            "float32"
        )
    return cam


def grad_cam(
    scorer: ModelScorer, x: np.ndarray, target: int, node: str | None = None
) -> tuple[np.ndarray, str]:
    """Grad-CAM of one sample for output unit `target`.

    Args:
        scorer: The model as a function of samples.
        x: One sample (sample_shape).
        target: The output unit (class) to explain.
        node: The layer (graph node name) to look at; the last convolution by default.

    Returns:
        The heatmap, non-negative and scaled to a maximum of 1 (all zero when no
        position raised the score), at the sample's positions when the sample is
        an image or sequence of the same layout; and the layer's name.

    Raises:
        ExplainError: for an unknown node or one without spatial output.
    """
    layer = _conv_layer(scorer.model, node)
    probe = scorer.probe(layer, with_outputs=True)

    def factory():
        def activations_and_gradients(x, target):
            with tf.GradientTape() as tape:
                activations, *outputs = probe(scorer.feed(x), training=False)
                score = scorer.pick(outputs if len(outputs) > 1 else outputs[0])[:, target]
            return activations, tape.gradient(score, activations)

        return activations_and_gradients

    run = scorer.traced(f"gradcam|{layer.name}|{scorer.output}", factory)
    activations, gradients = run(tf.constant(x[None]), tf.constant(target))
    if gradients is None:
        raise ExplainError(
            f"The score does not depend on node {layer.name}, so Grad-CAM shows nothing "
            f"there; choose a node on the way to output {scorer.output_name}.",
            layer.name,
        )
    spatial_axes = tuple(range(1, len(activations.shape) - 1))
    weights = tf.reduce_mean(gradients, axis=spatial_axes, keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))[0].numpy()
    cam = _resize(cam, scorer.sample_shape)
    peak = float(cam.max())
    return (cam / peak if peak > 0 else cam).astype("float32"), layer.name


def _gradients(scorer: ModelScorer, points: np.ndarray, target: int) -> np.ndarray:
    """d score[target] / d input for each sample in `points`, in batches."""

    def factory():
        def gradient(batch, target):
            with tf.GradientTape() as tape:
                tape.watch(batch)
                score = scorer(batch)[:, target]
            return tape.gradient(score, batch)

        return gradient

    run = scorer.traced("gradient", factory)
    parts = [
        run(tf.constant(points[start : start + GRADIENT_BATCH]), tf.constant(target)).numpy()
        for start in range(0, len(points), GRADIENT_BATCH)
    ]
    return np.concatenate(parts)


def integrated_gradients(
    scorer: ModelScorer,
    x: np.ndarray,
    target: int,
    baseline: np.ndarray | None = None,
    steps: int = 32,
) -> np.ndarray:
    """Integrated gradients of one sample: signed attributions, one per input value.

    The path integral from `baseline` to `x` is taken with the trapezoidal rule
    over `steps` intervals, all points in one batch, so the attributions add
    up to f(x) - f(baseline) up to the rule's error (shrinking with `steps`).

    Args:
        scorer: The model as a function of samples.
        x: One sample.
        target: The output unit (class) to explain.
        baseline: The "absent" input; zeros by default.
        steps: Intervals along the path (at least 1).
    """
    if steps < 1:
        raise ExplainError(f"Integrated gradients need at least 1 step. Received: {steps}")
    baseline = np.zeros_like(x) if baseline is None else np.asarray(baseline, "float32")
    if baseline.shape != x.shape:
        raise ExplainError(
            f"The baseline must have the sample's shape {x.shape}. Received: {baseline.shape}"
        )
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype="float32")
    shape = (-1,) + (1,) * x.ndim
    points = baseline[None] + alphas.reshape(shape) * (x - baseline)[None]
    grads = _gradients(scorer, points.astype("float32"), target)
    weights = np.full(steps + 1, 1.0 / steps, dtype="float32")
    weights[[0, -1]] /= 2
    average = np.tensordot(weights, grads, axes=1)
    return ((x - baseline) * average).astype("float32")


def smoothgrad(
    scorer: ModelScorer,
    x: np.ndarray,
    target: int,
    samples: int = 32,
    noise: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """SmoothGrad: the gradient averaged over noisy copies of the sample.

    Args:
        scorer: The model as a function of samples.
        x: One sample.
        target: The output unit (class) to explain.
        samples: Noisy copies (at least 1).
        noise: Noise standard deviation as a share of the sample's value range.
        seed: Seed of the noise, so results repeat.
    """
    if samples < 1:
        raise ExplainError(f"SmoothGrad needs at least 1 noisy sample. Received: {samples}")
    spread = float(x.max() - x.min()) or 1.0
    rng = np.random.default_rng(seed)
    noisy = x[None] + rng.normal(0.0, noise * spread, (samples, *x.shape)).astype("float32")
    return _gradients(scorer, noisy.astype("float32"), target).mean(axis=0).astype("float32")
