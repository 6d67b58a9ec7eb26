"""A warning badge on a node: training health found a problem there (dead units, gradients)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from gui.theme import NODE_BODY_COLOR, WARNING_COLOR

BADGE_RADIUS = 9.0


class HealthBadgeItem(QGraphicsItem):
    """An amber "!" on its node's top-right corner; its tooltip says what is wrong and what to try.

    Args:
        parent: The NodeItem it sits on.
    """

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setZValue(3)
        self.setAcceptHoverEvents(True)

    def boundingRect(self) -> QRectF:
        r = BADGE_RADIUS + 1.0
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(
        self, painter: QPainter, _option: QStyleOptionGraphicsItem, _widget: QWidget | None = None
    ) -> None:
        r = BADGE_RADIUS
        circle = QRectF(-r, -r, 2 * r, 2 * r)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QBrush(WARNING_COLOR))
        painter.setPen(QPen(NODE_BODY_COLOR, 1.5))
        painter.drawEllipse(circle)
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(9.0)
        painter.setFont(font)
        painter.setPen(NODE_BODY_COLOR)
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, "!")
