"""Copy, paste and duplicate of nodes with the edges between them.

The clipboard holds plain JSON (type, name, params, position, edges), so a
selection can travel between windows of the app.
"""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from graph.catalog import find_type
from graph.layout import free_offset
from graph.model import MAX_PORT, AddEdge, AddNode, Batch, Command, Edge, NetworkGraph
from graph.params import ParamError

NODES_MIME_TYPE = "application/x-deepwire-nodes"
PASTE_OFFSET = 40.0


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def copy_nodes(graph: NetworkGraph, node_ids: list[str]) -> QMimeData:
    """The selected nodes and the edges among them, as clipboard data."""
    chosen = set(node_ids)
    nodes = [graph.node(node_id) for node_id in node_ids]
    payload = {
        "nodes": [
            {
                "id": node.id,
                "type": node.type,
                "name": node.name,
                "params": _plain(node.params),
                "position": list(node.position),
            }
            for node in nodes
        ],
        "edges": [
            [edge.source, edge.target, edge.port, edge.source_port]
            for node_id in node_ids
            for edge in graph.in_edges(node_id)
            if edge.source in chosen
        ],
    }
    data = QMimeData()
    data.setData(NODES_MIME_TYPE, json.dumps(payload).encode("utf-8"))
    return data


def _payload(data: QMimeData) -> tuple[list[dict], list[tuple[str, str, int, int]]] | None:
    """The clipboard's nodes and edges, or None unless every piece has the shape we write.

    Another program may put anything under our MIME type; none of it may raise.
    """
    try:
        payload = json.loads(bytes(data.data(NODES_MIME_TYPE)).decode("utf-8"))
        entries, edges = payload["nodes"], payload["edges"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(entries, list) and isinstance(edges, list)):
        return None
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("id"), str)
            and isinstance(entry.get("type"), str)
            and isinstance(entry.get("params", {}), dict)
        ):
            return None
        position = entry.get("position", (0.0, 0.0))
        if not (
            isinstance(position, list | tuple)
            and len(position) == 2
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in position
            )
        ):
            return None
    checked = []
    for edge in edges:
        if not (isinstance(edge, list) and len(edge) in (3, 4)):
            return None
        source, target, *ports = edge
        if not (
            isinstance(source, str)
            and isinstance(target, str)
            and all(type(p) is int and 0 <= p <= MAX_PORT for p in ports)
        ):
            return None
        checked.append((source, target, ports[0], ports[1] if len(ports) > 1 else 0))
    return entries, checked


def paste_command(graph: NetworkGraph, data: QMimeData) -> tuple[Batch, list[str]] | None:
    """A command adding copies of the clipboard's nodes, with new ids and names.

    Returns:
        The command and the new node ids, or None when the clipboard holds no nodes
        (or something else under our MIME type).
    """
    if not data.hasFormat(NODES_MIME_TYPE):
        return None
    payload = _payload(data)
    if payload is None:
        return None
    entries, edges = payload
    new_ids: dict[str, str] = {}
    commands: list[Command] = []
    taken: set[str] = set()
    wanted = []
    for entry in entries:
        spec = find_type(entry["type"])
        if spec is not None:
            x, y = entry.get("position", (0.0, 0.0))
            wanted.append((entry, spec, (x + PASTE_OFFSET, y + PASTE_OFFSET)))
    # Pasted nodes land together, in the free space nearest to their copy.
    dx, dy = free_offset([node.position for node in graph.nodes], [w[2] for w in wanted])
    for entry, spec, (x, y) in wanted:
        name = graph.unique_name(spec.name_prefix, taken)
        taken.add(name)
        try:
            node = graph.new_node(spec.type, name, entry.get("params"), (x + dx, y + dy))
        except ParamError:
            continue
        new_ids[entry["id"]] = node.id
        commands.append(AddNode(node))
    if not commands:
        return None
    count = len(commands)
    commands += [
        AddEdge(Edge(new_ids[source], new_ids[target], port, out))
        for source, target, port, out in edges
        if source in new_ids and target in new_ids
    ]
    text = f"Paste {count} layer" + ("s" if count > 1 else "")
    return Batch(commands, text), list(new_ids.values())


def release_clipboard() -> None:
    """Empties the clipboard if it holds our nodes; call before the application ends.

    A QMimeData made in Python and handed to the clipboard is deleted twice
    when the application is torn down (a crash on exit with PySide6 6.11).
    """
    clipboard = QGuiApplication.clipboard()
    data = clipboard.mimeData()
    if data is not None and data.hasFormat(NODES_MIME_TYPE):
        clipboard.clear()
