"""Training as a run: the "train" run kind through the one Qt adapter (gui.run_adapter).

`TrainingJob` turns the run's generic outcome (RunFinished / RunFailed) into the
TrainingOutcome the training panel draws, so the panel reads one shape of result.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from graph.files import graph_to_yaml
from graph.model import NetworkGraph
from gui.run_adapter import RunAdapter

__all__ = ["TrainingJob"]


class TrainingJob(QObject):
    """A training run of `graph`, started by `start`.

    Args:
        graph: The graph snapshot to train.
        base_dir: Folder relative dataset paths start from.
        journal: The document's runtime.runs.recording.RunJournal (records the run), or None.
        parent: Owner on the GUI thread (the training panel).

    Signals:
        batches_ended: A list of runtime.events.BatchEnd, oldest first.
        epoch_ended: A runtime.events.EpochEnd.
        health_checked: A runtime.events.HealthChecked (every few epochs and after the last).
        finished: A runtime.runs.kinds.train.TrainingOutcome; emitted exactly once.
    """

    batches_ended = Signal(object)
    epoch_ended = Signal(object)
    health_checked = Signal(object)
    finished = Signal(object)

    def __init__(
        self,
        graph: NetworkGraph,
        base_dir: Path | None = None,
        parent: QObject | None = None,
        journal=None,
    ) -> None:
        super().__init__(parent)
        from runtime.explain.health_rules import CHECK_EVERY_EPOCHS
        from runtime.runs.base import RunRequest

        # The evaluation panel scores every finished run; the training panel
        # reads the one-class warning from that (TrainingPanel.show_evaluation),
        # so the run hands its result back without a second evaluation.
        options = {"health_every": CHECK_EVERY_EPOCHS, "diagnose_on_test": False}
        request = RunRequest("train", graph_to_yaml(graph), base_dir, options)
        self.adapter = RunAdapter(request, journal=journal, parent=self)
        self.adapter.batches_ended.connect(self.batches_ended)
        self.adapter.event.connect(self._on_event)
        self.adapter.finished.connect(self._on_finished)

    def start(self) -> None:
        self.adapter.start()

    def stop(self) -> None:
        self.adapter.stop()

    def pause(self) -> None:
        self.adapter.pause()

    def resume(self) -> None:
        self.adapter.resume()

    def wait(self, timeout_s: float = 60.0) -> bool:
        return self.adapter.wait(timeout_s)

    def _on_event(self, event: object) -> None:
        from runtime.events import EpochEnd, HealthChecked

        if isinstance(event, EpochEnd):
            self.epoch_ended.emit(event)
        elif isinstance(event, HealthChecked):
            self.health_checked.emit(event)

    def _on_finished(self, outcome) -> None:
        from runtime.events import RunFinished, TrainingFailed
        from runtime.runs.kinds.train import TrainingOutcome

        if isinstance(outcome, RunFinished):
            self.finished.emit(outcome.result)
        else:
            self.finished.emit(TrainingOutcome(TrainingFailed(outcome.message, outcome.node_id)))
