"""Runs: every long piece of work, executed the same way by the app, the CLI and tests."""

from runtime.runs.base import RunContext, RunError, RunKind, RunRequest, RunStopped
from runtime.runs.registry import get_run_kind, register_run_kind, run_kind_names

__all__ = [
    "RunContext",
    "RunError",
    "RunKind",
    "RunRequest",
    "RunStopped",
    "get_run_kind",
    "register_run_kind",
    "run_kind_names",
]
