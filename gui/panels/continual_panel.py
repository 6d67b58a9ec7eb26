"""The continual panel: learn a task sequence, watch what the network forgets, compare strategies.

The settings form comes from the declared `continual` section
(graph.settings.CONTINUAL_PARAMS) and edits the graph undoably. Learn runs the
`continual` run kind (runtime.runs.kinds.continual) through the run adapter
with every ticked strategy on the same sequence; each `RoundEnd` (one per
task) redraws that strategy's column: the accuracy matrix as a heatmap, each
task's accuracy over the sequence, and the summary metrics with a line saying
what each means. Continue training takes the latest trained model of the
training panel and trains it on new data, replaying old data by default, and
shows accuracy on old and new data before and after.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from graph.files import graph_to_yaml
from graph.settings import (
    CONTINUAL_PARAMS,
    CONTINUAL_STRATEGIES,
    STRATEGY_EXPLANATIONS,
    data_settings_at,
    dataset_path,
    path_text_for,
)
from gui.document import EditorSession
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.settings_form import SettingsForm, form_scroll
from gui.run_adapter import RunAdapter
from gui.theme import ERROR_COLOR

if TYPE_CHECKING:
    from gui.panels.strategy_view import StrategyView

# What the empty board will show, for a learner who has not run a sequence yet.
BOARD_HINT = (
    "Learn the sequence to fill this side: one column per ticked strategy, with its "
    "accuracy on every task after each new task is learned. Where the numbers for "
    "earlier tasks fall, the network is forgetting them."
)


class ContinualPanel(QWidget):
    """Learns the session graph's task sequence with the ticked strategies, side by side.

    Args:
        session: The editing session (its graph and file's folder).
        runs: The session's gui.panels.runs.RunHistory, for continue training
            (None: the button stays disabled).

    Signals:
        sequence_ended: The run's outcome (runtime.events.RunFinished or RunFailed).
        continue_ended: The same for continue training.
    """

    sequence_ended = Signal(object)
    continue_ended = Signal(object)

    def __init__(self, session: EditorSession, runs=None) -> None:
        super().__init__()
        self.session = session
        self.runs = runs
        self.job: RunAdapter | None = None
        self.views: dict[str, StrategyView] = {}
        self.results: dict = {}
        self.continue_result = None

        # The strategy ticks below choose the strategies: no strategy row in the form.
        shown = [param for param in CONTINUAL_PARAMS if param.name != "strategy"]
        self.form = SettingsForm(session, "continual", shown)
        self.strategy_checks: dict[str, QCheckBox] = {}
        compare = QGroupBox("Strategies to compare")
        compare_layout = QVBoxLayout(compare)
        for name in CONTINUAL_STRATEGIES:
            check = QCheckBox(name)
            check.setToolTip(STRATEGY_EXPLANATIONS[name])
            compare_layout.addWidget(check)
            self.strategy_checks[name] = check
        # The baseline and the graph's own strategy, side by side.
        self.strategy_checks["naive"].setChecked(True)
        self.strategy_checks[session.graph.settings["continual"]["strategy"]].setChecked(True)

        self.start_button = QPushButton("Learn the sequence")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)

        continuing = QGroupBox("Continue training the latest trained model")
        continuing_layout = QVBoxLayout(continuing)
        path_row = QHBoxLayout()
        self.new_data_edit = QLineEdit()
        self.new_data_edit.setPlaceholderText("new data: a CSV, .npz/.npy file or image folder")
        browse_file = QPushButton("File…")
        browse_file.setToolTip("Choose a CSV, Parquet or NumPy file of new data")
        browse_file.clicked.connect(self.browse_file)
        browse_folder = QPushButton("Folder…")
        browse_folder.setToolTip("Choose a folder of images, one subfolder per class")
        browse_folder.clicked.connect(self.browse_folder)
        path_row.addWidget(self.new_data_edit, 1)
        path_row.addWidget(browse_file)
        path_row.addWidget(browse_folder)
        self.rehearsal_check = QCheckBox("replay old data while learning the new (rehearsal)")
        self.rehearsal_check.setChecked(True)
        self.continue_button = QPushButton("Continue training")
        self.continue_button.clicked.connect(self.continue_training)
        self.continue_label = QLabel()
        self.continue_label.setWordWrap(True)
        self.continue_label.setTextFormat(Qt.TextFormat.RichText)
        continuing_layout.addLayout(path_row)
        continuing_layout.addWidget(self.rehearsal_check)
        continuing_layout.addWidget(self.continue_button)
        continuing_layout.addWidget(self.continue_label)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.error_label.hide()
        self.status = QLabel("Choose strategies and learn the sequence.")
        self.status.setWordWrap(True)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.form)
        side_layout.addWidget(compare)
        side_layout.addLayout(buttons)
        side_layout.addWidget(self.error_label)
        side_layout.addWidget(self.status)
        side_layout.addWidget(continuing)
        side_layout.addStretch(1)
        scroll = form_scroll(side, 300)

        self.board = QWidget()
        self.board_layout = QHBoxLayout(self.board)
        self.board_layout.setContentsMargins(0, 0, 0, 0)
        self.board_hint = QLabel(BOARD_HINT)
        self.board_hint.setWordWrap(True)
        self.board_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.board_hint.setMargin(24)
        self.board_hint.setStyleSheet("color: gray;")
        self.board_layout.addWidget(self.board_hint)
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(self.board)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._set_running(False)

    # State ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.job is not None

    def selected_strategies(self) -> list[str]:
        return [name for name, check in self.strategy_checks.items() if check.isChecked()]

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.continue_button.setEnabled(not running and self.runs is not None)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _base_dir(self) -> Path | None:
        return self.session.path.parent if self.session.path else None

    # Learning a sequence ------------------------------------------------------------

    def start(self) -> bool:
        """Learns the sequence with every ticked strategy; False (with a message) if it cannot."""
        if self.running:
            return False
        strategies = self.selected_strategies()
        if not strategies:
            self._show_error("Tick at least one strategy to learn with.")
            return False
        refusal = self.session.build_refusal()
        if refusal:
            self._show_error(refusal)
            return False
        self._show_error("")
        self._clear_board()
        self.results = {}
        from runtime.runs.base import RunRequest

        request = RunRequest(
            "continual",
            graph_to_yaml(self.session.graph),
            self._base_dir(),
            {"strategies": strategies},
        )
        self._run(request, self._on_sequence_finished)
        self.status.setText("Loading the data and building the tasks…")
        return True

    def _run(self, request, on_finished) -> None:
        journal = self.runs.journal if self.runs is not None else None
        self.job = RunAdapter(request, journal=journal, parent=self)
        self.job.event.connect(self._on_event)
        self.job.finished.connect(on_finished)
        self._set_running(True)
        self.job.start()

    def toggle_pause(self) -> None:
        """Pauses at the next task boundary, or resumes."""
        if self.job is None:
            return
        if self.pause_button.text() == "Pause":
            self.job.pause()
            self.pause_button.setText("Resume")
            self.status.setText("Pausing at the next task boundary…")
        else:
            self.job.resume()
            self.pause_button.setText("Pause")
            self.status.setText("Resumed.")

    def stop(self) -> None:
        """Stops at the next task boundary, keeping what was learned."""
        if self.job is not None:
            self.job.stop()
            self.status.setText("Stopping at the next task boundary…")

    def _clear_board(self) -> None:
        for view in self.views.values():
            self.board_layout.removeWidget(view)
            view.deleteLater()
        self.views = {}
        self.board_hint.show()

    def _view(self, strategy: str, task_names: list[str]) -> StrategyView:
        view = self.views.get(strategy)
        if view is None:
            from gui.panels.strategy_view import StrategyView

            view = self.views[strategy] = StrategyView(strategy, task_names)
            self.board_hint.hide()
            self.board_layout.addWidget(view, 1)
        return view

    def _on_event(self, event) -> None:
        kind = type(event).__name__
        if kind == "RoundEnd" and "strategy" in event.details:
            details = event.details
            names = details.get("task_names") or [str(i + 1) for i in range(event.rounds)]
            self._view(details["strategy"], names).draw(details["matrix"], event.logs)
        elif kind == "Progress":
            self.status.setText(event.text)
        elif kind == "LogLine":
            self.status.setText(event.text)

    def _finish_job(self) -> None:
        self.job.deleteLater()
        self.job = None
        self._set_running(False)

    def _on_sequence_finished(self, outcome) -> None:
        from runtime.events import RunFinished

        self._finish_job()
        if isinstance(outcome, RunFinished):
            run = outcome.result
            self.results = dict(run.results)
            for name, result in run.results.items():
                view = self._view(name, run.task_names)
                view.task_names = list(run.task_names)
                view.draw(result.matrix, result.metrics)
            done = "Stopped: kept the tasks learned so far." if run.stopped else "Done."
            self.status.setText(f"{done} {run.source}: {', '.join(run.task_names)}")
        else:
            self._show_error(outcome.message)
            self.status.setText("The sequence was not learned.")
        self.sequence_ended.emit(outcome)

    # Continue training -------------------------------------------------------------------

    def _browse_start(self) -> str:
        """Where a dialog opens: where the new data's path points, else the graph's folder."""
        text = self.new_data_edit.text().strip()
        base = self._base_dir()
        return str(dataset_path(text, base)) if text else str(base or "")

    def browse_file(self) -> None:
        """Chooses a file of new data (kept relative when it is beside the graph)."""
        chosen, _ = QFileDialog.getOpenFileName(
            self,
            "New data",
            self._browse_start(),
            "Data (*.csv *.parquet *.pq *.npz *.npy);;All files (*)",
        )
        if chosen:
            self.new_data_edit.setText(path_text_for(chosen, self._base_dir()))

    def browse_folder(self) -> None:
        """Chooses an image folder of new data."""
        chosen = QFileDialog.getExistingDirectory(self, "New images", self._browse_start())
        if chosen:
            self.new_data_edit.setText(path_text_for(chosen, self._base_dir()))

    def continue_training(self) -> bool:
        """Continues training the latest trained model on the new data; False if it cannot."""
        if self.running:
            return False
        run = self.runs.latest_trained() if self.runs is not None else None
        if run is None:
            self._show_error("Train the model first (Run ▸ Train): there is no trained model yet.")
            return False
        text = self.new_data_edit.text().strip()
        if not text:
            self._show_error("Choose the new data to continue training on.")
            return False
        weights = run.trained_weights()
        self._show_error("")
        self.continue_label.setText("")
        from runtime.runs.base import RunRequest

        options = {
            "continue_from": {
                "weights": list(weights),
                "new_data": data_settings_at(text, self._base_dir()),
                "rehearsal": self.rehearsal_check.isChecked(),
            }
        }
        request = RunRequest("continual", graph_to_yaml(run.graph), self._base_dir(), options)
        self._run(request, self._on_continue_finished)
        self.status.setText(f"Continuing to train run {run.number} on {Path(text).name}…")
        return True

    def _on_continue_finished(self, outcome) -> None:
        from runtime.events import RunFinished

        self._finish_job()
        if isinstance(outcome, RunFinished):
            result = self.continue_result = outcome.result
            self.continue_label.setText(continue_table(result))
            self.status.setText("Continued training.")
        else:
            self._show_error(outcome.message)
            self.status.setText("Training did not continue.")
        self.continue_ended.emit(outcome)


def continue_table(result) -> str:
    """Old and new accuracy before and after, as a small HTML table."""
    rows = "".join(
        f"<tr><td>{label}</td><td align=right>{result.before[key]:.3f}</td>"
        f"<td align=right>{result.after[key]:.3f}</td></tr>"
        for key, label in (
            ("old", f"old data ({result.old_name})"),
            ("new", f"new data ({result.new_name})"),
        )
    )
    how = "with rehearsal" if result.rehearsal else "without rehearsal"
    return (
        f"<p>Accuracy before and after training on the new data {how}:</p>"
        f"<table><tr><th></th><th>before</th><th>after</th></tr>{rows}</table>"
    )


PANEL = PanelSpec(
    name="continual",
    title="Continual",
    order=70,
    create=lambda context: ContinualPanel(context.session, context.runs),
    menu=(MenuEntry("&Continual Learning…", lambda context, _panel: context.show("continual")),),
)


def _preview() -> int:
    """Opens the panel alone on the default example."""
    from gui.panels.preview import example_session, preview

    return preview(lambda: ContinualPanel(example_session()), 1300, 700)


if __name__ == "__main__":
    raise SystemExit(_preview())
