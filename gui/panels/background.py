"""Run slow work (TensorFlow, scikit-learn, exporters) off the GUI thread.

Threads started here are kept alive by a module-level registry until they
end, so closing a panel never destroys a running QThread (which aborts the
process); `stop_all_threads` ends them when the application quits.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

_LIVE: set[QThread] = set()
_STOPPERS: dict[QThread, Callable[[], None]] = {}


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
            thread.wait()
            _LIVE.discard(thread)
            _STOPPERS.pop(thread, None)


_REAPER = _Reaper()


def keep_alive(thread: QThread, stop: Callable[[], None] | None = None) -> None:
    """Holds `thread` until it finishes; `stop` asks it to end early at quit."""
    _LIVE.add(thread)
    if stop is not None:
        _STOPPERS[thread] = stop
    thread.finished.connect(_REAPER.reap, Qt.ConnectionType.QueuedConnection)


def stop_all_threads(timeout_ms: int = 30_000) -> None:
    """Asks every running worker to stop and waits for it (at application quit)."""
    for thread in list(_LIVE):
        stop = _STOPPERS.get(thread)
        if stop is not None:
            stop()
    for thread in list(_LIVE):
        thread.wait(timeout_ms)


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
    ) -> None:
        super().__init__()
        self.function = function
        self.expected = expected

    def run(self) -> None:
        try:
            result = self.function()
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
) -> BackgroundTask:
    """Starts `function` on a worker thread; the callbacks run on the GUI thread.

    Args:
        owner: The object the callbacks belong to; if it is deleted first,
            they are not called.
        function: The work.
        on_success: Receives its result.
        on_failure: Receives the error message.
        expected: Exception types reported by their message alone.

    Returns:
        The started task (already registered to stay alive until it ends).
    """
    task = BackgroundTask(function, expected)
    relay = _Relay(owner, on_success, on_failure)
    queued = Qt.ConnectionType.QueuedConnection
    task.succeeded.connect(relay.succeeded, queued)
    task.failed.connect(relay.failed, queued)
    keep_alive(task)
    task.start()
    return task
