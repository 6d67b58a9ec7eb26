"""Fixes as data: what to change, on which node, to make a problem go away.

Validation (graph.validation) and the data check (runtime.data_check) attach
a :class:`Fix` to each problem whose remedy is known; views offer it as a
button and apply it as one undoable command (:meth:`Fix.command`), without
reading the problem's English.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from graph.catalog import layer_type
from graph.model import (
    AddEdge,
    AddNode,
    Batch,
    Command,
    Edge,
    GraphError,
    MoveNodes,
    NetworkGraph,
    RemoveEdge,
    RenameNode,
    SetParams,
    SetSettings,
)
from graph.params import ParamError

if TYPE_CHECKING:  # validation imports this module
    from graph.validation import Problem


@dataclass(frozen=True)
class SetNodeParams:
    """Set some parameters of one node."""

    node_id: str
    values: Mapping[str, Any] = field(hash=False)


@dataclass(frozen=True)
class SetSectionValues:
    """Set some settings of one section (graph.settings.SECTIONS), e.g. training's loss."""

    section: str
    values: Mapping[str, Any] = field(hash=False)


@dataclass(frozen=True)
class RenameTo:
    """Give one node another name."""

    node_id: str
    name: str


@dataclass(frozen=True)
class InsertBefore:
    """Insert a new layer on the edge that feeds `node_id`'s input `port`."""

    node_id: str
    type_name: str
    params: Mapping[str, Any] = field(hash=False)
    port: int = 0


@dataclass(frozen=True)
class InsertAfter:
    """Insert a chain of new layers between `node_id` and every layer it feeds.

    `layers`: (type, params) of each, in order; what followed the node moves right
    to make room.
    """

    node_id: str
    layers: tuple[tuple[str, Mapping[str, Any]], ...] = field(hash=False)


Change = SetNodeParams | SetSectionValues | RenameTo | InsertBefore | InsertAfter

# How far left of the node it feeds an inserted layer lands.
_INSERT_OFFSET = 120.0
# How far apart the layers of an inserted chain land.
_CHAIN_SPACING = 220.0


@dataclass(frozen=True)
class Fix:
    """A remedy for one problem.

    Attributes:
        text: What it does, for a button: "Set input_1 shape to (8, 8, 1)".
        changes: The changes, applied together as one undo step.
    """

    text: str
    changes: tuple[Change, ...]

    def command(self, graph: NetworkGraph) -> Command:
        """The undoable command that applies the fix to `graph`.

        Raises:
            GraphError: a node the fix names is no longer in `graph`.
        """
        commands: list[Command] = []
        for change in self.changes:
            if isinstance(change, SetNodeParams):
                graph.node(change.node_id)
                commands.append(SetParams(change.node_id, dict(change.values)))
            elif isinstance(change, SetSectionValues):
                commands.append(SetSettings(change.section, dict(change.values)))
            elif isinstance(change, RenameTo):
                commands.append(RenameNode(change.node_id, change.name))
            elif isinstance(change, InsertAfter):
                commands += _chain_commands(graph, change)
            else:
                commands += _insert_commands(graph, change)
        return Batch(commands, self.text)


def _insert_commands(graph: NetworkGraph, change: InsertBefore) -> list[Command]:
    target = graph.node(change.node_id)
    feeding = [edge for edge in graph.in_edges(target.id) if edge.port == change.port]
    x, y = target.position
    node = graph.new_node(change.type_name, params=change.params, position=(x - _INSERT_OFFSET, y))
    if not feeding:
        return [AddNode(node, (Edge(node.id, target.id, change.port),))]
    edge = feeding[0]
    source = graph.node(edge.source)
    node.position = ((source.position[0] + x) / 2, (source.position[1] + y) / 2)
    return [
        RemoveEdge(edge),
        AddNode(
            node,
            (
                Edge(edge.source, node.id, 0, edge.source_port),
                Edge(node.id, target.id, change.port),
            ),
        ),
    ]


def _chain_commands(graph: NetworkGraph, change: InsertAfter) -> list[Command]:
    source = graph.node(change.node_id)
    x, y = source.position
    taken: set[str] = set()
    chain = []
    for index, (type_name, params) in enumerate(change.layers, start=1):
        name = graph.unique_name(layer_type(type_name).name_prefix, taken)
        taken.add(name)
        position = (x + index * _CHAIN_SPACING, y)
        chain.append(graph.new_node(type_name, name, params, position))
    moved = [edge for edge in graph.out_edges(source.id) if edge.source_port == 0]
    shift = len(chain) * _CHAIN_SPACING
    following = {
        node_id: (graph.node(node_id).position[0] + shift, graph.node(node_id).position[1])
        for node_id in nx.descendants(graph.nx_graph, source.id)
    }
    commands: list[Command] = [RemoveEdge(edge) for edge in moved]
    previous = source.id
    for node in chain:
        commands.append(AddNode(node, (Edge(previous, node.id),)))
        previous = node.id
    commands += [AddEdge(Edge(previous, edge.target, edge.port)) for edge in moved]
    if following:
        commands.append(MoveNodes(following))
    return commands


def shape_text(shape: tuple[int, ...]) -> str:
    """(8, 8, 1) or (64,) as Python prints a tuple."""
    return str(tuple(shape))


def shape_of_rank(size: int, rank: int) -> tuple[int, ...] | None:
    """A sample shape of `rank` dimensions (batch excluded) holding `size` values, or None.

    Square images with one channel for rank 3 ((64,) -> (8, 8, 1)), one
    feature per step for rank 2 ((64,) -> (64, 1)).
    """
    if rank == 1:
        return (size,)
    if rank == 2:
        return (size, 1)
    if rank == 3:
        side = math.isqrt(size)
        return (side, side, 1) if side * side == size else None
    return None


def _value_text(value: Any) -> str:
    return shape_text(value) if isinstance(value, (tuple, list)) else str(value)


def set_params_fix(node_id: str, node_name: str, values: Mapping[str, Any]) -> Fix:
    """A fix that sets some parameters of one node, described as "dense_2: units=10, ..."."""
    shown = ", ".join(f"{name}={_value_text(value)}" for name, value in values.items())
    return Fix(f"{node_name}: {shown}", (SetNodeParams(node_id, dict(values)),))


def set_settings_fix(section: str, values: Mapping[str, Any]) -> Fix:
    """A fix that sets some settings of one section, described as "training: loss=auto"."""
    shown = ", ".join(f"{name}={_value_text(value)}" for name, value in values.items())
    return Fix(f"{section}: {shown}", (SetSectionValues(section, dict(values)),))


# Which fixes to offer ------------------------------------------------------------------
# A fix is offered only if applying it to a copy of the graph makes its problem go
# away, so a fix offered is a fix that works.


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
