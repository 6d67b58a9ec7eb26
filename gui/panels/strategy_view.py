"""One continual-learning strategy's column in the Continual panel.

The accuracy matrix as a heatmap, each task's accuracy over the sequence and
the summary metrics. Its own module so that pyqtgraph loads with the first
run's views, not at start-up.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from graph.settings import CONTINUAL_METRICS, STRATEGY_EXPLANATIONS

CURVE_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
UNSEEN = (235, 235, 235)
MAX_LABELLED_TASKS = 12


def heat_color(accuracy: float) -> tuple[int, int, int]:
    """White (0) to deep blue (1)."""
    value = min(max(accuracy, 0.0), 1.0)
    low, high = np.array([255, 255, 255]), np.array([8, 69, 148])
    return tuple(int(c) for c in low + (high - low) * value)


def matrix_image(matrix: list[list[float]], tasks: int) -> np.ndarray:
    """The accuracy matrix as an RGB image (rows: after task i; unfilled rows grey)."""
    image = np.empty((tasks, tasks, 3), dtype=np.uint8)
    image[:] = UNSEEN
    for row, values in enumerate(matrix):
        for column, value in enumerate(values):
            image[row, column] = heat_color(value)
    return image


def metric_text(key: str, value: float) -> str:
    """A metric's value; transfers carry their sign, since negative means forgetting."""
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.3f}" if key == "average_accuracy" else f"{value:+.3f}"


class StrategyView(QWidget):
    """One strategy's column: heatmap, per-task curves and summary metrics."""

    def __init__(self, strategy: str, task_names: list[str]) -> None:
        super().__init__()
        self.strategy = strategy
        self.task_names = list(task_names)
        self.matrix: list[list[float]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        title = QLabel(f"<b>{strategy}</b> — {STRATEGY_EXPLANATIONS[strategy]}")
        title.setWordWrap(True)
        layout.addWidget(title)

        self.heatmap = pg.PlotWidget(background="w", title="Accuracy after each task")
        self.heatmap.setLabel("left", "after training on")
        self.heatmap.setLabel("bottom", "accuracy on")
        self.heatmap.setMouseEnabled(False, False)
        self.heatmap.hideButtons()
        self.heatmap.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.heatmap.addItem(self.image)
        self.cell_labels: list[pg.TextItem] = []
        ticks = [list(enumerate(self.task_names))]
        for axis in ("left", "bottom"):
            self.heatmap.getAxis(axis).setTicks([[(i + 0.5, n) for i, n in ticks[0]]])
        self.heatmap.setRange(xRange=(0, len(task_names)), yRange=(0, len(task_names)), padding=0)
        layout.addWidget(self.heatmap, 3)

        self.curves_plot = pg.PlotWidget(background="w", title="Each task's accuracy over time")
        self.curves_plot.setLabel("bottom", "after task")
        self.curves_plot.setYRange(0, 1, padding=0.02)
        self.curves_plot.setXRange(1, max(len(task_names), 2), padding=0.05)
        self.curves_plot.getAxis("bottom").setTicks(
            [[(i + 1, name) for i, name in enumerate(task_names)]]
        )
        self.curves_plot.showGrid(x=True, y=True, alpha=0.25)
        self.curves_plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
        self.curves = [
            self.curves_plot.plot(
                [],
                [],
                pen=pg.mkPen(CURVE_COLORS[i % len(CURVE_COLORS)], width=2),
                symbol="o",
                symbolSize=5,
                symbolBrush=CURVE_COLORS[i % len(CURVE_COLORS)],
                name=name,
            )
            for i, name in enumerate(task_names)
        ]
        layout.addWidget(self.curves_plot, 2)

        self.metric_labels: dict[str, QLabel] = {}
        metrics = QGridLayout()
        for row, (key, (title_text, line)) in enumerate(CONTINUAL_METRICS.items()):
            name = QLabel(title_text)
            name.setToolTip(line)
            value = QLabel("—")
            value.setToolTip(line)
            explanation = QLabel(f"<small>{line}</small>")
            explanation.setWordWrap(True)
            metrics.addWidget(name, row, 0)
            metrics.addWidget(value, row, 1)
            metrics.addWidget(explanation, row, 2)
            self.metric_labels[key] = value
        metrics.setColumnStretch(2, 1)
        layout.addLayout(metrics)
        self.draw([], {})

    def draw(self, matrix: list[list[float]], metrics: dict[str, float]) -> None:
        """Shows the rows of the accuracy matrix filled so far and the metrics."""
        self.matrix = [list(row) for row in matrix]
        tasks = len(self.task_names)
        self.image.setImage(matrix_image(self.matrix, tasks), levels=(0, 255))
        self.image.setRect(0, 0, tasks, tasks)
        for label in self.cell_labels:
            self.heatmap.removeItem(label)
        self.cell_labels = []
        if tasks <= MAX_LABELLED_TASKS:
            for row, values in enumerate(self.matrix):
                for column, value in enumerate(values):
                    color = "w" if value > 0.6 else "k"
                    label = pg.TextItem(f"{value:.2f}", color=color, anchor=(0.5, 0.5))
                    label.setPos(column + 0.5, row + 0.5)
                    self.heatmap.addItem(label)
                    self.cell_labels.append(label)
        for task, curve in enumerate(self.curves):
            # A task's accuracy from the moment it was learned on.
            points = [
                (row + 1, values[task]) for row, values in enumerate(self.matrix) if row >= task
            ]
            curve.setData([x for x, _ in points], [y for _, y in points])
        for key, label in self.metric_labels.items():
            label.setText(metric_text(key, metrics.get(key, math.nan)))
