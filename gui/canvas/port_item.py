"""A connection point on a node: inputs on the left, outputs on the right."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem

from gui.theme import COMPATIBLE_PORT_COLOR, EDGE_COLOR, PORT_COLOR

PORT_RADIUS = 6.0
INPUT = "input"
OUTPUT = "output"


class PortItem(QGraphicsEllipseItem):
    """One port of a node.

    Args:
        node_id: The node it belongs to.
        direction: INPUT or OUTPUT.
        index: The input port number, or the output's (0 unless a block has several).
        parent: The NodeItem.
    """

    def __init__(self, node_id: str, direction: str, index: int, parent: QGraphicsItem) -> None:
        r = PORT_RADIUS
        super().__init__(QRectF(-r, -r, 2 * r, 2 * r), parent)
        self.node_id = node_id
        self.direction = direction
        self.index = index
        self.setPen(QPen(EDGE_COLOR, 1.5))
        self.setBrush(QBrush(PORT_COLOR))
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(1)

    @property
    def is_output(self) -> bool:
        return self.direction == OUTPUT

    def set_highlighted(self, highlighted: bool) -> None:
        """Marks the port as a place a dragged connection can land."""
        if highlighted:
            self.setBrush(QBrush(COMPATIBLE_PORT_COLOR))
            self.setPen(QPen(COMPATIBLE_PORT_COLOR.darker(130), 2.0))
        else:
            self.setBrush(QBrush(PORT_COLOR))
            self.setPen(QPen(EDGE_COLOR, 1.5))
