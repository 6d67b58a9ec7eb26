"""The command line's one way to drive a run: progress on stderr, and Ctrl-C that means something.

Ctrl-C once asks the run to stop at its next safe point (a training run keeps
what it learned) and says so; Ctrl-C again exits at once with code 130. Never a
traceback. The run executes on a worker thread while the main thread waits on an
Event: `Thread.join()` interrupted by Ctrl-C on CPython 3.11/3.12 can mark a
still-running thread as finished, so the wait would end before the result.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

from runtime.events import LogLine, RunFailed, RunFinished
from runtime.runs.base import RunContext, RunRequest

EXIT_INTERRUPTED = 130
POLL_SECONDS = 0.2


def drive(
    request: RunRequest,
    on_event: Callable[[object], None] | None = None,
    quiet: bool = False,
    journal=None,
) -> RunFinished | RunFailed:
    """Executes `request` in this process, handing its events to `on_event` (on the worker thread).

    LogLine events are printed to stderr. With `quiet`, no event is printed or
    handed on; Ctrl-C messages still are. With `journal`
    (runtime.runs.recording.RunJournal), the run is recorded in the run history.
    """
    from runtime.runs.local import execute_run

    recording = journal.begin(request) if journal is not None else None

    def emit(event: object) -> None:
        if recording is not None:
            recording.observe(event)
        if quiet:
            return
        if isinstance(event, LogLine):
            print(event.text, file=sys.stderr)
        if on_event is not None:
            on_event(event)

    context = RunContext(emit)
    outcome: list[RunFinished | RunFailed] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(execute_run(request, context))
        finally:
            done.set()

    threading.Thread(target=work, name=f"run-{request.kind}", daemon=True).start()
    # While a run goes, Ctrl-C is a KeyboardInterrupt here (main.py exits at once otherwise).
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if on_main_thread else None
    try:
        _wait(done, context)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    ended = (
        outcome[0] if outcome else RunFailed(request.kind, f"{request.kind} ended without a result")
    )
    if journal is not None:
        journal.end(recording, ended)
    return ended


def _wait(done: threading.Event, context: RunContext) -> None:
    while True:
        try:
            if done.wait(POLL_SECONDS):
                break
        except KeyboardInterrupt:
            # From here on a Ctrl-C exits in its handler: a KeyboardInterrupt raised
            # while this message prints would end in a traceback.
            signal.signal(signal.SIGINT, _exit_at_once)
            print(
                "\ninterrupted: stopping at the next safe point and keeping what was done "
                "(Ctrl-C again to exit at once)",
                file=sys.stderr,
            )
            context.stop()


def _exit_at_once(_signum, _frame) -> None:
    print("\ninterrupted twice: exiting now", file=sys.stderr)
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)
