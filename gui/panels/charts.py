"""Live learning curves: one pyqtgraph plot per metric, redrawn a few times a second.

Events only append numbers to growable numpy buffers; a QTimer redraws the
curves whose data changed with `setData` on array views. Nothing is drawn
per batch, so drawing costs the same however fast training runs.

Drawing takes CPU from training (which runs in its own process) and holds
the GIL that the app's own TensorFlow jobs need. So the redraw period
follows what drawing costs on this machine: the charts spend at most
DRAW_BUDGET of the time drawing, redrawn every REDRAW_MS at best (4 times a
second) and every MAX_REDRAW_MS at worst.

The plots' ranges are kept here rather than by pyqtgraph's auto-range: the
x axis spans the run's epochs from the start, and the y axis widens when the
data leaves it. Auto-range re-measured every item and re-laid out the axes
on every redraw, which doubled the GUI thread's drawing time. A user who
zooms or pans a plot takes over its range until the next run.

Per-batch curves: Keras reports running means over the epoch so far; for
metrics that are means (loss, accuracy, mae, mse) each batch's own value is
recovered from consecutive means and smoothed with an exponential moving
average, as TensorBoard does. Other metrics (precision, auc...) are drawn
as reported.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

REDRAW_MS = 250
MAX_REDRAW_MS = 1000
DRAW_BUDGET = 0.02
AXIS_WIDTH = 48
SMOOTHING = 0.6
MAX_OVERLAID_RUNS = 3
MEAN_METRICS = ("loss", "accuracy", "mae", "mse", "mean_absolute_error", "mean_squared_error")
FRACTION_METRICS = ("accuracy", "precision", "recall", "auc")

BATCH_COLOR = "#9ecae1"
TRAIN_COLOR = "#1f77b4"
VALIDATION_COLOR = "#ff7f0e"
GRID_COLOR = "#808080"
PREVIOUS_COLORS = ("#7f7f7f", "#b0b0b0", "#cfcfcf")

pg.setConfigOptions(antialias=False, foreground="#404040")


def is_fraction_metric(name: str) -> bool:
    """Whether `name` is a metric between 0 and 1 (its plot then spans exactly that)."""
    return name.endswith(FRACTION_METRICS)


def is_mean_metric(name: str) -> bool:
    """Whether Keras reports `name` as a running mean (so per-batch values can be recovered)."""
    return name in MEAN_METRICS or name.endswith("_loss")


class Series:
    """An (x, y) sequence that grows without copying on every append.

    Attributes:
        size: Number of points.
        x_max, y_min, y_max: Bounds of the finite values so far.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.size = 0
        self.x_max = -math.inf
        self.y_min = math.inf
        self.y_max = -math.inf

    def append(self, x: float, y: float) -> None:
        if self.size == len(self._x):
            self._x = np.resize(self._x, 2 * self.size)
            self._y = np.resize(self._y, 2 * self.size)
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1
        self.x_max = max(self.x_max, x)
        if math.isfinite(y):
            self.y_min = min(self.y_min, y)
            self.y_max = max(self.y_max, y)

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


def _mark_lone_point(item: pg.PlotDataItem, points: int) -> None:
    """A dot on a curve of one point (a line needs two); none on longer ones.

    Symbols on every epoch point made each redraw about a quarter slower.
    """
    if points == 1:
        pen = item.opts["pen"]
        item.setSymbol("o")
        item.setSymbolSize(6)
        item.setSymbolBrush(pen.color())
        item.setSymbolPen(None)
    elif item.opts["symbol"] is not None:
        item.setSymbol(None)


def _previous_color(index: int) -> str:
    """Grey for the index-th earlier run (newest first), lighter for older ones."""
    return PREVIOUS_COLORS[min(index, len(PREVIOUS_COLORS) - 1)]


def legend_html(previous: list[str]) -> str:
    """The key shown above the plots (drawn once, not on every redraw like a plot legend)."""

    def key(color: str, glyph: str, text: str) -> str:
        return f"<span style='color:{color}'>{glyph}</span>&nbsp;{text}"

    parts = [
        key(BATCH_COLOR, "━", "train, per batch (smoothed)"),
        key(TRAIN_COLOR, "━", "train, per epoch"),
        key(VALIDATION_COLOR, "━", "validation, per epoch"),
    ]
    if previous:
        runs = ", ".join(
            f"<span style='color:{_previous_color(index)}'>{label}</span>"
            for index, label in enumerate(previous)
        )
        parts.append(key(PREVIOUS_COLORS[0], "╌", f"earlier: {runs} (dashed: train, dotted: val.)"))
    return " &nbsp; ".join(parts)


class _TimedLayoutWidget(pg.GraphicsLayoutWidget):
    """Remembers how long its last paint took (the charts pace their redraws by it)."""

    last_paint_s = 0.0

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - started


class _Plot:
    """One metric's plot item and its curves."""

    def __init__(self, layout: pg.GraphicsLayout, name: str, row: int, column: int) -> None:
        self.item = layout.addPlot(row=row, col=column, title=name)
        self.fraction = is_fraction_metric(name)
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
        # Axes and grid change only with the range: repaint them from a pixmap.
        for item in (grid, self.item.getAxis("left"), self.item.getAxis("bottom")):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # A fixed width: wider tick labels would otherwise re-lay out the whole plot.
        self.item.getAxis("left").setWidth(AXIS_WIDTH)
        self._overlays = [
            self.item.plot(pen=pg.mkPen(PREVIOUS_COLORS[0])) for _ in range(2 * MAX_OVERLAID_RUNS)
        ]
        for item in self._overlays:
            item.setZValue(-1)
            item.setVisible(False)
        self.previous: list[pg.PlotDataItem] = []  # the overlays in use
        self._previous_series: list[Series] = []
        self._shown: dict[int, tuple[MetricCurves, int]] = {}
        self.following = True
        self._x_span = 1.0
        self._y_range: tuple[float, float] | None = None
        self.item.getViewBox().sigRangeChangedManually.connect(self._taken_over)
        self.batch = self.item.plot(pen=pg.mkPen(BATCH_COLOR, width=1))
        self.train = self.item.plot(pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.validation = self.item.plot(pen=pg.mkPen(VALIDATION_COLOR, width=2))

    def show(self, curves: MetricCurves) -> None:
        """Pushes the curves' data; series that did not grow since the last call are skipped.

        Epoch curves change ten to a hundred times less often than the batch
        curve, and each setData re-lays out their symbols.
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
                if item is not self.batch:
                    _mark_lone_point(item, series.size)
        self._fit_range([curves.batch, curves.train, curves.validation])

    # Ranges --------------------------------------------------------------------------

    def start_run(self, epochs: int | None) -> None:
        """Spans the run's epochs on x and the earlier runs on y; the plot follows the data."""
        self.following = True
        self.item.disableAutoRange()
        self._x_span = float(max([epochs or 1, *(s.x_max for s in self._previous_series)]))
        self.item.setXRange(0, self._x_span, padding=0.02)
        self._y_range = None
        if self.fraction:
            self._y_range = (0.0, 1.0)
            self.item.setYRange(0.0, 1.0, padding=0.02)
        self._fit_range([])

    def _fit_range(self, series: list[Series]) -> None:
        """Widens the view to show every point (what auto-range shows, cheaply)."""
        if not self.following or any(self.item.getViewBox().autoRangeEnabled()):
            return  # the user zoomed, panned or turned pyqtgraph's auto-range back on
        every = [*series, *self._previous_series]
        x_max = max((s.x_max for s in every), default=-math.inf)
        if x_max > self._x_span:
            self._x_span = x_max
            self.item.setXRange(0, x_max, padding=0.02)
        low = min((s.y_min for s in every), default=math.inf)
        high = max((s.y_max for s in every), default=-math.inf)
        if not low <= high:
            return  # nothing finite yet
        low = min(low, 0.0)  # from zero: losses and errors rarely go below it
        shown = self._y_range
        if shown is not None and shown[0] <= low and high <= shown[1]:
            return
        if shown is not None:
            # Leave room to grow, so that a slowly rising curve does not
            # re-lay out the axis at every redraw.
            headroom = 0.25 * (max(high, shown[1]) - min(low, shown[0]))
            low = min(low, shown[0]) - (headroom if low < shown[0] else 0.0)
            high = max(high, shown[1]) + (headroom if high > shown[1] else 0.0)
        self._y_range = (low, high)
        self.item.setYRange(low, high, padding=0.05)

    def _taken_over(self, *_args: object) -> None:
        self.following = False

    def show_previous(self, runs: list[MetricCurves]) -> None:
        """Overlays earlier runs' epoch curves, newest first.

        The overlay items are made once and refilled: adding and removing
        plot items at every run cost the GUI thread ~20 ms per plot just as
        training starts.
        """
        self.previous = []
        self._previous_series = []
        slots = iter(self._overlays)
        for index, curves in enumerate(runs[:MAX_OVERLAID_RUNS]):
            color = _previous_color(index)
            for series, style in (
                (curves.train, Qt.PenStyle.DashLine),
                (curves.validation, Qt.PenStyle.DotLine),
            ):
                if series.size == 0:
                    continue
                item = next(slots)
                item.setPen(pg.mkPen(color, width=1.5, style=style))
                item.setData(*series.arrays())
                _mark_lone_point(item, series.size)
                item.setVisible(True)
                self.previous.append(item)
                self._previous_series.append(series)
        for item in slots:
            item.setVisible(False)


class TrainingCharts(QWidget):
    """Loss and every metric, training and validation, per batch and per epoch.

    Earlier runs of the session stay overlaid (dashed: training, dotted:
    validation) for comparison.

    Args:
        redraw_ms: Shortest redraw period while a run is live.
        columns: Plots per row.
    """

    def __init__(self, redraw_ms: int = REDRAW_MS, columns: int = 2) -> None:
        super().__init__()
        self.columns = columns
        self.redraw_ms = redraw_ms
        self.view = _TimedLayoutWidget()
        self.view.setBackground("w")
        self.key = QLabel(legend_html([]))
        self.key.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.key)
        layout.addWidget(self.view, 1)
        self.curves: dict[str, MetricCurves] = {}
        self.previous_runs: list[tuple[str, dict[str, MetricCurves]]] = []
        self.plots: dict[str, _Plot] = {}
        self.run_label = ""
        self.epochs: int | None = None
        self.redraws = 0
        self._dirty = False
        self.timer = QTimer(self)
        self.timer.setInterval(redraw_ms)
        self.timer.timeout.connect(self.redraw)

    # Feeding -----------------------------------------------------------------------

    def begin_run(self, label: str, epochs: int | None = None) -> None:
        """Starts fresh curves; the previous run (if it has epochs) becomes an overlay.

        Args:
            label: The run's name in the key once it is overlaid.
            epochs: Epochs planned (the x axis spans them from the start).
        """
        if self.curves and any(c.train.size for c in self.curves.values()):
            self.previous_runs.insert(0, (self.run_label, self.curves))
            del self.previous_runs[MAX_OVERLAID_RUNS:]
        self.run_label = label
        self.epochs = epochs
        self.curves = {}
        self.key.setText(legend_html([label for label, _ in self.previous_runs]))
        for name, plot in self.plots.items():
            plot.show_previous(self._previous_of(name))
            plot.start_run(epochs)
            plot.show(MetricCurves(name))
        self.timer.start()

    def clear(self) -> None:
        """Forgets every run drawn (the document changed)."""
        self.timer.stop()
        self.previous_runs = []
        self.curves = {}
        self.run_label = ""
        self.key.setText(legend_html([]))
        for plot in self.plots.values():
            plot.show_previous([])
            plot.start_run(self.epochs)
            plot.show(MetricCurves(""))

    def show_runs(self, runs: list[tuple[str, dict[str, list[float]]]]) -> None:
        """Draws recorded runs' per-epoch curves, oldest first: the last solid, the rest overlaid.

        Args:
            runs: (label, metric name -> one value per epoch) per run.
        """
        from runtime.events import EpochEnd  # plain dataclasses: no TensorFlow

        self.clear()
        for label, epochs in runs:
            count = max((len(values) for values in epochs.values()), default=0)
            self.begin_run(label, count or None)
            for index in range(count):
                logs = {
                    name: values[index] for name, values in epochs.items() if index < len(values)
                }
                self.add_epoch(EpochEnd(index + 1, count, logs))
            self.end_run()

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

    def _previous_of(self, name: str) -> list[MetricCurves]:
        return [runs[name] for _label, runs in self.previous_runs if name in runs]

    # Drawing -----------------------------------------------------------------------

    def metric_names(self) -> list[str]:
        """Metrics plotted so far, loss first."""
        return sorted(self.plots, key=lambda n: (n != "loss", n))

    def redraw(self) -> None:
        """Pushes changed data to the plots (a no-op when nothing changed)."""
        if not self._dirty:
            return
        started = time.perf_counter()
        self._push()
        cost = time.perf_counter() - started + self.view.last_paint_s
        period_ms = min(MAX_REDRAW_MS, max(self.redraw_ms, 1000 * cost / DRAW_BUDGET))
        self.timer.setInterval(round(period_ms))

    def _push(self) -> None:
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
        plot.start_run(self.epochs)
        self.plots[name] = plot
        return plot

    def plotted(self, name: str, curve: str) -> tuple[np.ndarray, np.ndarray]:
        """The data a plot shows now: `curve` is "batch", "train" or "validation"."""
        item = getattr(self.plots[name], curve)
        x, y = item.getData()
        return (np.array([]) if x is None else x), (np.array([]) if y is None else y)
