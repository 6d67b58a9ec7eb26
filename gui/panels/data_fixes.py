"""Which of the data check's structured fixes (runtime.data_check) really work.

A fix is offered only if applying it to a copy of the graph makes its
problem go away, so a fix offered is a fix that works.
"""

from __future__ import annotations

from collections.abc import Callable

from graph.fixes import Fix
from graph.model import Batch, Command, GraphError, NetworkGraph
from graph.params import ParamError
from graph.validation import Problem


def working_fix(
    graph: NetworkGraph, problem: Problem, check: Callable[[NetworkGraph], list[Problem]]
) -> Fix | None:
    """The first of `problem`'s fixes that removes it from a copy of `graph`, or None.

    Args:
        graph: The edited graph (left unchanged).
        problem: A problem `check(graph)` reported.
        check: Runs the data check on a graph (runtime.data_check.check_data
            bound to the loaded dataset).
    """
    for fix in problem.fixes:
        trial = graph.copy()
        try:
            trial.apply(fix.command(trial))
            remaining = check(trial)
        except (GraphError, ParamError, ValueError):
            continue
        if not any(p.message == problem.message for p in remaining):
            return fix
    return None


def all_fixes_command(graph: NetworkGraph, fixes: list[Fix]) -> Command:
    """One undo step that applies every fix in `fixes`, in order."""
    return Batch([fix.command(graph) for fix in fixes], f"Apply {len(fixes)} fixes")
