"""The evaluation panel: test-split metrics, confusion matrix, ROC curves, misclassified images.

Scores the newest trained model of the session (the `evaluate` run kind, through
a RunAdapter) as soon as a run finishes, or when the user asks again; the
scores become the run's final metrics in the run history (RunHistory.record_evaluation).
Clicking a cell of the confusion matrix, or a misclassified image, picks
those test samples for the Explain panel (`samples_picked`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.files import graph_to_yaml
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.runs import RunHistory, TrainingRun
from gui.run_adapter import RunAdapter
from gui.theme import ERROR_COLOR

if TYPE_CHECKING:  # numpy loads when a panel first shows data, not at start-up
    import numpy as np

GALLERY_PIXELS = 64
ROC_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


@dataclass
class Evaluation:
    """What the panel shows for one run.

    Attributes:
        run: The evaluated run.
        report: The runtime.evaluation.EvaluationReport.
        roc: runtime.evaluation_views.RocCurve list (classification with probabilities).
        gallery: (image HxW or HxWx3 in 0..255 uint8, caption) of misclassified samples.
        test_size: Samples in the test split.
    """

    run: TrainingRun
    report: Any
    roc: list = field(default_factory=list)
    gallery: list[tuple[np.ndarray, str]] = field(default_factory=list)
    test_size: int = 0


def image_pixmap(image: np.ndarray, size: int = GALLERY_PIXELS) -> QPixmap:
    """A uint8 grayscale (HxW) or RGB (HxWx3) array as a pixmap scaled to `size`."""
    import numpy as np

    height, width = image.shape[:2]
    if image.ndim == 2:
        qimage = QImage(image.data, width, height, width, QImage.Format.Format_Grayscale8)
    else:
        rgb = np.ascontiguousarray(image[..., :3])
        qimage = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy()).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class EvaluationPanel(QWidget):
    """Shows how the newest trained model does on data it never saw.

    Args:
        runs: The session's run history.
        base_dir: The folder the graph's relative data paths start from, or a
            function giving it (the document's folder can change).

    Signals:
        evaluated: The Evaluation, once computed (drawn then if the panel is
            on screen, else when it is next shown).
        samples_picked: (TrainingRun, test-split indices, what they are in
            words) when a confusion-matrix cell or a gallery image is clicked.
    """

    evaluated = Signal(object)
    samples_picked = Signal(object, object, str)

    def __init__(
        self, runs: RunHistory, base_dir: Path | Callable[[], Path | None] | None = None
    ) -> None:
        super().__init__()
        self.runs = runs
        self._base_dir = base_dir
        self.evaluation: Evaluation | None = None
        self._drawn: Evaluation | None = None
        self.task = None
        self._plots: dict[str, Any] = {}
        self.gallery_buttons: list[QToolButton] = []
        self.status = QLabel("Train the network to evaluate it on the test split.")
        self.status.setWordWrap(True)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Score the newest trained model on the test split")
        self.evaluate_button.clicked.connect(self.evaluate_latest)
        self.evaluate_button.setEnabled(False)
        self.metrics_table = _table(["metric", "value"])
        self.class_table = _table(["class", "precision", "recall", "F1", "support"])
        # Side by side, the tables get the panel's whole height (it is short at 720 px).
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.setObjectName("evaluation_tables_splitter")
        tables.addWidget(self.metrics_table)
        tables.addWidget(self.class_table)
        for table in (self.metrics_table, self.class_table):
            table.setMinimumHeight(60)
        # The class table's four figures leave its names little room: it gets the more.
        tables.setSizes([200, 360])
        self.tabs = QTabWidget()
        self.confusion_tab = QWidget()
        self.roc_tab = QWidget()
        self.gallery_tab = QScrollArea()
        self.gallery_tab.setWidgetResizable(True)
        for tab in (self.confusion_tab, self.roc_tab):
            QVBoxLayout(tab).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self.confusion_tab, "Confusion matrix")
        self.tabs.addTab(self.roc_tab, "ROC curves")
        self.tabs.addTab(self.gallery_tab, "Misclassified")
        self.tabs.setMinimumHeight(80)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("evaluation_splitter")
        splitter.addWidget(tables)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 600])
        header = QHBoxLayout()
        header.addWidget(self.status, 1)
        header.addWidget(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)
        runs.run_finished.connect(self._on_run_finished)
        runs.cleared.connect(self.clear)

    def clear(self) -> None:
        """Shows nothing (the document changed: its runs are gone)."""
        self.evaluation = self._drawn = None
        self.metrics_table.setRowCount(0)
        self.class_table.setRowCount(0)
        for plot in self._plots.values():
            plot.clear()
        self.gallery_tab.takeWidget()
        self.evaluate_button.setEnabled(False)
        self.status.setText("Train the network to evaluate it on the test split.")

    def _on_run_finished(self, run: TrainingRun) -> None:
        if run.succeeded:
            self.evaluate_run(run)

    def evaluate_latest(self) -> None:
        run = self.runs.latest_trained()
        if run is not None:
            self.evaluate_run(run)

    def evaluate_run(self, run: TrainingRun) -> None:
        """Scores `run` with an `evaluate` run; the results show when ready."""
        from runtime.runs.base import RunRequest

        self.evaluate_button.setEnabled(False)
        self.status.setText(f"Evaluating run {run.number} on the test split…")
        options = {"weights": run.weights} if run.weights is not None else {}
        request = RunRequest("evaluate", graph_to_yaml(run.graph), self.base_dir(), options)
        self.task = RunAdapter(request, parent=self)
        self.task.finished.connect(lambda outcome: self._on_evaluated(run, outcome))
        self.task.start()

    def base_dir(self) -> Path | None:
        return self._base_dir() if callable(self._base_dir) else self._base_dir

    def _on_evaluated(self, run: TrainingRun, outcome) -> None:
        from runtime.events import RunFinished

        self.task.deleteLater()
        self.task = None
        if isinstance(outcome, RunFinished):
            result = outcome.result
            self.runs.record_evaluation(run, result.report.metrics)
            self.show_evaluation(
                Evaluation(run, result.report, result.roc, result.gallery, result.test_size)
            )
        else:
            self._on_failed(outcome.message)

    def _on_failed(self, message: str) -> None:
        self.evaluate_button.setEnabled(self.runs.latest_trained() is not None)
        self.status.setText(
            f"<span style='color:{ERROR_COLOR.name()}'>Evaluation failed: {message}</span>"
        )

    # Showing -------------------------------------------------------------------------

    def show_evaluation(self, evaluation: Evaluation) -> None:
        """Shows `evaluation` now if the panel is on screen, else when it is next shown.

        Drawing the tables and plots costs the GUI thread a few hundred
        milliseconds, which would otherwise compete with the next training
        run for a panel nobody is looking at.
        """
        self.evaluation = evaluation
        self.evaluate_button.setEnabled(True)
        dataset = evaluation.run.dataset
        self.status.setText(
            f"Run {evaluation.run.number} on the test split of {dataset.name}: "
            f"{evaluation.test_size} samples the model never saw during training."
        )
        # A dock behind another tab stays "visible"; only its exposed region tells.
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self._draw()
        self.evaluated.emit(evaluation)

    def draw_if_pending(self) -> None:
        """Draws an evaluation that arrived while the panel was off screen."""
        if self.evaluation is not None and self._drawn is not self.evaluation:
            self._draw()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.draw_if_pending()

    def _draw(self) -> None:
        evaluation = self._drawn = self.evaluation
        report = evaluation.report
        self.metrics_table.setRowCount(0)
        for name, value in report.metrics.items():
            _add_row(self.metrics_table, [name, _number(value)])
        self.class_table.setRowCount(0)
        for metrics in report.per_class:
            _add_row(
                self.class_table,
                [
                    metrics.name,
                    _number(metrics.precision),
                    _number(metrics.recall),
                    _number(metrics.f1),
                    str(metrics.support),
                ],
            )
        self.class_table.setVisible(bool(report.per_class))
        classification = report.task == "classification"
        self.tabs.setTabText(0, "Confusion matrix" if classification else "Predicted vs true")
        self.tabs.setTabVisible(1, classification)
        self.tabs.setTabVisible(2, bool(evaluation.gallery))
        if classification:
            self._show_confusion(report.confusion, report.class_names)
            self._show_roc(evaluation.roc)
        else:
            self._show_regression(report)
        self._show_gallery(evaluation.gallery)

    def _plot(self, key: str, tab: QWidget):
        """A pyqtgraph plot in `tab`, created on first use."""
        import pyqtgraph as pg

        plot = self._plots.get(key)
        if plot is None:
            widget = pg.PlotWidget(background="w")
            tab.layout().addWidget(widget)
            plot = self._plots[key] = widget.getPlotItem()
            if key == "confusion":
                widget.scene().sigMouseClicked.connect(self._confusion_clicked)
        plot.clear()
        return plot

    def _show_confusion(self, matrix: np.ndarray, names: tuple[str, ...]) -> None:
        import numpy as np
        import pyqtgraph as pg

        plot = self._plot("confusion", self.confusion_tab)
        plot.setAspectLocked(False)
        count = len(names)
        rows = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
        image = pg.ImageItem(share, axisOrder="row-major")
        image.setLookupTable(
            pg.ColorMap([0.0, 1.0], [(255, 255, 255), (31, 119, 180)]).getLookupTable(nPts=256)
        )
        image.setLevels((0.0, 1.0))
        plot.addItem(image)
        for row in range(count):
            for column in range(count):
                color = "w" if share[row, column] > 0.6 else "k"
                text = pg.TextItem(str(int(matrix[row, column])), color=color, anchor=(0.5, 0.5))
                text.setPos(column + 0.5, row + 0.5)
                plot.addItem(text)
        ticks = [[(i + 0.5, str(name)) for i, name in enumerate(names)]]
        plot.getAxis("bottom").setTicks(ticks)
        plot.getAxis("left").setTicks(ticks)
        plot.setLabel("bottom", "predicted class")
        plot.setLabel("left", "true class")
        plot.invertY(True)
        plot.setRange(xRange=(0, count), yRange=(0, count), padding=0.02)
        plot.setTitle(
            "Colour: share of the true class. Click a cell to explain its samples.", size="9pt"
        )

    def _confusion_clicked(self, event) -> None:
        from runtime.evaluation_views import confusion_cell_at

        report = self._drawn.report if self._drawn is not None else None
        if report is None or report.task != "classification":
            return  # the same plot shows predicted vs true for regression
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._plots["confusion"].vb.mapSceneToView(event.scenePos())
        cell = confusion_cell_at(point.x(), point.y(), len(report.class_names))
        if cell is not None:
            self.pick_cell(*cell)

    def pick_cell(self, true_class: int, predicted_class: int) -> None:
        """Picks the test samples of one confusion-matrix cell for the Explain panel."""
        from runtime.evaluation_views import confusion_cell_samples, confusion_cell_title

        evaluation = self._drawn or self.evaluation
        if evaluation is None:
            return
        report = evaluation.report
        indices = confusion_cell_samples(report, true_class, predicted_class)
        title = confusion_cell_title(report, true_class, predicted_class, len(indices))
        if not indices:
            self.status.setText(f"{title}: nothing to explain in that cell.")
            return
        self.status.setText(f"{title}: picked for the Explain panel.")
        self.samples_picked.emit(evaluation.run, indices, title)

    def pick_gallery_image(self, position: int) -> None:
        """Picks the misclassified image at `position` of the gallery for the Explain panel."""
        from runtime.evaluation_views import gallery_indices

        evaluation = self._drawn or self.evaluation
        if evaluation is None:
            return
        index = gallery_indices(evaluation.report)[position]
        caption = evaluation.gallery[position][1]
        title = f"test sample {index} ({caption})"
        self.status.setText(f"{title}: picked for the Explain panel.")
        self.samples_picked.emit(evaluation.run, [index], title)

    def _show_roc(self, curves: list) -> None:
        import pyqtgraph as pg

        plot = self._plot("roc", self.roc_tab)
        # Columns keep a legend of many classes within a short plot (10 digits: 2 x 5).
        plot.addLegend(
            offset=(-10, -10), labelTextSize="8pt", colCount=max(1, math.ceil(len(curves) / 5))
        )
        plot.plot([0, 1], [0, 1], pen=pg.mkPen("#b0b0b0", style=Qt.PenStyle.DashLine))
        for index, curve in enumerate(curves):
            color = ROC_COLORS[index % len(ROC_COLORS)]
            plot.plot(
                curve.fpr, curve.tpr, pen=pg.mkPen(color, width=2),
                name=f"{curve.name} (AUC {curve.auc:.3f})",
            )  # fmt: skip
        plot.setLabel("bottom", "false positive rate")
        plot.setLabel("left", "true positive rate")
        plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        plot.setTitle("ROC: each class against the rest", size="9pt")

    def _show_regression(self, report) -> None:
        import numpy as np
        import pyqtgraph as pg

        plot = self._plot("confusion", self.confusion_tab)
        plot.invertY(False)
        plot.getAxis("bottom").setTicks(None)
        plot.getAxis("left").setTicks(None)
        y_true = np.asarray(report.y_true, dtype="float64").reshape(-1)
        y_pred = np.asarray(report.y_pred, dtype="float64").reshape(-1)
        plot.plot(
            y_true, y_pred, pen=None, symbol="o", symbolSize=4,
            symbolBrush=pg.mkBrush(31, 119, 180, 120), symbolPen=None,
        )  # fmt: skip
        if len(y_true):
            low, high = (
                float(min(y_true.min(), y_pred.min())),
                float(max(y_true.max(), y_pred.max())),
            )
            plot.plot([low, high], [low, high], pen=pg.mkPen("#b0b0b0", style=Qt.PenStyle.DashLine))
        plot.setLabel("bottom", "true value")
        plot.setLabel("left", "predicted value")
        plot.setTitle("Each test sample: on the diagonal is a perfect prediction", size="9pt")

    def _show_gallery(self, gallery: list[tuple[np.ndarray, str]]) -> None:
        content = QWidget()
        grid = QGridLayout(content)
        columns = 8
        self.gallery_buttons: list[QToolButton] = []
        for index, (image, caption) in enumerate(gallery):
            cell = QToolButton()
            cell.setIcon(QIcon(image_pixmap(image)))
            cell.setIconSize(QSize(GALLERY_PIXELS, GALLERY_PIXELS))
            cell.setText(caption)
            cell.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            cell.setAutoRaise(True)
            cell.setToolTip("true class → predicted class; click to explain it")
            cell.clicked.connect(lambda _checked=False, i=index: self.pick_gallery_image(i))
            grid.addWidget(cell, index // columns, index % columns)
            self.gallery_buttons.append(cell)
        grid.setRowStretch(grid.rowCount(), 1)
        self.gallery_tab.setWidget(content)
        self.gallery_cells = len(gallery)


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    # Names take the room left; figures are never cut ("precision" was, at 1280 px).
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


def _add_row(table: QTableWidget, cells: list[str]) -> None:
    row = table.rowCount()
    table.insertRow(row)
    for column, text in enumerate(cells):
        item = QTableWidgetItem(text)
        if column == 0:
            item.setToolTip(text)  # a long name is cut short in its column
        else:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        table.setItem(row, column, item)


def _number(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else "n/a"


def _evaluate(context, panel: EvaluationPanel) -> None:
    context.show("evaluation")
    panel.evaluate_latest()


def _connect(context, panel: EvaluationPanel) -> None:
    # Results that arrived behind another tab are drawn when their tab comes up.
    context.docks["evaluation"].visibilityChanged.connect(
        lambda visible: visible and panel.draw_if_pending()
    )


PANEL = PanelSpec(
    name="evaluation",
    title="Evaluation",
    order=30,
    create=lambda context: EvaluationPanel(context.runs, lambda: context.base_dir),
    menu=(MenuEntry("&Evaluate", _evaluate, separator_before=True),),
    connect=_connect,
)


def _preview() -> int:
    """Trains the digits CNN example briefly and shows its evaluation."""
    from gui.panels.preview import EXAMPLES, preview, trained_runs

    def make() -> EvaluationPanel:
        runs, run = trained_runs()
        panel = EvaluationPanel(runs, EXAMPLES)
        runs.finish(run)
        return panel

    return preview(make, 1100, 600)


if __name__ == "__main__":
    raise SystemExit(_preview())
