"""Run slow work (TensorFlow, scikit-learn, exporters) off the GUI thread.

Work runs on plain Python daemon threads (a daemon thread never blocks
interpreter exit). Worker threads never touch a QObject the GUI thread may
delete: that is a use-after-free which crashes or deadlocks the process at
random. They hand results over with `call_on_gui`, which posts a call through
one process-wide object that is never deleted; on the GUI thread the call runs
only if its receiver still exists. No QThread is created either: a
Python-owned QThread freed at the wrong moment aborts the process.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot

from gui import collection

# TensorFlow work from the panels (training, tuning, evaluation, export) runs
# one job at a time: Keras is not safe to drive from several threads at once
# (data adapters fail, tracing can deadlock), and on a few cores parallel jobs
# would only slow each other down. Jobs wait for it on their worker threads.
RUNTIME_LOCK = threading.Lock()

_LIVE: dict[threading.Thread, Callable[[], None] | None] = {}
_REGISTRY_LOCK = threading.Lock()


class _GuiThreadCalls(QObject):
    """Runs the calls that worker threads post, on the GUI thread (see call_on_gui)."""

    posted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()


# Created on the GUI thread by the first start_thread, kept until the process ends.
_gui_calls: _GuiThreadCalls | None = None


def call_on_gui(receiver: QObject, function: Callable[..., None], *args: object) -> None:
    """Runs `function(*args)` on the GUI thread, unless `receiver` was deleted first.

    Safe from any thread. `receiver` must be owned by Qt (have a parent) or be
    held by the GUI, so that a worker thread never frees it.
    """
    if _gui_calls is None:
        raise RuntimeError("call_on_gui needs a thread started with start_thread")

    def call() -> None:
        if shiboken6.isValid(receiver):
            function(*args)

    _gui_calls.posted.emit(call)


def emit_on_gui(sender: QObject, signal_name: str, *args: object) -> None:
    """Emits `sender`'s signal on the GUI thread (from any thread), if `sender` still exists."""
    call_on_gui(sender, lambda: getattr(sender, signal_name).emit(*args))


def start_thread(
    target: Callable[[], None],
    name: str,
    stop: Callable[[], None] | None = None,
    hold_gc: bool = False,
) -> threading.Thread:
    """Runs `target` on a daemon thread, registered until it returns (call on the GUI thread).

    Args:
        target: The work; it must not touch widgets or other QObjects (it
            reports through `call_on_gui` or `emit_on_gui`).
        name: The thread's name (for debuggers).
        stop: Asks the work to end early (at application quit).
        hold_gc: Pause garbage collection while it runs (threads that drive
            TensorFlow; see gui.collection).
    """
    global _gui_calls
    if _gui_calls is None:
        _gui_calls = _GuiThreadCalls()
    collection.collect_on_gui_thread()
    if hold_gc:
        collection.hold()

    def run() -> None:
        try:
            target()
        finally:
            with _REGISTRY_LOCK:
                _LIVE.pop(threading.current_thread(), None)
            if hold_gc:
                collection.release()

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


class BackgroundTask:
    """Calls `function()` on a worker thread and hands its result to the GUI thread.

    The callbacks run on the GUI thread, and only while `owner` exists. They
    and `function` are dropped there too, so whatever GUI objects they hold
    are never released by the worker thread.

    Args:
        owner: The object the result is for (a widget owned by the window).
        function: What to run; it must not touch widgets.
        on_success: Receives its return value.
        on_failure: Receives why it failed, as a message for the user.
        expected: Exception types whose message is shown as is; any other
            exception is reported with its type so that nothing is lost.
        uses_runtime: Whether it drives TensorFlow (it then waits for RUNTIME_LOCK).
    """

    def __init__(
        self,
        owner: QObject,
        function: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[str], None],
        expected: tuple[type[BaseException], ...] = (),
        uses_runtime: bool = True,
    ) -> None:
        self.owner = owner
        self.function = function
        self.on_success = on_success
        self.on_failure = on_failure
        self.expected = expected
        self.uses_runtime = uses_runtime

    def start(self) -> None:
        # TensorFlow work races a garbage collection on the GUI thread just as
        # training does (see gui.collection).
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
            outcome = (False, error_text(error))
        except Exception as error:  # anything from Keras or a library must not kill the app
            traceback.print_exc()
            outcome = (False, f"{type(error).__name__}: {error_text(error)}")
        else:
            outcome = (True, result)
        call_on_gui(self.owner, self._deliver, *outcome)

    def _deliver(self, succeeded: bool, value: Any) -> None:
        callback = self.on_success if succeeded else self.on_failure
        self.owner = self.function = self.on_success = self.on_failure = None
        callback(value)


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
    task = BackgroundTask(owner, function, on_success, on_failure, expected, uses_runtime)
    task.start()
    return task
