"""The training process: heavy runs in a child process, so a GUI never shares its GIL with Keras.

Keras drives every batch from Python. On a thread of the app's own process,
each millisecond the GUI thread spends drawing charts or handling a click is
a millisecond the training thread waits for the GIL: runs in the app came out
5-12% slower than a plain `model.fit`, and the window stalled whenever Keras
held the GIL. A child process has its own interpreter, so the two share only
the CPU.

One child serves a whole session. `start()` spawns it ahead of time (it
imports TensorFlow at once); it then executes the runs it is sent, in order,
whatever their kind (runtime.runs: the child looks the kind up in the registry):

    parent -> child: ("run", run_id, RunRequest), ("stop" | "pause" | "resume", run_id),
                     ("quit",)
    child -> parent: (run_id, list[BatchEnd]), (run_id, event), and last
                     (run_id, RunFinished | RunFailed)

Batch events travel together, at most every `flush_seconds`; every other event
at once. Results are plain data: a training run hands back the trained weights
(with what the model learned besides them: runtime/learned_state.py) instead
of the model (a Keras model does not cross processes cheaply), and
`rebuild_model` makes the model again from the graph and the weights, where
and when it is needed.

If the child dies (a crash inside TensorFlow, the system killing it for
memory), each run it had ends with a RunFailed that says so, and the next run
starts a new child: the caller and its graph are unaffected. The child ignores
Ctrl-C: a terminal's interrupt reaches the whole process group, and it is the
parent's to decide what a Ctrl-C means.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import is_dataclass, replace
from pathlib import Path
from typing import Any

from graph.files import graph_to_yaml
from runtime.events import BatchEnd, RunFailed, RunFinished
from runtime.runs.base import RunContext, RunRequest

FLUSH_SECONDS = 0.25

Listener = Callable[[object], None]


def rebuild_model(graph: Any, dataset: Any, weights: list) -> Any:
    """The trained keras.Model again: built from `graph`, compiled for `dataset`, `weights` set.

    `weights` is a `runtime.learned_state.trained_weights` list: vocabularies
    and bin edges learned from the data come back with it, without adapting.
    """
    from runtime.builder import build_model
    from runtime.compile import compile_model
    from runtime.learned_state import set_trained_weights

    model = build_model(graph)
    compile_model(model, graph, dataset)
    set_trained_weights(model, weights)
    return model


# The parent side ---------------------------------------------------------------------


def _ignore(_event: object) -> None:
    """The listener of a run that has ended."""


class RemoteRun:
    """A run sent to the training process. Control it from any thread.

    `on_event` is called on the process's reader thread with lists of
    BatchEnd, with the run's other events, and last with RunFinished or RunFailed.
    """

    def __init__(
        self, process: TrainingProcess, run_id: int, kind: str, on_event: Listener, child: Any
    ) -> None:
        self.run_id = run_id
        self.kind = kind
        self._process = process
        self._on_event = on_event
        self._child = child  # the child process it was sent to
        self._finished = threading.Event()

    def stop(self) -> None:
        """Ends the run at its next safe point (also before it started, or while paused)."""
        self._process._send(("stop", self.run_id))

    def pause(self) -> None:
        self._process._send(("pause", self.run_id))

    def resume(self) -> None:
        self._process._send(("resume", self.run_id))

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Waits for the outcome to have been handed to `on_event`; returns whether it was."""
        return self._finished.wait(timeout)

    def _deliver(self, payload: object) -> None:
        try:
            self._on_event(payload)
        finally:
            if isinstance(payload, (RunFinished, RunFailed)):
                # The listener is done with: the reader thread must not keep
                # (and later be the one to free) whatever the listener holds,
                # such as a Qt object of the caller's.
                self._on_event = _ignore
                self._finished.set()


class TrainingProcess:
    """The child process that executes heavy runs, and the parent's end of its two pipes.

    Thread-safe. The child is spawned (never forked: a forked copy of a
    process running Qt and TensorFlow threads is unsafe) and is a daemon, so
    it never outlives the parent.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Any = None
        self._requests: Any = None
        self._runs: dict[int, RemoteRun] = {}
        self._next_id = 1

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        """The child's process id, while there is a child."""
        process = self._process
        return None if process is None else process.pid

    def start(self) -> None:
        """Spawns the child unless it is running; it imports TensorFlow straight away."""
        with self._lock:
            self._start_locked()

    def start_run(
        self, request: RunRequest, on_event: Listener, flush_seconds: float = FLUSH_SECONDS
    ) -> RemoteRun:
        """Sends `request` to be executed in the child; returns at once.

        Args:
            request: The run (its graph is YAML text: later edits do not reach it).
            on_event: Receives the run's events on the reader thread (see RemoteRun).
            flush_seconds: Longest time batch events wait before being sent.
        """
        with self._lock:
            self._start_locked()
            run = RemoteRun(self, self._next_id, request.kind, on_event, self._process)
            self._next_id += 1
            self._runs[run.run_id] = run
            # If the child is dying, the reader fails this run with the others.
            self._send_locked(("run", run.run_id, request, flush_seconds))
        return run

    def train(
        self,
        graph: Any,
        base_dir: Path | None,
        on_event: Listener,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> RemoteRun:
        """Sends `graph` (a NetworkGraph) to be trained (the "train" run kind)."""
        request = RunRequest("train", graph_to_yaml(graph), base_dir)
        return self.start_run(request, on_event, flush_seconds)

    def close(self, timeout: float = 1.0) -> None:
        """Asks the child to quit (its run stopped first); ends it if it has not within `timeout`.

        Nothing in the child needs saving, so an app that quits does not wait
        for a run's last batch or for TensorFlow to finish loading.
        """
        with self._lock:
            process = self._process
            if process is None:
                return
            for run_id in list(self._runs):
                self._send_locked(("stop", run_id))
            self._send_locked(("quit",))
            self._process = None
        process.join(timeout)
        if process.is_alive():
            process.terminate()
            process.join(timeout)

    def _start_locked(self) -> None:
        if self.alive:
            return
        context = multiprocessing.get_context("spawn")
        child_requests, requests = context.Pipe(duplex=False)
        events, child_events = context.Pipe(duplex=False)
        process = context.Process(
            target=_serve,
            args=(child_requests, child_events),
            name="deepwire-training",
            daemon=True,
        )
        process.start()
        # Only the child holds these ends now, so its death reads as end-of-file.
        child_requests.close()
        child_events.close()
        self._process, self._requests = process, requests
        threading.Thread(
            target=self._read, args=(process, events), name="training-events", daemon=True
        ).start()

    def _send(self, message: tuple) -> None:
        with self._lock:
            self._send_locked(message)

    def _send_locked(self, message: tuple) -> None:
        if self._process is None:
            return
        try:
            self._requests.send(message)
        except OSError:
            pass  # the child is gone; its reader reports the runs it had

    def _read(self, process: Any, events: Any) -> None:
        """The reader thread: hands each event to its run until the child ends."""
        while True:
            try:
                run_id, payload = events.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                run = self._runs.get(run_id)
                if isinstance(payload, (RunFinished, RunFailed)):
                    self._runs.pop(run_id, None)
            if run is not None:
                run._deliver(payload)
        events.close()
        process.join(5.0)
        with self._lock:
            if self._process is process:
                self._process = None
            orphans = [run for run in self._runs.values() if run._child is process]
            for run in orphans:
                del self._runs[run.run_id]
        message = (
            f"The training process stopped unexpectedly (exit code {process.exitcode}), "
            "perhaps out of memory or a crash inside TensorFlow. The app and your graph "
            "are fine: try again, or try a smaller batch size or model."
        )
        for run in orphans:
            run._deliver(RunFailed(run.kind, message, interrupted=True))


_shared: TrainingProcess | None = None


def shared_training_process() -> TrainingProcess:
    """The session's one training process (not started until asked)."""
    global _shared
    if _shared is None:
        _shared = TrainingProcess()
    return _shared


# The child side ----------------------------------------------------------------------


def _serve(requests: Any, events: Any) -> None:
    """The child's main function: executes the runs it is sent, one after another."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import runtime.trainer  # noqa: F401  (TensorFlow loads now, before the first run asks)

    runs: dict[int, _ChildRun] = {}
    queued: queue.SimpleQueue[_ChildRun | None] = queue.SimpleQueue()

    def listen() -> None:
        # Control messages must get through while the main thread works.
        while True:
            try:
                message = requests.recv()
            except (EOFError, OSError):  # the parent is gone
                message = ("quit",)
            kind = message[0]
            if kind == "run":
                _, run_id, request, flush_seconds = message
                run = runs[run_id] = _ChildRun(run_id, request, flush_seconds, events.send)
                queued.put(run)
            elif kind == "quit":
                queued.put(None)
                return
            elif (run := runs.get(message[1])) is not None:
                getattr(run.context, kind)()

    threading.Thread(target=listen, name="requests", daemon=True).start()
    # Building and tracing a model leaves thousands of cyclic objects; automatic
    # collections would walk them again and again mid-run. Collect once after
    # each run instead, while the child waits for the next one.
    gc.disable()
    while (run := queued.get()) is not None:
        run.run()
        runs.pop(run.run_id, None)
        del run
        gc.collect()


class _ChildRun:
    """One run in the child: executes its kind and sends its events and outcome."""

    def __init__(
        self,
        run_id: int,
        request: RunRequest,
        flush_seconds: float,
        send: Callable[[object], None],
    ) -> None:
        self.run_id = run_id
        self.request = request
        self.flush_seconds = flush_seconds
        self._send = send
        self.context = RunContext(self._on_event)
        self._pending: list[BatchEnd] = []
        self._last_flush = 0.0

    def run(self) -> None:
        """Executes the run and sends its outcome (never raises)."""
        from runtime.runs.local import execute_run

        try:
            outcome = execute_run(self.request, self.context)
        finally:
            self._flush()
        try:
            self._send((self.run_id, outcome))
        except Exception as error:  # a result that does not pickle must still end the run
            message = f"{self.request.kind}: its result could not be sent back ({error})"
            self._send((self.run_id, RunFailed(self.request.kind, message)))

    def _on_event(self, event: object) -> None:
        # Called by Keras after every batch: keep this to an append and a clock read.
        if type(event) is BatchEnd:
            self._pending.append(event)
            now = time.monotonic()
            if now - self._last_flush >= self.flush_seconds:
                self._flush(now)
        else:
            self._flush()
            self._send((self.run_id, _plain_logs(event)))

    def _flush(self, now: float | None = None) -> None:
        self._last_flush = time.monotonic() if now is None else now
        if self._pending:
            pending, self._pending = self._pending, []
            self._send((self.run_id, [_plain_logs(event) for event in pending]))


def _plain_logs(event: Any) -> Any:
    """`event` with its logs as Python floats (Keras may hand over NumPy or tensor values)."""
    logs = getattr(event, "logs", None)
    if not isinstance(logs, dict) or not is_dataclass(event):
        return event
    return replace(event, logs={name: float(value) for name, value in logs.items()})
