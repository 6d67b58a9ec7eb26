"""The training panel: settings, Train / Pause / Stop, progress, live charts and the verdict.

Training runs a snapshot of the graph in the training process (TrainingJob,
runtime.training_process), so the window stays responsive, never slows
training down, and edits made meanwhile apply to the next run.
Failures (bad data, NaN loss, an error inside Keras) end in a message here,
with the node at fault reported through `node_at_fault`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from graph.formatting import format_number
from graph.settings import BUILD_PARAMS, TRAINING_PARAMS
from gui.document import EditorSession
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.runs import RunHistory, TrainingRun
from gui.panels.settings_form import SettingsForm
from gui.panels.training_worker import TrainingJob
from gui.theme import ERROR_COLOR

# Whether a run has reached the training process yet: until then the first
# Train waits for TensorFlow to import there, and says so.
_tensorflow_started = False


STARTING_TENSORFLOW = "Starting TensorFlow (first run only)…"
LOADING_DATA = "Loading data and building the model…"


def format_duration(seconds: float) -> str:
    """0:42, 3:05 or 1:02:03."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def describe_run(
    history: dict[str, list[float]],
    planned_epochs: int,
    best_epoch: int | None,
    checkpoint_best: bool,
    stopped_by_user: bool,
) -> tuple[str, int | None, dict[str, float]]:
    """What happened in a finished run, which weights the model has, and that epoch's numbers.

    Args:
        history: Keras's history, one value per finished epoch.
        planned_epochs: The epochs the run was set to.
        best_epoch: The epoch (from 1) whose weights the model holds, or None.
        checkpoint_best: Whether the run restored its best epoch's weights.
        stopped_by_user: Whether the user's Stop ended the run before its last batch.

    Returns:
        (how it ended and which weights the model has, the epoch the numbers
        are from, {metric: value} of that epoch).
    """
    epochs = len(history.get("loss", []))
    plural = "s" if epochs != 1 else ""
    if stopped_by_user:
        how = f"Stopped by you after {epochs} epoch{plural} of {planned_epochs}"
    elif epochs < planned_epochs:
        how = f"Stopped early after {epochs} epoch{plural} of {planned_epochs} (no improvement)"
    else:
        how = f"Finished all {epochs} epoch{plural}"
    shown = epochs or None
    if checkpoint_best and best_epoch and best_epoch != epochs:
        how += f"; the model holds the weights of epoch {best_epoch}, its best"
        shown = best_epoch
    elif checkpoint_best and best_epoch:
        how += "; the model holds the weights of the last epoch, its best"
    else:
        how += "; the model holds the weights of the last epoch"
    numbers = {}
    if shown is not None:
        numbers = {
            name: values[shown - 1]
            for name, values in history.items()
            if name != "learning_rate" and len(values) >= shown
        }
    return how, shown, numbers


class TrainingPanel(QWidget):
    """Trains the session's graph and shows it learning.

    Args:
        session: The editing session.
        runs: The session's run history (shared with evaluation and export).
        autosave: Called as training starts, to secure unsaved work.

    Signals:
        node_at_fault: (node id, message) when a run fails because of a node.
        training_started: A run began.
        training_ended: A TrainingRun ended (finished, stopped or failed).
        health_checked: The TrainingRun whose `health` was just checked (sampled
            every few epochs and after the last).
    """

    node_at_fault = Signal(str, str)
    training_started = Signal()
    training_ended = Signal(object)
    health_checked = Signal(object)

    def __init__(
        self,
        session: EditorSession,
        runs: RunHistory | None = None,
        autosave: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.runs = runs or RunHistory(session, self)
        self.runs.cleared.connect(self._on_document_changed)
        self.autosave = autosave
        self.job: TrainingJob | None = None
        self.run: TrainingRun | None = None
        self.charts = None
        self._paused = False
        self._started_at = 0.0
        self._first_batch: tuple[float, int] | None = None
        self._progress = (0, 1)
        self._last_epoch_logs: dict[str, float] = {}

        style = self.style()
        self.train_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Train"
        )
        self.pause_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "Pause"
        )
        self.stop_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop"
        )
        self.train_button.setToolTip("Train the graph on its dataset (unsaved work is autosaved)")
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.progress_label = QLabel("Ready to train.")
        self.progress_label.setMinimumWidth(260)

        self.settings = SettingsForm(session, "training", TRAINING_PARAMS)
        # The settings live in a dock of their own beside the inspector (see
        # settings_area), so the charts get the panel's width and the form its height.
        self.settings_area = QScrollArea()
        self.settings_area.setWidgetResizable(True)
        self.settings_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # How blocks are built sits under the training settings: it changes the model's layers.
        self.build_settings = SettingsForm(session, "build", BUILD_PARAMS)
        forms = QWidget()
        forms_layout = QVBoxLayout(forms)
        forms_layout.setContentsMargins(0, 0, 0, 0)
        forms_layout.addWidget(self.settings)
        forms_layout.addWidget(self.build_settings)
        self.settings_area.setWidget(forms)

        self.chart_area = QWidget()
        self.chart_layout = QVBoxLayout(self.chart_area)
        self.chart_layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("Loss and metrics appear here while the network trains.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #5f6368;")
        self.chart_layout.addWidget(self.placeholder)
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #5f6368;")
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)

        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(self.note_label)
        results_layout.addWidget(self.result_label)
        results_layout.addStretch(1)
        results_scroll = QScrollArea()
        results_scroll.setWidgetResizable(True)
        results_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        results_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        results_scroll.setWidget(results)
        # Charts beside the summary: the panel is wide and, at 720 px, short.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("training_splitter")
        self.splitter.addWidget(self.chart_area)
        self.splitter.addWidget(results_scroll)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([800, 320])

        controls = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button):
            controls.addWidget(button)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.progress_label)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.splitter, 1)
        self._set_running(False)

    # State ---------------------------------------------------------------------------

    @property
    def is_training(self) -> bool:
        return self.job is not None

    @property
    def is_paused(self) -> bool:
        return self._paused

    def _set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.note_label.setText(
            "Training a snapshot of the graph: edits you make now apply to the next run."
            if running
            else ""
        )
        self.note_label.setVisible(running)

    def ensure_charts(self):
        """The charts, created on first use (pyqtgraph loads then, not at start-up)."""
        if self.charts is None:
            from gui.panels.charts import TrainingCharts

            self.charts = TrainingCharts()
            self.placeholder.hide()
            self.chart_layout.addWidget(self.charts)
        return self.charts

    # Controls ------------------------------------------------------------------------

    def train(self) -> bool:
        """Starts a run of the current graph; returns False when it cannot start."""
        if self.is_training:
            return False
        errors = self.session.build_errors()
        if errors:
            self._show_failure(
                "The graph does not build yet; fix these first:<br>"
                + "<br>".join(f"• {escape(p.message)}" for p in errors[:5])
            )
            if errors[0].node_id:
                self.node_at_fault.emit(errors[0].node_id, errors[0].message)
            return False
        # Shown before anything slow (autosave, charts, the process), so the
        # click is answered at once.
        self.progress.setRange(0, 0)
        self.progress_label.setText(LOADING_DATA if _tensorflow_started else STARTING_TENSORFLOW)
        self.result_label.setText("")
        self.progress.repaint()
        self.progress_label.repaint()
        graph = self.session.graph.copy()
        base_dir = self.session.path.parent if self.session.path else None
        # Started first, so that data loading overlaps the set-up below; the
        # worker's signals reach this panel only once control is back in the
        # event loop.
        self.job = TrainingJob(graph, base_dir, parent=self, journal=self.runs.journal)
        self.job.batches_ended.connect(self._on_batches)
        self.job.epoch_ended.connect(self._on_epoch)
        self.job.health_checked.connect(self._on_health)
        self.job.finished.connect(self._on_finished)
        self.job.start()
        self._started_at = time.monotonic()
        if self.autosave is not None:
            # Once the run is on its way: the recovery file is written while
            # the training process loads the data, not before it is asked to.
            self.autosave()
        self.run = self.runs.start(graph)
        self.run.recording = self.job.adapter.recording
        charts = self.ensure_charts()
        charts.begin_run(f"run {self.run.number}", graph.training["epochs"])
        self._paused = False
        self._first_batch = None
        self._progress = (0, 1)
        self._last_epoch_logs = {}
        self._set_running(True)
        self.training_started.emit()
        return True

    def toggle_pause(self) -> None:
        if self.job is None:
            return
        self._paused = not self._paused
        if self._paused:
            self.job.pause()
            self.pause_button.setText("Resume")
            self.pause_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
            self.progress_label.setText(self.progress_label.text() + " · paused")
        else:
            self.job.resume()
            self.pause_button.setText("Pause")
            self.pause_button.setIcon(
                self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause)
            )

    def stop(self) -> None:
        """Ends the run after the current batch; the model keeps what it learned."""
        if self.job is not None:
            self.job.stop()
            self.progress_label.setText("Stopping…")

    def _on_document_changed(self) -> None:
        """Another document: its charts start empty (a run still going is stopped)."""
        if self.job is not None:
            self.job.stop()
        if self.charts is not None:
            self.charts.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.setText("")
        self.result_label.setText("")

    def overlay_recorded_runs(self, records: list) -> None:
        """Draws recorded runs' curves together (runtime.run_store.RunRecords, oldest first).

        A run in progress keeps the charts to itself.
        """
        if self.is_training:
            return
        self.ensure_charts().show_runs([(record.name, record.epochs) for record in records])

    # Worker signals ------------------------------------------------------------------

    def _on_batches(self, events: list) -> None:
        global _tensorflow_started
        if self.job is None:
            return
        _tensorflow_started = True
        self.charts.add_batches(events)
        last = events[-1]
        total = max(1, self.run.graph.training["epochs"] * last.batches)
        done = (last.epoch - 1) * last.batches + last.batch
        now = time.monotonic()
        if self._first_batch is None:
            self._first_batch = (now, done)
            self.progress.setRange(0, total)
        self.progress.setValue(min(done, total))
        self._progress = (min(done, total), total)
        text = (
            f"Epoch {last.epoch}/{self.run.graph.training['epochs']} · "
            f"batch {last.batch}/{last.batches}"
        )
        started, first_done = self._first_batch
        if done > first_done and now > started:
            rate = (done - first_done) / (now - started)
            text += f" · {format_duration((total - done) / rate)} left"
        if self._paused:
            text += " · paused"
        self.progress_label.setText(text)

    def _on_epoch(self, event) -> None:
        if self.job is None:
            return
        self.charts.add_epoch(event)
        self._last_epoch_logs = dict(event.logs)

    def _on_health(self, event) -> None:
        if self.job is None:
            return
        self.run.health = event
        self.health_checked.emit(self.run)

    def _on_finished(self, outcome) -> None:
        """Draws how the run ended (a runtime.runs.kinds.train.TrainingOutcome)."""
        global _tensorflow_started
        _tensorflow_started = True
        run, job, self.job = self.run, self.job, None
        job.deleteLater()  # its run only has plain Python left to do
        self._set_running(False)
        self._paused = False
        self.charts.end_run()
        result = outcome.result
        run.dataset = outcome.dataset
        elapsed = format_duration(time.monotonic() - self._started_at)
        if hasattr(result, "history"):
            run.history = result.history
            run.weights = outcome.weights
            run.diagnosis = outcome.diagnosis
            done, total = self._progress
            # A Stop that arrived after the last batch ended nothing early.
            run.stopped_by_user = result.stopped_by_user and done < total
            run.best_epoch = result.best_epoch
            if run.stopped_by_user:
                # The bar keeps the true share done.
                self.progress.setRange(0, total)
                self.progress.setValue(done)
                self.progress_label.setText(f"Stopped after {elapsed}")
            else:
                self.progress.setRange(0, 1)
                self.progress.setValue(1)
                self.progress_label.setText(f"Done in {elapsed}")
            self._show_result(run)
        else:
            run.message = result.message
            run.node_id = result.node_id
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress_label.setText(f"Failed after {elapsed}")
            self._show_failure(escape(result.message).replace("\n", "<br>"))
            if result.node_id and result.node_id in self.session.graph:
                self.node_at_fault.emit(result.node_id, result.message)
        self.runs.finish(run)
        self.training_ended.emit(run)

    # Results -------------------------------------------------------------------------

    def read_evaluation(self, evaluation) -> None:
        """Reads a run's test-split evaluation (gui.panels.evaluation_panel.Evaluation) into
        its diagnosis: a classifier predicting one class for every sample says so first.

        The run hands its result back with the curves' reading alone; the
        evaluation that follows every run adds this, and the summary shows it
        if it is still the run on display.
        """
        from runtime.diagnosis import diagnose  # Qt-, TensorFlow- and scikit-learn-free

        run = evaluation.run
        if not run.diagnosis:
            return  # not a training run's (federated and restored runs have none)
        run.diagnosis = diagnose(run.history, evaluation.report)
        # Not over a newer run's progress, nor in another document's cleared summary.
        shown = run is self.run and not self.is_training
        if shown and any(run is kept for kept in self.runs.runs):
            self._show_result(run)

    def _show_result(self, run: TrainingRun) -> None:
        training = run.graph.training
        how, shown, numbers = describe_run(
            run.history,
            training["epochs"],
            run.best_epoch,
            training["checkpoint_best"],
            run.stopped_by_user,
        )
        lines = "<br>".join(
            f"&nbsp;&nbsp;{escape(name)}: <b>{format_number(value)}</b>"
            for name, value in numbers.items()
            if math.isfinite(value)
        )
        heading = f"Epoch {shown}:<br>" if shown else ""
        self.result_label.setText(
            f"<b>Run {run.number}.</b> {escape(how)}.<br>{heading}{lines}"
            f"<br><i>{escape(run.diagnosis)}</i>"
        )

    def _show_failure(self, html: str) -> None:
        self.result_label.setText(f"<span style='color:{ERROR_COLOR.name()}'>{html}</span>")


def _show_health(context, run: TrainingRun) -> None:
    from gui.panels.health_marks import node_health

    event = run.health
    heading = f"Run {run.number}, epoch {event.epoch}"
    context.window.scene.show_health(node_health(heading, event.layers, event.badges))


def _connect(context, panel: TrainingPanel) -> None:
    panel.node_at_fault.connect(context.faults.mark)
    panel.health_checked.connect(lambda run: _show_health(context, run))
    # A new run's health replaces the last one's; until its first check, none shows.
    panel.training_started.connect(lambda: context.window.scene.show_health({}))
    panel.training_started.connect(lambda: context.show("training"))
    # A probe still timing the graph would only hold the training run back.
    panel.training_started.connect(context.window.epoch_time_label.cancel)
    context.when_built(
        "evaluation", lambda evaluation: evaluation.evaluated.connect(panel.read_evaluation)
    )
    # The settings sit beside the inspector, where a form has height; they come
    # to the front with the training panel.
    docks = context.docks
    docks["training_settings"] = context.window.add_panel(
        panel.settings_area, "Training settings", Qt.DockWidgetArea.RightDockWidgetArea
    )
    docks["training"].visibilityChanged.connect(
        lambda visible: visible and docks["training_settings"].raise_()
    )


PANEL = PanelSpec(
    name="training",
    title="Training",
    order=20,
    create=lambda context: TrainingPanel(
        context.session, context.runs, autosave=context.window.autosaver.autosave
    ),
    menu=(
        MenuEntry("&Train", lambda _context, panel: panel.train(), "F5"),
        MenuEntry("&Pause / Resume", lambda _context, panel: panel.toggle_pause(), "F6"),
        MenuEntry("&Stop", lambda _context, panel: panel.stop(), "Shift+F5"),
    ),
    connect=_connect,
    eager=True,
)


def _preview() -> int:
    """Opens the panel alone on the default example."""
    import sys

    from PySide6.QtWidgets import QApplication

    from graph.files import load_graph

    app = QApplication.instance() or QApplication(sys.argv)
    session = EditorSession()
    example = Path(__file__).resolve().parents[2] / "examples" / "mlp_digits.yaml"
    session.replace_graph(load_graph(example))
    panel = TrainingPanel(session)
    preview = QSplitter()
    preview.addWidget(panel)
    preview.addWidget(panel.settings_area)
    preview.resize(1280, 400)
    preview.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(_preview())
