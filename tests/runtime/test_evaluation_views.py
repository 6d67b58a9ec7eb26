"""Which test samples a click on the confusion matrix or the misclassified gallery picks."""

from __future__ import annotations

import numpy as np

from runtime.evaluation import EvaluationReport
from runtime.evaluation_views import (
    MAX_GALLERY,
    confusion_cell_at,
    confusion_cell_samples,
    confusion_cell_title,
    gallery_indices,
)


def report(y_true, y_pred, names=("cat", "dog", "fox")) -> EvaluationReport:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return EvaluationReport(
        "classification",
        {},
        class_names=names,
        y_true=y_true,
        y_pred=y_pred,
        misclassified=np.flatnonzero(y_true != y_pred),
    )


def test_a_cell_holds_exactly_the_samples_of_its_true_and_predicted_pair():
    r = report([0, 1, 1, 2, 1, 0, 1], [0, 2, 1, 2, 2, 1, 2])
    assert confusion_cell_samples(r, 1, 2) == [1, 4, 6]
    assert confusion_cell_samples(r, 0, 0) == [0]
    assert confusion_cell_samples(r, 2, 0) == []
    everything = sorted(
        i for t in range(3) for p in range(3) for i in confusion_cell_samples(r, t, p)
    )
    assert everything == list(range(7))  # every sample in exactly one cell


def test_a_binary_report_with_column_targets_picks_by_value():
    r = report(np.array([[1], [0], [1]]), np.array([1, 1, 0]), names=("no", "yes"))
    assert confusion_cell_samples(r, 0, 1) == [1]


def test_cells_in_words():
    r = report([0, 1], [0, 2])
    assert confusion_cell_title(r, 1, 2, 3) == "3 test samples of class dog predicted as fox"
    assert confusion_cell_title(r, 0, 0, 1) == "1 test sample of class cat predicted correctly"


def test_a_point_of_the_drawn_matrix_names_its_cell():
    # Columns are predicted classes (x), rows true classes (y), each cell one unit wide.
    assert confusion_cell_at(2.5, 0.5, 3) == (0, 2)
    assert confusion_cell_at(0.0, 2.99, 3) == (2, 0)
    for outside in ((-0.1, 1.0), (1.0, 3.0), (3.0, 0.5)):
        assert confusion_cell_at(*outside, 3) is None


def test_gallery_positions_map_to_the_misclassified_test_indices():
    y_true = np.zeros(200, int)
    y_pred = np.zeros(200, int)
    y_pred[5::3] = 1
    r = report(y_true, y_pred)
    assert gallery_indices(r) == list(range(5, 200, 3))[:MAX_GALLERY]
