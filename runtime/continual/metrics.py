"""Summary metrics of an accuracy matrix (Lopez-Paz & Ranzato, "Gradient Episodic Memory
for Continual Learning", NeurIPS 2017, section 2).

R[i][j] is the test accuracy on task j right after training on task i (both
from 0, i < T, j < T); b[j] is the accuracy on task j of the network before any
training. After k tasks of T (k rows of R):

- average accuracy  ACC = 1/k * sum_{j<k} R[k-1][j]
- backward transfer BWT = 1/(k-1) * sum_{j<k-1} (R[k-1][j] - R[j][j])
- forward transfer  FWT = 1/(k-1) * sum_{0<j<k} (R[j-1][j] - b[j])

BWT and FWT need at least 2 tasks; with one they are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from graph.settings import CONTINUAL_METRICS

# Titles and one line per metric for learners, declared with the settings.
METRIC_TITLES = {key: title for key, (title, _line) in CONTINUAL_METRICS.items()}
METRIC_EXPLANATIONS = {key: line for key, (_title, line) in CONTINUAL_METRICS.items()}


def summary_metrics(
    matrix: Sequence[Sequence[float]], initial: Sequence[float]
) -> dict[str, float]:
    """ACC, BWT and FWT of the rows of `matrix` filled so far.

    Args:
        matrix: R, one row per task trained so far, each with one accuracy per task.
        initial: b, each task's accuracy before any training.

    Returns:
        {"average_accuracy", "backward_transfer", "forward_transfer"}; NaN where undefined.
    """
    k = len(matrix)
    if k == 0:
        return {name: math.nan for name in METRIC_EXPLANATIONS}
    last = matrix[k - 1]
    average = sum(last[j] for j in range(k)) / k
    if k < 2:
        return {
            "average_accuracy": average,
            "backward_transfer": math.nan,
            "forward_transfer": math.nan,
        }
    backward = sum(last[j] - matrix[j][j] for j in range(k - 1)) / (k - 1)
    forward = sum(matrix[j - 1][j] - initial[j] for j in range(1, k)) / (k - 1)
    return {
        "average_accuracy": average,
        "backward_transfer": backward,
        "forward_transfer": forward,
    }
