"""The training worker: a run in the training process, its events as signals on the GUI thread.

Training runs in a child process (runtime.training_process), so Keras never
holds the GIL the window needs, and the window never slows Keras down. The
child sends batch events together at most every `FLUSH_SECONDS`, epoch ends
and the outcome at once; this worker re-emits them on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from graph.model import NetworkGraph
from gui.panels.background import emit_on_gui, prepare_worker_threads, track_job, untrack_job
from runtime.training_process import (
    FLUSH_SECONDS,
    RemoteRun,
    TrainingOutcome,
    shared_training_process,
)

__all__ = ["FLUSH_SECONDS", "TrainingJob", "TrainingOutcome", "TrainingWorker"]


class TrainingWorker(QObject):
    """Trains `graph` in the training process once `start` is called.

    It lives on the GUI thread and is never touched by another thread as a
    QObject: the process's reader thread hands events over with emit_on_gui.

    Args:
        graph: The graph to train (a snapshot: edits to the editor's graph
            during training do not reach it).
        base_dir: Folder relative dataset paths start from.
        flush_seconds: Longest time batch events wait before being handed over.
        parent: Owner on the GUI thread.

    Signals:
        batches_ended: A list of runtime.events.BatchEnd, oldest first.
        epoch_ended: A runtime.events.EpochEnd.
        finished: A TrainingOutcome; emitted exactly once.
    """

    batches_ended = Signal(object)
    epoch_ended = Signal(object)
    finished = Signal(object)

    def __init__(
        self,
        graph: NetworkGraph,
        base_dir: Path | None = None,
        flush_seconds: float = FLUSH_SECONDS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.graph = graph
        self.base_dir = base_dir
        self.flush_seconds = flush_seconds
        self.remote: RemoteRun | None = None

    def start(self) -> RemoteRun:
        """Sends the run to the training process (started now if it is not yet)."""
        self.remote = shared_training_process().train(
            self.graph, self.base_dir, self._on_event, self.flush_seconds
        )
        return self.remote

    def stop(self) -> None:
        """Ends training after the current batch (also before it started, or while paused)."""
        if self.remote is not None:
            self.remote.stop()

    def pause(self) -> None:
        if self.remote is not None:
            self.remote.pause()

    def resume(self) -> None:
        if self.remote is not None:
            self.remote.resume()

    def _on_event(self, event: object) -> None:
        # On the training process's reader thread.
        if isinstance(event, list):
            emit_on_gui(self, "batches_ended", event)
        elif isinstance(event, TrainingOutcome):
            untrack_job(self.remote)
            emit_on_gui(self, "finished", event)
        else:
            emit_on_gui(self, "epoch_ended", event)


class TrainingJob:
    """A TrainingWorker's run, started at once; `stop_all_jobs` ends it like any job.

    Args:
        graph: The graph snapshot to train.
        base_dir: Folder relative dataset paths start from.
        parent: The worker's owner on the GUI thread (the training panel).
    """

    def __init__(
        self, graph: NetworkGraph, base_dir: Path | None = None, parent: QObject | None = None
    ) -> None:
        self.worker = TrainingWorker(graph, base_dir, parent=parent)

    def start(self) -> None:
        prepare_worker_threads()  # before the process's reader thread may start
        remote = self.worker.start()
        track_job(remote, remote.stop)

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Waits for the run's outcome; returns whether it came."""
        remote = self.worker.remote
        return remote is None or remote.join(timeout_s)
