"""One entry point for every method: `explain(scorer, method, ...)` -> `Explanation`."""

from __future__ import annotations

import numpy as np

from runtime.explain import gradients, perturbation, text
from runtime.explain.errors import ExplainError
from runtime.explain.methods import GLOBAL, METHODS
from runtime.explain.result import Explanation
from runtime.explain.scoring import ModelScorer


def positions_map(values: np.ndarray, sample_shape: tuple[int, ...]) -> np.ndarray:
    """Magnitudes over the sample's positions, scaled to at most 1.

    Images (h, w, c) -> (h, w), channels summed; sequences (steps, features)
    keep both axes; flat samples keep their signed values (bar charts).
    """
    values = np.asarray(values, "float32")
    if len(sample_shape) <= 1 and values.shape == tuple(sample_shape):
        return values
    magnitude = np.abs(values)
    if len(sample_shape) == 3 and values.shape == tuple(sample_shape):
        magnitude = magnitude.sum(axis=-1)
    peak = float(magnitude.max()) if magnitude.size else 0.0
    return magnitude / peak if peak > 0 else magnitude


# The range of each tuning option: past these one explanation takes all memory (integrated
# gradients score every step in one batch) or hours.
OPTION_LIMITS = {
    "steps": (1, 1024),
    "samples": (1, 1024),
    "noise": (0.0, 10.0),
    "patch": (1, 4096),
    "stride": (1, 4096),
    "repeats": (1, 100),
}


def check_options(options: dict) -> None:
    """Refuses a tuning option outside OPTION_LIMITS.

    Raises:
        ExplainError: naming the option, its range and the value.
    """
    for name, (low, high) in OPTION_LIMITS.items():
        value = options.get(name)
        if value is not None and not low <= value <= high:
            raise ExplainError(f"{name} must be between {low} and {high}. Received: {value}")


def explain(
    scorer: ModelScorer,
    method: str,
    x: np.ndarray | None = None,
    target: int | None = None,
    *,
    node: str | None = None,
    steps: int = 32,
    samples: int = 32,
    noise: float = 0.15,
    patch: int = 2,
    stride: int = 1,
    repeats: int = 3,
    background: np.ndarray | None = None,
    x_eval: np.ndarray | None = None,
    y_eval: np.ndarray | None = None,
    task: str = "classification",
    seed: int = 0,
    on_progress=None,
) -> Explanation:
    """Explains sample `x` (or, for permutation, the model on x_eval/y_eval) with `method`.

    Args:
        scorer: The model as a function of samples.
        method: A name from METHODS.
        x: The sample (not needed for permutation).
        target: The output unit to explain; the predicted class by default.
        node: Grad-CAM's layer; the last convolution by default.
        steps: Integrated gradients' path steps.
        samples, noise: SmoothGrad's noisy copies and noise level.
        patch, stride: Occlusion's patch side and step.
        repeats: Permutation importance's shuffles per feature.
        background: SHAP's typical samples (e.g. the training split).
        x_eval, y_eval: Permutation importance's samples and targets.
        task: "classification" or "regression" (permutation's score).
        seed: Seed of every random draw.
        on_progress: Called with the fraction done (permutation importance).

    Raises:
        ExplainError: for an unknown method, a bad sample, node or option.
    """
    if method not in METHODS:
        raise ExplainError(
            f"Unknown explanation method {method!r}; choose one of {', '.join(METHODS)}."
        )
    tuning = {"steps": steps, "samples": samples, "noise": noise, "patch": patch}
    check_options({**tuning, "stride": stride, "repeats": repeats})
    if scorer.text:
        if METHODS[method].text_reading is None:
            raise ExplainError(METHODS[method].refusal_for_text())
        if x is None:
            raise ExplainError(f"{METHODS[method].title} explains one text; none was given.")
        return explain_text(scorer, method, x, target, seed=seed)
    if METHODS[method].scope == GLOBAL:
        if x_eval is None or y_eval is None:
            raise ExplainError("Permutation importance needs the test split's samples and targets.")
        importance, spread, reference = perturbation.permutation_importance(
            scorer, x_eval, y_eval, task, repeats=repeats, seed=seed, on_chunk=on_progress
        )
        return Explanation(
            method,
            importance.astype("float32"),
            importance.astype("float32"),
            -1,
            np.array([reference], "float32"),
            None,
            spread=spread.astype("float32"),
        )
    if x is None:
        raise ExplainError(f"{METHODS[method].title} explains one sample; none was given.")
    x = scorer.check_sample(x)
    prediction = scorer.predict(x[None])[0]
    target = scorer.target_for(prediction, target)
    extra: dict = {}
    used_node = None
    if method == "gradcam":
        attributions, used_node = gradients.grad_cam(scorer, x, target, node)
        heatmap = attributions
    elif method == "ig":
        attributions = gradients.integrated_gradients(scorer, x, target, steps=steps)
        baseline_score = float(scorer.predict(np.zeros_like(x)[None])[0, target])
        extra["score_change"] = float(prediction[target]) - baseline_score
        extra["attribution_sum"] = float(attributions.sum())
        heatmap = positions_map(attributions, x.shape)
    elif method == "smoothgrad":
        attributions = gradients.smoothgrad(scorer, x, target, samples, noise, seed)
        heatmap = positions_map(attributions, x.shape)
    elif method == "occlusion":
        attributions = perturbation.occlusion(scorer, x, target, patch, stride)
        peak = float(np.abs(attributions).max())
        heatmap = np.clip(attributions, 0, None) / peak if peak > 0 else attributions
    else:
        if background is None:
            raise ExplainError("SHAP needs background samples (the training split).")
        attributions = perturbation.shap_values(scorer, x, target, background, seed=seed)
        heatmap = positions_map(attributions, x.shape)
    return Explanation(
        method,
        np.asarray(attributions, "float32"),
        np.asarray(heatmap, "float32"),
        target,
        prediction,
        x,
        node=used_node,
        extra=extra,
    )


def explain_text(
    scorer: ModelScorer, method: str, x: np.ndarray, target: int | None, seed: int = 0
) -> Explanation:
    """Scores each word of text sample `x` (occlusion or SHAP); see runtime.explain.text.

    The explanation's `words` are the text's words as written, `attributions`
    one score per word (the change of the target's probability), `heatmap` the
    same scaled to [-1, 1].
    """
    x = scorer.check_sample(x)
    prediction = scorer.predict(x[None])[0]
    target = scorer.target_for(prediction, target)
    rules = text.text_rules(scorer.model)
    sample = text.sample_text(x)
    if method == "occlusion":
        words, scores = text.word_occlusion(scorer, sample, target, rules)
    else:
        words, scores = text.word_shap(scorer, sample, target, rules, seed=seed)
    peak = float(np.abs(scores).max()) if scores.size else 0.0
    return Explanation(
        method,
        scores,
        scores / peak if peak > 0 else scores,
        target,
        prediction,
        x,
        words=tuple(words),
    )
