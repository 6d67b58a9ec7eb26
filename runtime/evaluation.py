"""Evaluate a trained model on the test split with scikit-learn (its reading: runtime.diagnosis).

Classification: accuracy, precision / recall / F1 (macro, weighted and per
class), the confusion matrix and ROC-AUC (binary, or one-vs-rest over
classes). Regression and reconstruction: MSE, MAE and R^2. Predictions are
kept so the GUI can show the misclassified samples. A model with several
outputs is evaluated on its first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np
from sklearn import metrics as sk

from runtime.data import Dataset, feed, model_inputs
from runtime.diagnosis import diagnose


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall, F1 and support (test samples) of one class."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvaluationReport:
    """Test-split metrics of a model.

    Attributes:
        task: "classification" or "regression".
        metrics: Headline figures by name: accuracy, precision_macro, ...,
            roc_auc for classification; mse, mae, r2 for regression.
        per_class: Per-class metrics (classification).
        confusion: Confusion matrix, rows = true class, columns = predicted.
        class_names: Names of the confusion matrix's rows and columns.
        y_true: Test targets (class ids or values).
        y_pred: Predicted class ids or values.
        probabilities: Predicted class probabilities (classification).
        misclassified: Indices into the test split of wrong predictions.
    """

    task: str
    metrics: dict[str, float]
    per_class: list[ClassMetrics] = field(default_factory=list)
    confusion: np.ndarray | None = None
    class_names: tuple[str, ...] = ()
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    misclassified: np.ndarray | None = None

    def to_dict(self) -> dict:
        """JSON-ready summary (no per-sample arrays)."""
        result = {"task": self.task, "metrics": dict(self.metrics)}
        if self.per_class:
            result["per_class"] = [vars(c) for c in self.per_class]
        if self.confusion is not None:
            result["confusion_matrix"] = self.confusion.tolist()
            result["class_names"] = list(self.class_names)
        return result

    def table(self) -> str:
        """A plain-text table of the metrics, and per class when there are classes."""
        lines = [f"{name:<20} {value:>10.4f}" for name, value in self.metrics.items()]
        if self.per_class:
            width = max(8, *(len(c.name) for c in self.per_class))
            lines += ["", f"{'class':<{width}} {'precision':>9} {'recall':>9} {'f1':>9} {'n':>6}"]
            lines += [
                f"{c.name:<{width}} {c.precision:>9.4f} {c.recall:>9.4f} {c.f1:>9.4f} "
                f"{c.support:>6d}"
                for c in self.per_class
            ]
        return "\n".join(lines)


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The model's first output on `x`, feeding its Inputs as the trainer does."""
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
    outputs = model.predict(**feed(model_inputs(x, shapes), batch_size=256), verbose=0)
    return np.asarray(outputs[0] if isinstance(outputs, list) else outputs)


def _probabilities(outputs: np.ndarray) -> np.ndarray:
    """Class probabilities, applying sigmoid/softmax when the model outputs logits."""
    outputs = outputs.reshape(len(outputs), -1).astype("float64")
    in_range = np.all((outputs >= 0) & (outputs <= 1))
    if outputs.shape[1] == 1:
        positive = outputs[:, 0] if in_range else 1 / (1 + np.exp(-outputs[:, 0]))
        return np.stack([1 - positive, positive], axis=1)
    if in_range and np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def evaluate(model: keras.Model, dataset: Dataset) -> EvaluationReport:
    """Scores `model` on `dataset`'s test split.

    Args:
        model: A trained model whose inputs fit the dataset.
        dataset: The dataset it was trained on.
    """
    return evaluate_outputs(predict(model, dataset.x_test), dataset)


def evaluate_outputs(outputs: np.ndarray, dataset: Dataset) -> EvaluationReport:
    """Scores a model's first output on `dataset`'s test split, however it was computed
    (Keras, a TFLite interpreter, a server).

    Args:
        outputs: The model's first output for every test sample, in order.
        dataset: The dataset it was trained on.
    """
    if dataset.task == "classification":
        return _classification(outputs, dataset)
    return _regression(outputs, dataset)


def _regression(outputs: np.ndarray, dataset: Dataset) -> EvaluationReport:
    y_true = dataset.y_test.reshape(len(dataset.y_test), -1)
    y_pred = outputs.reshape(len(outputs), -1)
    metrics = {
        "mse": float(sk.mean_squared_error(y_true, y_pred)),
        "mae": float(sk.mean_absolute_error(y_true, y_pred)),
        # Weighting by variance ignores constant targets (e.g. the always-blank
        # corner pixels of digits) whose R^2 is undefined.
        "r2": float(sk.r2_score(y_true, y_pred, multioutput="variance_weighted"))
        if len(y_true) > 1
        else float("nan"),
    }
    return EvaluationReport(
        "regression",
        metrics,
        y_true=dataset.y_test,
        y_pred=outputs.reshape(dataset.y_test.shape),
    )


def _classification(outputs: np.ndarray, dataset: Dataset) -> EvaluationReport:
    probabilities = _probabilities(outputs)
    y_true = dataset.y_test.astype("int64")
    y_pred = probabilities.argmax(axis=1)
    labels = np.arange(max(len(dataset.class_names), probabilities.shape[1]))
    names = tuple(dataset.class_names) or tuple(str(i) for i in labels)
    names = names + tuple(str(i) for i in labels[len(names) :])
    metrics = {"accuracy": float(sk.accuracy_score(y_true, y_pred))}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = sk.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        metrics[f"precision_{average}"] = float(precision)
        metrics[f"recall_{average}"] = float(recall)
        metrics[f"f1_{average}"] = float(f1)
    auc = _roc_auc(y_true, probabilities)
    if auc is not None:
        metrics["roc_auc"] = auc
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = [
        ClassMetrics(names[i], float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i in labels
    ]
    return EvaluationReport(
        "classification",
        metrics,
        per_class=per_class,
        confusion=sk.confusion_matrix(y_true, y_pred, labels=labels),
        class_names=names,
        y_true=y_true,
        y_pred=y_pred,
        probabilities=probabilities,
        misclassified=np.flatnonzero(y_true != y_pred),
    )


def _roc_auc(y_true: np.ndarray, probabilities: np.ndarray) -> float | None:
    """ROC-AUC (binary, or macro one-vs-rest); None when the test split lacks a class."""
    present = np.unique(y_true)
    if len(present) < 2:
        return None
    if probabilities.shape[1] == 2:
        return float(sk.roc_auc_score(y_true, probabilities[:, 1]))
    if len(present) < probabilities.shape[1]:
        return None
    return float(sk.roc_auc_score(y_true, probabilities, multi_class="ovr"))


def diagnose_run(history: dict[str, list[float]], model: keras.Model, dataset: Dataset) -> str:
    """`diagnose` with the test split's predictions; the curves alone when evaluation fails."""
    try:
        report = evaluate(model, dataset)
    except (ValueError, TypeError, IndexError):
        report = None
    return diagnose(history, report)
