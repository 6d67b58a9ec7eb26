"""A tensor on the canvas: a curve from an output port to an input port,
labelled with the shape it carries."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graph.model import Edge
from gui.theme import EDGE_COLOR, ERROR_COLOR, SELECTION_COLOR


@cache
def _label_font() -> QFont:
    font = QFont()
    font.setPointSizeF(7.0)
    return font


@cache
def _label_size(text: str) -> tuple[float, float]:
    metrics = QFontMetricsF(_label_font())
    return metrics.horizontalAdvance(text) + 6, metrics.height() + 2


def edge_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A left-to-right cubic curve; backwards edges loop out so they stay visible."""
    reach = max(50.0, abs(end.x() - start.x()) * 0.5)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + reach, start.y()), QPointF(end.x() - reach, end.y()), end)
    return path


class EdgeItem(QGraphicsItem):
    """One edge. The scene tells it where its ends are and what it carries.

    Args:
        edge: The model edge it shows.
    """

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self._path = QPainterPath()
        self._label = ""
        self._label_rect = QRectF()
        self._error: str | None = None
        self._bounds = QRectF()
        self._obstacles: tuple[QRectF, ...] = ()
        self._label_visible = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(1)

    @property
    def label(self) -> str:
        return self._label

    @property
    def error(self) -> str | None:
        return self._error

    def set_ends(self, start: QPointF, end: QPointF, obstacles: tuple[QRectF, ...] = ()) -> None:
        """Routes the curve; the label shows only where it covers neither node.

        Args:
            start: The source's output port, in scene coordinates.
            end: The target's input port.
            obstacles: The two nodes' rectangles.
        """
        self.prepareGeometryChange()
        self._path = edge_path(start, end)
        self._obstacles = obstacles
        self._place_label()

    @property
    def label_visible(self) -> bool:
        return self._label_visible

    def set_label(self, text: str) -> None:
        if text != self._label:
            self.prepareGeometryChange()
            self._label = text
            self._place_label()
            self._update_tooltip()

    def _update_tooltip(self) -> None:
        parts = [f"Tensor {self._label}" if self._label else "Tensor of unknown shape"]
        if self._error:
            parts.append(self._error)
        self.setToolTip("\n".join(parts))

    def set_error(self, message: str | None) -> None:
        if message != self._error:
            self._error = message
            self._update_tooltip()
            self.update()

    def _place_label(self) -> None:
        if self._path.isEmpty():
            # Not routed yet (the scene is being built): placed by set_ends.
            return
        if self._label:
            width, height = _label_size(self._label)
            middle = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(
                middle.x() - width / 2, middle.y() - height / 2, width, height
            )
        else:
            self._label_rect = QRectF()
        self._label_visible = bool(self._label) and not any(
            self._label_rect.intersects(rect) for rect in self._obstacles
        )
        self._bounds = self._path.boundingRect().adjusted(-4, -4, 4, 4).united(self._label_rect)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        outline = stroker.createStroke(self._path)
        outline.addRect(self._label_rect)
        return outline

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, _widget: QWidget | None = None
    ) -> None:
        detailed = option.levelOfDetailFromTransform(painter.worldTransform()) >= 0.4
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, detailed)
        if self.isSelected():
            color, width = SELECTION_COLOR, 3.0
        elif self._error:
            color, width = ERROR_COLOR, 2.5
        else:
            color, width = EDGE_COLOR, 1.8
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self._label_visible and detailed:
            painter.setPen(QPen(color.lighter(140) if not self._error else color, 1))
            painter.setBrush(QBrush(QColor(255, 255, 255, 235)))
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(_label_font())
            painter.setPen(ERROR_COLOR if self._error else QColor("#3c4043"))
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self._label)
