"""Run slow work (TensorFlow, scikit-learn, exporters) off the GUI thread.

Work runs on plain Python daemon threads; results come back through Qt
signals of objects that live on the GUI thread (queued across threads).
No QThread is created: a Python-owned QThread freed at the wrong moment
(from a slot, or by a garbage collection inside a Qt destructor) aborts or
deadlocks the process, and a daemon thread never blocks interpreter exit.
"""

from __future__ import annotations

import gc
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

# TensorFlow work from the panels (training, tuning, evaluation, export) runs
# one job at a time: Keras is not safe to drive from several threads at once
# (data adapters fail, tracing can deadlock), and on a few cores parallel jobs
# would only slow each other down. Jobs wait for it on their worker threads.
RUNTIME_LOCK = threading.Lock()

_LIVE: dict[threading.Thread, Callable[[], None] | None] = {}
_REGISTRY_LOCK = threading.Lock()
_gc_holds = 0


def hold_garbage_collection() -> None:
    """Pauses automatic garbage collection until released (holds nest).

    Called when training or tuning starts. Dead Keras models and TensorFlow
    functions sit in reference cycles; collected from the GUI thread while
    another thread trains, they race TensorFlow ("pure virtual method
    called", abort). A full collection also stops the GUI thread for up to
    several hundred milliseconds once TensorFlow is loaded. What is freed by
    reference counting is freed as usual; cycles wait for the end of the run.
    """
    global _gc_holds
    with _REGISTRY_LOCK:
        if _gc_holds == 0:
            gc.disable()
        _gc_holds += 1


def release_garbage_collection() -> None:
    """Ends one hold; automatic collection resumes when none is left."""
    global _gc_holds
    with _REGISTRY_LOCK:
        _gc_holds = max(0, _gc_holds - 1)
        if _gc_holds == 0:
            gc.enable()


def start_thread(
    target: Callable[[], None],
    name: str,
    stop: Callable[[], None] | None = None,
    hold_gc: bool = False,
) -> threading.Thread:
    """Runs `target` on a daemon thread, registered until it returns.

    Args:
        target: The work; it must not touch widgets (emit signals instead).
        name: The thread's name (for debuggers).
        stop: Asks the work to end early (at application quit).
        hold_gc: Pause automatic garbage collection while it runs (threads
            that train; see `hold_garbage_collection`).
    """
    if hold_gc:
        hold_garbage_collection()

    def run() -> None:
        try:
            target()
        finally:
            with _REGISTRY_LOCK:
                _LIVE.pop(threading.current_thread(), None)
            if hold_gc:
                release_garbage_collection()

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _REGISTRY_LOCK:
        _LIVE[thread] = stop
    thread.start()
    return thread


def stop_all_threads(timeout_s: float = 30.0) -> None:
    """Asks every running worker to stop and waits for it (at application quit)."""
    with _REGISTRY_LOCK:
        live = list(_LIVE.items())
    for _thread, stop in live:
        if stop is not None:
            stop()
    for thread, _stop in live:
        thread.join(timeout_s)


def error_text(error: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class BackgroundTask(QObject):
    """Calls `function()` on a worker thread and reports its result on the GUI thread.

    The task object lives on the GUI thread; as a child of `owner` it dies
    with it, and a result arriving after that goes nowhere.

    Args:
        owner: The object the result is for.
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
        owner: QObject,
        function: Callable[[], Any],
        expected: tuple[type[BaseException], ...] = (),
        uses_runtime: bool = True,
    ) -> None:
        super().__init__(owner)
        self.function = function
        self.expected = expected
        self.uses_runtime = uses_runtime

    def start(self) -> None:
        # TensorFlow work races a garbage collection on the GUI thread just as
        # training does (see hold_garbage_collection).
        start_thread(self._run, "background", hold_gc=self.uses_runtime)

    def _call(self) -> Any:
        if not self.uses_runtime:
            return self.function()
        with RUNTIME_LOCK:
            return self.function()

    def _run(self) -> None:
        try:
            result = self._call()
        except self.expected as error:
            self._report(self.failed, error_text(error))
        except Exception as error:  # anything from Keras or a library must not kill the app
            traceback.print_exc()
            self._report(self.failed, f"{type(error).__name__}: {error_text(error)}")
        else:
            self._report(self.succeeded, result)
        finally:
            self.function = None

    def _report(self, signal, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # The owner closed while the work ran: nobody is left to tell.
            pass


class _Relay(QObject):
    """Calls the owner's callbacks on the GUI thread, once."""

    def __init__(self, task: BackgroundTask, on_success, on_failure) -> None:
        super().__init__(task)
        self.on_success = on_success
        self.on_failure = on_failure

    @Slot(object)
    def succeeded(self, result: object) -> None:
        self.parent().deleteLater()
        self.on_success(result)

    @Slot(str)
    def failed(self, message: str) -> None:
        self.parent().deleteLater()
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
        The started task.
    """
    task = BackgroundTask(owner, function, expected, uses_runtime)
    relay = _Relay(task, on_success, on_failure)
    queued = Qt.ConnectionType.QueuedConnection
    task.succeeded.connect(relay.succeeded, queued)
    task.failed.connect(relay.failed, queued)
    task.start()
    return task
