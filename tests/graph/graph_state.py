"""A comparable snapshot of everything a graph holds, for equality checks in tests."""

from __future__ import annotations

from typing import Any

from graph.model import NetworkGraph


def snapshot(graph: NetworkGraph) -> dict[str, Any]:
    """Name, description, settings, nodes (all fields, in order) and the edge set."""
    return {
        "name": graph.name,
        "description": graph.description,
        "training": dict(graph.training),
        "dataset": dict(graph.dataset),
        "nodes": [
            (node.id, node.type, node.name, node.params, tuple(node.position))
            for node in graph.nodes
        ],
        "edges": sorted(graph.edges),
    }
