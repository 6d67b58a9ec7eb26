"""The export dialog: Python code (previewed) and deployable model files, measured.

Code comes from codegen (a `build_model()` module or a full training
script). Model files are the `deploy` run kind's work, started through
gui.run_adapter like every run: one format after another, each loaded back,
checked against the Keras model and timed; its size and latency appear in the
table as it completes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.cost import format_bytes
from graph.files import graph_to_yaml
from graph.formatting import format_latency
from gui.document import EditorSession
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.runs import RunHistory
from gui.run_adapter import RunAdapter
from gui.theme import ERROR_COLOR
from runtime.deploy_report import FORMATS

FORMAT_NAMES = {
    "keras": "Keras (.keras)",
    "saved_model": "TensorFlow SavedModel",
    "tflite": "TensorFlow Lite (.tflite)",
    "onnx": "ONNX (.onnx)",
}
COLUMNS = ("format", "size", "p50 latency", "p95 latency", "samples/s", "max |diff|", "path")


class ExportDialog(QDialog):
    """Exports the graph as code and its newest trained model as files.

    Args:
        session: The editing session (its graph is exported).
        runs: The session's runs; the newest trained model is exported (an
            untrained model built from the graph when there is none).
        parent: The parent window.
        heavy: Where the export runs: None as the kind declares (the training
            process), False on the runtime thread.

    Signals:
        exported: (format, runtime.deploy_report.DeployReport or error message) per format.
        all_done: The export run ended (every chosen format attempted, or it failed).
    """

    exported = Signal(str, object)
    all_done = Signal()

    def __init__(
        self,
        session: EditorSession,
        runs: RunHistory | None = None,
        parent: QWidget | None = None,
        heavy: bool | None = None,
    ) -> None:
        # Loaded when the dialog opens: the module itself is imported at
        # start-up for its Run-menu entry.
        from gui.code_view import code_editor

        super().__init__(parent)
        self.setWindowTitle("Export")
        self.resize(960, 720)
        self.session = session
        self.runs = runs
        self.heavy = heavy
        self.reports: dict[str, object] = {}
        self.job: RunAdapter | None = None

        code_box = QGroupBox("Python code")
        self.build_radio = QRadioButton("Build function (model.py)")
        self.script_radio = QRadioButton("Full training script (train.py)")
        self.build_radio.setChecked(True)
        kinds = QButtonGroup(self)
        for radio in (self.build_radio, self.script_radio):
            kinds.addButton(radio)
            radio.toggled.connect(self._show_code)
        self.code = code_editor("")
        self.save_code_button = QPushButton("Save code…")
        self.save_code_button.clicked.connect(self.save_code_as)
        code_row = QHBoxLayout()
        code_row.addWidget(self.build_radio)
        code_row.addWidget(self.script_radio)
        code_row.addStretch(1)
        code_row.addWidget(self.save_code_button)
        code_layout = QVBoxLayout(code_box)
        code_layout.addLayout(code_row)
        code_layout.addWidget(self.code)

        model_box = QGroupBox("Model files")
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.format_checks: dict[str, QCheckBox] = {}
        checks = QHBoxLayout()
        for fmt in FORMATS:
            check = QCheckBox(FORMAT_NAMES[fmt])
            check.setChecked(True)
            self.format_checks[fmt] = check
            checks.addWidget(check)
        checks.addStretch(1)
        default_dir = (session.path.parent if session.path else Path.home()) / "export"
        self.folder_edit = QLineEdit(str(default_dir))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_folder)
        self.export_button = QPushButton("Export model files")
        self.export_button.clicked.connect(self.export_models)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Folder"))
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        folder_row.addWidget(self.export_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = QLabel("Latency: one sample at a time on this machine's CPU (median, 95th).")
        self.status.setWordWrap(True)
        model_layout = QVBoxLayout(model_box)
        model_layout.addWidget(self.model_label)
        model_layout.addLayout(checks)
        model_layout.addLayout(folder_row)
        model_layout.addWidget(self.table)
        model_layout.addWidget(self.status)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(code_box, 3)
        layout.addWidget(model_box, 2)
        layout.addWidget(buttons)
        self._describe_model()
        self._show_code()

    # Code ------------------------------------------------------------------------------

    @property
    def code_kind(self) -> str:
        return "build" if self.build_radio.isChecked() else "script"

    def code_text(self) -> tuple[str, str]:
        """(suggested file name, source) of the chosen code, or ("", why not)."""
        from codegen.model_code import ExportError
        from codegen.python_source import export_model_code, export_training_script

        graph = self.session.graph
        data_dir = self.session.path.parent if self.session.path else None
        try:
            if self.code_kind == "build":
                return "model.py", export_model_code(graph)
            return "train.py", export_training_script(graph, data_dir=data_dir)
        except ExportError as error:
            return "", f"# The graph cannot be exported yet:\n# {error}".replace("\n", "\n# ")

    def _show_code(self) -> None:
        file_name, text = self.code_text()
        self.code.setPlainText(text)
        self.save_code_button.setEnabled(bool(file_name))

    def save_code(self, path: Path) -> None:
        from graph.atomic import write_text

        _name, text = self.code_text()
        write_text(Path(path), text)

    def save_code_as(self) -> None:
        file_name, _text = self.code_text()
        start = str(Path(self.folder_edit.text()).parent / file_name)
        path, _ = QFileDialog.getSaveFileName(self, "Save code", start, "Python (*.py)")
        if path:
            self.save_code(Path(path))

    # Model files -----------------------------------------------------------------------

    def _trained_run(self):
        return self.runs.latest_trained() if self.runs is not None else None

    def _describe_model(self) -> None:
        run = self._trained_run()
        if run is not None:
            self.model_label.setText(f"Exports the model trained in run {run.number}.")
        else:
            self.model_label.setText(
                "No trained model yet: the untrained model built from the graph is exported "
                "(train first to export learned weights)."
            )

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def chosen_formats(self) -> list[str]:
        return [fmt for fmt, check in self.format_checks.items() if check.isChecked()]

    def export_models(self) -> bool:
        """Starts the `deploy` run for the chosen formats; returns False if it cannot start."""
        if self.job is not None:
            return False
        formats = self.chosen_formats()
        if not formats:
            self.status.setText("Choose at least one format.")
            return False
        options = {
            "output_dir": self.folder_edit.text(),
            "formats": formats,
            "name": _file_stem(self.session),
        }
        run = self._trained_run()
        if run is not None:
            graph = run.graph
            options["weights"] = run.trained_weights()
            self.status.setText(f"Preparing the model trained in run {run.number}…")
        else:
            graph = self.session.graph
            options["untrained"] = True
            self.status.setText("Building the model (TensorFlow loads on first use)…")
        from runtime.runs.base import RunRequest

        base_dir = self.session.path.parent if self.session.path else None
        request = RunRequest("deploy", graph_to_yaml(graph), base_dir, options)
        self.reports = {}
        self.table.setRowCount(0)
        self.export_button.setEnabled(False)
        self.job = RunAdapter(request, heavy=self.heavy, parent=self)
        self.job.event.connect(self._on_event)
        self.job.finished.connect(self._on_finished)
        self.job.start()
        return True

    def _on_event(self, event) -> None:
        name = type(event).__name__
        if name == "Progress" and event.text:
            self.status.setText(event.text[:1].upper() + event.text[1:] + "…")
        elif name == "FormatExported":
            self._add_row(event.format, event.report or event.message)

    def _on_finished(self, outcome) -> None:
        from runtime.events import RunFinished

        self.job.deleteLater()
        self.job = None
        self.export_button.setEnabled(True)
        if isinstance(outcome, RunFinished):
            self.status.setText(f"Exported to {self.folder_edit.text()}.")
        else:
            self.status.setText(
                f"<span style='color:{ERROR_COLOR.name()}'>{escape(outcome.message)}</span>"
            )
        self.all_done.emit()

    def _add_row(self, fmt: str, result: object) -> None:
        self.reports[fmt] = result
        row = self.table.rowCount()
        self.table.insertRow(row)
        if isinstance(result, str):
            cells = [FORMAT_NAMES[fmt], "failed", "", "", "", "", result]
        else:
            cells = [
                FORMAT_NAMES[fmt],
                format_bytes(result.size_bytes),
                format_latency(result.p50_ms),
                format_latency(result.p95_ms),
                f"{result.throughput:,.0f}",
                f"{result.max_abs_diff:.2g}",
                str(result.path),
            ]
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if isinstance(result, str) and column == len(cells) - 1:
                item.setForeground(ERROR_COLOR)
                item.setToolTip(text)
            if 1 <= column <= 5:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)
        self.exported.emit(fmt, result)


def _file_stem(session: EditorSession) -> str:
    stem = session.path.stem if session.path else (session.graph.name or "model")
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem).strip("_")
    return cleaned or "model"


def open_export_dialog(context, _widget=None) -> ExportDialog:
    """Opens the export dialog on the context's document and its latest trained run."""
    dialog = ExportDialog(context.session, context.runs, context.window)
    dialog.show()
    return dialog


PANEL = PanelSpec(
    name="export",
    title="Export",
    order=90,
    create=None,
    menu=(MenuEntry("E&xport Model…", open_export_dialog, "Ctrl+Shift+E", separator_before=True),),
)


def _preview() -> int:
    """Opens the dialog on the default example (untrained model)."""
    import sys

    from PySide6.QtWidgets import QApplication

    from graph.files import load_graph

    app = QApplication.instance() or QApplication(sys.argv)
    session = EditorSession()
    example = Path(__file__).resolve().parents[2] / "examples" / "mlp_digits.yaml"
    session.replace_graph(load_graph(example))
    dialog = ExportDialog(session, RunHistory())
    dialog.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(_preview())
