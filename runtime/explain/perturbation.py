"""Methods that only run the model forward: occlusion, permutation importance, SHAP.

They treat the model as a black box, so they work for any architecture, and
batch every perturbed copy into few model calls. References: Zeiler & Fergus
2014 (occlusion, arXiv:1311.2901); Breiman 2001 and scikit-learn's
`permutation_importance` (permutation importance); Lundberg & Lee 2017 (SHAP,
arXiv:1705.07874), through shap's model-agnostic PermutationExplainer.
"""

from __future__ import annotations

import itertools

import numpy as np

from runtime.explain.errors import ExplainError
from runtime.explain.scoring import ModelScorer


def _windows(length: int, size: int, stride: int) -> list[int]:
    starts = list(range(0, max(length - size, 0) + 1, stride))
    if starts[-1] + size < length:
        starts.append(length - size)
    return starts


def occlusion(
    scorer: ModelScorer,
    x: np.ndarray,
    target: int,
    patch: int = 2,
    stride: int = 1,
    fill: float = 0.0,
) -> np.ndarray:
    """How much the score drops when a patch of the sample is blanked, per position.

    Images (height, width, channels) are covered by square patches over all
    channels, sequences (steps, features) by windows of steps over all features,
    flat samples by runs of features. Each position gets the mean drop of the
    patches that covered it (positive: hiding it lowered the score).

    Args:
        scorer: The model as a function of samples.
        x: One sample.
        target: The output unit (class) to explain.
        patch: Side of the patch, in positions.
        stride: Step between patches.
        fill: The value a blanked position gets.

    Returns:
        A map over the sample's positions: (height, width), (steps,) or (features,).
    """
    if patch < 1 or stride < 1:
        raise ExplainError(
            f"Occlusion needs a patch and stride of at least 1. Received: patch={patch}, "
            f"stride={stride}"
        )
    spatial = x.shape[:2] if x.ndim == 3 else x.shape[:1]
    size = tuple(min(patch, d) for d in spatial)
    corners = list(
        itertools.product(*(_windows(d, s, stride) for d, s in zip(spatial, size, strict=True)))
    )
    copies = np.repeat(x[None], len(corners), axis=0)
    for copy, corner in zip(copies, corners, strict=True):
        copy[tuple(slice(c, c + s) for c, s in zip(corner, size, strict=True))] = fill
    scores = scorer.predict(np.concatenate([x[None], copies]))[:, target]
    drops = scores[0] - scores[1:]
    total = np.zeros(spatial, "float64")
    count = np.zeros(spatial, "float64")
    for drop, corner in zip(drops, corners, strict=True):
        region = tuple(slice(c, c + s) for c, s in zip(corner, size, strict=True))
        total[region] += drop
        count[region] += 1
    return (total / np.maximum(count, 1)).astype("float32")


def score_function(task: str):
    """The score permutation importance uses: accuracy, or the negated mean squared error."""

    def accuracy(outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
        predicted = (outputs[..., 0] > 0.5) if outputs.shape[-1] == 1 else outputs.argmax(-1)
        return (predicted == y.reshape(1, -1)).mean(axis=-1)

    def negative_mse(outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
        y = y.reshape(1, y.shape[0], -1)
        return -((outputs - y) ** 2).mean(axis=(-1, -2))

    return accuracy if task == "classification" else negative_mse


def permutation_importance(
    scorer: ModelScorer,
    x: np.ndarray,
    y: np.ndarray,
    task: str,
    repeats: int = 3,
    seed: int = 0,
    chunk_features: int = 16,
    on_chunk=None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Global permutation feature importance on (x, y), with batched predictions.

    Like sklearn.inspection.permutation_importance, but every shuffled copy of
    several features goes through the model in one call, which is what makes
    it fast on a neural network. Features are the sample's flattened values.

    Args:
        scorer: The model as a function of samples.
        x: Samples (for instance the test split).
        y: Their targets (class ids or values).
        task: "classification" (score: accuracy) or "regression" (score: -MSE).
        repeats: Shuffles per feature; importance is their mean.
        seed: Seed of the shuffles.
        chunk_features: Features shuffled per model call.
        on_chunk: Called with the fraction done after each chunk (progress, stop).

    Returns:
        (importance per feature, its standard deviation over repeats, the
        unshuffled score).
    """
    if len(x) < 2:
        raise ExplainError(f"Permutation importance needs at least 2 samples. Received: {len(x)}")
    if repeats < 1:
        raise ExplainError(f"Permutation importance needs repeats >= 1. Received: {repeats}")
    score = score_function(task)
    flat = np.asarray(x, "float32").reshape(len(x), -1)
    features = flat.shape[1]
    reference = float(score(scorer.predict(flat)[None], y)[0])
    rng = np.random.default_rng(seed)
    orders = np.stack([[rng.permutation(len(x)) for _ in range(repeats)] for _ in range(features)])
    drops = np.zeros((features, repeats))
    for first in range(0, features, chunk_features):
        chosen = range(first, min(first + chunk_features, features))
        copies = np.repeat(flat[None, None], len(chosen), axis=0)
        copies = np.repeat(copies, repeats, axis=1)
        for i, feature in enumerate(chosen):
            for r in range(repeats):
                copies[i, r, :, feature] = flat[orders[feature, r], feature]
        outputs = scorer.predict(copies.reshape(-1, flat.shape[1]))
        outputs = outputs.reshape(len(chosen) * repeats, len(x), -1)
        drops[first : first + len(chosen)] = (reference - score(outputs, y)).reshape(
            len(chosen), repeats
        )
        if on_chunk is not None:
            on_chunk((first + len(chosen)) / features)
    return drops.mean(axis=1), drops.std(axis=1), reference


def shap_values(
    scorer: ModelScorer,
    x: np.ndarray,
    target: int,
    background: np.ndarray,
    max_evals: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """SHAP values of one sample from shap's model-agnostic PermutationExplainer.

    Args:
        scorer: The model as a function of samples.
        x: One sample.
        target: The output unit (class) to explain.
        background: Typical samples (for instance from the training split) that
            stand in for "feature unknown"; at most 100 are used.
        max_evals: Model evaluations per sample; enough for two passes over
            the features by default.
        seed: Seed of the permutations and of the background draw.

    Returns:
        One signed value per input value, in the sample's shape.
    """
    import shap

    flat = x.reshape(1, -1)
    features = flat.shape[1]
    rng = np.random.default_rng(seed)
    if len(background) > 100:  # drawn before reading: image files decode only these
        background = background[rng.choice(len(background), 100, replace=False)]
    background = np.asarray(background, "float32").reshape(len(background), -1)

    def target_score(rows: np.ndarray) -> np.ndarray:
        return scorer.predict(rows)[:, target]

    explainer = shap.explainers.Permutation(
        target_score, shap.maskers.Independent(background, max_samples=len(background)), seed=seed
    )
    evals = max_evals or max(500, 2 * features + 1)
    explanation = explainer(flat, max_evals=evals, silent=True)
    return np.asarray(explanation.values, "float32").reshape(x.shape)
