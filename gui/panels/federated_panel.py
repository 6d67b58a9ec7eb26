"""The Federated panel: simulate clients training the graph, watch rounds, privacy and the split.

Left: the graph's `federated` settings (a form from graph.settings), Start,
Pause / Resume and Stop. Right: the global model's validation accuracy and
loss per round with the centralized baseline beside them, each client's
class counts (the picture of the data split), and the privacy budget
epsilon per round. The run is the `federated` run kind, executed through the
app's RunAdapter; this panel only draws its events.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from graph.settings import FEDERATED_PARAMS, PRIVACY_MEASURES
from gui.document import EditorSession
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.settings_form import SettingsForm, form_scroll
from gui.theme import BASELINE_COLOR, FEDERATED_COLOR

# The global model's metrics that the centralized baseline is drawn beside.
BASELINE_METRICS = ("val_accuracy", "val_loss")

PLACEHOLDER_IDLE = (
    "Each round's validation accuracy and loss, beside a model trained the usual way, "
    "how the data is split among the clients, and the privacy budget will appear here.\n\n"
    "Set the clients and rounds on the left, then press Start."
)
PLACEHOLDER_WAITING = "The charts appear when the first round ends."

EPSILON_TITLE, EPSILON_EXPLANATION = PRIVACY_MEASURES["epsilon"]
MEMBERSHIP_TITLE, MEMBERSHIP_EXPLANATION = PRIVACY_MEASURES["membership_auc"]


class FederatedPanel(QWidget):
    """Runs the session's graph as a federated simulation and draws it live.

    Args:
        session: The editing session (its graph and its file's folder).
        runs: The session's gui.panels.runs.RunHistory: a finished run joins
            it like a training run, so evaluation and export take its model.
        heavy: Where the run executes: None as the kind declares (the
            training process), False on the runtime thread (tests).

    Signals:
        federated_ended: The run's outcome (runtime.runs.kinds.federated.FederatedOutcome,
            read like a training outcome: `weights`, `dataset`, `result.history`), or None.
    """

    federated_ended = Signal(object)

    def __init__(self, session: EditorSession, runs=None, heavy: bool | None = None) -> None:
        super().__init__()
        self.session = session
        self.runs = runs
        self.run = None
        self.heavy = heavy
        self.adapter = None
        self.outcome = None
        self.paused = False
        self.rounds: list[int] = []
        self.history: dict[str, list[float]] = {}
        self.baseline: dict[str, list[tuple[float, float]]] = {}
        self.class_counts: list[list[int]] = []
        self._local_epochs = 1

        self.form = SettingsForm(session, "federated", FEDERATED_PARAMS)
        scroll = form_scroll(self.form, 0)
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        # Each shows once a run gives it a figure; until then its explanation alone
        # would take the form's room (it stays as the label's tooltip).
        self.privacy_label = QLabel()
        self.privacy_label.setToolTip(EPSILON_EXPLANATION)
        self.membership_label = QLabel()
        self.membership_label.setToolTip(MEMBERSHIP_EXPLANATION)
        for label in (self.privacy_label, self.membership_label):
            label.setWordWrap(True)
            label.hide()
        left = QVBoxLayout()
        left.addWidget(scroll, 1)
        left.addLayout(buttons)
        for label in (self.status, self.privacy_label, self.membership_label):
            left.addWidget(label)

        # The charts (and pyqtgraph) load with the first run and show from its first
        # round on; until then the chart area says what will appear and how to start.
        self.charts = None
        self.placeholder = QLabel(PLACEHOLDER_IDLE)
        # At the top: the panel is often taller than its dock, and its middle out of sight.
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.placeholder.setWordWrap(True)
        self.chart_area = QStackedWidget()
        self.chart_area.addWidget(self.placeholder)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(self.chart_area, 3)
        self._set_running(False)

    def ensure_charts(self):
        """The charts (with their legend), created on first use behind the placeholder."""
        if self.charts is None:
            from gui.panels.federated_charts import FederatedCharts

            self.charts = FederatedCharts(EPSILON_TITLE)
            legend = QLabel(
                f'<span style="color:{FEDERATED_COLOR}">━ federated</span> &nbsp; '
                f'<span style="color:{BASELINE_COLOR}">╌ centralized baseline</span>'
            )
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(0, 0, 0, 0)
            page_layout.addWidget(legend)
            page_layout.addWidget(self.charts, 1)
            self.chart_area.addWidget(page)
        return self.charts

    @property
    def showing_charts(self) -> bool:
        return self.chart_area.currentWidget() is not self.placeholder

    def _show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.chart_area.setCurrentWidget(self.placeholder)

    # Controls -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.adapter is not None

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.form.setEnabled(not running)
        self.pause_button.setText("Pause")

    def start(self) -> bool:
        """Starts a run of the session's graph; False when one is already running."""
        if self.running:
            return False
        from graph.files import graph_to_yaml
        from gui.run_adapter import RunAdapter
        from runtime.runs.base import RunRequest

        graph = self.session.graph
        base_dir = self.session.path.parent if self.session.path else None
        self._clear()
        self._local_epochs = graph.settings["federated"]["local_epochs"]
        request = RunRequest("federated", graph_to_yaml(graph), base_dir)
        if self.runs is not None:
            self.run = self.runs.start(graph.copy())
        journal = self.runs.journal if self.runs is not None else None
        self.adapter = RunAdapter(request, heavy=self.heavy, journal=journal, parent=self)
        self.adapter.event.connect(self.on_event)
        self.adapter.finished.connect(self.on_finished)
        self._set_running(True)
        self.status.setText("Dividing the data among clients...")
        self.adapter.start()
        if self.run is not None:
            self.run.recording = self.adapter.recording
        return True

    def toggle_pause(self) -> None:
        """Pauses at the next round's end, or resumes."""
        if self.adapter is None:
            return
        if self.paused:
            self.adapter.resume()
            self.pause_button.setText("Pause")
        else:
            self.adapter.pause()
            self.pause_button.setText("Resume")
            self.status.setText("Pausing at the end of this round...")
        self.paused = not self.paused

    def stop(self) -> None:
        """Stops at the end of the current round; the rounds done are kept."""
        if self.adapter is not None:
            self.adapter.stop()
            self.status.setText("Stopping at the end of this round...")

    # Events ---------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        from runtime.events import RoundEnd
        from runtime.federated.events import BaselineEpochEnd, FederationPlanned

        if isinstance(event, FederationPlanned):
            self.show_class_counts(event.class_counts, event.class_names)
            self.status.setText(f"{len(event.class_counts)} clients; training round 1...")
        elif isinstance(event, BaselineEpochEnd):
            position = event.epoch / self._local_epochs
            for name in BASELINE_METRICS:
                if name in event.logs:
                    self.baseline.setdefault(name, []).append((position, event.logs[name]))
            self._draw_baseline()
            self.status.setText(f"Centralized baseline: epoch {event.epoch} of {event.epochs}")
        elif isinstance(event, RoundEnd):
            self.rounds.append(event.round)
            for name, value in event.logs.items():
                self.history.setdefault(name, []).append(value)
            self._draw_rounds()
            self.chart_area.setCurrentIndex(1)
            accuracy = event.logs.get("val_accuracy")
            text = f"Round {event.round} of {event.rounds}"
            if accuracy is not None:
                text += f": validation accuracy {accuracy:.3f}"
            text += f"; each client sends {event.details.get('bytes_per_client', 0):,} bytes"
            self.status.setText(text)
            if "epsilon" in event.logs:
                self.privacy_label.setText(
                    f"epsilon = {event.logs['epsilon']:.2f} after {event.round} rounds. "
                    + EPSILON_EXPLANATION
                )
                self.privacy_label.show()

    def on_finished(self, ended: object) -> None:
        from runtime.events import RunFinished

        self.adapter = None
        self.paused = False
        self._set_running(False)
        self._record(ended)
        if not isinstance(ended, RunFinished):
            self.status.setText(ended.message)
            if not self.rounds:
                self._show_placeholder(PLACEHOLDER_IDLE)
            self.federated_ended.emit(None)
            return
        self.outcome = ended.result
        federated = ended.result.federated
        text = f"Done: {federated.rounds_done} rounds"
        if federated.test_logs.get("accuracy") is not None:
            text += f", test accuracy {federated.test_logs['accuracy']:.3f}"
        if federated.baseline_test_logs.get("accuracy") is not None:
            text += f" (centralized {federated.baseline_test_logs['accuracy']:.3f})"
        if ended.stopped_by_user:
            text += " (stopped by you)"
        self.status.setText(text + ".")
        if federated.membership_auc is not None:
            self.membership_label.setText(
                f"{MEMBERSHIP_TITLE} {federated.membership_auc:.3f}: {MEMBERSHIP_EXPLANATION}"
            )
            self.membership_label.show()
        self.federated_ended.emit(self.outcome)

    def _record(self, ended) -> None:
        """Completes the run-history entry: the global model is a trained model like any."""
        from runtime.events import RunFinished

        run, self.run = self.run, None
        if run is None:
            return
        if isinstance(ended, RunFinished):
            outcome = ended.result
            run.dataset = outcome.dataset
            run.history = outcome.result.history
            run.weights = outcome.weights
            run.best_epoch = outcome.federated.rounds_done
            run.diagnosis = outcome.diagnosis
            run.stopped_by_user = ended.stopped_by_user
        else:
            run.message = ended.message
            run.node_id = ended.node_id
            run.stopped_by_user = ended.stopped_by_user
        self.runs.finish(run)

    # Drawing --------------------------------------------------------------------

    def show_class_counts(self, counts: list[list[int]], class_names=()) -> None:
        """Stacked bars: one bar per client, one colour per class."""
        self.class_counts = [list(c) for c in counts]
        self.ensure_charts().show_class_counts(counts, class_names)

    def _draw_rounds(self) -> None:
        self.ensure_charts().draw_rounds(self.rounds, self.history)

    def _draw_baseline(self) -> None:
        self.ensure_charts().draw_baseline(self.baseline)

    def _clear(self) -> None:
        self.rounds, self.history, self.baseline = [], {}, {}
        self.outcome = None
        self.class_counts = []
        if self.charts is not None:
            self.charts.clear()
        self._show_placeholder(PLACEHOLDER_WAITING)
        for label in (self.privacy_label, self.membership_label):
            label.clear()
            label.hide()


PANEL = PanelSpec(
    name="federated",
    title="Federated",
    order=60,
    create=lambda context: FederatedPanel(context.session, context.runs),
    menu=(MenuEntry("&Federated Training…", lambda context, _panel: context.show("federated")),),
)


def _preview() -> int:
    """Opens the panel alone on the digits MLP with a small federation."""
    from gui.panels.preview import example_session, preview

    small = {"clients": 5, "rounds": 5}
    return preview(lambda: FederatedPanel(example_session(federated=small)), 1200, 700)


if __name__ == "__main__":
    raise SystemExit(_preview())
