"""The Federated panel's charts: accuracy, loss and epsilon per round, and each client's classes.

Its own module so that pyqtgraph loads with the first federated run, not at start-up.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.theme import BASELINE_COLOR, FEDERATED_COLOR


class FederatedCharts(QWidget):
    """Four plots: global validation accuracy and loss (with the baseline), class counts, epsilon.

    Args:
        epsilon_title: The privacy budget plot's title.
    """

    def __init__(self, epsilon_title: str) -> None:
        super().__init__()
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("w")  # as the app's other charts
        self.accuracy_plot = self._plot("Validation accuracy per round", 0, 0)
        self.loss_plot = self._plot("Validation loss per round", 0, 1)
        self.counts_plot = self._plot("Class counts per client", 1, 0)
        self.epsilon_plot = self._plot(epsilon_title, 1, 1)
        self.epsilon_title = epsilon_title
        self.columns = 2
        self.epsilon_plot.setLabel("bottom", "round")
        self.counts_plot.setLabel("bottom", "client")
        solid = pg.mkPen(FEDERATED_COLOR, width=2)
        self.curves = {
            "val_accuracy": self.accuracy_plot.plot(pen=solid),
            "val_loss": self.loss_plot.plot(pen=solid),
            "epsilon": self.epsilon_plot.plot(pen=solid),
        }
        dashed = pg.mkPen(BASELINE_COLOR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        self.baseline_curves = {
            "val_accuracy": self.accuracy_plot.plot(pen=dashed),
            "val_loss": self.loss_plot.plot(pen=dashed),
        }  # the panel's BASELINE_METRICS
        self.bars: list[pg.BarGraphItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)

    @property
    def plots(self) -> list[pg.PlotItem]:
        return [self.accuracy_plot, self.loss_plot, self.counts_plot, self.epsilon_plot]

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # In a short, wide dock (a 720-pixel screen) two rows leave each plot a sliver
        # of height: the four plots then stand in one row.
        columns = 4 if event.size().width() > 2.5 * event.size().height() else 2
        if columns != self.columns:
            self.columns = columns
            layout = self.layout_widget.ci
            for plot in self.plots:
                layout.removeItem(plot)
            for index, plot in enumerate(self.plots):
                layout.addItem(plot, row=index // columns, col=index % columns)

    def _plot(self, title: str, row: int, column: int) -> pg.PlotItem:
        plot = self.layout_widget.addPlot(row=row, col=column)
        plot.setTitle(title, size="9pt")
        plot.showGrid(x=True, y=True, alpha=0.2)
        if "round" in title:
            plot.setLabel("bottom", "round")
        return plot

    def show_class_counts(self, counts: list[list[int]], class_names=()) -> None:
        """Stacked bars: one bar per client, one colour per class."""
        for bar in self.bars:
            self.counts_plot.removeItem(bar)
        self.bars = []
        table = np.array(counts, dtype=float)
        if table.size == 0:
            return
        clients = np.arange(1, len(table) + 1)
        bottom = np.zeros(len(table))
        for column in range(table.shape[1]):
            color = pg.intColor(column, hues=max(table.shape[1], 1))
            bar = pg.BarGraphItem(
                x=clients, height=table[:, column], y0=bottom, width=0.8, brush=color
            )
            name = class_names[column] if column < len(class_names) else str(column)
            bar.setToolTip(f"class {name}")
            self.counts_plot.addItem(bar)
            self.bars.append(bar)
            bottom = bottom + table[:, column]

    def draw_rounds(self, rounds: list[int], history: dict[str, list[float]]) -> None:
        x = np.array(rounds, dtype=float)
        for name, curve in self.curves.items():
            values = history.get(name)
            if values:
                y = np.array([v if math.isfinite(v) else np.nan for v in values])
                curve.setData(x, y, symbol="o" if len(x) == 1 else None)
        # Only noise gives a budget: without it the plot says why it stays empty.
        off = bool(rounds) and not history.get("epsilon")
        title = self.epsilon_title + (" (off: no noise added)" if off else "")
        self.epsilon_plot.setTitle(title, size="9pt")

    def draw_baseline(self, baseline: dict[str, list[tuple[float, float]]]) -> None:
        for name, curve in self.baseline_curves.items():
            points = baseline.get(name)
            if points:
                curve.setData(np.array([p[0] for p in points]), np.array([p[1] for p in points]))

    def clear(self) -> None:
        for curve in (*self.curves.values(), *self.baseline_curves.values()):
            curve.setData([], [])
        self.show_class_counts([])
