"""The explain panel: why the trained model predicts what it predicts, and what each node sees.

Pick a test sample and a method; the panel sends an `explain` run (runtime.runs.kinds.explain)
through the run adapter and draws what comes back: the prediction as bars, the
explanation as a heatmap over the image (with an opacity slider), a signed bar
chart with feature names for tabular data or a time-step heatmap for sequences,
and one line that says how to read it (declared with the method in
runtime.explain.methods). "Inside the network" shows the selected node's
output for the sample; `show_node` follows the canvas selection. Nothing is
computed on the GUI thread: results arrive as plain arrays and are only drawn here.
Samples picked in the Evaluation panel (a confusion-matrix cell, a misclassified
image) arrive through `pick_samples` and are offered in the "Picked" list.
A model that reads text is explained word by word: the text is shown with each
word shaded by its score (red toward the class, blue against), and a text of the
user's own can be typed in ("Your text").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from graph.files import graph_to_yaml
from gui import collection
from gui.fitted_picture import FittedPicture
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.runs import RunHistory, TrainingRun
from gui.run_adapter import RunAdapter
from gui.theme import ERROR_COLOR, PREDICTION_COLOR

if TYPE_CHECKING:  # numpy loads when a panel first shows data, not at start-up
    import numpy as np

TOP_FEATURES = 15  # bars shown for tabular attributions, strongest first
BAR_PIXELS = 16  # the height a bar's name needs: fewer bars show in a short panel
LAST_CONVOLUTION = "(last convolution)"


def pixmap_of(rgb: np.ndarray) -> QPixmap:
    """An (h, w, 3) uint8 array as a QPixmap (copied, so the array may go)."""
    import numpy as np

    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


NODE_HINT = "Select a node on the canvas to see its output for the sample."
COMPUTING = "Computing…"


class ExplainPanel(QWidget):
    """Explains the newest trained run of `runs`, or the run given to `set_run`.

    Args:
        runs: The session's runs; the panel follows the newest trained one.
        base_dir: The folder the graph's relative data paths start from, or a
            function that says it at the time of each run (the file may move).
        heavy: Where explain runs execute: the training process (None: as the
            kind declares) or the runtime thread (False; previews and tests).

    Signals:
        explained: The runtime.runs.kinds.explain.ExplainResult just drawn.
        node_shown: The runtime.explain.result.NodeOutput just drawn.
        health_checked: The ExplainResult holding layer health and badges.
        failed: The message of a run that failed.
        exported: The folder a batch export was written to.
    """

    explained = Signal(object)
    node_shown = Signal(object)
    health_checked = Signal(object)
    failed = Signal(str)
    exported = Signal(object)

    def __init__(
        self,
        runs: RunHistory | None = None,
        base_dir: Path | Callable[[], Path | None] | None = None,
        heavy: bool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from runtime.explain.methods import METHODS

        self.methods = METHODS
        self.base_dir = base_dir
        self.heavy = heavy
        self.run: TrainingRun | None = None
        self._graph_yaml: str | None = None
        self.result: Any = None
        self.node_id: str | None = None
        self._adapter: RunAdapter | None = None
        self._pending: tuple[dict, Any] | None = None
        self._status_before = ""  # what the status said before "Computing…"
        self._build()
        if runs is not None:
            runs.run_finished.connect(self._run_finished)
            runs.cleared.connect(self.clear)
            latest = runs.latest_trained()
            if latest is not None:
                self.set_run(latest)
        self._update_enabled()

    # Layout ---------------------------------------------------------------------

    def _build(self) -> None:
        self.sample_spin = QSpinBox()
        self.sample_spin.setToolTip("Index of the sample in the test split")
        self.truth_label = QLabel("")
        self.picked_combo = QComboBox()
        self.picked_combo.setToolTip("Test samples picked in the Evaluation panel")
        self.picked_combo.setVisible(False)
        self.method_combo = QComboBox()
        for method in self.methods.values():
            self.method_combo.addItem(method.title, method.name)
        self.node_combo = QComboBox()
        self.node_combo.setToolTip("The convolution node whose output Grad-CAM weighs")
        # Wide enough for "(last convolution)" whatever it holds when first shown (nothing)
        self.node_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.node_combo.setMinimumContentsLength(len(LAST_CONVOLUTION))
        self.load_button = QPushButton("Load sample…")
        self.load_button.setToolTip("Explain a sample of your own: an image, a CSV row or a .npy")
        self.loaded_path: Path | None = None
        self.text_input = QLineEdit()
        self.text_input.setPlaceholderText("Your text… (Enter explains it)")
        self.text_input.setToolTip("Explain a text of your own: type it and press Enter")
        self.text_input.setMinimumWidth(220)
        self.text_input.setVisible(False)  # only for a model that reads text
        self.typed_text: str | None = None
        self.explain_button = QPushButton("Explain")
        self.save_button = QPushButton("Save PNG…")
        self.per_class_spin = QSpinBox()
        self.per_class_spin.setRange(1, 100)
        self.per_class_spin.setValue(3)
        self.per_class_spin.setSuffix(" per class")
        self.batch_button = QPushButton("Batch export…")
        self.health_button = QPushButton("Check health")
        self.health_button.setToolTip(
            "Dead ReLU units and gradient sizes per layer, on one validation batch"
        )
        controls = QHBoxLayout()
        for widget in (
            QLabel("Test sample"),
            self.sample_spin,
            self.picked_combo,
            self.truth_label,
            self.load_button,
            self.text_input,
            QLabel("Method"),
            self.method_combo,
            QLabel("Node"),
            self.node_combo,
            self.explain_button,
        ):
            controls.addWidget(widget)
        controls.addStretch(1)
        # What to do with explanations goes beside the status line: on the first row
        # they made it overflow 1280 pixels.
        more = QHBoxLayout()
        for widget in (
            self.save_button,
            self.per_class_spin,
            self.batch_button,
            self.health_button,
        ):
            more.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)

        self.status = QLabel("Train the graph first; then pick a test sample and a method.")
        self.status.setWordWrap(True)
        # Room for two lines whatever it says: a status that changes height moves the
        # plots below, and re-laying them out costs the GUI thread more than a frame.
        self.status.setFixedHeight(2 * self.status.fontMetrics().lineSpacing() + 4)

        self.prediction_box = QGroupBox("Prediction")
        self.prediction_layout = QVBoxLayout(self.prediction_box)
        self.prediction_text = QLabel("")
        self.prediction_layout.addWidget(self.prediction_text)
        self.prediction_plot = None  # pyqtgraph loads on the first drawing

        self.explanation_box = QGroupBox("Explanation")
        # The picture (or words, or bars) beside its controls and reading, so that it
        # gets the box's whole height: the panel is short on a 720-pixel screen.
        explanation = QHBoxLayout(self.explanation_box)
        self.picture = FittedPicture()  # shrinks with a short panel, down to a minimum
        self.stack = QStackedWidget()
        self.stack.addWidget(self.picture)
        self.words_view = QTextBrowser()  # a text's words, shaded by their scores
        self.words_view.setOpenLinks(False)
        self.words_view.setMinimumHeight(40)  # a few lines; the panel is short at 720 px
        self.stack.addWidget(self.words_view)
        self.bars_plot = None
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setToolTip("Opacity of the heatmap over the image")
        self.reading = QLabel("")
        self.reading.setWordWrap(True)
        # beside the words view, which expands and would squeeze it to a word per line
        self.reading.setMinimumWidth(200)
        explanation.addWidget(self.stack, 1)
        side = QVBoxLayout()
        opacity_row = QHBoxLayout()
        self.opacity_label = QLabel("Heatmap opacity")
        opacity_row.addWidget(self.opacity_label)
        opacity_row.addWidget(self.opacity_slider, 1)
        side.addLayout(opacity_row)
        side.addWidget(self.reading)
        side.addStretch(1)
        explanation.addLayout(side, 1)

        self.inside_box = QGroupBox("Inside the network")
        inside = QVBoxLayout(self.inside_box)
        self.node_picture = FittedPicture(NODE_HINT)
        self.node_picture.setWordWrap(True)
        self.node_stats = QLabel("")
        self.health_text = QLabel("")
        self.health_text.setWordWrap(True)
        self.health_text.hide()  # until a health check says something
        inside.addWidget(self.node_picture, 1)
        inside.addWidget(self.node_stats)
        inside.addWidget(self.health_text)

        splitter = QSplitter()
        for box in (self.prediction_box, self.explanation_box, self.inside_box):
            splitter.addWidget(box)
        splitter.setSizes([150, 720, 380])  # the explanation and its reading the most
        # Narrow margins: every pixel of height goes to the pictures at 1280x720.
        for box_layout in (self.prediction_layout, explanation, inside):
            box_layout.setContentsMargins(4, 2, 4, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        more.insertWidget(0, self.status, 1)
        layout.addLayout(controls)
        layout.addLayout(more)
        layout.addWidget(splitter, 1)

        self.explain_button.clicked.connect(self.explain)
        self.load_button.clicked.connect(self._ask_load)
        self.text_input.returnPressed.connect(lambda: self.explain_text(self.text_input.text()))
        self.health_button.clicked.connect(self.check_health)
        self.method_combo.currentIndexChanged.connect(self._method_changed)
        self.sample_spin.valueChanged.connect(self._sample_changed)
        self.picked_combo.activated.connect(self._picked_chosen)
        self.opacity_slider.valueChanged.connect(self._redraw_picture)
        self.save_button.clicked.connect(self._ask_save)
        self.batch_button.clicked.connect(self._ask_batch)
        self._method_changed()
        self._show_opacity(False)  # until a run on pictures

    # The run to explain ---------------------------------------------------------

    def _run_finished(self, run: TrainingRun) -> None:
        if run.succeeded:
            self.set_run(run)

    def clear(self) -> None:
        """Shows nothing (the document changed: its runs are gone)."""
        self.run = self.result = self.loaded_path = self.typed_text = None
        self._pending = None
        self.text_input.setVisible(False)
        self.picked_combo.clear()
        self.picked_combo.setVisible(False)
        self._clear_shown()
        self._show_opacity(False)
        self.status.setText("Train the graph first; then pick a test sample and a method.")
        self._update_enabled()

    def _clear_shown(self) -> None:
        """Clears the explanation and outputs shown: they were of another model."""
        self.result = None
        self.words_view.clear()
        self.picture.clear()
        if self.bars_plot is not None:
            self.bars_plot.clear()
        self.explanation_box.setTitle("Explanation")
        self.node_picture.setText(NODE_HINT)
        self.node_stats.setText("")
        self.health_text.setText("")
        self.health_text.hide()
        self.prediction_text.setText("")
        if self.prediction_plot is not None:
            self.prediction_plot.clear()

    def set_run(self, run: TrainingRun) -> None:
        """Explains `run` from now on (its graph snapshot, dataset and weights)."""
        self.run = run
        self._clear_shown()
        self._graph_yaml = None
        self.picked_combo.clear()
        self.picked_combo.setVisible(False)
        dataset = run.dataset
        self.sample_spin.setRange(0, max(len(dataset.x_test) - 1, 0) if dataset else 0)
        self.text_input.setVisible(self._reads_text())
        self._offer_methods(run)
        self._method_changed()  # the reading line for text or for numbers
        # Before its first explanation: a heatmap is drawn over pictures, not texts or rows.
        pictures = dataset is not None and not dataset.text and len(dataset.input_shape) > 1
        self._show_opacity(pictures)
        self.node_combo.clear()
        self.node_combo.addItem(LAST_CONVOLUTION, None)
        for node in run.graph.nodes:
            if node.type != "Input":
                self.node_combo.addItem(f"{node.name} ({node.type})", node.id)
        self._sample_changed()
        self.status.setText(
            f"Run {run.number} is ready: pick a test sample and a method, then Explain."
        )
        self._update_enabled()

    def _offer_methods(self, run: TrainingRun) -> None:
        """Greys out the methods this run's model would only refuse, saying why in a tip.

        A chosen method that is greyed out gives way to the first one that works.
        """
        has_convolution = any("Conv" in node.type for node in run.graph.nodes)
        items = self.method_combo.model()
        for index in range(self.method_combo.count()):
            method = self.methods[self.method_combo.itemData(index)]
            refusal = method.refusal_for(self._reads_text(), has_convolution)
            items.item(index).setEnabled(refusal is None)
            self.method_combo.setItemData(index, refusal, Qt.ItemDataRole.ToolTipRole)
        if not items.item(self.method_combo.currentIndex()).isEnabled():
            usable = [i for i in range(items.rowCount()) if items.item(i).isEnabled()]
            self.method_combo.setCurrentIndex(usable[0])

    def pick_samples(self, run: TrainingRun, indices: list[int], title: str) -> None:
        """Offers `indices`, test samples picked in the Evaluation panel; chooses the first.

        Args:
            run: The run whose test split the indices point into.
            indices: The picked test-split indices (at least one).
            title: What they are, e.g. "3 test samples of class 5 predicted as 8".
        """
        if not run.succeeded or not indices:
            return
        if run is not self.run:
            self.set_run(run)
        self.picked_combo.clear()
        for index in indices:
            self.picked_combo.addItem(f"#{index}", index)
        self.picked_combo.setToolTip(title)
        self.picked_combo.setVisible(len(indices) > 1)
        self.sample_spin.setValue(indices[0])
        self._sample_changed()  # also when the spin box already showed it
        then = "choose one, then Explain" if len(indices) > 1 else "Explain shows why"
        self.status.setText(f"Picked {title}: {then}.")

    def _picked_chosen(self, position: int) -> None:
        self.sample_spin.setValue(self.picked_combo.itemData(position))

    def _update_enabled(self) -> None:
        ready = self.run is not None and self.run.succeeded
        for widget in (
            self.explain_button,
            self.batch_button,
            self.sample_spin,
            self.load_button,
            self.health_button,
            self.text_input,
        ):
            widget.setEnabled(ready)
        self.save_button.setEnabled(self.result is not None)

    def _method_changed(self) -> None:
        method = self.methods[self.method_combo.currentData()]
        text_reading = method.text_reading if self._reads_text() else None
        self.reading.setText(text_reading or method.reading)
        self.sample_spin.setEnabled(self.run is not None and method.scope == "sample")
        self.node_combo.setEnabled(method.needs_conv)  # only Grad-CAM looks at a chosen node
        shown = self.result.explanation.method if self.result is not None else None
        if shown is not None and shown != method.name and self._adapter is None:
            # the reading now describes the chosen method, not the explanation shown
            self.status.setText(
                f"Showing {self.methods[shown].title}; press Explain to see {method.title}."
            )

    def _show_opacity(self, visible: bool) -> None:
        for widget in (self.opacity_label, self.opacity_slider):  # a picture's heatmap only
            widget.setVisible(visible)

    def _reads_text(self) -> bool:
        """True when the run's model reads text (its samples are strings)."""
        dataset = self.run.dataset if self.run is not None else None
        return dataset is not None and dataset.text

    def _sample_changed(self) -> None:
        import numpy as np

        self.loaded_path = self.typed_text = None  # browsing the test split again
        if self.run is None or self.run.dataset is None:
            self.truth_label.setText("")
            return
        dataset = self.run.dataset
        label = dataset.y_test[self.sample_spin.value()]
        if dataset.class_names:
            self.truth_label.setText(f"true: {dataset.class_names[int(label)]}")
        else:
            self.truth_label.setText(f"true: {np.ravel(label)[0]:.4g}")

    # Running --------------------------------------------------------------------

    def _request(self, options: dict):
        from runtime.runs.base import RunRequest

        options = {"weights": self.run.trained_weights(), **options}
        base_dir = self.base_dir() if callable(self.base_dir) else self.base_dir
        if self._graph_yaml is None:  # once per run: its graph is a snapshot
            self._graph_yaml = graph_to_yaml(self.run.graph)
        return RunRequest("explain", self._graph_yaml, base_dir, options)

    def _start(self, options: dict, on_result) -> None:
        if self._adapter is not None:
            self._pending = (options, on_result)  # the newest wish wins; older ones drop
            return
        adapter = RunAdapter(self._request(options), heavy=self.heavy, parent=self)
        adapter.finished.connect(lambda outcome: self._finished(adapter, outcome, on_result))
        self._adapter = adapter
        # A full collection on the GUI thread can take longer than a frame; an
        # explanation takes seconds, so garbage waits for it (gui.collection).
        collection.hold()
        if self.status.text() != COMPUTING:
            self._status_before = self.status.text()
        self.status.setText(COMPUTING)
        adapter.start()

    def _finished(self, adapter: RunAdapter, outcome, on_result) -> None:
        from runtime.events import RunFailed

        self._adapter = None
        adapter.deleteLater()
        collection.release()
        if isinstance(outcome, RunFailed):
            self.status.setText(outcome.message)
            self.status.setToolTip(outcome.message)  # whole, should it outgrow two lines
            self.status.setStyleSheet(f"color: {ERROR_COLOR.name()};")
            self.failed.emit(outcome.message)
        else:
            self.status.setStyleSheet("")
            self.status.setToolTip("")
            on_result(outcome.result)
            if self.status.text() == COMPUTING:  # a node's output or a health check
                self.status.setText(self._status_before)
        if self._pending is not None:
            options, callback = self._pending
            self._pending = None
            self._start(options, callback)

    def check_health(self) -> None:
        """Checks every layer's training health (sampled: one validation batch) and lists badges."""
        if self.run is None:
            return
        self._start({**self._sample_option(), "health": True}, self._show_health)

    def _show_health(self, result) -> None:
        names = {node.id: node.name for node in self.run.graph.nodes}
        if result.badges:
            lines = [
                f"⚠ {names.get(b.node, b.node)}: {b.problem} Try: {b.fix}" for b in result.badges
            ]
        else:
            lines = [
                "Every layer looks healthy: no dead ReLU units, no vanishing or exploding "
                "gradients on a validation batch."
            ]
        self.health_text.setText("\n".join(lines))
        self.health_text.show()
        self.health_checked.emit(result)

    def _sample_option(self) -> dict:
        if self.typed_text is not None:
            return {"input": self.typed_text}
        if self.loaded_path is not None:
            return {"input_path": str(self.loaded_path)}
        return {"sample": self.sample_spin.value()}

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Load a sample",
            "",
            "Samples (*.png *.jpg *.jpeg *.bmp *.gif *.csv *.txt *.npy);;All files (*)",
        )
        if path:
            self.load_sample(Path(path))

    def load_sample(self, path: Path) -> None:
        """Explains the sample in `path` (an image, CSV row or .npy; the run preprocesses it)."""
        self.loaded_path, self.typed_text = path, None
        self.truth_label.setText(f"loaded: {path.name}")
        self.explain()

    def explain_text(self, text: str) -> None:
        """Explains `text`, typed by the user, with the chosen method (a text model only)."""
        self.typed_text, self.loaded_path = text, None
        self.truth_label.setText("your text")
        self.explain()

    def explain(self) -> None:
        """Explains the chosen sample with the chosen method (and the selected node's output)."""
        if self.run is None:
            return
        method = self.method_combo.currentData()
        options: dict = {"method": method, "node": self.node_combo.currentData()}
        if self.methods[method].scope == "sample":
            options.update(self._sample_option())
            if self.node_id is not None:
                options["node_outputs"] = [self.node_id]
        self._start(options, self._show_result)

    def show_node(self, node_id: str | None) -> None:
        """Shows `node_id`'s output for the chosen sample (follows the canvas selection).

        Until a sample has been explained the node is only remembered, so
        selecting nodes while editing starts no runs.
        """
        self.node_id = node_id
        if node_id is None or self.run is None or self.result is None:
            return
        options = {**self._sample_option(), "node_outputs": [node_id]}
        self._start(options, self._show_node_outputs)

    # Drawing --------------------------------------------------------------------

    def _show_result(self, result) -> None:
        self.result = result
        explanation = result.explanation
        self._draw_prediction(result)
        self._redraw_picture()
        done = f"{self.methods[explanation.method].title}"
        self.explanation_box.setTitle(f"Explanation: {done}")
        if explanation.node:
            done += f" on {explanation.node}"
        if explanation.target >= 0 and result.class_names:
            done += f", explaining class {result.class_names[explanation.target]}"
        self.status.setText(done + ".")
        self._show_node_outputs(result)
        self._update_enabled()
        self.explained.emit(result)

    def _draw_prediction(self, result) -> None:
        import numpy as np

        explanation = result.explanation
        if explanation.sample is None:
            self.prediction_text.setText(
                f"Test score without shuffling: {explanation.prediction[0]:.4f}"
            )
            return
        values = np.asarray(explanation.prediction, "float64")
        names = result.class_names
        if names and len(values) == len(names):
            best = explanation.predicted_class
            self.prediction_text.setText(f"{names[best]} ({values[best]:.1%})")
            self._prediction_bars(values, names)
        else:
            self.prediction_text.setText("value: " + ", ".join(f"{v:.4g}" for v in values))

    def _prediction_bars(self, values: np.ndarray, names: tuple[str, ...]) -> None:
        import numpy as np
        import pyqtgraph as pg

        if self.prediction_plot is None:
            self.prediction_plot = pg.PlotWidget(background="w")  # as the app's other charts
            self.prediction_plot.setMouseEnabled(False, False)
            self.prediction_plot.setYRange(0, 1)
            self.prediction_layout.addWidget(self.prediction_plot, 1)
        plot = self.prediction_plot
        plot.clear()
        bars = pg.BarGraphItem(
            x=np.arange(len(values)), height=values, width=0.7, brush=PREDICTION_COLOR
        )
        plot.addItem(bars)
        plot.getAxis("bottom").setTicks([list(enumerate(names))])

    def _redraw_picture(self) -> None:
        from runtime.explain.render import explanation_picture

        if self.result is None or self.result.explanation is None:
            return
        result, explanation = self.result, self.result.explanation
        flat = explanation.heatmap.ndim == 1
        bars = flat and len(result.feature_names) == explanation.heatmap.size
        self._show_opacity(explanation.words is None and not bars)
        if explanation.words is not None:
            self._show_words(explanation)
            return
        if bars:
            self._feature_bars(explanation.heatmap, result.feature_names)
            return
        opacity = self.opacity_slider.value() / 100
        picture = explanation_picture(explanation, result.images, opacity)
        self.picture.set_picture(pixmap_of(picture))
        self.stack.setCurrentWidget(self.picture)

    def _show_words(self, explanation) -> None:
        from runtime.explain.render import words_html

        self.words_view.setHtml(words_html(explanation.words, explanation.attributions))
        self.stack.setCurrentWidget(self.words_view)

    def _feature_bars(self, values: np.ndarray, names: tuple[str, ...]) -> None:
        import numpy as np
        import pyqtgraph as pg

        if self.bars_plot is None:
            self.bars_plot = pg.PlotWidget(background="w")
            self.bars_plot.installEventFilter(self)  # resized: as many bars as names fit
            self.bars_plot.setMouseEnabled(False, False)
            self.stack.addWidget(self.bars_plot)
        room = self.bars_plot.getPlotItem().vb.height() or self.bars_plot.height()
        shown_count = min(TOP_FEATURES, max(3, int(room) // BAR_PIXELS))
        strongest = np.argsort(-np.abs(values))[:shown_count][::-1]
        shown = values[strongest]
        brushes = [pg.mkBrush("#b2182b" if v >= 0 else "#2166ac") for v in shown]
        plot = self.bars_plot
        plot.clear()
        rows = np.arange(len(shown))
        plot.addItem(pg.BarGraphItem(x0=0, y=rows, width=shown, height=0.7, brushes=brushes))
        plot.getAxis("left").setTicks([[(i, names[f]) for i, f in enumerate(strongest)]])
        self.stack.setCurrentWidget(self.bars_plot)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.bars_plot
            and event.type() == QEvent.Type.Resize
            and self.stack.currentWidget() is self.bars_plot
        ):
            # once the plot has laid itself out at its new size
            QTimer.singleShot(0, self, self._redraw_picture)
        return super().eventFilter(watched, event)

    def _show_node_outputs(self, result) -> None:
        from runtime.explain.render import node_picture

        if self.node_id is None or self.node_id not in result.node_outputs:
            return
        output = result.node_outputs[self.node_id]
        self.node_picture.set_picture(pixmap_of(node_picture(output.values)))
        self.node_stats.setText(
            f"{output.node}: shape {tuple(output.values.shape)}  min {output.minimum:.3g}  "
            f"mean {output.mean:.3g}  max {output.maximum:.3g}"
        )
        self.node_shown.emit(output)

    # Saving ---------------------------------------------------------------------

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save explanation", "", "PNG image (*.png)")
        if path:
            self.save_png(Path(path))

    def save_png(self, path: Path) -> None:
        """Writes the current explanation as drawn (heatmap at the chosen opacity) to `path`."""
        from graph.atomic import write_bytes
        from runtime.explain.png import png_bytes
        from runtime.explain.render import explanation_picture

        if self.result is None or self.result.explanation is None:
            return
        picture = explanation_picture(
            self.result.explanation, self.result.images, self.opacity_slider.value() / 100
        )
        try:
            write_bytes(path, png_bytes(picture))
        except OSError as error:
            self.status.setText(f"{path}: cannot save ({error.strerror or error})")
            return
        self.status.setText(f"Saved {path}")

    def _ask_batch(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export explanations to folder")
        if folder:
            self.export_batch(Path(folder), self.per_class_spin.value())

    def export_batch(self, folder: Path, per_class: int) -> None:
        """Explains `per_class` test samples of each class; writes PNGs and attributions.csv."""
        from runtime.explain.export import samples_per_class

        method = self.method_combo.currentData()
        if self.run is None or self.methods[method].scope != "sample":
            self.status.setText("Batch export explains samples: choose a per-sample method.")
            return
        dataset = self.run.dataset
        if dataset.class_names:
            indices = samples_per_class(dataset.y_test, per_class)
        else:
            indices = list(range(min(per_class, len(dataset.x_test))))
        options = {"method": method, "node": self.node_combo.currentData(), "batch": indices}
        self._start(options, lambda result: self._write_batch(result, folder))

    def _write_batch(self, result, folder: Path) -> None:
        import numpy as np

        from graph.atomic import write_bytes, write_text
        from runtime.explain.export import batch_csv
        from runtime.explain.png import png_bytes
        from runtime.explain.render import explanation_picture

        names = result.class_names
        y_test = self.run.dataset.y_test
        rows = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for index, explanation in result.batch:
                true = names[int(y_test[index])] if names else f"{np.ravel(y_test[index])[0]:.4g}"
                explained = names[explanation.target] if names else "value"
                picture = explanation_picture(
                    explanation, result.images, self.opacity_slider.value() / 100
                )
                write_bytes(folder / f"sample_{index}_{true}.png", png_bytes(picture))
                rows.append((index, true, explained, explanation))
            write_text(folder / "attributions.csv", batch_csv(rows, result.feature_names))
        except OSError as error:
            self.status.setText(f"{folder}: cannot write the export ({error.strerror or error})")
            return
        self.status.setText(f"Exported {len(rows)} explanations to {folder}")
        self.exported.emit(folder)


def _connect(context, panel: ExplainPanel) -> None:
    def selection_changed(selected: list[str]) -> None:
        if len(selected) == 1 and context.docks["explain"].isVisible():
            panel.show_node(selected[0])

    def health_checked(result) -> None:
        from gui.panels.health_marks import node_health

        heading = f"Run {panel.run.number}, checked after training"
        context.window.scene.show_health(node_health(heading, result.health, result.badges))

    def samples_picked(run, indices: list[int], title: str) -> None:
        panel.pick_samples(run, indices, title)
        context.show("explain")

    context.session.selection_changed.connect(selection_changed)
    panel.health_checked.connect(health_checked)
    context.when_built(
        "evaluation", lambda evaluation: evaluation.samples_picked.connect(samples_picked)
    )


def _explain(context, panel: ExplainPanel) -> None:
    context.show("explain")
    panel.explain()


PANEL = PanelSpec(
    name="explain",
    title="Explain",
    order=45,
    create=lambda context: ExplainPanel(context.runs, lambda: context.base_dir),
    menu=(MenuEntry("Ex&plain Prediction", _explain),),
    connect=_connect,
)


def _preview(name: str = "cnn_digits") -> int:
    """Trains an example briefly and opens the panel on it.

    `python -m gui.panels.explain_panel` explains the digits CNN;
    `python -m gui.panels.explain_panel text_sentiment` the text example, word by word.
    """
    from gui.panels.preview import EXAMPLES, preview, trained_runs

    def make() -> ExplainPanel:
        text = name == "text_sentiment"
        runs, run = trained_runs(name, epochs=4 if text else 3)
        panel = ExplainPanel(runs, EXAMPLES, heavy=False)
        runs.finish(run)
        if text:
            panel.text_input.setText("i would not call the ending <b>boring</b>, what a film!")
        else:
            panel.show_node("n2")
        panel.explain()
        return panel

    return preview(make, 1200, 500)


if __name__ == "__main__":
    import sys

    raise SystemExit(_preview(*sys.argv[1:2]))
