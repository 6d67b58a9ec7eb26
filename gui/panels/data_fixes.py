"""One-click fixes for the data-to-graph check (runtime.data_check).

Each problem's message ends with what to change, e.g. "set units=10 and
activation=softmax" or "set loss=auto". That suggestion is turned into a
command on the node at fault (or the training settings), and kept only if
applying it to a copy of the graph makes the problem go away, so a fix
offered is a fix that works.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from graph.catalog import CATALOG
from graph.model import Batch, Command, NetworkGraph, SetParams, SetSettings
from graph.settings import TRAINING_PARAMS
from graph.validation import Problem

_SUGGESTION = re.compile(r"\bset ((?:\w+=(?:\[[^\]]*\]|[^\s,;:()\[\]]+)(?:,? and |, )?)+)")
_ASSIGNMENT = re.compile(r"(\w+)=(\[[^\]]*\]|[^\s,;:()\[\]]+)")
_TRAINING_NAMES = {param.name for param in TRAINING_PARAMS}


@dataclass(frozen=True)
class DataFix:
    """A fix for one problem.

    Attributes:
        text: What it does, e.g. "dense_2: units=10, activation=softmax".
        command: The undoable command that does it.
    """

    text: str
    command: Command


def _value(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def suggested_fix(graph: NetworkGraph, problem: Problem) -> DataFix | None:
    """The fix `problem`'s message suggests, as a command, or None when it names none."""
    match = _SUGGESTION.search(problem.message)
    if match is None:
        return None
    changes = {key: _value(raw) for key, raw in _ASSIGNMENT.findall(match.group(1))}
    node = graph.node(problem.node_id) if problem.node_id in graph else None
    node_params = {p.name for p in CATALOG[node.type].params} if node is not None else set()
    node_changes = {k: v for k, v in changes.items() if k in node_params}
    setting_changes = {
        k: v for k, v in changes.items() if k not in node_changes and k in _TRAINING_NAMES
    }
    if len(node_changes) + len(setting_changes) != len(changes):
        return None
    commands: list[Command] = []
    parts = []
    if node_changes:
        commands.append(SetParams(node.id, node_changes))
        parts.append(f"{node.name}: " + ", ".join(f"{k}={v}" for k, v in node_changes.items()))
    if setting_changes:
        commands.append(SetSettings("training", setting_changes))
        parts.append("training: " + ", ".join(f"{k}={v}" for k, v in setting_changes.items()))
    return DataFix("; ".join(parts), Batch(commands, "Fix data mismatch"))


def working_fix(
    graph: NetworkGraph, problem: Problem, check: Callable[[NetworkGraph], list[Problem]]
) -> DataFix | None:
    """The suggested fix, if applying it to a copy of `graph` removes `problem`.

    Args:
        graph: The edited graph (left unchanged).
        problem: A problem `check(graph)` reported.
        check: Runs the data check on a graph (runtime.data_check.check_data
            bound to the loaded dataset).
    """
    fix = suggested_fix(graph, problem)
    if fix is None:
        return None
    trial = graph.copy()
    try:
        trial.apply(fix.command)
        remaining = check(trial)
    except ValueError:
        return None
    if any(p.message == problem.message for p in remaining):
        return None
    return fix
