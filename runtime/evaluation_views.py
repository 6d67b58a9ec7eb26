"""What the evaluation views show, computed from a report: ROC curves, the misclassified
gallery, and which test samples a click on the confusion matrix or the gallery picks.

Plain NumPy and scikit-learn, no Qt: the panels only draw these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_GALLERY = 48


@dataclass
class RocCurve:
    """One ROC curve: a class against the rest (or the positive class)."""

    name: str
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float


def roc_curves(y_true: np.ndarray, probabilities: np.ndarray, names) -> list[RocCurve]:
    """One-vs-rest ROC curves of the classes present in `y_true` (one curve when binary)."""
    from sklearn.metrics import auc, roc_curve

    classes = [1] if probabilities.shape[1] == 2 else range(probabilities.shape[1])
    curves = []
    for index in classes:
        positives = y_true == index
        if positives.all() or not positives.any():
            continue
        fpr, tpr, _ = roc_curve(positives, probabilities[:, index])
        name = names[index] if index < len(names) else str(index)
        curves.append(RocCurve(str(name), fpr, tpr, float(auc(fpr, tpr))))
    return curves


def to_display_image(sample: np.ndarray) -> np.ndarray:
    """A scaled sample as 0..255 uint8 pixels (stretched to its own min and max)."""
    image = np.asarray(sample, dtype="float64")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return np.ascontiguousarray((scaled * 255).astype("uint8"))


def gallery_indices(report) -> list[int]:
    """The test-split index of each picture of the misclassified gallery, in its order."""
    return [int(index) for index in report.misclassified[:MAX_GALLERY]]


def misclassified_gallery(x_test: np.ndarray, report) -> list[tuple[np.ndarray, str]]:
    """Up to MAX_GALLERY wrong predictions, each with "true → predicted"."""
    names = report.class_names
    return [
        (
            to_display_image(x_test[index]),
            f"{names[report.y_true[index]]} → {names[report.y_pred[index]]}",
        )
        for index in gallery_indices(report)
    ]


def confusion_cell_at(x: float, y: float, classes: int) -> tuple[int, int] | None:
    """The (true, predicted) cell under a point of the drawn matrix, or None outside it.

    The matrix is drawn with predicted classes along x and true classes along
    y, cell (row r, column c) covering [c, c + 1) x [r, r + 1).
    """
    if not (0 <= x < classes and 0 <= y < classes):
        return None
    return int(y), int(x)


def confusion_cell_samples(report, true_class: int, predicted_class: int) -> list[int]:
    """Test-split indices of the samples of `true_class` predicted as `predicted_class`."""
    y_true, y_pred = np.ravel(report.y_true), np.ravel(report.y_pred)
    hits = (y_true == true_class) & (y_pred == predicted_class)
    return [int(index) for index in np.flatnonzero(hits)]


def confusion_cell_title(report, true_class: int, predicted_class: int, count: int) -> str:
    """What a picked cell holds, in words: "3 test samples of class 5 predicted as 8"."""
    names = report.class_names
    true, predicted = names[true_class], names[predicted_class]
    samples = "test sample" if count == 1 else "test samples"
    if true_class == predicted_class:
        return f"{count} {samples} of class {true} predicted correctly"
    return f"{count} {samples} of class {true} predicted as {predicted}"
