"""The network as data: nodes (layers) and edges (tensors) on a networkx graph.

Every change goes through a small command object whose `apply` returns its
inverse, so the GUI's QUndoStack can undo and redo everything. Views
subscribe to :class:`GraphEvent` notifications and redraw from them.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from graph.block_library import BlockLibrary
from graph.catalog import layer_type
from graph.messages import excerpt, printable
from graph.names import name_error
from graph.params import ParamError
from graph.settings import SECTIONS, coerce_section, default_settings

Position = tuple[float, float]


@dataclass
class Node:
    """One layer: its stable id, catalog type, user-facing name and parameters."""

    id: str
    type: str
    name: str
    params: dict[str, Any]
    position: Position = (0.0, 0.0)

    def copy(self) -> Node:
        return replace(self, params=copy.deepcopy(self.params))

    @property
    def label(self) -> str:
        """How messages name the node, as Keras does: `dense_1 (Dense)`."""
        return f"{printable(self.name)} ({printable(self.type)})"


MAX_PORT = 4095
"""The highest input or output number an edge may use; the canvas draws every port below it."""


@dataclass(frozen=True, order=True)
class Edge:
    """A tensor from output `source_port` of `source` into input `port` of `target`.

    Only a block with several outputs has outputs past 0.
    """

    source: str
    target: str
    port: int = 0
    source_port: int = 0


@dataclass(frozen=True)
class GraphEvent:
    """A change notification.

    kind is one of: node_added, node_removed, edge_added, edge_removed,
    params_changed, node_renamed, nodes_moved, settings_changed,
    blocks_changed (a block definition added or removed; `section` is its name).
    """

    kind: str
    node_ids: tuple[str, ...] = ()
    edge: Edge | None = None
    section: str | None = None


class GraphError(ValueError):
    """An edit that cannot be applied (unknown node, occupied port, ...)."""


Listener = Callable[[GraphEvent], None]


class NetworkGraph:
    """A network: a networkx MultiDiGraph of layers plus its training settings.

    Edges are keyed by the target port, so a port has at most one incoming edge.
    """

    def __init__(self, name: str = "Untitled", description: str = "") -> None:
        self.name = name
        self.description = description
        self._graph = nx.MultiDiGraph()
        self._listeners: list[Listener] = []
        self._ids = itertools.count(1)
        # One dict per section of graph.settings.SECTIONS.
        self.settings: dict[str, dict[str, Any]] = default_settings()
        # Block definitions, shared with the definitions themselves.
        self.blocks = BlockLibrary()

    @property
    def training(self) -> dict[str, Any]:
        return self.settings["training"]

    @training.setter
    def training(self, values: dict[str, Any]) -> None:
        self.settings["training"] = values

    @property
    def dataset(self) -> dict[str, Any]:
        return self.settings["dataset"]

    @dataset.setter
    def dataset(self, values: dict[str, Any]) -> None:
        self.settings["dataset"] = values

    # Reading -----------------------------------------------------------------

    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        """The underlying graph, for algorithms. Do not mutate it directly."""
        return self._graph

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._graph

    @property
    def nodes(self) -> list[Node]:
        return [data["node"] for _, data in self._graph.nodes(data=True)]

    @property
    def edges(self) -> list[Edge]:
        return [
            _edge(u, v, port, data) for u, v, port, data in self._graph.edges(keys=True, data=True)
        ]

    def node(self, node_id: str) -> Node:
        try:
            return self._graph.nodes[node_id]["node"]
        except KeyError:
            raise GraphError(f"No node with id {excerpt(node_id)}") from None

    def find(self, name: str) -> Node | None:
        """The first node called `name`, or None."""
        return next((n for n in self.nodes if n.name == name), None)

    def in_edges(self, node_id: str) -> list[Edge]:
        """Incoming edges of a node, ordered by port."""
        edges = (
            _edge(u, v, k, data)
            for u, v, k, data in self._graph.in_edges(node_id, keys=True, data=True)
        )
        return sorted(edges, key=lambda edge: edge.port)

    def out_edges(self, node_id: str) -> list[Edge]:
        return [
            _edge(u, v, k, data)
            for u, v, k, data in self._graph.out_edges(node_id, keys=True, data=True)
        ]

    def input_nodes(self) -> list[Node]:
        """The model's inputs: every Input node, in graph order."""
        return [n for n in self.nodes if n.type == "Input"]

    def output_nodes(self) -> list[Node]:
        """The model's outputs: every non-Input node nothing else consumes."""
        successors = self._graph._succ
        return [n for n in self.nodes if n.type != "Input" and not successors[n.id]]

    def names(self) -> set[str]:
        return {n.name for n in self.nodes}

    # Subscriptions -------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _emit(self, event: GraphEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # Convenience edits (each one command) ------------------------------------

    def apply(self, command: Command) -> Command:
        """Applies `command` and returns its inverse."""
        return command.apply(self)

    def new_node(
        self,
        type_name: str,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        position: Position = (0.0, 0.0),
    ) -> Node:
        """Builds (without adding) a node with a fresh id and a unique name.

        Raises:
            KeyError: for an unknown layer type.
            ParamError: for an invalid parameter value.
        """
        spec = layer_type(type_name)
        return Node(
            id=self.new_id(),
            type=type_name,
            name=name if name is not None else self.unique_name(spec.name_prefix),
            params=spec.coerce_params(params or {}),
            position=(float(position[0]), float(position[1])),
        )

    def add_node(self, type_name: str, name: str | None = None, params=None, position=(0, 0)):
        node = self.new_node(type_name, name, params, position)
        self.apply(AddNode(node))
        return node

    def connect(self, source: str, target: str, port: int = 0) -> Edge:
        edge = Edge(source, target, port)
        self.apply(AddEdge(edge))
        return edge

    def set_params(self, node_id: str, **changes: Any) -> None:
        self.apply(SetParams(node_id, changes))

    def new_id(self) -> str:
        while True:
            candidate = f"n{next(self._ids)}"
            if candidate not in self._graph:
                return candidate

    def unique_name(self, prefix: str, taken: Iterable[str] = ()) -> str:
        """`prefix_N` with the smallest N not used, as Keras numbers layers."""
        used = self.names() | set(taken)
        for number in itertools.count(1):
            candidate = f"{prefix}_{number}"
            if candidate not in used:
                return candidate
        raise AssertionError("unreachable")

    def copy(self, blocks: bool = True) -> NetworkGraph:
        """A deep copy without listeners; with `blocks`, of the block definitions too."""
        other = NetworkGraph(self.name, self.description)
        other.settings = copy.deepcopy(self.settings)
        if blocks:
            other.blocks = self.blocks.copy()
        for node in self.nodes:
            other._insert_node(node.copy())
        for edge in self.edges:
            other._store_edge(edge)
        return other

    # Primitive mutations: used by commands only --------------------------------

    def _insert_node(self, node: Node, index: int | None = None) -> None:
        """Adds `node` last, or at position `index` of the graph order."""
        if node.id in self._graph:
            raise GraphError(f"A node with id {excerpt(node.id)} already exists")
        self._graph.add_node(node.id, node=node)
        if index is not None and index < len(self._graph) - 1:
            # Graph order decides the order of a model's inputs and outputs, so
            # undoing a deletion puts the node back where it was.
            # The dict is changed in place: networkx's cached views hold it.
            nodes = self._graph._node
            for moved in list(nodes)[index:-1]:
                nodes[moved] = nodes.pop(moved)

    def _add_edge(self, edge: Edge) -> None:
        for end in (edge.source, edge.target):
            self.node(end)
        if edge.port < 0:
            raise GraphError(f"Port must be >= 0. Received: {edge.port}")
        if edge.source_port < 0:
            raise GraphError(f"Source port must be >= 0. Received: {edge.source_port}")
        if max(edge.port, edge.source_port) > MAX_PORT:
            raise GraphError(
                f"Ports are numbered 0 to {MAX_PORT}. "
                f"Received: input {edge.port}, output {edge.source_port}"
            )
        if self._graph.has_edge(edge.source, edge.target, key=edge.port) or any(
            k == edge.port for _, _, k in self._graph.in_edges(edge.target, keys=True)
        ):
            target = self.node(edge.target)
            raise GraphError(f"{target.label}: input {edge.port} is already connected")
        self._store_edge(edge)
        self._emit(GraphEvent("edge_added", (edge.target,), edge=edge))

    def _store_edge(self, edge: Edge) -> None:
        # The source port is kept only where it is not 0: most nodes have one output.
        if edge.source_port:
            self._graph.add_edge(
                edge.source, edge.target, key=edge.port, source_port=edge.source_port
            )
        else:
            self._graph.add_edge(edge.source, edge.target, key=edge.port)

    def _remove_edge(self, edge: Edge) -> None:
        data = self._graph.get_edge_data(edge.source, edge.target, edge.port)
        if data is None or source_port(data) != edge.source_port:
            raise GraphError(f"No edge {edge}")
        self._graph.remove_edge(edge.source, edge.target, key=edge.port)
        self._emit(GraphEvent("edge_removed", (edge.target,), edge=edge))


def _edge(source: str, target: str, port: int, data: dict) -> Edge:
    return Edge(source, target, port, data.get("source_port", 0))


def source_port(data: dict) -> int:
    """The source port stored on a networkx edge's data (for code reading adjacency dicts)."""
    return data.get("source_port", 0)


# Commands ----------------------------------------------------------------------


class Command:
    """One undoable edit. `apply` performs it and returns the inverse command."""

    text = "Edit"

    def apply(self, graph: NetworkGraph) -> Command:
        raise NotImplementedError


@dataclass
class AddNode(Command):
    """Adds a node with its edges; `index` places it in graph order (None: last)."""

    node: Node
    edges: tuple[Edge, ...] = ()
    index: int | None = None

    @property
    def text(self) -> str:
        return f"Add {self.node.name}"

    def apply(self, graph: NetworkGraph) -> Command:
        graph._insert_node(self.node.copy(), self.index)
        graph._emit(GraphEvent("node_added", (self.node.id,)))
        inverse = RemoveNode(self.node.id)
        try:
            for edge in self.edges:
                graph._add_edge(edge)
        except GraphError:
            # All or nothing: a node whose edges cannot be added is not added.
            inverse.apply(graph)
            raise
        return inverse


@dataclass
class RemoveNode(Command):
    node_id: str

    @property
    def text(self) -> str:
        return f"Delete {self.node_id}"

    def apply(self, graph: NetworkGraph) -> Command:
        node = graph.node(self.node_id).copy()
        index = list(graph.nx_graph).index(self.node_id)
        # A self-loop is both an in- and an out-edge: remove it once.
        edges = tuple(dict.fromkeys(graph.in_edges(self.node_id) + graph.out_edges(self.node_id)))
        for edge in edges:
            graph._remove_edge(edge)
        graph._graph.remove_node(self.node_id)
        graph._emit(GraphEvent("node_removed", (self.node_id,)))
        return AddNode(node, edges, index)


@dataclass
class AddEdge(Command):
    edge: Edge
    text = "Connect"

    def apply(self, graph: NetworkGraph) -> Command:
        graph._add_edge(self.edge)
        return RemoveEdge(self.edge)


@dataclass
class RemoveEdge(Command):
    edge: Edge
    text = "Disconnect"

    def apply(self, graph: NetworkGraph) -> Command:
        graph._remove_edge(self.edge)
        return AddEdge(self.edge)


@dataclass
class SetParams(Command):
    """Changes some parameters of one node; values are checked against the catalog."""

    node_id: str
    changes: dict[str, Any]

    @property
    def text(self) -> str:
        return "Change " + ", ".join(self.changes)

    def apply(self, graph: NetworkGraph) -> Command:
        node = graph.node(self.node_id)
        merged = {**node.params, **self.changes}
        try:
            coerced = layer_type(node.type).coerce_params(merged)
        except ParamError as error:
            raise ParamError(f"{node.label}: {error}") from None
        old = {name: node.params[name] for name in self.changes}
        node.params = coerced
        graph._emit(GraphEvent("params_changed", (self.node_id,)))
        return SetParams(self.node_id, old)


@dataclass
class RenameNode(Command):
    """Renames a node; refuses a name the layer-name rule (graph.names) or another node has.

    `checked=False` (undo restoring an earlier name) skips the refusal.
    """

    node_id: str
    name: str
    checked: bool = True
    text = "Rename"

    def apply(self, graph: NetworkGraph) -> Command:
        node = graph.node(self.node_id)
        old = node.name
        if self.checked and self.name != old:
            error = name_error(self.name)
            if error is None and any(
                other.name == self.name for other in graph.nodes if other.id != node.id
            ):
                error = f"the name {self.name!r} is already used by another layer"
            if error is not None:
                raise GraphError(f"{node.label}: {error}")
        node.name = self.name
        graph._emit(GraphEvent("node_renamed", (self.node_id,)))
        return RenameNode(self.node_id, old, checked=False)


@dataclass
class MoveNodes(Command):
    positions: dict[str, Position]
    text = "Move"

    def apply(self, graph: NetworkGraph) -> Command:
        old = {}
        for node_id, position in self.positions.items():
            node = graph.node(node_id)
            old[node_id] = node.position
            node.position = (float(position[0]), float(position[1]))
        graph._emit(GraphEvent("nodes_moved", tuple(self.positions)))
        return MoveNodes(old)


@dataclass
class SetSettings(Command):
    """Changes settings of one section (a key of graph.settings.SECTIONS)."""

    section: str
    changes: dict[str, Any]
    text = "Change settings"

    def apply(self, graph: NetworkGraph) -> Command:
        current = graph.settings[self.section]
        params = SECTIONS[self.section].params
        coerced = coerce_section(params, {**current, **self.changes}, self.section)
        old = {name: current.get(name) for name in self.changes}
        graph.settings[self.section] = coerced
        graph._emit(GraphEvent("settings_changed", section=self.section))
        return SetSettings(self.section, old)


@dataclass
class Batch(Command):
    """Several commands applied as one undo step."""

    commands: list[Command] = field(default_factory=list)
    text: str = "Edit"

    def apply(self, graph: NetworkGraph) -> Command:
        inverses: list[Command] = []
        try:
            for command in self.commands:
                inverses.append(command.apply(graph))
        except Exception:
            # Leave the graph as it was: never half an edit.
            for inverse in reversed(inverses):
                inverse.apply(graph)
            raise
        return Batch(list(reversed(inverses)), self.text)


@dataclass
class AddBlock(Command):
    """Adds a block definition (a graph whose Inputs are its ports) under `name`."""

    name: str
    definition: NetworkGraph

    @property
    def text(self) -> str:
        return f"Add block {self.name}"

    def apply(self, graph: NetworkGraph) -> Command:
        error = name_error(self.name)
        if error is not None:
            raise GraphError(f"Block {excerpt(self.name)}: {error.replace('layer', 'block')}")
        if self.name in graph.blocks:
            raise GraphError(f"A block named {excerpt(self.name)} already exists")
        graph.blocks._insert(self.name, self.definition)
        graph._emit(GraphEvent("blocks_changed", section=self.name))
        return RemoveBlock(self.name)


@dataclass
class RemoveBlock(Command):
    """Removes a block definition (its instances then report it missing)."""

    name: str

    @property
    def text(self) -> str:
        return f"Remove block {self.name}"

    def apply(self, graph: NetworkGraph) -> Command:
        if self.name not in graph.blocks:
            raise GraphError(f"No block named {excerpt(self.name)}")
        definition = graph.blocks._remove(self.name)
        graph._emit(GraphEvent("blocks_changed", section=self.name))
        return AddBlock(self.name, definition)
