"""How a graph's nodes are wired into a model: order, call style, model name.

The Keras builder and the code exporter both read these rules, so the model
the app runs and the code it exports pass tensors to layers the same way.
"""

from __future__ import annotations

import heapq
import re

from graph.catalog import CATALOG
from graph.model import NetworkGraph, Node

# Layers called as `layer(query, value, key)`; every other multi-input layer
# takes one list (`Attention()([query, value])`, `Add()([a, b])`).
POSITIONAL_INPUTS = frozenset({"MultiHeadAttention", "GroupQueryAttention"})

_NOT_SCOPE = re.compile(r"[^A-Za-z0-9_.>-]+")

SINGLE = "single"
LIST = "list"
POSITIONAL = "positional"


def topological_nodes(graph: NetworkGraph) -> list[Node]:
    """Nodes with every node after its inputs; ties keep graph order (deterministic).

    Kahn's algorithm with a heap of graph-order indices: among the nodes whose
    inputs are all placed, the earliest-added comes first. Nodes on a cycle
    (an invalid graph) are left out.
    """
    nx_graph = graph.nx_graph
    order = {node_id: index for index, node_id in enumerate(nx_graph.nodes)}
    waiting = {node_id: nx_graph.in_degree(node_id) for node_id in order}
    ready = [index for node_id, index in order.items() if waiting[node_id] == 0]
    heapq.heapify(ready)
    ids = list(order)
    result = []
    while ready:
        node_id = ids[heapq.heappop(ready)]
        result.append(nx_graph.nodes[node_id]["node"])
        for _, successor in nx_graph.out_edges(node_id):
            waiting[successor] -= 1
            if waiting[successor] == 0:
                heapq.heappush(ready, order[successor])
    return result


def call_style(type_name: str) -> str:
    """How a layer of `type_name` takes its input tensors.

    Returns:
        SINGLE (one tensor), LIST (one list of tensors, in port order) or
        POSITIONAL (one argument per port).
    """
    if type_name in POSITIONAL_INPUTS:
        return POSITIONAL
    entry = CATALOG.get(type_name)
    if entry is not None and entry.max_inputs == 1:
        return SINGLE
    return LIST


def input_sources(graph: NetworkGraph, node: Node) -> list[tuple[str, int]]:
    """What feeds `node`, in port order: (source node id, its output port) each."""
    return [(edge.source, edge.source_port) for edge in graph.in_edges(node.id)]


def model_name(graph: NetworkGraph) -> str:
    """A model name TensorFlow accepts as a root name scope, from the graph's free-text name.

    "MLP on digits" -> "MLP_on_digits"; characters outside A-Z, a-z, 0-9 and
    `_ . - >` become underscores.
    """
    name = _NOT_SCOPE.sub("_", graph.name.strip()).strip("_")
    if not name or not (name[0].isalnum() or name[0] == "."):
        name = f"model_{name}".rstrip("_")
    return name


def recursion_limit(layers: int) -> int:
    """The recursion limit Keras needs to map a model `layers` deep.

    keras.Model walks the layer graph recursively, a few frames per layer, and
    hits Python's default limit (1,000) near 300 layers in a chain.
    """
    return 1_000 + 8 * layers
