"""Shape inference and parameter counts for a whole graph, kept up to date.

:class:`ShapeAnalysis` subscribes to a graph's events. An edit marks the node
it touches and everything downstream as stale; the next read recomputes just
those, in topological order, so one edit on a large graph stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from graph.catalog import CATALOG
from graph.layer_type import Shape, ShapeError
from graph.layers._common import fmt
from graph.model import GraphEvent, NetworkGraph
from graph.params import ParamError

CYCLE_ERROR = "is part of a cycle"

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
        needed_rank: With an error about the input's rank: the rank (batch
            included) the layer needs.
    """

    output_shape: Shape | None
    param_count: int = 0
    error: str | None = None
    input_shapes: tuple[Shape | None, ...] = ()
    needed_rank: int | None = None


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
        successors = self.graph.nx_graph._succ
        for node_id in event.node_ids:
            if node_id not in successors:
                self._info.pop(node_id, None)
                self._stale.discard(node_id)
                continue
            self._mark_stale(node_id, successors)

    def _mark_stale(self, node_id: str, successors: dict) -> None:
        """Marks `node_id` and everything downstream of it.

        The stale set is closed under successors, so the walk stops at nodes
        already stale: marking costs only what was fresh.
        """
        if node_id in self._stale:
            return
        stale = self._stale
        stale.add(node_id)
        pending = [node_id]
        while pending:
            for successor in successors[pending.pop()]:
                if successor not in stale:
                    stale.add(successor)
                    pending.append(successor)

    def info(self, node_id: str) -> NodeInfo:
        self.refresh()
        return self._info[node_id]

    def all(self) -> dict[str, NodeInfo]:
        self.refresh()
        return self._info

    def has_cycle(self) -> bool:
        """Whether some node lies on a cycle, where shapes cannot be inferred."""
        return any(info.error == CYCLE_ERROR for info in self.all().values())

    def total_params(self) -> int:
        return sum(info.param_count for info in self.all().values())

    def refresh(self) -> None:
        """Recomputes every stale node, each after the nodes feeding it."""
        if not self._stale:
            return
        stale = self._stale
        self._stale = set()
        self.recomputed += len(stale)
        order, blocked = _topological_order(self.graph.nx_graph, stale)
        if blocked:
            cyclic = _nodes_on_cycles(self.graph.nx_graph.subgraph(blocked))
            for node_id in blocked:
                error = CYCLE_ERROR if node_id in cyclic else None
                self._info[node_id] = NodeInfo(None, error=error)
        for node_id in order:
            self._info[node_id] = self._infer(node_id)

    def _infer(self, node_id: str) -> NodeInfo:
        node = self.graph.node(node_id)
        spec = CATALOG.get(node.type)
        if spec is None:
            return NodeInfo(None, error=f"unknown layer type {node.type!r}")
        try:
            spec.coerce_params(node.params)
        except ParamError as error:
            # Checked here rather than in validation: only stale nodes pay for it.
            return NodeInfo(None, error=str(error))
        by_port = {
            port: self._info.get(source)
            for source, ports in self.graph.nx_graph._pred[node_id].items()
            for port in ports
        }
        if not by_port and spec.min_inputs == 0:
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
            return NodeInfo(
                None,
                error=str(error),
                input_shapes=tuple(inputs),
                needed_rank=getattr(error, "needed_rank", None),
            )
        except (ArithmeticError, IndexError, TypeError, ValueError) as error:
            # A shape rule should raise ShapeError; anything else is still the
            # node's problem to report, never the user's crash.
            shown = ", ".join(fmt(s) for s in inputs)
            return NodeInfo(
                None, error=f"cannot take inputs {shown}: {error}", input_shapes=tuple(inputs)
            )
        return NodeInfo(shape, count, input_shapes=tuple(inputs))


def _topological_order(nx_graph: nx.MultiDiGraph, nodes: set[str]) -> tuple[list[str], set[str]]:
    """Kahn's algorithm over `nodes` only, on networkx's adjacency dicts for speed.

    Returns:
        The nodes that can be ordered, each after its predecessors in `nodes`,
        and the rest: nodes on a cycle or downstream of one.
    """
    predecessors, successors = nx_graph._pred, nx_graph._succ
    waiting = {
        node_id: sum(1 for source in predecessors[node_id] if source in nodes) for node_id in nodes
    }
    ready = [node_id for node_id, count in waiting.items() if count == 0]
    order = []
    while ready:
        node_id = ready.pop()
        order.append(node_id)
        for successor in successors[node_id]:
            if successor in waiting:
                waiting[successor] -= 1
                if waiting[successor] == 0:
                    ready.append(successor)
    blocked = nodes.difference(order) if len(order) < len(nodes) else set()
    return order, blocked


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
