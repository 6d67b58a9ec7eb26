"""GraphScene: the canvas's items, kept in step with the session's view.

The view is the document, or the definition of an opened block instance
(gui/document.py); the scene draws whichever it is and edits it.

Items hold node ids only. Structural events (a node or edge added or removed,
nodes moved) change items at once; after an edit settles the session says
which nodes may look different and only those redraw.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from graph.block_inference import node_type, output_names
from graph.block_templates import palette_node
from graph.block_type import BLOCK
from graph.layout import free_position
from graph.model import AddEdge, Batch, Edge, GraphEvent, MoveNodes, RemoveEdge, RemoveNode
from graph.validation import ERROR, Problem
from gui.canvas.edge_item import EdgeItem, edge_path
from gui.canvas.node_item import NodeHealth, NodeItem, format_shape, node_face
from gui.canvas.port_item import PortItem
from gui.canvas.wiring import ConnectionChecker, input_port_count
from gui.document import EditorSession
from gui.theme import COMPATIBLE_PORT_COLOR, GRID_SIZE


def output_labels(graph, node) -> tuple[str, ...]:
    """The names of a block's outputs when it has several (each gets a labelled port)."""
    names = output_names(graph.blocks, node.params.get("block")) if node.type == BLOCK else ()
    return names if len(names) > 1 else ()


def snap(value: float) -> float:
    """Rounds a coordinate to the grid."""
    return round(value / GRID_SIZE) * GRID_SIZE


class _WireDrag:
    """A connection being dragged out of an output port, or pulled off an input port."""

    def __init__(
        self,
        checker: ConnectionChecker,
        preview: QGraphicsPathItem,
        start: QPointF,
        detached: Edge | None,
    ) -> None:
        self.checker = checker
        self.preview = preview
        self.start = start
        self.detached = detached
        self.highlighted: list[PortItem] = []


class GraphScene(QGraphicsScene):
    """The canvas's scene for one EditorSession.

    Signals:
        message: Text for the status bar (a refused connection, for instance).
        block_opened: A block instance was double-clicked (its node id).
    """

    message = Signal(str)
    block_opened = Signal(str)

    def __init__(self, session: EditorSession) -> None:
        super().__init__()
        self.session = session
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        # node id -> the edges into and out of it, for redraws without graph queries.
        self._node_edges: dict[str, set[Edge]] = {}
        self._node_errors: dict[str, str] = {}
        self._edge_errors: dict[Edge, str] = {}
        self._wire: _WireDrag | None = None
        self._syncing_selection = False
        session.view_replaced.connect(self.rebuild)
        session.view_event.connect(self._on_graph_event)
        session.view_changed.connect(self.refresh_nodes)
        session.view_problems_changed.connect(self.show_problems)
        self.selectionChanged.connect(self._on_selection_changed)
        self.rebuild()

    # Building ------------------------------------------------------------------

    def rebuild(self) -> None:
        """Recreates every item from the current graph."""
        self._wire = None
        self.clear()
        self.node_items.clear()
        self.edge_items.clear()
        self._node_edges.clear()
        self._node_errors.clear()
        self._edge_errors.clear()
        graph = self.session.view
        # Each piece of work once per item: ports after all edges exist,
        # edges routed after every node has its ports.
        for node in graph.nodes:
            item = NodeItem(node, node_type(graph, node))
            self.node_items[node.id] = item
            self._node_edges[node.id] = set()
            self.addItem(item)
        for edge in graph.edges:
            edge_item = EdgeItem(edge)
            self.edge_items[edge] = edge_item
            self._node_edges[edge.source].add(edge)
            self._node_edges[edge.target].add(edge)
            self.addItem(edge_item)
        for node_id, item in self.node_items.items():
            item.set_input_port_count(input_port_count(graph, node_id))
            item.set_output_names(output_labels(graph, graph.node(node_id)))
        self.show_problems(self.session.view_problems)
        self.refresh_nodes(set(self.node_items))
        for edge_item in self.edge_items.values():
            self._place_edge(edge_item)

    def _add_node_item(self, node_id: str) -> None:
        node = self.session.view.node(node_id)
        item = NodeItem(node, node_type(self.session.view, node))
        item.set_input_port_count(input_port_count(self.session.view, node_id))
        item.set_output_names(output_labels(self.session.view, node))
        self.node_items[node_id] = item
        self._node_edges[node_id] = set()
        self.addItem(item)

    def _add_edge_item(self, edge: Edge) -> None:
        item = EdgeItem(edge)
        self.edge_items[edge] = item
        self._node_edges[edge.source].add(edge)
        self._node_edges[edge.target].add(edge)
        self.addItem(item)
        target = self.node_items[edge.target]
        target.set_input_port_count(input_port_count(self.session.view, edge.target))
        self._place_edge(item)

    def _place_edge(self, item: EdgeItem) -> None:
        source = self.node_items[item.edge.source]
        target = self.node_items[item.edge.target]
        item.set_ends(
            source.output_anchor(item.edge.source_port),
            target.input_anchor(item.edge.port),
            (source.sceneBoundingRect(), target.sceneBoundingRect()),
        )

    def _on_graph_event(self, event: GraphEvent) -> None:
        kind = event.kind
        if kind == "node_added":
            for node_id in event.node_ids:
                self._add_node_item(node_id)
        elif kind == "node_removed":
            for node_id in event.node_ids:
                item = self.node_items.pop(node_id, None)
                if item is not None:
                    self.removeItem(item)
                self._node_errors.pop(node_id, None)
                self._node_edges.pop(node_id, None)
        elif kind == "edge_added" and event.edge is not None:
            self._add_edge_item(event.edge)
        elif kind == "edge_removed" and event.edge is not None:
            item = self.edge_items.pop(event.edge, None)
            if item is not None:
                self.removeItem(item)
            self._edge_errors.pop(event.edge, None)
            for end in (event.edge.source, event.edge.target):
                self._node_edges.get(end, set()).discard(event.edge)
            if event.edge.target in self.node_items:
                target = self.node_items[event.edge.target]
                target.set_input_port_count(input_port_count(self.session.view, target.node_id))
                self._place_node_edges(target.node_id)
        elif kind == "nodes_moved":
            for node_id in event.node_ids:
                x, y = self.session.view.node(node_id).position
                item = self.node_items[node_id]
                if item.pos() != QPointF(x, y):
                    item.setPos(x, y)
                    self._place_node_edges(node_id)

    # Redrawing -------------------------------------------------------------------

    def refresh_nodes(self, node_ids: set[str]) -> None:
        """Redraws the given nodes and the edges leaving them, where they changed."""
        graph = self.session.view
        analysis = self.session.view_analysis
        for node_id in node_ids:
            item = self.node_items.get(node_id)
            if item is None:
                continue
            info = analysis.info(node_id)
            node = graph.node(node_id)
            if node.type == BLOCK:
                self._refresh_block_ports(node_id, item)
            item.set_face(node_face(node, item.spec, info, self._node_errors.get(node_id)))
            for edge in self._node_edges[node_id]:
                if edge.source == node_id:
                    shape = info.shape_at(edge.source_port)
                    self.edge_items[edge].set_label(format_shape(shape) if shape else "")

    def _refresh_block_ports(self, node_id: str, item: NodeItem) -> None:
        """An instance's ports follow its definition, which may have changed elsewhere."""
        graph = self.session.view
        item.spec = node_type(graph, graph.node(node_id))
        item.set_input_port_count(input_port_count(graph, node_id))
        item.set_output_names(output_labels(graph, graph.node(node_id)))
        for edge in self._node_edges[node_id]:
            self._place_edge(self.edge_items[edge])

    def show_problems(self, problems: list[Problem]) -> None:
        """Marks the nodes and edges at fault, red with the message as tooltip."""
        graph = self.session.view
        node_errors: dict[str, str] = {}
        edge_errors: dict[Edge, str] = {}
        for problem in problems:
            if problem.severity != ERROR:
                continue
            if problem.node_id is not None and problem.node_id in graph:
                node_errors.setdefault(problem.node_id, problem.message)
                if problem.edge is None and self.session.view_analysis.info(problem.node_id).error:
                    # A shape error is about what arrives: mark the tensors too.
                    for edge in graph.in_edges(problem.node_id):
                        edge_errors.setdefault(edge, problem.message)
            if problem.edge is not None:
                edge_errors.setdefault(problem.edge, problem.message)
        changed = {
            node_id
            for node_id in node_errors.keys() | self._node_errors.keys()
            if node_errors.get(node_id) != self._node_errors.get(node_id)
        }
        for edge in edge_errors.keys() | self._edge_errors.keys():
            if edge in self.edge_items and edge_errors.get(edge) != self._edge_errors.get(edge):
                self.edge_items[edge].set_error(edge_errors.get(edge))
        self._node_errors = node_errors
        self._edge_errors = edge_errors
        if changed:
            self.refresh_nodes(changed)

    def show_health(self, health: dict[str, NodeHealth]) -> None:
        """Shows each node's training health (node id -> NodeHealth); others show none."""
        for node_id, item in self.node_items.items():
            item.set_health(health.get(node_id))

    def _place_node_edges(self, node_id: str) -> None:
        """Keeps the edges of a node attached to its ports."""
        for edge in self._node_edges.get(node_id, ()):
            self._place_edge(self.edge_items[edge])

    # Selection ---------------------------------------------------------------------

    def selected_node_ids(self) -> list[str]:
        return [item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self._syncing_selection = True
        try:
            self.clearSelection()
            for node_id in node_ids:
                if node_id in self.node_items:
                    self.node_items[node_id].setSelected(True)
        finally:
            self._syncing_selection = False
        self._on_selection_changed()

    def _on_selection_changed(self) -> None:
        if not self._syncing_selection:
            self.session.set_selection(self.selected_node_ids())

    # Edits started on the canvas -------------------------------------------------------

    def add_layer(
        self, type_name: str, scene_pos: QPointF, avoid_overlap: bool = False
    ) -> str | None:
        """Adds a node of `type_name` centred near `scene_pos`; returns its id.

        Args:
            type_name: The layer type.
            scene_pos: Where (a drop point, or the view's centre).
            avoid_overlap: Move it to the nearest free spot rather than on top
                of a node (when the user did not choose the exact point).
        """
        graph = self.session.view
        position = (snap(scene_pos.x() - 100), snap(scene_pos.y() - 48))
        if avoid_overlap:
            x, y = free_position(graph, position)
            position = (snap(x), snap(y))
        node, command = palette_node(graph, type_name, position)
        refused = self.session.execute_in_view(command)
        if refused:
            self.message.emit(refused)
            return None
        self.select_nodes([node.id])
        return node.id

    def delete_selection(self) -> None:
        """Deletes the selected nodes and edges as one undo step."""
        node_ids = self.selected_node_ids()
        removed = set(node_ids)
        edges = [
            item.edge
            for item in self.selectedItems()
            if isinstance(item, EdgeItem)
            and item.edge.source not in removed
            and item.edge.target not in removed
        ]
        commands = [RemoveEdge(edge) for edge in edges] + [RemoveNode(n) for n in node_ids]
        if not commands:
            return
        count = len(node_ids) + len(edges)
        text = commands[0].text if count == 1 else f"Delete {count} items"
        self.session.execute_in_view(Batch(commands, text))

    def connect_ports(
        self,
        source_id: str,
        target_id: str,
        port: int | None = None,
        replacing: Edge | None = None,
        source_port: int = 0,
    ) -> str | None:
        """Connects `source_id` to `target_id` (its first free port when None).

        Args:
            source_id: The node whose output is connected.
            target_id: The node that takes it.
            port: The input port; the first free one when None.
            replacing: An edge the new one replaces in the same undo step.
            source_port: Which output of `source_id` (a block may have several).

        Returns:
            None when connected, else why the connection was refused.
        """
        graph = self.session.view
        checker = ConnectionChecker(graph, self.session.view_analysis, source_id, source_port)
        if port is None:
            port = checker.first_free_port(target_id)
        edge = Edge(source_id, target_id, port, source_port)
        if edge == replacing:
            return None
        problem = checker.problem(target_id, port)
        if problem is None:
            if replacing is None:
                problem = self.session.execute_in_view(AddEdge(edge))
            else:
                command = Batch([RemoveEdge(replacing), AddEdge(edge)], "Reconnect")
                problem = self.session.execute_in_view(command)
        if problem:
            self.message.emit(problem)
        return problem

    # Mouse: wiring and moving ---------------------------------------------------------

    def _port_at(self, pos: QPointF) -> PortItem | None:
        return next((i for i in self.items(pos) if isinstance(i, PortItem)), None)

    def _node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
            if isinstance(item, PortItem):
                return item.parentItem()
        return None

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # Qt override
        item = self._node_at(event.scenePos())
        if item is not None and self.session.view.node(item.node_id).type == BLOCK:
            self.block_opened.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        port = self._port_at(event.scenePos())
        if event.button() == Qt.MouseButton.LeftButton and port is not None:
            if port.is_output:
                self._start_wire(port.node_id, port.index)
                event.accept()
                return
            edge = next(
                (e for e in self.session.view.in_edges(port.node_id) if e.port == port.index),
                None,
            )
            if edge is not None:
                # Pulling a connection off an input port rewires or removes it.
                self._start_wire(edge.source, edge.source_port, detached=edge)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None:
            end = event.scenePos()
            port = self._port_at(end)
            if port is not None and port in self._wire.highlighted:
                end = port.scenePos()
            self._wire.preview.setPath(edge_path(self._wire.start, end))
            event.accept()
            return
        super().mouseMoveEvent(event)
        if event.buttons() & Qt.MouseButton.LeftButton and isinstance(
            self.mouseGrabberItem(), NodeItem
        ):
            # Nodes are being dragged: their edges follow.
            for item in self.selectedItems():
                if isinstance(item, NodeItem):
                    self._place_node_edges(item.node_id)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def commit_moves(self) -> None:
        """Snaps nodes moved by dragging to the grid and records the move."""
        graph = self.session.view
        moved: dict[str, tuple[float, float]] = {}
        for item in self.selectedItems():
            if not isinstance(item, NodeItem) or item.node_id not in graph:
                continue
            position = (snap(item.pos().x()), snap(item.pos().y()))
            if position != graph.node(item.node_id).position:
                moved[item.node_id] = position
            elif item.pos() != QPointF(*position):
                # Dropped within half a grid step of where it was: back in place.
                item.setPos(*position)
                self._place_node_edges(item.node_id)
        if moved:
            self.session.execute_in_view(MoveNodes(moved))

    def _start_wire(self, source_id: str, source_port: int, detached: Edge | None = None) -> None:
        view = self.session.view
        checker = ConnectionChecker(view, self.session.view_analysis, source_id, source_port)
        preview = QGraphicsPathItem()
        pen = QPen(COMPATIBLE_PORT_COLOR.darker(120), 2, Qt.PenStyle.DashLine)
        preview.setPen(pen)
        preview.setZValue(5)
        self.addItem(preview)
        start = self.node_items[source_id].output_anchor(source_port)
        self._wire = _WireDrag(checker, preview, start, detached)
        if detached is not None:
            self.edge_items[detached].hide()
            end = self.node_items[detached.target].input_anchor(detached.port)
            preview.setPath(edge_path(start, end))
        for item in self.node_items.values():
            for input_port in item.input_ports:
                if checker.problem(item.node_id, input_port.index) is None:
                    input_port.set_highlighted(True)
                    self._wire.highlighted.append(input_port)

    def _finish_wire(self, pos: QPointF) -> None:
        wire = self._wire
        self._wire = None
        for port in wire.highlighted:
            port.set_highlighted(False)
        self.removeItem(wire.preview)
        detached = wire.detached
        if detached is not None and detached in self.edge_items:
            self.edge_items[detached].show()
        source_id, source_port = wire.checker.source.id, wire.checker.source_port
        port = self._port_at(pos)
        if port is not None and not port.is_output:
            self.connect_ports(source_id, port.node_id, port.index, detached, source_port)
            return
        node = self._node_at(pos)
        if node is not None and node.node_id != source_id:
            if detached is None or node.node_id != detached.target:
                self.connect_ports(source_id, node.node_id, None, detached, source_port)
            return
        if detached is not None:
            self.session.execute_in_view(RemoveEdge(detached))
