"""The Deploy panel: compress a trained model and write the deployment report, one click each.

One table, one row per variant (TFLite dynamic-range, full integer, float16,
Keras int8, magnitude pruning), each with its own Run button; the accuracy
change is highlighted when it exceeds 1 point. The work is the `compress` and
`report` run kinds, executed through gui.run_adapter like every run; this
widget only builds their requests and draws their results. "Check membership
leak" sends the `membership` kind and shows the attack's AUC with its meaning.
Every run takes the chosen model file, else the session's newest trained run;
only when there is neither does it train the graph first, and says so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.cost import format_bytes
from graph.files import graph_to_yaml
from graph.settings import PRIVACY_MEASURES
from gui.document import EditorSession
from gui.panels.registry import MenuEntry, PanelSpec
from gui.run_adapter import RunAdapter
from gui.theme import ERROR_COLOR

VARIANTS = {
    "tflite_dynamic": "TFLite dynamic-range",
    "tflite_int8": "TFLite full integer (int8)",
    "tflite_float16": "TFLite float16",
    "keras_int8": "Keras int8",
    "pruned": "Magnitude pruning",
}
COLUMNS = ("", "variant", "test metric", "change", "size", "p50 ms", "p95 ms", "notes")
LOSS_COLOR = QColor("#fce8e6")
MEMBERSHIP_TITLE, MEMBERSHIP_EXPLANATION = PRIVACY_MEASURES["membership_auc"]


class DeployPanel(QWidget):
    """Compresses the session's trained model and writes its deployment report.

    Args:
        session: The editing session (its graph, and its file's folder for outputs).
        output_dir: Where variants go; beside the graph file (or in the working
            folder) when None.
        runs: The session's gui.panels.runs.RunHistory: without a model file,
            every run takes its newest trained model (and trains the graph
            first only when there is none).
        heavy: Where runs execute: None as each kind declares (the training
            process), False on the runtime thread (tests).
    """

    def __init__(
        self,
        session: EditorSession,
        output_dir: Path | None = None,
        runs=None,
        heavy: bool | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self._output_dir = output_dir
        self.runs = runs
        self.heavy = heavy
        self.job: RunAdapter | None = None
        self.compression: dict | None = None
        self.report_path: Path | None = None
        # (model file or None for a run's weights, AUC) of the last membership check
        self.membership: tuple[str | None, float] | None = None
        self._membership_model: str | None = None

        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("empty: the newest trained run, else train first")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model)
        self.sparsity_spin = QDoubleSpinBox()
        self.sparsity_spin.setRange(0.05, 0.95)
        self.sparsity_spin.setSingleStep(0.05)
        self.sparsity_spin.setValue(0.5)
        self.sparsity_spin.setToolTip("Share of weights pruning sets to zero")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 100)
        self.epochs_spin.setValue(2)
        self.epochs_spin.setToolTip("Epochs of fine-tuning while the pruning ramps up")
        # One row, not a form of three: at 1280x720 the table then keeps its room.
        settings = QHBoxLayout()
        for label, widget, stretch in (
            ("trained model", self.model_edit, 1),
            (None, browse, 0),
            ("pruning sparsity", self.sparsity_spin, 0),
            ("fine-tune epochs", self.epochs_spin, 0),
        ):
            if label is not None:
                settings.addWidget(QLabel(label))
            settings.addWidget(widget, stretch)

        self.table = QTableWidget(len(VARIANTS) + 1, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.run_buttons: dict[str, QPushButton] = {}
        self._row_of = {"float": 0}
        self.table.setItem(0, 1, QTableWidgetItem("Float32 Keras model"))
        for row, (key, title) in enumerate(VARIANTS.items(), start=1):
            button = QPushButton("Run")
            button.clicked.connect(lambda _checked=False, key=key: self.compress([key]))
            self.run_buttons[key] = button
            self.table.setCellWidget(row, 0, button)
            self.table.setItem(row, 1, QTableWidgetItem(title))
            self._row_of[key] = row

        self.all_button = QPushButton("Run all")
        self.all_button.clicked.connect(lambda: self.compress(list(VARIANTS)))
        self.report_button = QPushButton("Write report…")
        self.report_button.clicked.connect(self._choose_report_path)
        self.membership_button = QPushButton("Check membership leak")
        self.membership_button.setToolTip(
            "Attack the trained model: can its loss tell training samples from unseen ones?"
        )
        self.membership_button.clicked.connect(self.check_membership)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for button in (
            self.all_button,
            self.report_button,
            self.membership_button,
            self.stop_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel("Pick variants to measure against the float model.")
        self.status.setWordWrap(True)
        # Shown with its figure: before, its explanation would take the table's room
        # (it stays as the label's tooltip, and the button's says what the check does).
        self.membership_label = QLabel()
        self.membership_label.setToolTip(f"{MEMBERSHIP_TITLE}: {MEMBERSHIP_EXPLANATION}")
        self.membership_label.setWordWrap(True)
        self.membership_label.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.error_label.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.membership_label)
        layout.addWidget(self.error_label)

    # Actions ---------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.job is not None

    def output_dir(self) -> Path:
        """Where variants go: as given, else beside the graph file, else the working folder."""
        if self._output_dir is not None:
            return self._output_dir
        base = self.session.path.parent if self.session.path else Path.cwd()
        stem = self.session.path.stem if self.session.path else "model"
        return base / f"{stem}_compressed"

    def compress(self, variants: list[str]) -> bool:
        """Starts a compression run for `variants`; returns False (with a message) if it cannot."""
        options = {
            "output_dir": str(self.output_dir()),
            "variants": variants,
            "sparsity": self.sparsity_spin.value(),
            "fine_tune_epochs": self.epochs_spin.value(),
        }
        return self._start_on_model("compress", options, f"Compressing: {', '.join(variants)}")

    def write_report(self, path: Path) -> bool:
        """Starts the report run writing `path`, reusing the table's compression results."""
        options: dict = {"output_path": str(path), "formats": ["keras", "tflite", "onnx"]}
        if self.compression is not None:
            options["compression"] = self.compression
        if self.membership is not None and self.membership[0] == self._model_key():
            options["privacy"] = {"membership_auc": self.membership[1]}
        self.report_path = path
        return self._start_on_model("report", options, f"Writing the report to {path}")

    def check_membership(self) -> bool:
        """Starts the membership-inference attack on the chosen model file, else the newest
        trained run; returns False (with a message) if there is neither."""
        if not self.model_edit.text().strip() and self._newest_run() is None:
            self._show_error(
                "No trained model to check: train the graph first, or choose a model file"
            )
            return False
        self._membership_model = self._model_key()
        return self._start_on_model("membership", {}, "Attacking")

    def _newest_run(self):
        return self.runs.latest_trained() if self.runs is not None else None

    def _model_key(self) -> str | None:
        """Which model a run takes: the model file's path, else None for the newest trained run."""
        return self.model_edit.text().strip() or None

    def _start_on_model(self, kind: str, options: dict, action: str) -> bool:
        """Starts `kind` on the model file, else the newest trained run, else after training."""
        if self._model_key() is not None:
            return self._start(kind, options, f"{action}: the model file…")
        run = self._newest_run()
        if run is None:
            text = f"No trained run yet: training the graph first. {action}…"
            return self._start(kind, options, text)
        options["weights"] = run.trained_weights()
        return self._start(kind, options, f"{action}: the model of run {run.number}…", run.graph)

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self.status.setText("Stopping after the current step…")

    def _start(self, kind: str, options: dict, text: str, graph=None) -> bool:
        """Starts `kind` on `graph` (a trained run's snapshot), else on the session's graph."""
        if self.is_running:
            return False
        if graph is None:
            refusal = self.session.build_refusal()
            if refusal:
                self._show_error(refusal)
                return False
            graph = self.session.graph
            if self.model_edit.text().strip():
                options["model_path"] = self.model_edit.text().strip()
        self._show_error("")
        from runtime.runs.base import RunRequest

        base_dir = self.session.path.parent if self.session.path else None
        request = RunRequest(kind, graph_to_yaml(graph), base_dir, options)
        self.job = RunAdapter(request, heavy=self.heavy, parent=self)
        self.job.event.connect(self._on_event)
        self.job.finished.connect(self._on_finished)
        self._set_running(True)
        self.status.setText(text)
        self.job.start()
        return True

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Trained model", "", "Keras model (*.keras)")
        if path:
            self.model_edit.setText(path)

    def _choose_report_path(self) -> None:
        default = self.output_dir().with_name(f"{self.output_dir().stem}_report.html")
        path, _ = QFileDialog.getSaveFileName(self, "Report", str(default), "HTML (*.html)")
        if path:
            self.write_report(Path(path))

    # Run events ------------------------------------------------------------------------

    def _on_event(self, event) -> None:
        if type(event).__name__ == "Progress" and event.text:
            self.status.setText(event.text)
        elif type(event).__name__ == "EpochEnd":
            self.status.setText(f"Training first: epoch {event.epoch}/{event.epochs}")

    def _on_finished(self, outcome) -> None:
        from runtime.events import RunFinished

        kind = self.job.request.kind
        self.job.deleteLater()
        self.job = None
        self._set_running(False)
        if not isinstance(outcome, RunFinished):
            self._show_error(outcome.message)
            self.status.setText("Nothing was written." if kind == "report" else "Not measured.")
            return
        if kind == "report":
            self.status.setText(f"Report written: {outcome.result['path']}")
        elif kind == "membership":
            self.show_membership(outcome.result)
        else:
            self.show_compression(outcome.result)

    def show_membership(self, report) -> None:
        """Draws a membership result (runtime.runs.kinds.membership.MembershipReport)."""
        self.membership = (self._membership_model, report.auc)
        self.membership_label.setText(
            f"{MEMBERSHIP_TITLE} {report.auc:.3f} ({report.samples:,} training and as many "
            f"unseen samples): {report.explanation}"
        )
        self.membership_label.show()
        self.status.setText("Membership inference measured.")

    def show_compression(self, result: dict) -> None:
        """Draws a compression result (CompressionReport.to_dict()) into the table."""
        previous = {v["name"]: v for v in (self.compression or {}).get("variants", [])}
        previous.update({v["name"]: v for v in result["variants"]})
        self.compression = {"variants": list(previous.values()), "failures": result["failures"]}
        for variant in result["variants"]:
            self._fill_row(self._row_of[variant["name"]], variant)
        for name, reason in result["failures"].items():
            row = self._row_of[name]
            for column in range(2, len(COLUMNS)):
                self.table.setItem(row, column, QTableWidgetItem(""))
            item = QTableWidgetItem(f"failed: {reason}")
            item.setForeground(ERROR_COLOR)
            self.table.setItem(row, 7, item)
        done = len(result["variants"]) - 1
        self.status.setText(
            f"Measured {done} variant{'s' * (done != 1)} against the float model"
            + (f"; {len(result['failures'])} failed" if result["failures"] else "")
            + "."
        )

    def _fill_row(self, row: int, variant: dict) -> None:
        if variant["name"] == "float":
            change = "-"
        elif variant["metric_name"] == "accuracy":
            change = f"{100 * variant['metric_change']:+.2f} pt"
        else:
            change = f"{variant['metric_change']:+.4g}"
        cells = (
            f"{variant['metric_name']} {variant['metric']:.4f}",
            change,
            format_bytes(variant["size_bytes"]),
            f"{variant['p50_ms']:.3f}",
            f"{variant['p95_ms']:.3f}",
            variant.get("note", ""),
        )
        for column, text in enumerate(cells, start=2):
            item = QTableWidgetItem(text)
            if column in (4, 5, 6):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)
        if variant.get("worse_than_tolerance"):
            self.table.item(row, 3).setBackground(LOSS_COLOR)
            self.table.item(row, 3).setToolTip("Lost more than 1 accuracy point (1% more error)")

    def _set_running(self, running: bool) -> None:
        for button in (
            *self.run_buttons.values(),
            self.all_button,
            self.report_button,
            self.membership_button,
        ):
            button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))


PANEL = PanelSpec(
    name="deploy",
    title="Deploy",
    order=80,
    create=lambda context: DeployPanel(context.session, runs=context.runs),
    menu=(
        MenuEntry(
            "&Compress and Report…",
            lambda context, _panel: context.show("deploy"),
            separator_before=True,
        ),
    ),
)


def _preview() -> int:
    """Opens the panel alone on the default example."""
    from gui.panels.preview import example_session, preview

    return preview(lambda: DeployPanel(example_session()), 1000, 500)


if __name__ == "__main__":
    raise SystemExit(_preview())
