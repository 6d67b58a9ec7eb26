"""What a finished run's learning curves (and test predictions) say, in plain words.

Free of TensorFlow and scikit-learn, so the window can read a run's
diagnosis again when its evaluation arrives (runtime.evaluation makes the
report; the app's training summary and `deepwire train` print the text).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graph.messages import printable


def one_class_warning(report: Any) -> str | None:
    """A warning when a classifier predicts the same class for every test sample, else None.

    `report` is a runtime.evaluation.EvaluationReport.
    """
    if report.task != "classification" or report.y_pred is None or len(report.y_pred) < 2:
        return None
    predicted = np.unique(report.y_pred)
    if len(predicted) != 1 or len(report.class_names) < 2:
        return None
    name = printable(report.class_names[int(predicted[0])])
    return (
        f"Every prediction is one class: all {len(report.y_pred)} test samples are predicted "
        f"as {name}. The model ignores its input; this usually means the learning rate is too "
        "high or the ReLU units died (their output is always 0). Lower the learning rate, "
        "normalize the features, or check that the classes are balanced."
    )


def diagnose(history: dict[str, list[float]], report: Any = None) -> str:
    """A plain-language reading of the learning curves: under-, over- or good fit.

    Args:
        history: Per-epoch values, as `model.fit` records them (loss,
            val_loss, accuracy, val_accuracy, ...).
        report: The test-split runtime.evaluation.EvaluationReport, when there is one: a classifier
            predicting one class for everything is said first.
    """
    warning = one_class_warning(report) if report is not None else None
    reading = read_curves(history)
    return f"{warning}\n{reading}" if warning else reading


def read_curves(history: dict[str, list[float]]) -> str:
    """Under-, over- or good fit, from the per-epoch losses and accuracies alone."""
    loss = history.get("loss") or []
    if len(loss) < 2:
        return "Too few epochs to judge the learning curves: train for a few more epochs."
    val = history.get("val_loss") or []
    accuracy, val_accuracy = history.get("accuracy"), history.get("val_accuracy")
    recent = loss[-min(3, len(loss)) :]
    fall = recent[0] - recent[-1]
    # Falling by over 5% lately, and in the last epoch by more than a trifle of where
    # the loss started: a loss near 0 halving again (0.0004 -> 0.0002) is a model that
    # has learned, even when the epoch before it fell a lot (0.06 -> 0.0004).
    last_fall = loss[-2] - loss[-1]
    still_falling = fall / max(abs(recent[0]), 1e-12) > 0.05 and last_fall > 1e-3 * abs(loss[0])
    if val:
        best = int(np.argmin(val))
        rise = (val[-1] - val[best]) / max(abs(val[best]), 1e-12)
        if best < len(val) - 1 and rise > 0.1 and loss[-1] < loss[best]:
            return (
                f"Overfitting: the validation loss was lowest at epoch {best + 1} "
                f"({val[best]:.4g}) and has risen {rise:.0%} since, while the training loss "
                "kept falling. The model is memorising the training data: add dropout or "
                "L1/L2 regularization, use a smaller model or more data, or turn on early "
                "stopping."
            )
        if accuracy and val_accuracy and accuracy[-1] - val_accuracy[-1] > 0.1:
            return (
                f"Overfitting: training accuracy {accuracy[-1]:.1%} is well above validation "
                f"accuracy {val_accuracy[-1]:.1%}. Add dropout or L1/L2 regularization, or "
                "use a smaller model or more data."
            )
    if accuracy and accuracy[-1] < 0.7:
        return (
            f"Underfitting: training accuracy is only {accuracy[-1]:.1%}. The model has not "
            "learned the training data: train longer, use a larger model, or adjust the "
            "learning rate."
        )
    if still_falling:
        return (
            "Still learning: the training loss was still falling over the last epochs "
            f"({recent[0]:.4g} -> {recent[-1]:.4g}). Train for more epochs; the model may "
            "be underfitting."
        )
    if val and val[-1] > 2 * loss[-1] and val[-1] - loss[-1] > 0.1:
        return (
            f"Possible overfitting: the validation loss ({val[-1]:.4g}) is much higher than "
            f"the training loss ({loss[-1]:.4g}). Consider dropout, L1/L2 regularization or "
            "more data."
        )
    return (
        "Good fit: training and validation curves have levelled off close together. "
        "More epochs are unlikely to help much."
    )
