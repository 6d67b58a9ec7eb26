"""Shape inference and parameter counts for a whole graph, kept up to date.

:class:`ShapeAnalysis` subscribes to a graph's events. An edit marks the node
it touches and everything downstream as stale; the next read recomputes just
those, in topological order, so one edit on a large graph stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from graph.catalog import layer_type
from graph.layer_type import Shape, ShapeError
from graph.layers._common import fmt
from graph.model import GraphEvent, NetworkGraph
from graph.params import ParamError

# Events that cannot change any shape.
_SHAPE_NEUTRAL = {"node_renamed", "nodes_moved", "settings_changed"}


@dataclass(frozen=True)
class NodeInfo:
    """What inference knows about one node.

    Attributes:
        output_shape: The node's output shape, or None when unknown.
        param_count: Weights in the layer (0 when the shape is unknown).
        error: Why this node itself fails, or None. Nodes downstream of a
            failure have no shape and no error of their own.
        input_shapes: The shapes arriving at each port, in port order.
    """

    output_shape: Shape | None
    param_count: int = 0
    error: str | None = None
    input_shapes: tuple[Shape | None, ...] = ()


class ShapeAnalysis:
    """Incremental shape inference over a :class:`NetworkGraph`."""

    def __init__(self, graph: NetworkGraph) -> None:
        self.graph = graph
        self._info: dict[str, NodeInfo] = {}
        self._stale: set[str] = set(graph.nx_graph.nodes)
        self.recomputed = 0
        graph.subscribe(self._on_event)

    def close(self) -> None:
        self.graph.unsubscribe(self._on_event)

    def _on_event(self, event: GraphEvent) -> None:
        if event.kind in _SHAPE_NEUTRAL:
            return
        nx_graph = self.graph.nx_graph
        for node_id in event.node_ids:
            if node_id not in nx_graph:
                self._info.pop(node_id, None)
                self._stale.discard(node_id)
                continue
            if node_id in self._stale:
                continue
            self._stale.add(node_id)
            self._stale.update(nx.descendants(nx_graph, node_id))

    def info(self, node_id: str) -> NodeInfo:
        self.refresh()
        return self._info[node_id]

    def all(self) -> dict[str, NodeInfo]:
        self.refresh()
        return self._info

    def total_params(self) -> int:
        return sum(info.param_count for info in self.all().values())

    def refresh(self) -> None:
        """Recomputes every stale node."""
        if not self._stale:
            return
        stale = self._stale
        self._stale = set()
        self.recomputed += len(stale)
        nx_graph = self.graph.nx_graph
        subgraph = nx_graph.subgraph(stale)
        try:
            order = list(nx.topological_sort(subgraph))
            cyclic: set[str] = set()
        except nx.NetworkXUnfeasible:
            cyclic = _nodes_on_cycles(subgraph)
            blocked = set(cyclic)
            for node_id in cyclic:
                blocked |= nx.descendants(subgraph, node_id)
            order = list(nx.topological_sort(subgraph.subgraph(stale - blocked)))
            for node_id in blocked - cyclic:
                self._info[node_id] = NodeInfo(None)
        for node_id in cyclic:
            self._info[node_id] = NodeInfo(None, error="is part of a cycle")
        for node_id in order:
            self._info[node_id] = self._infer(node_id)

    def _infer(self, node_id: str) -> NodeInfo:
        node = self.graph.node(node_id)
        spec = layer_type(node.type)
        edges = self.graph.in_edges(node_id)
        by_port = {e.port: self._info.get(e.source) for e in edges}
        if not edges and spec.min_inputs == 0:
            inputs: list[Shape] = []
        else:
            count = max(by_port) + 1 if by_port else 0
            if count < spec.min_inputs or any(p not in by_port for p in range(count)):
                return NodeInfo(None)
            upstream = [by_port[p] for p in range(count)]
            shapes = tuple(i.output_shape if i else None for i in upstream)
            if any(s is None for s in shapes):
                return NodeInfo(None, input_shapes=shapes)
            inputs = list(shapes)
        if not spec.accepts_inputs(len(inputs)):
            return NodeInfo(None, input_shapes=tuple(inputs))
        try:
            shape = spec.shape_rule(node.params, inputs)
            count = spec.count_params(node.params, inputs, shape)
        except (ShapeError, ParamError) as error:
            return NodeInfo(None, error=str(error), input_shapes=tuple(inputs))
        except (ArithmeticError, IndexError, TypeError, ValueError) as error:
            # A shape rule should raise ShapeError; anything else is still the
            # node's problem to report, never the user's crash.
            shown = ", ".join(fmt(s) for s in inputs)
            return NodeInfo(
                None, error=f"cannot take inputs {shown}: {error}", input_shapes=tuple(inputs)
            )
        return NodeInfo(shape, count, input_shapes=tuple(inputs))


def _nodes_on_cycles(graph: nx.MultiDiGraph) -> set[str]:
    on_cycles: set[str] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            on_cycles |= component
        else:
            (only,) = component
            if graph.has_edge(only, only):
                on_cycles.add(only)
    return on_cycles
