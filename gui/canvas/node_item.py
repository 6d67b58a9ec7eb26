"""How a layer looks on the canvas: a card with its name, type, key parameters,
output shape and parameter count, and its ports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from graph.layer_type import LayerType
from graph.messages import printable
from graph.model import Node
from graph.shapes import NodeInfo, shape_text
from gui.canvas.health_badge import HealthBadgeItem
from gui.canvas.port_item import INPUT, OUTPUT, PortItem
from gui.theme import (
    ERROR_COLOR,
    MUTED_TEXT_COLOR,
    NODE_BODY_COLOR,
    NODE_TEXT_COLOR,
    SELECTION_COLOR,
    WARNING_COLOR,
    category_color,
)

NODE_WIDTH = 160.0
NODE_HEIGHT = 104.0
HEADER_HEIGHT = 24.0
PADDING = 8.0
_TYPE_TOP = HEADER_HEIGHT + 3.0
_LINE_HEIGHT = 13.0
_FOOTER_TOP = NODE_HEIGHT - 24.0
_PARAM_LINES = 3
_SEPARATOR = "  ·  "
# How far right of its port a block output's name starts (above the edge leaving it).
PORT_LABEL_GAP = 8.0
# Below this zoom node text is too small to read and is not drawn.
_TEXT_MIN_ZOOM = 0.4


@cache
def _fonts() -> tuple[QFont, QFont, QFont]:
    """Name, detail and footer fonts; made once, after the QApplication exists."""
    name = QFont()
    name.setPointSizeF(9.5)
    name.setBold(True)
    detail = QFont()
    detail.setPointSizeF(8.0)
    footer = QFont()
    footer.setPointSizeF(8.5)
    footer.setBold(True)
    return name, detail, footer


@cache
def _metrics() -> tuple[QFontMetricsF, QFontMetricsF, QFontMetricsF]:
    return tuple(QFontMetricsF(font) for font in _fonts())


def format_value(value: Any) -> str:
    """A parameter value as short text for the node face: (3, 3) -> 3×3."""
    if isinstance(value, tuple):
        return "×".join(format_value(v) for v in value) or "()"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict) and "type" in value:
        return value["type"]
    if isinstance(value, dict):
        parts = [f"{key}={strength:g}" for key, strength in value.items() if strength]
        return "(" + ", ".join(parts) + ")" if parts else "none"
    if value is None:
        return "none"
    return str(value)


def format_shape(shape: tuple | None) -> str:
    """The canvas's text for a shape: open sizes and unknown shapes as ?."""
    return shape_text(shape)


@dataclass(frozen=True)
class NodeHealth:
    """What training health says of a node: its numbers and its warnings, as text.

    Attributes:
        heading: Where the numbers come from ("Run 2, epoch 10").
        numbers: One line of its numbers (output statistics, dead units, gradient norm).
        warnings: (title, problem, fix to try) per problem found; none: no badge.
    """

    heading: str
    numbers: str
    warnings: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class NodeFace:
    """Everything a node shows, as text; comparing two tells whether to repaint."""

    name: str
    type: str
    param_lines: tuple[str, ...]
    shape: str
    count: str
    error: str | None


def format_count(count: int) -> str:
    """A parameter count short enough for a node: 4,160 params, 1.2M params."""
    if count < 100_000:
        return f"{count:,} params"
    if count < 1_000_000:
        return f"{count / 1000:.0f}K params"
    return f"{count / 1_000_000:.1f}M params"


def node_face(node: Node, spec: LayerType, info: NodeInfo | None, error: str | None) -> NodeFace:
    params = tuple(f"{key} {format_value(node.params.get(key))}" for key in spec.key_params)
    count = info.param_count if info else 0
    return NodeFace(
        node.name,
        node.type,
        params,
        # A block with several outputs shows each output's shape.
        ", ".join(format_shape(s) for s in info.outputs)
        if info and info.outputs
        else format_shape(info.output_shape if info else None),
        format_count(count) if count else "",
        error,
    )


def _wrap(text: str, metrics: QFontMetricsF, width: float, count: int) -> list[str]:
    """`text` word-wrapped into at most `count` lines that fit `width`, the last elided."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < count:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words:
        lines[-1] = metrics.elidedText(
            f"{lines[-1]} {' '.join(words)}", Qt.TextElideMode.ElideRight, width
        )
    return [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines]


def _pack_lines(items: tuple[str, ...], metrics: QFontMetricsF, width: float) -> tuple[str, ...]:
    """Joins items into at most _PARAM_LINES lines that fit `width`, eliding the rest."""
    lines: list[str] = []
    for item in items:
        joined = f"{lines[-1]}{_SEPARATOR}{item}" if lines else item
        if lines and metrics.horizontalAdvance(joined) <= width:
            lines[-1] = joined
        else:
            lines.append(item)
    if len(lines) > _PARAM_LINES:
        lines = lines[: _PARAM_LINES - 1] + [_SEPARATOR.join(lines[_PARAM_LINES - 1 :])]
    return tuple(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines)


class NodeItem(QGraphicsItem):
    """One node on the canvas. It holds only the node id; the scene feeds it.

    Args:
        node: The model node it shows (read once for id and type).
        spec: Its catalog entry.
    """

    def __init__(self, node: Node, spec: LayerType) -> None:
        super().__init__()
        self.node_id = node.id
        self.spec = spec
        self._color = category_color(spec.category)
        self._face: NodeFace | None = None
        self._tip = ""
        self.health: NodeHealth | None = None
        self.health_badge: HealthBadgeItem | None = None
        self._elided: tuple[str, str, tuple[str, ...], str, str] = ("", "", (), "", "")
        self.input_ports: list[PortItem] = []
        self.output_ports: list[PortItem] = []
        self.set_output_names(())
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
        )
        # Painting text is the costly part; a cached pixmap makes pans and
        # repaints of unchanged nodes nearly free.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(2)
        self.setPos(*node.position)

    # Content -----------------------------------------------------------------

    @property
    def face(self) -> NodeFace | None:
        return self._face

    @property
    def has_error(self) -> bool:
        return bool(self._face and self._face.error)

    def set_face(self, face: NodeFace) -> bool:
        """Shows `face`; returns whether anything visible changed."""
        if face == self._face:
            return False
        self._face = face
        name_metrics, detail_metrics, footer_metrics = _metrics()
        inner = NODE_WIDTH - 2 * PADDING
        name_text = name_metrics.elidedText(face.name, Qt.TextElideMode.ElideRight, inner)
        count_width = detail_metrics.horizontalAdvance(face.count)
        type_text = detail_metrics.elidedText(
            face.type, Qt.TextElideMode.ElideRight, inner - count_width - 6
        )
        lines = _pack_lines(face.param_lines, detail_metrics, inner)
        if face.error:
            # The footer tells what is wrong; the tooltip has the whole message.
            # Two wrapped lines, so the reason reads whole more often than not.
            reason = face.error.removeprefix(f"{printable(face.name)} ({face.type}): ")
            shape_text = "\n".join(_wrap(f"⚠ {reason}", detail_metrics, inner, 2))
        else:
            shape_text = footer_metrics.elidedText(face.shape, Qt.TextElideMode.ElideMiddle, inner)
        self._elided = (name_text, type_text, lines, shape_text, face.count)
        tip = f"<b>{face.name}</b> ({face.type})<br>{self.spec.description}"
        if face.error:
            tip += f"<br><span style='color:{ERROR_COLOR.name()}'>{escape(face.error)}</span>"
        self._tip = tip
        self._show_tooltip()
        self.update()
        return True

    def set_health(self, health: NodeHealth | None) -> None:
        """Shows training health: a badge when it warns, its numbers in the tooltip; None: none."""
        if health == self.health:
            return
        self.health = health
        if health is not None and health.warnings:
            if self.health_badge is None:
                self.health_badge = HealthBadgeItem(self)
                self.health_badge.setPos(NODE_WIDTH - 4.0, 4.0)
            lines = [
                f"<b style='color:{WARNING_COLOR.darker(130).name()}'>⚠ {escape(title)}</b>: "
                f"{escape(problem)}<br>Try: {escape(fix)}"
                for title, problem, fix in health.warnings
            ]
            self.health_badge.setToolTip("<br>".join(lines))
        elif self.health_badge is not None:
            self.health_badge.setParentItem(None)
            if self.health_badge.scene() is not None:
                self.health_badge.scene().removeItem(self.health_badge)
            self.health_badge = None
        self._show_tooltip()

    def _show_tooltip(self) -> None:
        tip = self._tip
        health = self.health
        if health is not None:
            tip += f"<br><i>{escape(health.heading)}: {escape(health.numbers)}</i>"
            if self.health_badge is not None:
                tip += "<br>" + self.health_badge.toolTip()
        self.setToolTip(tip)

    def set_input_port_count(self, count: int) -> None:
        """Shows `count` input ports, spread down the left edge."""
        while len(self.input_ports) > count:
            port = self.input_ports.pop()
            port.setParentItem(None)
            if port.scene():
                port.scene().removeItem(port)
        while len(self.input_ports) < count:
            self.input_ports.append(PortItem(self.node_id, INPUT, len(self.input_ports), self))
        span = NODE_HEIGHT - HEADER_HEIGHT
        for index, port in enumerate(self.input_ports):
            port.setPos(0.0, HEADER_HEIGHT + span * (index + 1) / (count + 1))
            port.setToolTip(self.spec.port_name(index))

    def input_anchor(self, port: int) -> QPointF:
        """Where an edge into input `port` ends, in scene coordinates."""
        if port < len(self.input_ports):
            return self.input_ports[port].scenePos()
        return self.mapToScene(QPointF(0.0, (NODE_HEIGHT + HEADER_HEIGHT) / 2))

    def set_output_names(self, names: tuple[str, ...]) -> None:
        """Shows one output port, or one per name (a block's outputs), labelled, down the right."""
        count = max(1, len(names))
        if len(self.output_ports) == count and all(
            port.toolTip() == name for port, name in zip(self.output_ports, names, strict=False)
        ):
            return
        for port in self.output_ports:
            port.setParentItem(None)
            if port.scene():
                port.scene().removeItem(port)
        self.output_ports = [PortItem(self.node_id, OUTPUT, i, self) for i in range(count)]
        span = NODE_HEIGHT - HEADER_HEIGHT
        for index, port in enumerate(self.output_ports):
            port.setPos(NODE_WIDTH, HEADER_HEIGHT + span * (index + 1) / (count + 1))
            if len(names) > 1:
                port.setToolTip(names[index])
                label = QGraphicsSimpleTextItem(names[index], port)
                label.setFont(_fonts()[2])
                label.setBrush(QBrush(MUTED_TEXT_COLOR))
                label.setPos(PORT_LABEL_GAP, -label.boundingRect().height() - 1.0)

    def output_anchor(self, port: int = 0) -> QPointF:
        """Where an edge out of output `port` starts, in scene coordinates."""
        return self.output_ports[min(port, len(self.output_ports) - 1)].scenePos()

    # Qt overrides ------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        return QRectF(-2.0, -2.0, NODE_WIDTH + 4.0, NODE_HEIGHT + 4.0)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), 7, 7)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, _widget: QWidget | None = None
    ) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < _TEXT_MIN_ZOOM:
            self._paint_overview(painter)
            return
        name_font, detail_font, footer_font = _fonts()
        name_text, type_text, lines, shape_text, count_text = self._elided
        rect = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = QPainterPath()
        body.addRoundedRect(rect, 7, 7)
        painter.fillPath(body, QBrush(NODE_BODY_COLOR))
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT + 7), 7, 7)
        painter.save()
        painter.setClipRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT))
        painter.fillPath(header, QBrush(self._color))
        painter.restore()

        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        inner = NODE_WIDTH - 2 * PADDING
        painter.setPen(NODE_TEXT_COLOR)
        painter.setFont(name_font)
        painter.drawText(QRectF(PADDING, 0, inner, HEADER_HEIGHT), left, name_text)

        painter.setFont(detail_font)
        type_rect = QRectF(PADDING, _TYPE_TOP, inner, _LINE_HEIGHT)
        painter.setPen(self._color.darker(170))
        painter.drawText(type_rect, left, type_text)
        painter.setPen(MUTED_TEXT_COLOR)
        painter.drawText(type_rect, right, count_text)
        for index, line in enumerate(lines):
            top = _TYPE_TOP + (index + 1) * _LINE_HEIGHT
            painter.drawText(QRectF(PADDING, top, inner, _LINE_HEIGHT), left, line)

        has_error = self.has_error
        painter.setPen(QPen(QColor("#e3e5e8"), 1))
        painter.drawLine(QPointF(1, _FOOTER_TOP), QPointF(NODE_WIDTH - 1, _FOOTER_TOP))
        painter.setFont(detail_font if has_error else footer_font)
        painter.setPen(ERROR_COLOR if has_error else NODE_TEXT_COLOR)
        footer_rect = QRectF(PADDING, _FOOTER_TOP, inner, NODE_HEIGHT - _FOOTER_TOP)
        painter.drawText(footer_rect, left, shape_text)

        if self.isSelected():
            border = QPen(SELECTION_COLOR, 2.5)
        elif has_error:
            border = QPen(ERROR_COLOR, 2.5)
        else:
            border = QPen(QColor("#b8bdc4"), 1)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(border)
        painter.drawRoundedRect(rect, 7, 7)
        if has_error and self.isSelected():
            painter.setPen(QPen(ERROR_COLOR, 1.5, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 5, 5)

    def _paint_overview(self, painter: QPainter) -> None:
        """Zoomed far out text is unreadable: a coloured card is all that shows."""
        painter.setBrush(QBrush(self._color))
        if self.isSelected():
            painter.setPen(QPen(SELECTION_COLOR, 6))
        elif self.has_error:
            painter.setPen(QPen(ERROR_COLOR, 6))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT))
