"""The tuning panel: search ranges and budget, live trials, best so far, apply the best.

Tuning is the "tune" run kind (runtime.runs.kinds.tune): Optuna trains its
trials in the training process over a snapshot of the graph, and the events
come back through the run adapter; the best settings are applied to the
edited graph as one undoable command. Trial 0 is the graph's own settings
(the baseline): applying a "best" trial that did not beat it asks first.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.files import graph_to_yaml
from graph.formatting import format_number
from graph.settings import OPTIMIZERS
from gui.document import EditorSession
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.settings_form import form_scroll
from gui.param_editors import FloatSpinBox, parse_numbers
from gui.run_adapter import RunAdapter
from gui.theme import ERROR_COLOR

STATE_TEXT = {"complete": "done", "pruned": "pruned", "fail": "failed", "running": "running…"}


def _range_row(low: float, high: float, enabled: bool, maximum: float) -> tuple:
    check = QCheckBox()
    check.setChecked(enabled)
    spins = []
    for value in (low, high):
        spin = FloatSpinBox()
        spin.setRange(0.0, maximum)
        spin.setValue(value)
        spins.append(spin)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(check)
    layout.addWidget(spins[0], 1)
    layout.addWidget(QLabel("to"))
    layout.addWidget(spins[1], 1)
    check.toggled.connect(spins[0].setEnabled)
    check.toggled.connect(spins[1].setEnabled)
    for spin in spins:
        spin.setEnabled(enabled)
    return row, check, spins[0], spins[1]


class TuningPanel(QWidget):
    """Searches hyperparameters of the session's graph and applies the best.

    Args:
        session: The editing session.
        runs: The document's gui.panels.runs.RunHistory, whose journal records
            tuning runs; None records nothing.
        prompts: Asks before applying a best trial that did not beat the
            baseline (gui.prompts.Prompts; the window's, or one of its own).

    Signals:
        tuning_ended: The runtime.events.TuningFinished (None when tuning failed).
    """

    tuning_ended = Signal(object)

    def __init__(self, session: EditorSession, runs=None, prompts=None) -> None:
        super().__init__()
        from gui.prompts import Prompts

        self.session = session
        self.runs = runs
        self.prompts = prompts or Prompts(self)
        self.job: RunAdapter | None = None
        self.best_params: dict = {}
        self.best_value: float | None = None
        self.best_curve: list[tuple[int, float]] = []
        self._rows: dict[int, int] = {}
        self._plot = None
        self._finished_event = None

        form = QFormLayout()
        self.lr_row, self.lr_check, self.lr_low, self.lr_high = _range_row(1e-4, 1e-2, True, 10.0)
        self.l2_row, self.l2_check, self.l2_low, self.l2_high = _range_row(1e-6, 1e-2, True, 1.0)
        self.dropout_row, self.dropout_check, self.dropout_low, self.dropout_high = _range_row(
            0.0, 0.5, True, 0.95
        )
        self.batch_check = QCheckBox()
        self.batch_check.setChecked(True)
        self.batch_edit = QLineEdit("16, 32, 64")
        batch_row = QWidget()
        batch_layout = QHBoxLayout(batch_row)
        batch_layout.setContentsMargins(0, 0, 0, 0)
        batch_layout.addWidget(self.batch_check)
        batch_layout.addWidget(self.batch_edit, 1)
        self.optimizer_checks = {}
        optimizer_row = QWidget()
        # A grid, not a row: six names do not fit the form's width.
        optimizer_layout = QGridLayout(optimizer_row)
        optimizer_layout.setContentsMargins(0, 0, 0, 0)
        for index, name in enumerate(OPTIMIZERS):
            check = QCheckBox(name)
            check.setChecked(name in ("adam", "rmsprop", "sgd"))
            self.optimizer_checks[name] = check
            optimizer_layout.addWidget(check, index // 3, index % 3)
        self.widths_check = QCheckBox("from half to double each hidden layer's width")
        self.widths_check.setChecked(True)
        self.trials_spin = QSpinBox()
        self.trials_spin.setRange(1, 1000)
        self.trials_spin.setValue(10)
        # A trial trains the graph's epochs; fewer only if the user asks (see _follow_epochs).
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setToolTip(
            "Each trial trains this many epochs: the training settings' epochs, or fewer"
        )
        epochs = session.graph.training["epochs"]
        self.epochs_spin.setRange(1, epochs)
        self.epochs_spin.setValue(epochs)
        session.edits_settled.connect(self._follow_epochs)
        session.graph_replaced.connect(self._follow_epochs)
        form.addRow("learning rate", self.lr_row)
        form.addRow("batch sizes", batch_row)
        form.addRow("optimizers", optimizer_row)
        form.addRow("L2 penalty", self.l2_row)
        form.addRow("dropout rate", self.dropout_row)
        form.addRow("layer widths", self.widths_check)
        form.addRow("trials", self.trials_spin)
        form.addRow("epochs per trial", self.epochs_spin)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.error_label.hide()
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.addLayout(form)
        settings_layout.addWidget(self.error_label)
        settings_layout.addStretch(1)
        scroll = form_scroll(settings, 400)

        self.start_button = QPushButton("Start tuning")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.apply_button = QPushButton("Apply best to graph")
        self.apply_button.setToolTip("Writes the best trial's settings into the graph (undoable)")
        self.apply_button.clicked.connect(self.apply_best)
        self.status = QLabel("Choose ranges and a trial budget, then start.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["trial", "state", "best val loss", "settings"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.chart_area = QWidget()
        QVBoxLayout(self.chart_area).setContentsMargins(0, 0, 0, 0)
        # Side by side: the chart gets the panel's height (short at 720 px).
        results = QSplitter(Qt.Orientation.Horizontal)
        results.setObjectName("tuning_results_splitter")
        results.addWidget(self.table)
        results.addWidget(self.chart_area)
        results.setSizes([500, 400])
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.apply_button):
            buttons.addWidget(button)
        buttons.addWidget(self.status, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(buttons)
        right_layout.addWidget(results, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 700])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._set_running(False)

    # Search space ----------------------------------------------------------------------

    def space_args(self) -> dict:
        """The SearchSpace keyword arguments the form describes.

        Raises:
            ValueError: naming the field with a bad value.
        """

        def ordered(name: str, low: float, high: float) -> tuple[float, float]:
            if not 0 < low <= high and not (name == "dropout rate" and 0 <= low <= high):
                raise ValueError(f"{name}: the range must run from low to high. Received: "
                                 f"{low:g} to {high:g}")  # fmt: skip
            return (low, high)

        args: dict = {"l1": None}
        args["learning_rate"] = (
            ordered("learning rate", self.lr_low.value(), self.lr_high.value())
            if self.lr_check.isChecked()
            else None
        )
        args["l2"] = (
            ordered("L2 penalty", self.l2_low.value(), self.l2_high.value())
            if self.l2_check.isChecked()
            else None
        )
        args["dropout"] = (
            ordered("dropout rate", self.dropout_low.value(), self.dropout_high.value())
            if self.dropout_check.isChecked()
            else None
        )
        args["batch_sizes"] = None
        if self.batch_check.isChecked():
            sizes = parse_numbers(self.batch_edit.text(), int)
            if not isinstance(sizes, tuple) or not sizes or min(sizes) < 1:
                raise ValueError(
                    f"batch sizes: whole numbers above 0, e.g. 16, 32, 64. "
                    f"Received: {self.batch_edit.text()!r}"
                )
            args["batch_sizes"] = sizes
        optimizers = tuple(n for n, check in self.optimizer_checks.items() if check.isChecked())
        args["optimizers"] = optimizers or None
        args["tune_widths"] = self.widths_check.isChecked()
        return args

    # Running ---------------------------------------------------------------------------

    @property
    def is_tuning(self) -> bool:
        return self.job is not None

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.apply_button.setEnabled(not running and bool(self.best_params))

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def start(self) -> bool:
        """Starts the search; returns False (with a message) when it cannot."""
        if self.is_tuning:
            return False
        try:
            space = self.space_args()
        except ValueError as error:
            self._show_error(str(error))
            return False
        refusal = self.session.build_refusal()
        if refusal:
            self._show_error(refusal)
            return False
        self._show_error("")
        self.best_params, self.best_value, self.best_curve = {}, None, []
        self._rows = {}
        self._finished_event = None
        self.table.setRowCount(0)
        self._draw_best()
        from runtime.runs.base import RunRequest

        base_dir = self.session.path.parent if self.session.path else None
        options = {
            "space": space,
            "trials": self.trials_spin.value(),
            "epochs": self.epochs_spin.value(),
        }
        request = RunRequest("tune", graph_to_yaml(self.session.graph), base_dir, options)
        journal = self.runs.journal if self.runs is not None else None
        self.job = RunAdapter(request, journal=journal, parent=self)
        self.job.event.connect(self._on_event)
        self.job.finished.connect(self._on_run_finished)
        self._set_running(True)
        self.status.setText("Loading data and starting the first trial…")
        self.job.start()
        return True

    def _follow_epochs(self) -> None:
        """Keeps epochs per trial within the graph's, and equal to them unless set lower."""
        epochs = self.session.graph.training["epochs"]
        spin = self.epochs_spin
        if spin.maximum() == epochs:
            return
        at_most = spin.value() == spin.maximum()
        spin.setMaximum(epochs)
        if at_most:
            spin.setValue(epochs)

    def stop(self) -> None:
        """Ends the running trial after its current batch and starts no other."""
        if self.job is not None:
            self.job.stop()
            self.status.setText("Stopping after the current batch…")

    def _on_event(self, event) -> None:
        kind = type(event).__name__
        if kind == "TrialStarted":
            self._set_row(event.number, "running", None, event.params)
            self.status.setText(
                "Trial 0: your current settings (the baseline)…"
                if event.number == 0
                else f"Trial {event.number} of {self.trials_spin.value() - 1}…"
            )
        elif kind == "EpochEnd":
            self.status.setText(
                f"Trial {len(self._rows) - 1} of {self.trials_spin.value() - 1}: "
                f"epoch {event.epoch}/{event.epochs}"
            )
        elif kind == "TrialFinished":
            self._set_row(event.number, event.state, event.value, event.params, event.message)
            if event.value is not None and (
                self.best_value is None or event.value < self.best_value
            ):
                self.best_value, self.best_params = event.value, dict(event.params)
            if self.best_value is not None:
                self.best_curve.append((event.number, self.best_value))
            self._draw_best()

    def _on_run_finished(self, outcome) -> None:
        from runtime.events import RunFinished

        self.job.deleteLater()  # its run only has plain Python left to do
        self.job = None
        self._set_running(False)
        if isinstance(outcome, RunFinished):
            event = self._finished_event = outcome.result
            if event.best_params:
                self.best_params, self.best_value = dict(event.best_params), event.best_value
        else:
            self._show_error(outcome.message)
        event = self._finished_event
        if event is not None and event.best_params:
            self.status.setText(
                f"{event.trials} trials; best validation loss {format_number(event.best_value)}: "
                f"{_params_text(event.best_params)}"
                + ("" if event.beats_baseline else f". {self._no_better_text(event)}")
            )
        elif event is not None:
            self.status.setText("No trial completed: nothing to apply.")
        else:
            self.status.setText("Tuning did not run.")
        self.tuning_ended.emit(event)

    def _set_row(self, number: int, state: str, value, params: dict, message: str = "") -> None:
        row = self._rows.get(number)
        if row is None:
            row = self._rows[number] = self.table.rowCount()
            self.table.insertRow(row)
        value_text = format_number(value) if value is not None and math.isfinite(value) else ""
        label = "0 (baseline)" if number == 0 else str(number)
        cells = [label, STATE_TEXT.get(state, state), value_text, _params_text(params)]
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if message:
                item.setToolTip(message)
            self.table.setItem(row, column, item)
        self.table.scrollToItem(self.table.item(row, 0))

    def _draw_best(self) -> None:
        if not self.best_curve and self._plot is None:
            return
        import pyqtgraph as pg

        if self._plot is None:
            widget = pg.PlotWidget(background="w", title="Best validation loss so far")
            widget.setLabel("bottom", "trial")
            widget.showGrid(x=True, y=True, alpha=0.25)
            self.chart_area.layout().addWidget(widget)
            self._plot = widget.plot(
                pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=6, symbolBrush="#1f77b4"
            )
        xs = [x for x, _ in self.best_curve]
        ys = [y for _, y in self.best_curve]
        self._plot.setData(xs, ys, stepMode=None)
        # Whole trials only: no tick at trial 1.5.
        step = max(1, math.ceil(max(xs, default=1) / 10))
        self._plot.getViewBox().parentItem().getAxis("bottom").setTickSpacing(step, step)

    # Applying --------------------------------------------------------------------------

    def apply_best(self) -> str | None:
        """Writes the best settings into the graph as one undo step; returns why not, if not."""
        if not self.best_params:
            return "No completed trial to apply."
        event = self._finished_event
        if (
            event is not None
            and not event.beats_baseline
            and not self.prompts.confirm(
                "Apply tuned settings?", f"{self._no_better_text(event)} Apply it anyway?"
            )
        ):
            return "Not applied: the best trial did not beat the baseline."
        from runtime.tuning import apply_best

        try:
            command = apply_best(self.session.graph, self.best_params)
        except ValueError as error:
            self._show_error(str(error))
            return str(error)
        refused = self.session.execute(command, "Apply tuned hyperparameters")
        if refused:
            self._show_error(refused)
        else:
            self.status.setText(f"Applied: {_params_text(self.best_params)} (Edit ▸ Undo reverts)")
        return refused

    @staticmethod
    def _no_better_text(event) -> str:
        return (
            "No tuned trial beat your current settings (trial 0, validation loss "
            f"{format_number(event.baseline_value)}): applying the best would not improve "
            "the model"
        )


def _params_text(params: dict) -> str:
    parts = []
    for name, value in params.items():
        parts.append(f"{name}={format_number(value, 3)}")
    return ", ".join(parts)


PANEL = PanelSpec(
    name="tuning",
    title="Tuning",
    order=40,
    create=lambda context: TuningPanel(context.session, context.runs, context.window.prompts),
    menu=(MenuEntry("T&une Hyperparameters…", lambda context, _panel: context.show("tuning")),),
)


def _preview() -> int:
    """Opens the panel alone on the default example."""
    from gui.panels.preview import example_session, preview

    return preview(lambda: TuningPanel(example_session()), 1100, 600)


if __name__ == "__main__":
    raise SystemExit(_preview())
