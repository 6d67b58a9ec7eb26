"""Run slow work (TensorFlow, scikit-learn, exporters) off the GUI thread.

The shared plumbing under gui.run_adapter (every run) and gui.warmup (the
start-up import); panels never call it. Heavy runs execute in a child process
(runtime.training_process), tracked here so that `stop_all_jobs` ends them
too. Light runs that drive TensorFlow (evaluation, import, restoring a run)
and the start-up import run as jobs, one after another, on a single
long-lived "runtime" thread:
Keras is not safe to drive from several threads at once (data adapters fail,
tracing can deadlock), parallel jobs would only slow each other down on a
few cores, and TensorFlow's per-thread set-up is paid once instead of on
every run (a fresh thread per run trained about 10% slower here). Other
work (reading a dataset) gets a thread of its own. Every thread is a daemon,
so none blocks interpreter exit.

Worker threads never touch a QObject the GUI thread may delete: that is a
use-after-free which crashes or deadlocks the process at random. They hand
results over with `call_on_gui`, which posts a call through one process-wide
object that is never deleted; on the GUI thread the call runs only if its
receiver still exists. No QThread is created either: a Python-owned QThread
freed at the wrong moment aborts the process.
"""

from __future__ import annotations

import queue
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot

from gui import collection

# Every queued or running job (a Job, or another object with `join(timeout)`)
# and how to ask it to stop.
_LIVE: dict[Any, Callable[[], None] | None] = {}
_REGISTRY_LOCK = threading.Lock()
# How long a thread may hold the GIL while another waits for it. Python's 5 ms
# default lets the runtime thread's Python-heavy phases (building, tracing)
# delay every GUI event by up to 5 ms per handover; 1 ms keeps the window
# smooth and costs nothing while the GUI thread sleeps in its event loop.
GIL_SWITCH_SECONDS = 0.001


class _GuiThreadCalls(QObject):
    """Runs the calls that worker threads post, on the GUI thread (see call_on_gui)."""

    posted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()


# Created on the GUI thread by the first start_job, kept until the process ends.
_gui_calls: _GuiThreadCalls | None = None


def call_on_gui(receiver: QObject, function: Callable[..., None], *args: object) -> None:
    """Runs `function(*args)` on the GUI thread, unless `receiver` was deleted first.

    Safe from any thread. `receiver` must be owned by Qt (have a parent) or be
    held by the GUI, so that a worker thread never frees it.
    """
    if _gui_calls is None:
        raise RuntimeError("call_on_gui needs prepare_worker_threads() first")

    def call() -> None:
        if shiboken6.isValid(receiver):
            function(*args)

    try:
        _gui_calls.posted.emit(call)
    except RuntimeError:  # deleted as the interpreter exits: no window is left to tell
        pass


def emit_on_gui(sender: QObject, signal_name: str, *args: object) -> None:
    """Emits `sender`'s signal on the GUI thread (from any thread), if `sender` still exists."""
    call_on_gui(sender, lambda: getattr(sender, signal_name).emit(*args))


class Job:
    """One piece of background work; `join` waits for it like a thread's join."""

    def __init__(self, target: Callable[[], None], name: str, uses_runtime: bool) -> None:
        self.target = target
        self.name = name
        self.uses_runtime = uses_runtime
        self._finished = threading.Event()

    def run(self) -> None:
        if self.uses_runtime:
            collection.hold()
        try:
            self.target()
        except Exception:  # a job reports its own failures; never lose the runtime thread
            traceback.print_exc()
        finally:
            self.target = None
            with _REGISTRY_LOCK:
                _LIVE.pop(self, None)
            if self.uses_runtime:
                collection.release()
            self._finished.set()

    def is_alive(self) -> bool:
        """Whether it is queued or running."""
        return not self._finished.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Waits until it has run; returns whether it has."""
        return self._finished.wait(timeout)


class _RuntimeThread:
    """The daemon thread that runs TensorFlow jobs in the order they were started."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="runtime", daemon=True).start()

    def submit(self, job: Job) -> None:
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            self._jobs.get().run()


_runtime_thread: _RuntimeThread | None = None


def start_job(
    target: Callable[[], None],
    name: str,
    stop: Callable[[], None] | None = None,
    uses_runtime: bool = False,
) -> Job:
    """Runs `target` in the background, registered until it returns (call on the GUI thread).

    Args:
        target: The work; it must not touch widgets or other QObjects (it
            reports through `call_on_gui` or `emit_on_gui`).
        name: The thread's name when it gets its own (for debuggers).
        stop: Asks the work to end early (at application quit).
        uses_runtime: Whether it drives TensorFlow: it then runs on the
            runtime thread after the jobs started before it, with garbage
            collection paused (see gui.collection).
    """
    global _runtime_thread
    job = Job(target, name, uses_runtime)
    track_job(job, stop)
    if uses_runtime:
        if _runtime_thread is None:
            _runtime_thread = _RuntimeThread()
            sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
        _runtime_thread.submit(job)
    else:
        threading.Thread(target=job.run, name=name, daemon=True).start()
    return job


def prepare_worker_threads() -> None:
    """Readies the GUI thread for worker threads; call on it before starting one.

    After this, `call_on_gui` works, and garbage is collected on the GUI
    thread only (see gui.collection). start_job and track_job call it.
    """
    global _gui_calls
    if _gui_calls is None:
        _gui_calls = _GuiThreadCalls()
    collection.collect_on_gui_thread()


def track_job(job: Any, stop: Callable[[], None] | None) -> None:
    """Makes `stop_all_jobs` stop and join `job` (work that runs elsewhere, e.g. in a process).

    `job` needs a thread-safe `join(timeout)`; call `untrack_job` when it
    ends. Call on the GUI thread.
    """
    prepare_worker_threads()
    with _REGISTRY_LOCK:
        _LIVE[job] = stop


def untrack_job(job: Any) -> None:
    """Forgets a job given to `track_job` (safe from any thread, and twice)."""
    with _REGISTRY_LOCK:
        _LIVE.pop(job, None)


def stop_all_jobs(timeout_s: float = 30.0) -> None:
    """Asks every queued or running job to stop and waits for it (at application quit)."""
    with _REGISTRY_LOCK:
        live = list(_LIVE.items())
    for _job, stop in live:
        if stop is not None:
            stop()
    for job, _stop in live:
        job.join(timeout_s)
