"""Live learning curves: one pyqtgraph plot per metric, redrawn at most ~10 times a second.

Events only append numbers to growable numpy buffers; a QTimer redraws the
curves whose data changed with `setData` on array views. Nothing is drawn
per batch, so drawing costs the same however fast training runs.

Per-batch curves: Keras reports running means over the epoch so far; for
metrics that are means (loss, accuracy, mae, mse) each batch's own value is
recovered from consecutive means and smoothed with an exponential moving
average, as TensorBoard does. Other metrics (precision, auc...) are drawn
as reported.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

REDRAW_MS = 100
SMOOTHING = 0.6
MAX_OVERLAID_RUNS = 3
MEAN_METRICS = ("loss", "accuracy", "mae", "mse", "mean_absolute_error", "mean_squared_error")

BATCH_COLOR = "#9ecae1"
TRAIN_COLOR = "#1f77b4"
VALIDATION_COLOR = "#ff7f0e"
GRID_COLOR = "#808080"
PREVIOUS_COLORS = ("#7f7f7f", "#b0b0b0", "#cfcfcf")

pg.setConfigOptions(antialias=False, foreground="#404040")


def is_mean_metric(name: str) -> bool:
    """Whether Keras reports `name` as a running mean (so per-batch values can be recovered)."""
    return name in MEAN_METRICS or name.endswith("_loss")


class Series:
    """An (x, y) sequence that grows without copying on every append."""

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.size = 0

    def append(self, x: float, y: float) -> None:
        if self.size == len(self._x):
            self._x = np.resize(self._x, 2 * self.size)
            self._y = np.resize(self._y, 2 * self.size)
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Views of the values so far (valid until the next append)."""
        return self._x[: self.size], self._y[: self.size]

    def copy(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.arrays()
        return x.copy(), y.copy()


class MetricCurves:
    """The numbers behind one metric's plot during one run.

    Attributes:
        batch: Smoothed per-batch training values, x in fractional epochs.
        train: Training value at each epoch end.
        validation: Validation value at each epoch end.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.batch = Series(1024)
        self.train = Series(64)
        self.validation = Series(64)
        self._derive = is_mean_metric(name)
        self._last_mean = 0.0
        self._smoothed = 0.0
        self._weight = 0.0

    def add_batch(self, epoch: int, batch: int, batches: int, mean: float) -> None:
        if batch == 1:
            self._last_mean = 0.0
        value = mean
        if self._derive:
            value = batch * mean - (batch - 1) * self._last_mean
            self._last_mean = mean
        self._smoothed = SMOOTHING * self._smoothed + (1 - SMOOTHING) * value
        self._weight = SMOOTHING * self._weight + (1 - SMOOTHING)
        x = epoch - 1 + batch / max(batches, batch)
        self.batch.append(x, self._smoothed / self._weight)


class _Plot:
    """One metric's plot item and its curves."""

    def __init__(self, layout: pg.GraphicsLayout, name: str, row: int, column: int) -> None:
        self.item = layout.addPlot(row=row, col=column, title=name)
        # A GridItem, not showGrid: axis grids are replayed from a full-size
        # QPicture on every paint (~4 ms per axis offscreen), which made each
        # 10 Hz redraw cost the GUI thread ~20 ms; this grid costs ~1 ms.
        grid = pg.GridItem(pen=pg.mkPen(GRID_COLOR), textPen=None)
        grid.setTickSpacing(x=[None, None], y=[None, None])
        grid.setZValue(-10)
        self.item.addItem(grid, ignoreBounds=True)
        self.item.setLabel("bottom", "epoch")
        self.item.setClipToView(True)
        self.item.setDownsampling(auto=True, mode="peak")
        self.item.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.previous: list[pg.PlotDataItem] = []
        self._shown: dict[int, tuple[MetricCurves, int]] = {}
        self.batch = self.item.plot(name="train (per batch)", pen=pg.mkPen(BATCH_COLOR, width=1))
        self.train = self.item.plot(
            name="train",
            pen=pg.mkPen(TRAIN_COLOR, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=TRAIN_COLOR,
            symbolPen=None,
        )
        self.validation = self.item.plot(
            name="validation",
            pen=pg.mkPen(VALIDATION_COLOR, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=VALIDATION_COLOR,
            symbolPen=None,
        )

    def show(self, curves: MetricCurves) -> None:
        """Pushes the curves' data; series that did not grow since the last call are skipped.

        Epoch curves change ten to a hundred times less often than the batch
        curve, and each setData re-lays out their symbols and the auto-range.
        """
        for item, series in (
            (self.batch, curves.batch),
            (self.train, curves.train),
            (self.validation, curves.validation),
        ):
            shown = (curves, series.size)
            if self._shown.get(id(item)) != shown:
                self._shown[id(item)] = shown
                item.setData(*series.arrays())

    def show_previous(self, runs: list[tuple[str, MetricCurves]]) -> None:
        for item in self.previous:
            self.item.removeItem(item)
        self.previous = []
        for index, (label, curves) in enumerate(runs):
            color = PREVIOUS_COLORS[min(index, len(PREVIOUS_COLORS) - 1)]
            for series, style, suffix in (
                (curves.train, Qt.PenStyle.DashLine, "train"),
                (curves.validation, Qt.PenStyle.DotLine, "val"),
            ):
                if series.size == 0:
                    continue
                item = pg.PlotDataItem(
                    *series.arrays(),
                    pen=pg.mkPen(color, width=1.5, style=style),
                    name=f"{label} {suffix}",
                )
                item.setZValue(-1)
                self.item.addItem(item)
                self.previous.append(item)


class TrainingCharts(QWidget):
    """Loss and every metric, training and validation, per batch and per epoch.

    Earlier runs of the session stay overlaid (dashed: training, dotted:
    validation) for comparison.

    Args:
        redraw_ms: Redraw period while a run is live.
        columns: Plots per row.
    """

    def __init__(self, redraw_ms: int = REDRAW_MS, columns: int = 2) -> None:
        super().__init__()
        self.columns = columns
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.curves: dict[str, MetricCurves] = {}
        self.previous_runs: list[tuple[str, dict[str, MetricCurves]]] = []
        self.plots: dict[str, _Plot] = {}
        self.run_label = ""
        self.redraws = 0
        self._dirty = False
        self.timer = QTimer(self)
        self.timer.setInterval(redraw_ms)
        self.timer.timeout.connect(self.redraw)

    # Feeding -----------------------------------------------------------------------

    def begin_run(self, label: str) -> None:
        """Starts fresh curves; the previous run (if it has epochs) becomes an overlay."""
        if self.curves and any(c.train.size for c in self.curves.values()):
            self.previous_runs.insert(0, (self.run_label, self.curves))
            del self.previous_runs[MAX_OVERLAID_RUNS:]
        self.run_label = label
        self.curves = {}
        for name, plot in self.plots.items():
            plot.show(MetricCurves(name))
            plot.show_previous(self._previous_of(name))
        self.timer.start()

    def end_run(self) -> None:
        """Draws what is left and stops the timer."""
        self.timer.stop()
        self.redraw()

    def add_batches(self, events: list) -> None:
        """Buffers a list of runtime.events.BatchEnd (drawn at the next tick)."""
        for event in events:
            for name, value in event.logs.items():
                if name == "learning_rate":
                    continue
                self._curves(name).add_batch(event.epoch, event.batch, event.batches, value)
        self._dirty = True

    def add_epoch(self, event) -> None:
        """Buffers a runtime.events.EpochEnd."""
        for name, value in event.logs.items():
            if name.startswith("val_"):
                self._curves(name[4:]).validation.append(event.epoch, value)
            elif name != "learning_rate":
                self._curves(name).train.append(event.epoch, value)
        self._dirty = True

    def _curves(self, name: str) -> MetricCurves:
        curves = self.curves.get(name)
        if curves is None:
            curves = self.curves[name] = MetricCurves(name)
        return curves

    def _previous_of(self, name: str) -> list[tuple[str, MetricCurves]]:
        return [(label, runs[name]) for label, runs in self.previous_runs if name in runs]

    # Drawing -----------------------------------------------------------------------

    def metric_names(self) -> list[str]:
        """Metrics plotted so far, loss first."""
        return sorted(self.plots, key=lambda n: (n != "loss", n))

    def redraw(self) -> None:
        """Pushes changed data to the plots (a no-op when nothing changed)."""
        if not self._dirty:
            return
        self._dirty = False
        self.redraws += 1
        for name in sorted(self.curves, key=lambda n: (n != "loss", n)):
            curves = self.curves[name]
            plot = self.plots.get(name)
            if plot is None:
                plot = self._add_plot(name)
            plot.show(curves)

    def _add_plot(self, name: str) -> _Plot:
        index = len(self.plots)
        plot = _Plot(self.view.ci, name, index // self.columns, index % self.columns)
        plot.show_previous(self._previous_of(name))
        self.plots[name] = plot
        return plot

    def plotted(self, name: str, curve: str) -> tuple[np.ndarray, np.ndarray]:
        """The data a plot shows now: `curve` is "batch", "train" or "validation"."""
        item = getattr(self.plots[name], curve)
        x, y = item.getData()
        return (np.array([]) if x is None else x), (np.array([]) if y is None else y)
