"""What differs between runs: their graphs (nodes, edges, params) and their settings.

Pure Python, so the runs panel only shows what these functions compute.
Nodes are matched by id: ids are stable across edits and files, while names
may be changed by the user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.messages import excerpt
from graph.model import Edge, NetworkGraph

MISSING = "(not set)"


@dataclass(frozen=True)
class NodeChange:
    """A node in both graphs whose type, name or params differ.

    Attributes:
        changes: What differs -> (old value, new value); params by their name,
            the node's own type and name as "type" and "name".
    """

    node_id: str
    label: str
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class GraphDiff:
    """How `new` differs from `old` (see `graph_diff`)."""

    added_nodes: list[str] = field(default_factory=list)
    removed_nodes: list[str] = field(default_factory=list)
    changed_nodes: list[NodeChange] = field(default_factory=list)
    added_edges: list[Edge] = field(default_factory=list)
    removed_edges: list[Edge] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.added_nodes
            or self.removed_nodes
            or self.changed_nodes
            or self.added_edges
            or self.removed_edges
        )

    @property
    def touched_nodes(self) -> set[str]:
        """Ids of the nodes of the new graph that were added or changed."""
        return set(self.added_nodes) | {change.node_id for change in self.changed_nodes}


def graph_diff(old: NetworkGraph, new: NetworkGraph) -> GraphDiff:
    """The nodes and edges `new` adds, removes or changes relative to `old`."""
    old_ids = {node.id for node in old.nodes}
    new_ids = {node.id for node in new.nodes}
    changed = []
    for node in new.nodes:
        if node.id not in old_ids:
            continue
        before = old.node(node.id)
        changes = _dict_changes(before.params, node.params)
        for attribute in ("type", "name"):
            if getattr(before, attribute) != getattr(node, attribute):
                changes[attribute] = (getattr(before, attribute), getattr(node, attribute))
        if changes:
            changed.append(NodeChange(node.id, node.label, changes))
    old_edges, new_edges = set(old.edges), set(new.edges)
    return GraphDiff(
        added_nodes=[node.id for node in new.nodes if node.id not in old_ids],
        removed_nodes=[node.id for node in old.nodes if node.id not in new_ids],
        changed_nodes=changed,
        added_edges=sorted(new_edges - old_edges),
        removed_edges=sorted(old_edges - new_edges),
    )


def differing_nodes(graphs: Sequence[NetworkGraph]) -> set[str]:
    """Ids of the nodes added, removed or changed in any of `graphs` relative to the first."""
    ids: set[str] = set()
    for graph in graphs[1:]:
        diff = graph_diff(graphs[0], graph)
        ids |= diff.touched_nodes | set(diff.removed_nodes)
        ids |= {
            end
            for edge in diff.added_edges + diff.removed_edges
            for end in (edge.source, edge.target)
        }
    return ids


def describe_diff(old: NetworkGraph, new: NetworkGraph, diff: GraphDiff) -> list[str]:
    """One line per difference, naming nodes as messages do (`dense_1 (Dense)`)."""

    def label(node_id: str) -> str:
        graph = new if node_id in new else old
        return graph.node(node_id).label if node_id in graph else node_id

    lines = [f"added {label(node_id)}" for node_id in diff.added_nodes]
    lines += [f"removed {label(node_id)}" for node_id in diff.removed_nodes]
    for change in diff.changed_nodes:
        for name, (before, after) in change.changes.items():
            lines.append(f"{change.label}: {name} {_text(before)} -> {_text(after)}")
    lines += [
        f"connected {label(e.source)} -> {label(e.target)} (input {e.port})"
        for e in diff.added_edges
    ]
    lines += [
        f"disconnected {label(e.source)} -> {label(e.target)} (input {e.port})"
        for e in diff.removed_edges
    ]
    return lines


def differing_settings(settings: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The settings whose values are not the same in every one of `settings`.

    Args:
        settings: One flat mapping per run ("training.epochs" -> 10, ...).

    Returns:
        Setting -> its value in each run, in order (MISSING where a run lacks
        it); settings equal everywhere are left out, so a table shows only
        what tells the runs apart.
    """
    names = list(dict.fromkeys(name for values in settings for name in values))
    differing = {}
    for name in names:
        column = [values.get(name, MISSING) for values in settings]
        if any(value != column[0] for value in column[1:]):
            differing[name] = column
    return differing


def describe_settings_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One line per setting that differs between two flat settings (see `flat_settings`)."""
    return [
        f"{name} {_text(before)} -> {_text(after)}"
        for name, (before, after) in differing_settings([old, new]).items()
    ]


def flat_settings(
    settings: Mapping[str, Mapping[str, Any]], options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A graph's settings (`graph.settings`) and a run's options as one flat mapping.

    Keys are "section.param" ("training.epochs"), and "run.option" for options.
    """
    flat = {
        f"{section}.{name}": value
        for section, values in settings.items()
        for name, value in values.items()
    }
    for name, value in (options or {}).items():
        if value is not None:
            flat[f"run.{name}"] = value
    return flat


def _dict_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        name: (old.get(name, MISSING), new.get(name, MISSING))
        for name in dict.fromkeys([*old, *new])
        if old.get(name, MISSING) != new.get(name, MISSING)
    }


def _text(value: Any) -> str:
    return value if value == MISSING else excerpt(value)
