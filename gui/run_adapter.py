"""The one bridge between runs (runtime.runs) and Qt: a run's events as signals on the GUI thread.

Panels build a RunRequest, hand it to a RunAdapter and draw what its signals
bring; they never start threads or processes themselves. Heavy kinds execute
in the training process (a child process: Keras never shares the window's
GIL); light kinds on the app's runtime thread, or on a thread of their own
when they do not drive TensorFlow (RunKind.uses_tensorflow). Either way the events arrive
here on another thread and are re-emitted on the GUI thread, in order.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from gui.background import (
    emit_on_gui,
    prepare_worker_threads,
    start_job,
    track_job,
    untrack_job,
)
from runtime.training_process import FLUSH_SECONDS  # light: TensorFlow loads in the child


class RunAdapter(QObject):
    """Executes one run once `start` is called; its events become signals.

    It lives on the GUI thread and is never touched by another thread as a
    QObject: events are handed over with emit_on_gui.

    Args:
        request: The runtime.runs.RunRequest to execute.
        heavy: Where it executes: the training process (True), in this
            process (False), or as its kind declares (None).
        flush_seconds: For heavy runs, the longest time batch events wait.
        journal: The runtime.runs.recording.RunJournal that records the run
            (its document's), or None; kinds it does not keep pass unrecorded.
        parent: Owner on the GUI thread.

    Signals:
        batches_ended: A list of runtime.events.BatchEnd, oldest first.
        event: Any other event of the run (EpochEnd, RoundEnd, Progress, LogLine, ...).
        finished: runtime.events.RunFinished or RunFailed; emitted exactly once.
    """

    batches_ended = Signal(object)
    event = Signal(object)
    finished = Signal(object)

    def __init__(
        self,
        request,
        heavy: bool | None = None,
        flush_seconds: float = FLUSH_SECONDS,
        journal=None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.request = request
        self.heavy = heavy
        self.flush_seconds = flush_seconds
        self.journal = journal
        self.recording = None  # the journal's RunRecording once started, if the kind is kept
        self._control = None  # a RemoteRun or a RunContext: both stop, pause, resume
        self._job = None

    def start(self) -> None:
        """Sends the run on its way (the training process starts now if it is not yet)."""
        prepare_worker_threads()  # before a reader or runtime thread may hand events over
        kind = self._kind()
        heavy = self.heavy if self.heavy is not None else kind is None or kind.heavy
        if heavy:
            from runtime.training_process import shared_training_process

            remote = shared_training_process().start_run(
                self.request, self._on_event, self.flush_seconds
            )
            self._control = remote
            self._job = remote
            track_job(remote, remote.stop)
        else:
            from runtime.runs.base import RunContext
            from runtime.runs.local import execute_run

            context = RunContext(self._on_event)
            self._control = context

            def execute() -> None:
                self._on_event(execute_run(self.request, context))

            uses_tensorflow = kind is None or kind.uses_tensorflow
            self._job = start_job(
                execute, f"run-{self.request.kind}", context.stop, uses_tensorflow
            )
        # Recorded once the run is on its way: the journal's listeners (the Runs
        # panel's table) then redraw while the run loads its data, not before.
        # No event is missed: they reach this adapter through the GUI thread's
        # queue, after this method returns.
        if self.journal is not None:
            self._record(self.journal)

    def _record(self, journal) -> None:
        """Records the run in `journal`: its events and outcome, on the GUI thread."""
        recording = self.recording = journal.begin(self.request)
        if recording is not None:
            self.event.connect(recording.observe)
            self.finished.connect(lambda outcome: journal.end(recording, outcome))

    def _kind(self):
        """The request's kind, or None when unknown (the executor reports it like any failure)."""
        from runtime.runs.registry import get_run_kind

        try:
            return get_run_kind(self.request.kind)
        except KeyError:
            return None

    def stop(self) -> None:
        """Ends the run at its next safe point (also before it started, or while paused)."""
        if self._control is not None:
            self._control.stop()

    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()

    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Waits for the run's outcome to have been handed over; returns whether it was."""
        return self._job is None or self._job.join(timeout_s)

    def _on_event(self, event: object) -> None:
        # On the training process's reader thread, or the runtime thread.
        from runtime.events import RunFailed, RunFinished

        if isinstance(event, list):
            emit_on_gui(self, "batches_ended", event)
        elif isinstance(event, (RunFinished, RunFailed)):
            if self._job is not None and not hasattr(self._job, "uses_runtime"):
                untrack_job(self._job)
            emit_on_gui(self, "finished", event)
        else:
            emit_on_gui(self, "event", event)
