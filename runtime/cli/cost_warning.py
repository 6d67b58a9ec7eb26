"""The memory check commands run before training (a helper, not a command)."""

from __future__ import annotations

import sys

from graph.model import NetworkGraph
from runtime.cli.common import CommandError
from runtime.cost_estimate import check_training_memory
from runtime.data import Dataset


def warn_about_memory(graph: NetworkGraph, dataset: Dataset | None = None) -> None:
    """Prints a warning when training would take over half the memory; refuses over all of it.

    Raises:
        CommandError: when the estimate exceeds this machine's memory.
    """
    verdict = check_training_memory(graph, dataset)
    if verdict.severity == "error":
        raise CommandError(f"training refused: {verdict.message}")
    if verdict.severity == "warning":
        print(f"warning: {verdict.message}", file=sys.stderr)
