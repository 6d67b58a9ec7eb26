"""The palette: every catalog layer by category, then the block templates; searchable, draggable."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from graph.block_templates import TEMPLATE_PREFIX, TEMPLATES
from graph.catalog import by_category
from gui.canvas.view import LAYER_MIME_TYPE
from gui.theme import category_color

_TYPE_ROLE = Qt.ItemDataRole.UserRole


def layer_mime_data(type_name: str) -> QMimeData:
    """What dragging `type_name` out of the palette carries."""
    data = QMimeData()
    data.setData(LAYER_MIME_TYPE, type_name.encode("utf-8"))
    data.setText(type_name)
    return data


class _LayerTree(QTreeWidget):
    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        type_name = items[0].data(0, _TYPE_ROLE) if items else None
        return layer_mime_data(type_name) if type_name else QMimeData()

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME_TYPE]


class Palette(QWidget):
    """Layers grouped by category; the tooltip of each is its one-line explanation.

    Signals:
        layer_activated: A layer type was double-clicked (add it to the graph).
    """

    layer_activated = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.tree = _LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.itemActivated.connect(self._on_activated)
        self.items: dict[str, QTreeWidgetItem] = {}
        groups = {
            category: [(layer.type, layer.type, layer.description) for layer in layers]
            for category, layers in by_category().items()
        }
        groups["Blocks"] = [
            (TEMPLATE_PREFIX + t.name, t.title, t.explanation) for t in TEMPLATES.values()
        ]
        for category, entries in groups.items():
            group = QTreeWidgetItem([category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setForeground(0, QBrush(category_color(category).darker(150)))
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            self.tree.addTopLevelItem(group)
            for type_name, title, explanation in entries:
                item = QTreeWidgetItem([title])
                item.setData(0, _TYPE_ROLE, type_name)
                item.setToolTip(0, explanation)
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                group.addChild(item)
                self.items[type_name] = item
        self.tree.expandAll()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)

    def filter(self, text: str) -> None:
        """Shows the layers whose name, category or explanation contains `text`."""
        needle = text.strip().lower()
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            category_hit = needle in group.text(0).lower()
            visible_children = 0
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                hit = (
                    not needle
                    or category_hit
                    or needle in child.text(0).lower()
                    or needle in child.toolTip(0).lower()
                )
                child.setHidden(not hit)
                visible_children += hit
            group.setHidden(visible_children == 0)

    def _on_activated(self, item: QTreeWidgetItem) -> None:
        type_name = item.data(0, _TYPE_ROLE)
        if type_name:
            self.layer_activated.emit(type_name)
