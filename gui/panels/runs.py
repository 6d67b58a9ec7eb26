"""The training runs of the open document, shared by the training, evaluation and export views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph.model import NetworkGraph


@dataclass
class TrainingRun:
    """One run of the training panel.

    Attributes:
        number: 1 for the session's first run, and so on.
        graph: The graph as it was when the run started (edits made later
            do not change it).
        dataset: The runtime.data.Dataset it trained on (None if loading failed).
        history: Per-epoch values of each logged metric.
        weights: The trained model's weights, as the training process sent
            them (None when the run failed).
        model: The trained keras.Model once built (see `trained_model`).
        message: Why it failed, or "" when it finished.
        node_id: The node at fault when it failed because of one.
        diagnosis: The plain-language reading of its learning curves.
        stopped_by_user: Whether the user ended it.
        best_epoch: The epoch whose weights the model holds.
        health: Its latest runtime.events.HealthChecked, or None before the first.
    """

    number: int
    graph: NetworkGraph
    dataset: Any = None
    history: dict[str, list[float]] = field(default_factory=dict)
    weights: list | None = None
    model: Any = None
    message: str = ""
    node_id: str | None = None
    diagnosis: str = ""
    stopped_by_user: bool = False
    best_epoch: int | None = None
    health: Any = None

    @property
    def succeeded(self) -> bool:
        return (self.model is not None or self.weights is not None) and not self.message

    def trained_model(self) -> Any:
        """The trained keras.Model, rebuilt from the weights on first use.

        Builds with TensorFlow: call it from a job on the runtime thread.
        """
        if self.model is None:
            if self.weights is None:
                raise ValueError(f"Run {self.number} has no trained model")
            from runtime.training_process import rebuild_model

            self.model = rebuild_model(self.graph, self.dataset, self.weights)
        return self.model


class RunHistory(QObject):
    """Every run of the open document, newest last.

    The history belongs to the document: File > New or Open (the session's
    graph_replaced) clears it, so runs of another graph never reach its charts,
    evaluation or run numbers; a run of the old document that ends later is
    not recorded.

    Args:
        session: The gui.document.EditorSession whose document the runs belong to.
        parent: Owner on the GUI thread.

    Signals:
        run_started: A TrainingRun whose training just began.
        run_finished: The same TrainingRun once it ended (finished or failed).
        cleared: The document changed; every run is gone.
    """

    run_started = Signal(object)
    run_finished = Signal(object)
    cleared = Signal()

    def __init__(self, session: QObject | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs: list[TrainingRun] = []
        if session is not None:
            session.graph_replaced.connect(self.clear)

    def clear(self) -> None:
        """Forgets every run (a new document)."""
        self.runs = []
        self.cleared.emit()

    def start(self, graph: NetworkGraph) -> TrainingRun:
        """Records a new run of `graph` (a snapshot the run owns)."""
        run = TrainingRun(len(self.runs) + 1, graph)
        self.runs.append(run)
        self.run_started.emit(run)
        return run

    def finish(self, run: TrainingRun) -> None:
        if any(run is kept for kept in self.runs):
            self.run_finished.emit(run)

    def latest_trained(self) -> TrainingRun | None:
        """The newest run that produced a model."""
        return next((run for run in reversed(self.runs) if run.succeeded), None)
