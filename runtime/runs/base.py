"""The run abstraction: one way to execute every long piece of work.

A run has a *kind* (training, tuning, evaluation, explanation, federated,
continual, compression, export, ...), a *request* (the graph snapshot as our
YAML text plus plain options), *events* it emits while it works, and stop /
pause / resume controls. Run kinds are classes registered in
`runtime.runs.registry`; drivers execute them the same way everywhere: in the
training process for the app (`runtime.training_process`), on a worker thread
for the command line (`runtime.cli.loop`), or inline in tests
(`runtime.runs.local.run_inline`).

Everything that crosses a process boundary is plain and picklable: requests,
events and results hold Python values, NumPy arrays and frozen dataclasses,
never Keras objects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from graph.cli.exit_codes import EXIT_INVALID

Emit = Callable[[object], None]


@dataclass(frozen=True)
class RunRequest:
    """What a run needs, as plain data.

    Attributes:
        kind: The registered run kind's name ("train", "explain", ...).
        graph_yaml: The graph snapshot in DeepWire's YAML format (later edits
            of the document do not reach the run).
        base_dir: The folder relative data paths start from, or None.
        options: The kind's own options: plain, picklable values only.
    """

    kind: str
    graph_yaml: str
    base_dir: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def graph(self) -> Any:
        """The request's graph as a NetworkGraph (parsed anew at each call)."""
        from graph.files import graph_from_yaml

        return graph_from_yaml(self.graph_yaml)


class RunError(Exception):
    """Ends a run with a message for the user (no traceback) and the node at fault.

    Args:
        message: What went wrong and what to try, Keras-style ("Received: ...").
        node_id: The graph node at fault, when there is one.
        exit_code: What a command exits with (graph.cli.exit_codes): EXIT_INVALID
            for invalid input or a failed run, EXIT_BAD_FILE when a file the
            request names cannot be read or is not what was expected.
    """

    def __init__(
        self, message: str, node_id: str | None = None, exit_code: int = EXIT_INVALID
    ) -> None:
        super().__init__(message)
        self.message = message
        self.node_id = node_id
        self.exit_code = exit_code


class RunStopped(Exception):  # noqa: N818 - a stop the user asked for, not an error
    """Raised by `RunContext.checkpoint()` when the user asked the run to stop.

    A kind that can keep a partial result catches it and returns that result
    (marked as stopped); otherwise the driver reports the run as stopped.
    """


class RunContext:
    """What a running kind gets: a way to emit events and to honour the controls.

    `stop`, `pause` and `resume` are called by the driver from another thread;
    the kind calls `emit` and, at points where it can safely wait or end
    (a round, a task, a trial, a batch of samples), `checkpoint()`. Kinds that
    hand control to something with its own controls (a Keras `fit` behind a
    `Trainer`) register it with `on_control` and are forwarded every call.
    """

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._controlled: list[Any] = []

    def emit(self, event: object) -> None:
        """Sends `event` (a plain, picklable object) to whoever drives the run."""
        self._emit(event)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def checkpoint(self) -> None:
        """Waits while paused; raises RunStopped once a stop was asked for."""
        self._running.wait()
        if self._stop.is_set():
            raise RunStopped

    def on_control(self, target: Any) -> None:
        """Forwards stop / pause / resume to `target` (an object with those methods).

        If the run was already stopped or paused, `target` is told at once.
        """
        with self._lock:
            self._controlled.append(target)
            if self._stop.is_set():
                target.stop()
            elif not self._running.is_set():
                target.pause()

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            self._running.set()  # a paused run must wake up to end
            for target in self._controlled:
                target.stop()

    def pause(self) -> None:
        with self._lock:
            if not self._stop.is_set():
                self._running.clear()
                for target in self._controlled:
                    target.pause()

    def resume(self) -> None:
        with self._lock:
            self._running.set()
            for target in self._controlled:
                target.resume()


class RunKind:
    """A kind of run. Subclass, set `name`, implement `execute`, and register it.

    Attributes:
        name: The kind's name in requests, e.g. "explain".
        title: How the user sees it ("Explanation").
        heavy: True when the app executes it in the training process (it
            trains or computes for long); False for short work the app may run
            on its runtime thread.
        uses_tensorflow: For a light kind: whether it drives TensorFlow (it
            then waits its turn on the app's runtime thread); one that does
            not (reading a dataset) gets a thread of its own and never waits
            behind TensorFlow's import.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    heavy: ClassVar[bool] = True
    uses_tensorflow: ClassVar[bool] = True

    def execute(self, request: RunRequest, context: RunContext) -> Any:
        """Does the work, emitting events on `context`; returns a picklable result.

        Raises:
            RunError: for a failure the user can act on (the driver reports it).
            RunStopped: when the user stopped it and there is no partial result.
        """
        raise NotImplementedError
