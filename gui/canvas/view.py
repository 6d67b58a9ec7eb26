"""CanvasView: zoom to the cursor, pan, fit, rubber-band selection, drops from the palette."""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from graph.block_type import BLOCK
from graph.model import MoveNodes
from gui.canvas.scene import GraphScene
from gui.theme import CANVAS_COLOR, GRID_MAJOR_COLOR, GRID_MINOR_COLOR, GRID_SIZE

_ARROW_STEPS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}
LAYER_MIME_TYPE = "application/x-deepwire-layer"
MIN_ZOOM = 0.05
MAX_ZOOM = 4.0
# Fitting a small graph magnifies it a little, not to poster size.
FIT_MAX_ZOOM = 1.25


class CanvasView(QGraphicsView):
    """The visible part of the canvas.

    Args:
        scene: The scene to show.
        parent: The parent widget.
    """

    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self._pan_start: QPointF | None = None
        self.last_painted = 0.0
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        # zoom_by keeps the point under the cursor fixed itself.
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # Repainting only what changed is what keeps an edit on a big graph
        # within one frame.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setAcceptDrops(True)
        # Panning is by middle or right drag; scroll bars over a huge scene only distract.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # A generous scene rect lets the user pan past the graph's edges.
        self.setSceneRect(QRectF(-50_000, -50_000, 100_000, 100_000))

    # Zoom and pan ----------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zooms keeping the scene point under `anchor` (viewport pixels) in place.

        Args:
            factor: The magnification change; the zoom stays within MIN_ZOOM..MAX_ZOOM.
            anchor: The fixed point, e.g. the mouse cursor; the view centre when None.
        """
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        factor = target / self.zoom
        if abs(factor - 1.0) <= 1e-9:
            return
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        fixed = self.mapToScene(anchor.toPoint())
        self.scale(factor, factor)
        drift = QPointF(self.mapFromScene(fixed)) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(drift.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(drift.y()))
        self.resetCachedContent()

    def fit_to_view(self) -> None:
        """Shows the whole graph, magnified at most to FIT_MAX_ZOOM."""
        items = self.graph_scene.itemsBoundingRect()
        if items.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self.fitInView(items.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > FIT_MAX_ZOOM:
            self.zoom_by(FIT_MAX_ZOOM / self.zoom)
            self.centerOn(items.center())
        elif self.zoom < MIN_ZOOM:
            self.zoom_by(MIN_ZOOM / self.zoom)
            self.centerOn(items.center())

    def centre_on_node(self, node_id: str) -> None:
        item = self.graph_scene.node_items.get(node_id)
        if item is not None:
            self.centerOn(item.sceneBoundingRect().center())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15**steps, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self._pan_start = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_start is not None:
            delta = event.position() - self._pan_start
            self._pan_start = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_start is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.RightButton,
        ):
            self._pan_start = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt override
        if self._moves_between_levels(event):
            event.accept()
            return
        step = _ARROW_STEPS.get(event.key())
        node_ids = self.graph_scene.selected_node_ids()
        if step is None or not node_ids:
            super().keyPressEvent(event)
            return
        # Arrow keys nudge the selection one grid step; a run of nudges is one undo step.
        graph = self.graph_scene.session.view
        dx, dy = step
        positions = {
            node_id: (
                graph.node(node_id).position[0] + dx * GRID_SIZE,
                graph.node(node_id).position[1] + dy * GRID_SIZE,
            )
            for node_id in node_ids
        }
        self.graph_scene.session.execute_in_view(MoveNodes(positions))
        event.accept()

    def _moves_between_levels(self, event: QKeyEvent) -> bool:
        """Enter opens the one selected block instance; Esc goes up from inside a block."""
        scene, session = self.graph_scene, self.graph_scene.session
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            selected = scene.selected_node_ids()
            if len(selected) == 1 and session.view.node(selected[0]).type == BLOCK:
                scene.block_opened.emit(selected[0])
                return True
        return event.key() == Qt.Key.Key_Escape and session.go_up()

    # Drops from the palette ----------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME_TYPE):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME_TYPE):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if not data.hasFormat(LAYER_MIME_TYPE):
            super().dropEvent(event)
            return
        type_name = bytes(data.data(LAYER_MIME_TYPE)).decode("utf-8")
        self.graph_scene.add_layer(type_name, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt override
        super().paintEvent(event)
        # When the canvas last finished painting: what bench/gui_scale.py times.
        self.last_painted = time.perf_counter()

    # Background grid -------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, CANVAS_COLOR)
        step = GRID_SIZE if self.zoom >= 0.5 else GRID_SIZE * 5
        if self.zoom < 0.15:
            return
        left = int(rect.left()) - int(rect.left()) % step
        top = int(rect.top()) - int(rect.top()) % step
        minor, major = QPen(GRID_MINOR_COLOR, 0), QPen(GRID_MAJOR_COLOR, 0)
        x = left
        while x < rect.right():
            painter.setPen(major if x % (GRID_SIZE * 5) == 0 else minor)
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            painter.setPen(major if y % (GRID_SIZE * 5) == 0 else minor)
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += step
