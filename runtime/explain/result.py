"""What explanations return: plain, picklable data (NumPy only, no TensorFlow import).

Kept apart from the algorithms so that the app's window can receive, draw and
save results from the training process without loading TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Explanation:
    """An explanation as plain arrays (picklable; what runs return).

    Attributes:
        method: The method's name (runtime.explain.methods.METHODS).
        attributions: The method's numbers: signed attributions in the sample's
            shape (ig, shap), sensitivities (smoothgrad: the mean gradient),
            a map over positions (gradcam, occlusion), or one importance per
            flattened feature (permutation).
        heatmap: What to draw: non-negative and scaled to at most 1 over the
            sample's positions for images and sequences (channels summed), or
            the signed attributions for flat samples and permutation importance.
        target: The output unit explained (the class), -1 for permutation.
        prediction: The chosen output's values for the sample (probabilities
            or regression values); the unshuffled score for permutation.
        sample: The sample explained, or None for permutation.
        node: The layer Grad-CAM looked at, else None.
        spread: Permutation only: the standard deviation over repeats.
        extra: Method-specific numbers, e.g. IG's completeness gap.
        words: For a text sample: its words as written, one per attribution
            (`attributions` and `heatmap` then hold one score per word); else None.
    """

    method: str
    attributions: np.ndarray
    heatmap: np.ndarray
    target: int
    prediction: np.ndarray
    sample: np.ndarray | None
    node: str | None = None
    spread: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    words: tuple[str, ...] | None = None

    @property
    def predicted_class(self) -> int:
        """The unit with the highest value in `prediction` (the class the model chose)."""
        return int(np.argmax(self.prediction))


@dataclass(frozen=True)
class NodeOutput:
    """One node's output for one sample.

    Attributes:
        node: The layer (graph node) name.
        values: The output without the batch dimension: (h, w, channels) feature
            maps, (steps, units) sequences or (units,) vectors. A node with several
            outputs (an LSTM returning its state) gives its first.
        minimum, mean, maximum: Summary of `values`.
    """

    node: str
    values: np.ndarray
    minimum: float
    mean: float
    maximum: float


@dataclass(frozen=True)
class LayerHealth:
    """One layer's health on a batch.

    Attributes:
        node: The layer (graph node) name.
        dead_fraction: Share of ReLU units (channels) that are zero for every
            sample and position, or None when the layer has no ReLU activation.
        mean, std: Of the layer's output on the batch.
        gradient_norm: L2 norm of the loss gradient over the layer's weights,
            or None for layers without trainable weights.
    """

    node: str
    dead_fraction: float | None
    mean: float
    std: float
    gradient_norm: float | None


@dataclass(frozen=True)
class Badge:
    """A warning on a node: what is wrong (`problem`) and what to try (`fix`)."""

    node: str
    kind: str
    problem: str
    fix: str
