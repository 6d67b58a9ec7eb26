"""Run slow work (TensorFlow, scikit-learn, exporters) off the GUI thread.

Threads started here are kept alive by a module-level registry until they
end, so closing a panel never destroys a running QThread (which aborts the
process); `stop_all_threads` ends them when the application quits.
"""

from __future__ import annotations

import gc
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

# TensorFlow work from the panels (training, tuning, evaluation, export) runs
# one job at a time: Keras is not safe to drive from several threads at once
# (data adapters fail, tracing can deadlock), and on a few cores parallel jobs
# would only slow each other down. Jobs wait for it on their worker threads.
RUNTIME_LOCK = threading.Lock()

_LIVE: set[QThread] = set()
_STOPPERS: dict[QThread, Callable[[], None]] = {}
_HOLDING_GC: set[QThread] = set()


class _Reaper(QObject):
    """Drops a finished thread on the GUI thread, once it has really ended.

    `finished` is emitted by the thread itself just before it ends; dropping
    the last reference there would destroy a QThread that is still running,
    which aborts the process.
    """

    @Slot()
    def reap(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread):
            self._reap(thread)

    def _reap(self, thread: QThread) -> None:
        # Never QThread.wait() here: the ending thread may need the GIL to
        # finish, and wait() would hold it. Look again shortly instead.
        if not thread.isFinished():
            QTimer.singleShot(5, self, lambda: self._reap(thread))
            return
        if thread in _LIVE:
            _LIVE.discard(thread)
            _STOPPERS.pop(thread, None)
            if thread in _HOLDING_GC:
                _HOLDING_GC.discard(thread)
                release_garbage_collection()


_REAPER = _Reaper()


def keep_alive(
    thread: QThread, stop: Callable[[], None] | None = None, hold_gc: bool = False
) -> None:
    """Holds `thread` until it finishes.

    Args:
        thread: A thread about to start.
        stop: Asks it to end early (at application quit).
        hold_gc: Pause automatic garbage collection while it runs (threads
            that train; see `hold_garbage_collection`).
    """
    _LIVE.add(thread)
    if stop is not None:
        _STOPPERS[thread] = stop
    if hold_gc:
        _HOLDING_GC.add(thread)
        hold_garbage_collection()
    thread.finished.connect(_REAPER.reap, Qt.ConnectionType.QueuedConnection)


_gc_holds = 0


def hold_garbage_collection() -> None:
    """Collects garbage now and pauses automatic collection until `release_garbage_collection`.

    Called when training or tuning starts. Dead Keras models and TensorFlow
    functions sit in reference cycles; collected from the GUI thread while
    another thread trains, they race TensorFlow ("pure virtual method
    called", abort). A full collection also pauses the GUI thread for tens
    of milliseconds once TensorFlow is loaded. Holds nest.
    """
    global _gc_holds
    if _gc_holds == 0:
        gc.collect()
        gc.disable()
    _gc_holds += 1


def release_garbage_collection() -> None:
    """Ends one hold; automatic collection resumes when none is left."""
    global _gc_holds
    _gc_holds = max(0, _gc_holds - 1)
    if _gc_holds == 0:
        gc.enable()


def wait_for(thread: QThread, timeout_s: float = 60.0) -> bool:
    """Waits for `thread` to end without holding the GIL it may need; returns whether it did."""
    deadline = time.monotonic() + timeout_s
    while not thread.isFinished() and thread.isRunning():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def stop_all_threads(timeout_s: float = 30.0) -> None:
    """Asks every running worker to stop and waits for it (at application quit)."""
    for thread in list(_LIVE):
        stop = _STOPPERS.get(thread)
        if stop is not None:
            stop()
    for thread in list(_LIVE):
        wait_for(thread, timeout_s)


def error_text(error: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class BackgroundTask(QThread):
    """Calls `function()` on a worker thread and reports its result.

    Args:
        function: What to run; it must not touch widgets.
        expected: Exception types whose message is shown as is; any other
            exception is reported with its type so that nothing is lost.
        uses_runtime: Whether it drives TensorFlow (it then waits for RUNTIME_LOCK).

    Signals:
        succeeded: The function's return value.
        failed: Why it failed, as a message for the user.
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        function: Callable[[], Any],
        expected: tuple[type[BaseException], ...] = (),
        uses_runtime: bool = True,
    ) -> None:
        super().__init__()
        self.function = function
        self.expected = expected
        self.uses_runtime = uses_runtime

    def _call(self) -> Any:
        if not self.uses_runtime:
            return self.function()
        with RUNTIME_LOCK:
            return self.function()

    def run(self) -> None:
        try:
            result = self._call()
        except self.expected as error:
            self.failed.emit(error_text(error))
        except Exception as error:  # anything from Keras or a library must not kill the app
            traceback.print_exc()
            self.failed.emit(f"{type(error).__name__}: {error_text(error)}")
        else:
            self.succeeded.emit(result)


class _Relay(QObject):
    """Delivers a task's result to its owner; dies with the owner, so a result
    arriving after the owner was closed goes nowhere instead of to a deleted widget."""

    def __init__(self, owner: QObject, on_success, on_failure) -> None:
        super().__init__(owner)
        self.on_success = on_success
        self.on_failure = on_failure

    @Slot(object)
    def succeeded(self, result: object) -> None:
        self.deleteLater()
        self.on_success(result)

    @Slot(str)
    def failed(self, message: str) -> None:
        self.deleteLater()
        self.on_failure(message)


def run_in_background(
    owner: QObject,
    function: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_failure: Callable[[str], None],
    expected: tuple[type[BaseException], ...] = (),
    uses_runtime: bool = True,
) -> BackgroundTask:
    """Starts `function` on a worker thread; the callbacks run on the GUI thread.

    Args:
        owner: The object the callbacks belong to; if it is deleted first,
            they are not called.
        function: The work.
        on_success: Receives its result.
        on_failure: Receives the error message.
        expected: Exception types reported by their message alone.
        uses_runtime: Whether it drives TensorFlow (see RUNTIME_LOCK).

    Returns:
        The started task (already registered to stay alive until it ends).
    """
    task = BackgroundTask(function, expected, uses_runtime)
    relay = _Relay(owner, on_success, on_failure)
    queued = Qt.ConnectionType.QueuedConnection
    task.succeeded.connect(relay.succeeded, queued)
    task.failed.connect(relay.failed, queued)
    keep_alive(task)
    task.start()
    return task
