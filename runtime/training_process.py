"""Training in a child process, so that a GUI never shares its GIL with Keras.

Keras drives every batch from Python. On a thread of the app's own process,
each millisecond the GUI thread spends drawing charts or handling a click is
a millisecond the training thread waits for the GIL: runs in the app came out
5-12% slower than a plain `model.fit`, and the window stalled whenever Keras
held the GIL. A child process has its own interpreter, so the two share only
the CPU.

One child serves a whole session. `start()` spawns it ahead of time (it
imports TensorFlow at once); it then trains the runs it is sent, in order:

    parent -> child: ("train", run_id, RunRequest), ("stop" | "pause" | "resume", run_id),
                     ("quit",)
    child -> parent: (run_id, list[BatchEnd]), (run_id, EpochEnd), (run_id, TrainingOutcome)

Batch events travel together, at most every `flush_seconds`. The outcome
carries the trained weights instead of the model (a Keras model does not
cross processes cheaply); `rebuild_model` makes the model again from the
graph and the weights, where and when it is needed.

If the child dies (a crash inside TensorFlow, the system killing it for
memory), each run it had ends with a TrainingFailed that says so, and the
next run starts a new child: the caller and its graph are unaffected.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from graph.files import graph_from_yaml, graph_to_yaml
from runtime.events import BatchEnd, EpochEnd, TrainingFailed

FLUSH_SECONDS = 0.25

Listener = Callable[[object], None]


@dataclass(frozen=True)
class RunRequest:
    """What the child needs for one run: the graph as YAML text, and where its data lives."""

    graph_yaml: str
    base_dir: Path | None
    flush_seconds: float = FLUSH_SECONDS


@dataclass(frozen=True)
class TrainingOutcome:
    """How a run ended.

    Attributes:
        result: runtime.events.TrainingFinished (its `model` is None: see
            `weights`) or TrainingFailed.
        dataset: The loaded runtime.data.Dataset, or None when loading failed.
        diagnosis: The under/overfitting reading of the history ("" on failure).
        weights: The trained model's weights (model.get_weights()), or None.
    """

    result: Any
    dataset: Any = None
    diagnosis: str = ""
    weights: list | None = None


def rebuild_model(graph: Any, dataset: Any, weights: list) -> Any:
    """The trained keras.Model again: built from `graph`, compiled for `dataset`, `weights` set."""
    from runtime.builder import build_model
    from runtime.compile import compile_model

    model = build_model(graph)
    compile_model(model, graph, dataset)
    model.set_weights(weights)
    return model


# The parent side ---------------------------------------------------------------------


def _ignore(_event: object) -> None:
    """The listener of a run that has ended."""


class RemoteRun:
    """A run sent to the training process. Control it from any thread.

    `on_event` is called on the process's reader thread with lists of
    BatchEnd, with EpochEnd, and last with the TrainingOutcome.
    """

    def __init__(
        self, process: TrainingProcess, run_id: int, on_event: Listener, child: Any
    ) -> None:
        self.run_id = run_id
        self._process = process
        self._on_event = on_event
        self._child = child  # the child process it was sent to
        self._finished = threading.Event()

    def stop(self) -> None:
        """Ends training after the current batch (also before it started, or while paused)."""
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
            if isinstance(payload, TrainingOutcome):
                # The listener is done with: the reader thread must not keep
                # (and later be the one to free) whatever the listener holds,
                # such as a Qt object of the caller's.
                self._on_event = _ignore
                self._finished.set()


class TrainingProcess:
    """The child process that trains, and the parent's end of its two pipes.

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

    def train(
        self,
        graph: Any,
        base_dir: Path | None,
        on_event: Listener,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> RemoteRun:
        """Sends `graph` (a NetworkGraph) to be trained; returns at once.

        Args:
            graph: What to train (sent as YAML text: later edits do not reach it).
            base_dir: Folder relative dataset paths start from.
            on_event: Receives the run's events on the reader thread (see RemoteRun).
            flush_seconds: Longest time batch events wait before being sent.
        """
        request = RunRequest(graph_to_yaml(graph), base_dir, flush_seconds)
        with self._lock:
            self._start_locked()
            run = RemoteRun(self, self._next_id, on_event, self._process)
            self._next_id += 1
            self._runs[run.run_id] = run
            # If the child is dying, the reader fails this run with the others.
            self._send_locked(("train", run.run_id, request))
        return run

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
                if isinstance(payload, TrainingOutcome):
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
            run._deliver(TrainingOutcome(TrainingFailed(message)))


_shared: TrainingProcess | None = None


def shared_training_process() -> TrainingProcess:
    """The session's one training process (not started until asked)."""
    global _shared
    if _shared is None:
        _shared = TrainingProcess()
    return _shared


# The child side ----------------------------------------------------------------------


def _serve(requests: Any, events: Any) -> None:
    """The child's main function: trains the runs it is sent, one after another."""
    import runtime.trainer  # noqa: F401  (TensorFlow loads now, before the first run asks)

    runs: dict[int, _ChildRun] = {}
    queued: queue.SimpleQueue[_ChildRun | None] = queue.SimpleQueue()

    def listen() -> None:
        # Control messages must get through while the main thread trains.
        while True:
            try:
                message = requests.recv()
            except (EOFError, OSError):  # the parent is gone
                message = ("quit",)
            kind = message[0]
            if kind == "train":
                run = runs[message[1]] = _ChildRun(message[1], message[2], events.send)
                queued.put(run)
            elif kind == "quit":
                queued.put(None)
                return
            elif (run := runs.get(message[1])) is not None:
                getattr(run, kind)()

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
    """One run in the child: loads the data, trains, and sends events and the outcome."""

    def __init__(self, run_id: int, request: RunRequest, send: Callable[[object], None]) -> None:
        self.run_id = run_id
        self.request = request
        self._send = send
        self._lock = threading.Lock()
        self._trainer: Any = None
        self._stop_requested = False
        self._pause_requested = False
        self._pending: list[BatchEnd] = []
        self._last_flush = 0.0

    def stop(self) -> None:
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

    def run(self) -> None:
        """Trains and sends the outcome (never raises)."""
        dataset = None
        try:
            from runtime.data import DataError, load_dataset
            from runtime.trainer import Trainer

            graph = graph_from_yaml(self.request.graph_yaml)
            try:
                dataset = load_dataset(graph.dataset, self.request.base_dir)
            except DataError as error:
                self._send_outcome(TrainingOutcome(TrainingFailed(f"Data: {error}")))
                return
            trainer = Trainer(graph, dataset, on_event=self._on_event)
            with self._lock:
                self._trainer = trainer
                if self._stop_requested:
                    trainer.stop()
                elif self._pause_requested:
                    trainer.pause()
            result = trainer.run()
            self._flush()
            outcome = TrainingOutcome(result, dataset)
            if hasattr(result, "model"):
                from runtime.evaluation import diagnose_run

                outcome = TrainingOutcome(
                    replace(result, model=None),
                    dataset,
                    diagnose_run(result.history, result.model, dataset),
                    result.model.get_weights(),
                )
            self._send_outcome(outcome)
        except Exception as error:  # a Keras or library failure must not end the child
            self._flush()
            text = str(error).strip().splitlines()
            message = f"Training failed: {type(error).__name__}: {text[0] if text else ''}"
            self._send_outcome(TrainingOutcome(TrainingFailed(message.rstrip(": ")), dataset))
        finally:
            with self._lock:
                self._trainer = None

    def _on_event(self, event: object) -> None:
        # Called by Keras after every batch: keep this to an append and a clock read.
        if type(event) is BatchEnd:
            self._pending.append(event)
            now = time.monotonic()
            if now - self._last_flush >= self.request.flush_seconds:
                self._flush(now)
        elif type(event) is EpochEnd:
            self._flush()
            self._send((self.run_id, _plain_logs(event)))

    def _flush(self, now: float | None = None) -> None:
        self._last_flush = time.monotonic() if now is None else now
        if self._pending:
            pending, self._pending = self._pending, []
            self._send((self.run_id, [_plain_logs(event) for event in pending]))

    def _send_outcome(self, outcome: TrainingOutcome) -> None:
        self._send((self.run_id, outcome))


def _plain_logs(event: Any) -> Any:
    """`event` with its logs as Python floats (Keras may hand over NumPy or tensor values)."""
    return replace(event, logs={name: float(value) for name, value in event.logs.items()})
