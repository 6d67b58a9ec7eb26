"""Executing a run kind in the calling process: the one place that turns outcomes into events.

Every driver (the training process, the command line, tests) ends a run
through `execute_run`, so a kind's exceptions are reported the same way
everywhere: RunError as its message and node, RunStopped as a stop, any other
exception as one line naming its type (a library failure must never take the
driver down).
"""

from __future__ import annotations

from runtime.events import RunFailed, RunFinished
from runtime.runs.base import RunContext, RunError, RunRequest, RunStopped
from runtime.runs.registry import get_run_kind


def execute_run(request: RunRequest, context: RunContext) -> RunFinished | RunFailed:
    """Runs `request` with `context`; returns its outcome (never raises but for BaseException)."""
    try:
        kind = get_run_kind(request.kind)
    except KeyError as error:
        return RunFailed(request.kind, str(error.args[0]))
    try:
        result = kind.execute(request, context)
    except RunStopped:
        return RunFailed(request.kind, "Stopped by you before a result.", stopped_by_user=True)
    except RunError as error:
        return RunFailed(
            request.kind,
            error.message,
            error.node_id,
            context.stop_requested,
            exit_code=error.exit_code,
        )
    except Exception as error:
        lines = str(error).strip().splitlines()
        first = lines[0][:300] if lines else ""
        message = f"{kind.title or request.kind} failed: {type(error).__name__}: {first}"
        return RunFailed(request.kind, message.rstrip(": "))
    return RunFinished(request.kind, result, context.stop_requested)


def run_inline(request: RunRequest, on_event=None) -> RunFinished | RunFailed:
    """Executes `request` on the calling thread, handing events to `on_event` (tests, scripts)."""
    context = RunContext(on_event or (lambda _event: None))
    return execute_run(request, context)
