"""The training worker: runtime.trainer.Trainer on a worker thread, its events as batched signals.

Keras calls the trainer's listener after every batch on the training
thread. Emitting a queued signal per batch would wake the GUI thread dozens
of times a second for nothing the charts need, so batch events are only
collected there and handed over together at most every `flush_seconds`;
epoch ends and the final result go out at once.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph.model import NetworkGraph
from gui.panels.background import Job, emit_on_gui, error_text, start_job

FLUSH_SECONDS = 0.25
# How long a thread may hold the GIL while another waits for it. Python's 5 ms
# default lets the training thread's Python-heavy phases (building, tracing)
# delay every GUI event by up to 5 ms per handover; 1 ms keeps the window
# smooth and costs nothing while the GUI thread sleeps in its event loop.
GIL_SWITCH_SECONDS = 0.001


@dataclass(frozen=True)
class TrainingOutcome:
    """How a run ended, with what the views need from it.

    Attributes:
        result: runtime.events.TrainingFinished or TrainingFailed.
        dataset: The loaded runtime.data.Dataset, or None when loading failed.
        diagnosis: The under/overfitting reading of the history ("" on failure).
    """

    result: Any
    dataset: Any
    diagnosis: str = ""


class TrainingWorker(QObject):
    """Loads the data and trains `graph` when `run` is called on its thread.

    The object itself lives on the GUI thread: `run` only reads plain
    attributes, and its signals are emitted on the GUI thread (emit_on_gui),
    so the training thread never touches it as a QObject.

    Args:
        graph: The graph to train (a snapshot: edits to the editor's graph
            during training do not reach it).
        base_dir: Folder relative dataset paths start from.
        flush_seconds: Longest time batch events wait before being handed over.
        parent: Owner on the GUI thread (so that the training thread never frees it).

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
        self._lock = threading.Lock()
        self._trainer = None
        self._stop_requested = False
        self._pause_requested = False
        self._pending: list = []
        self._last_flush = 0.0
        self._batch_type: type | None = None
        self._epoch_type: type | None = None

    # Control, from the GUI thread ------------------------------------------------------

    def stop(self) -> None:
        """Ends training after the current batch (also before it started, or while paused)."""
        with self._lock:
            self._stop_requested = True
            if self._trainer is not None:
                self._trainer.stop()

    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            if self._trainer is not None:
                self._trainer.resume()

    # The training thread -------------------------------------------------------------

    def run(self) -> None:
        """Loads the dataset, trains and emits `finished` (never raises)."""
        try:
            self._run()
        finally:
            # The trainer calls back into this worker: drop the cycle so the
            # worker (a QObject) is freed by reference counting, never by a
            # garbage collection that may run inside a Qt destructor.
            with self._lock:
                self._trainer = None

    def _run(self) -> None:
        dataset = None
        try:
            from runtime.data import DataError, load_dataset
            from runtime.events import BatchEnd, EpochEnd, TrainingFailed

            self._batch_type, self._epoch_type = BatchEnd, EpochEnd
            try:
                dataset = load_dataset(self.graph.dataset, self.base_dir)
            except DataError as error:
                failure = TrainingFailed(f"Data: {error}")
                emit_on_gui(self, "finished", TrainingOutcome(failure, None))
                return
            from runtime.trainer import Trainer

            trainer = Trainer(self.graph, dataset, on_event=self._on_event)
            with self._lock:
                self._trainer = trainer
                if self._stop_requested:
                    trainer.stop()
                elif self._pause_requested:
                    trainer.pause()
            result = trainer.run()
            self._flush()
            outcome = TrainingOutcome(result, dataset, self._diagnosis(result))
            emit_on_gui(self, "finished", outcome)
        except Exception as error:  # a Keras or library failure must not end the app
            from runtime.events import TrainingFailed

            self._flush()
            message = f"Training failed: {type(error).__name__}: {error_text(error)}"
            emit_on_gui(self, "finished", TrainingOutcome(TrainingFailed(message), dataset))

    @staticmethod
    def _diagnosis(result: Any) -> str:
        history = getattr(result, "history", None)
        if history is None:
            return ""
        from runtime.evaluation import diagnose

        return diagnose(history)

    def _on_event(self, event: object) -> None:
        # Called by Keras after every batch: keep this to an append and a clock read.
        if type(event) is self._batch_type:
            self._pending.append(event)
            now = time.monotonic()
            if now - self._last_flush >= self.flush_seconds:
                self._flush(now)
        elif type(event) is self._epoch_type:
            self._flush()
            emit_on_gui(self, "epoch_ended", event)

    def _flush(self, now: float | None = None) -> None:
        self._last_flush = time.monotonic() if now is None else now
        if self._pending:
            pending, self._pending = self._pending, []
            emit_on_gui(self, "batches_ended", pending)


class TrainingJob:
    """A TrainingWorker run as a job on the runtime thread, started at once.

    The worker lives on the GUI thread; its `run` executes on the runtime
    thread and its signals are emitted on the GUI thread.

    Args:
        graph: The graph snapshot to train.
        base_dir: Folder relative dataset paths start from.
        parent: The worker's owner on the GUI thread (the training panel).
    """

    def __init__(
        self, graph: NetworkGraph, base_dir: Path | None = None, parent: QObject | None = None
    ) -> None:
        self.worker = TrainingWorker(graph, base_dir, parent=parent)
        self.job: Job | None = None

    def start(self) -> None:
        if sys.getswitchinterval() > GIL_SWITCH_SECONDS:
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
        self.job = start_job(self.worker.run, "training", self.worker.stop, uses_runtime=True)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.is_alive()

    def wait(self, timeout_s: float = 60.0) -> bool:
        if self.job is not None:
            self.job.join(timeout_s)
        return not self.running
