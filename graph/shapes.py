"""Shape inference and parameter counts for a whole graph, kept up to date.

:class:`ShapeAnalysis` subscribes to a graph's events. A change of wiring
(a node or edge added or removed) marks the node it touches and everything
downstream as stale; the next read recomputes those in topological order. A
change of parameters marks only the node itself: the next read recomputes it
and carries on downstream only while outputs differ from before, so an edit
that changes no output shape costs one node however large the graph.
A change inside a block definition marks its instances as a params change does.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx

from graph.block_type import BLOCK
from graph.catalog import CATALOG
from graph.layer_type import Shape, ShapeError
from graph.layers._common import fmt
from graph.messages import excerpt
from graph.model import GraphEvent, NetworkGraph, source_port
from graph.params import ParamError

CYCLE_ERROR = "is part of a cycle"

# Events that cannot change any shape.
_SHAPE_NEUTRAL = {"node_renamed", "nodes_moved", "settings_changed", "blocks_changed"}
# Events that change a node's own result but not the wiring around it.
_PARAMS_ONLY = {"params_changed"}


OPEN_DIMENSION = "?"


def shape_text(shape: Shape | None) -> str:
    """A shape as the canvas shows it: the batch as Keras prints it, open sizes as ?.

    (None, ?, ?, 3) reads as "a batch of images of any height and width".
    Unknown shapes (None) show as a lone ?.
    """
    if shape is None:
        return OPEN_DIMENSION
    items = [str(shape[0])] if shape else []
    items += [OPEN_DIMENSION if dim is None else str(dim) for dim in shape[1:]]
    return "(" + ", ".join(items) + ")"


@dataclass(frozen=True)
class NodeInfo:
    """What inference knows about one node.

    Attributes:
        output_shape: The node's output shape, or None when unknown.
        param_count: Weights in the layer (0 when the shape is unknown).
        error: Why this node itself fails, or None. Nodes downstream of a
            failure have no shape and no error of their own.
        input_shapes: The shapes arriving at each port, in port order.
        macs: Multiply-accumulates per sample (the catalog's count_macs), or
            None when a size they depend on is unknown (e.g. sequence length).
        needed_rank: With an error about the input's rank: the rank (batch
            included) the layer needs.
        inside: Whether `error` comes from inside a block: it then starts
            with the path of the layer at fault (`block1/conv_2 (Conv2D): ...`).
        outputs: For a block with several outputs, the shape of each
            (`output_shape` is the first); empty for nodes with one output.
    """

    output_shape: Shape | None
    param_count: int = 0
    error: str | None = None
    input_shapes: tuple[Shape | None, ...] = ()
    macs: int | None = 0
    needed_rank: int | None = None
    inside: bool = False
    outputs: tuple[Shape | None, ...] = ()

    def shape_at(self, port: int) -> Shape | None:
        """The shape of output `port` (0 for a node with one output), or None when there is none."""
        if self.outputs:
            return self.outputs[port] if port < len(self.outputs) else None
        return self.output_shape if port == 0 else None

    def same_outputs(self, other: NodeInfo) -> bool:
        return self.output_shape == other.output_shape and self.outputs == other.outputs


class ShapeAnalysis:
    """Incremental shape inference over a :class:`NetworkGraph`.

    Args:
        graph: The graph to follow through its events.
        entry_shapes: Shapes that replace Input nodes' own, by node id: a
            block definition inferred for the shapes arriving at an instance.
    """

    def __init__(
        self, graph: NetworkGraph, entry_shapes: Mapping[str, Shape] | None = None
    ) -> None:
        self.graph = graph
        self._entry_shapes = dict(entry_shapes or {})
        self._info: dict[str, NodeInfo] = {}
        self._stale: set[str] = set(graph.nx_graph.nodes)
        # Nodes whose params changed; their successors follow only if their output does.
        self._dirty: set[str] = set()
        # A topological key per node (longest path from a source): every edge
        # goes from a smaller depth to a larger one. Wiring edits recompute it
        # for what they mark stale; nodes on or after a cycle have none.
        self._depth: dict[str, int] = {}
        self._cyclic: set[str] = set()
        self._watchers: list[Callable[[set[str]], None]] = []
        self.recomputed = 0
        graph.subscribe(self._on_event)
        graph.blocks.subscribe(self._on_blocks_changed)

    def close(self) -> None:
        self.graph.unsubscribe(self._on_event)
        self.graph.blocks.unsubscribe(self._on_blocks_changed)

    def _on_blocks_changed(self, names: set[str]) -> None:
        """Re-infers the instances of changed definitions, like a change of their params."""
        for node_id, data in self.graph.nx_graph._node.items():
            node = data["node"]
            if node.type == BLOCK and node.params.get("block") in names:
                self._on_event(GraphEvent("params_changed", (node_id,)))

    def watch(self, callback: Callable[[set[str]], None]) -> None:
        """Calls `callback` with the ids of the nodes each refresh recomputed."""
        self._watchers.append(callback)

    def unwatch(self, callback: Callable[[set[str]], None]) -> None:
        self._watchers.remove(callback)

    def _on_event(self, event: GraphEvent) -> None:
        if event.kind in _SHAPE_NEUTRAL:
            return
        successors = self.graph.nx_graph._succ
        for node_id in event.node_ids:
            if node_id not in successors:
                self._info.pop(node_id, None)
                self._depth.pop(node_id, None)
                self._cyclic.discard(node_id)
                self._stale.discard(node_id)
                self._dirty.discard(node_id)
            elif event.kind in _PARAMS_ONLY and node_id in self._depth:
                if node_id not in self._stale:
                    self._dirty.add(node_id)
            else:
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
        self.refresh()
        return bool(self._cyclic)

    def total_params(self) -> int:
        return sum(info.param_count for info in self.all().values())

    def refresh(self) -> None:
        """Recomputes what edits made out of date, each node after those feeding it."""
        recomputed: set[str] = set()
        if self._dirty:
            self._propagate_changes(recomputed)
        if self._stale:
            recomputed |= self._stale
            self._recompute_stale()
        if recomputed:
            for callback in self._watchers:
                callback(recomputed)

    def _propagate_changes(self, recomputed: set[str]) -> None:
        """Recomputes the dirty nodes, and their successors only where an output changed.

        Nodes are taken in order of depth, so a node is recomputed after every
        changed node feeding it. None of them is stale: the stale set is closed
        under successors, and dirty nodes are never in it.
        """
        depth, stale, info = self._depth, self._stale, self._info
        successors = self.graph.nx_graph._succ
        queue = [(depth[node_id], node_id) for node_id in self._dirty]
        self._dirty = set()
        heapq.heapify(queue)
        queued = {node_id for _, node_id in queue}
        while queue:
            _, node_id = heapq.heappop(queue)
            old = info.get(node_id)
            new = self._infer(node_id)
            info[node_id] = new
            recomputed.add(node_id)
            self.recomputed += 1
            if old is not None and old.same_outputs(new):
                continue
            for successor in successors[node_id]:
                if successor in queued or successor in stale:
                    continue
                if successor in depth:
                    queued.add(successor)
                    heapq.heappush(queue, (depth[successor], successor))
                else:  # on or after a cycle: the stale pass reports it
                    self._mark_stale(successor, successors)

    def _recompute_stale(self) -> None:
        """Recomputes every stale node in topological order, and their depths."""
        stale = self._stale
        self._stale = set()
        self.recomputed += len(stale)
        nx_graph = self.graph.nx_graph
        order, blocked = _topological_order(nx_graph, stale)
        self._cyclic -= stale
        if blocked:
            cyclic = _nodes_on_cycles(nx_graph.subgraph(blocked))
            for node_id in blocked:
                error = CYCLE_ERROR if node_id in cyclic else None
                self._info[node_id] = NodeInfo(None, error=error)
                self._depth.pop(node_id, None)
            self._cyclic |= cyclic
        depth, predecessors = self._depth, nx_graph._pred
        for node_id in order:
            feeding = [depth.get(source) for source in predecessors[node_id]]
            if None in feeding:  # fed from a cycle, like the nodes blocked above
                self._info[node_id] = NodeInfo(None)
                depth.pop(node_id, None)
            else:
                self._info[node_id] = self._infer(node_id)
                depth[node_id] = 1 + max(feeding, default=0)

    def _infer(self, node_id: str) -> NodeInfo:
        node = self.graph.node(node_id)
        if node_id in self._entry_shapes:
            return NodeInfo(self._entry_shapes[node_id])
        if node.type == BLOCK:
            return self._infer_block(node)
        spec = CATALOG.get(node.type)
        if spec is None:
            return NodeInfo(None, error=f"unknown layer type {excerpt(node.type)}")
        try:
            spec.coerce_params(node.params)
        except ParamError as error:
            # Checked here rather than in validation: only stale nodes pay for it.
            return NodeInfo(None, error=str(error))
        by_port = self._arriving(node_id)
        if not by_port and spec.min_inputs == 0:
            inputs: list[Shape] = []
        else:
            count = max(by_port) + 1 if by_port else 0
            if count < spec.min_inputs or any(p not in by_port for p in range(count)):
                return NodeInfo(None)
            shapes = tuple(by_port[p] for p in range(count))
            if any(s is None for s in shapes):
                return NodeInfo(None, input_shapes=shapes)
            inputs = list(shapes)
        if not spec.accepts_inputs(len(inputs)):
            return NodeInfo(None, input_shapes=tuple(inputs))
        try:
            shape = spec.shape_rule(node.params, inputs)
            count = spec.count_params(node.params, inputs, shape)
            macs = spec.count_macs(node.params, inputs, shape)
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
        return NodeInfo(shape, count, input_shapes=tuple(inputs), macs=macs)

    def _infer_block(self, node) -> NodeInfo:
        # Imported here: block inference runs a ShapeAnalysis of the definition.
        from graph.block_inference import infer_instance

        by_port = self._arriving(node.id)
        count = max(by_port) + 1 if by_port else 0
        shapes = tuple(by_port.get(p) for p in range(count))
        return infer_instance(self.graph.blocks, node, shapes)

    def _arriving(self, node_id: str) -> dict[int, Shape | None]:
        """The shape arriving at each connected input port of `node_id`."""
        arriving = {}
        for source, ports in self.graph.nx_graph._pred[node_id].items():
            info = self._info.get(source)
            for port, data in ports.items():
                arriving[port] = info.shape_at(source_port(data)) if info else None
        return arriving


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
