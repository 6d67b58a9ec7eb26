"""A canvas over one block definition, with a breadcrumb bar saying where you are.

Double-clicking a block instance opens this window on its definition;
double-clicking an instance inside goes one level deeper, and the breadcrumb
buttons (or Back) go up again. Edits here change every instance at once:
the definition is shared, so the document's shapes and problems follow.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from graph.model import NetworkGraph
from gui.canvas.scene import GraphScene
from gui.canvas.view import CanvasView
from gui.document import EditorSession


class BlockEditor(QWidget):
    """A window editing block definitions, one level at a time.

    Args:
        document: The session of the document the blocks belong to; it is
            told of every edit here (unsaved changes, shapes to refresh).
    """

    def __init__(self, document: EditorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.document = document
        # (instance name, block name, definition) from the outermost level inwards.
        self.levels: list[tuple[str, str, NetworkGraph]] = []
        self.session = EditorSession(parent=self)
        self.session.undo_stack.indexChanged.connect(self._on_edited)
        self.scene = GraphScene(self.session)
        self.scene.block_opened.connect(self._open_inner)
        self.view = CanvasView(self.scene)
        self.back_button = QPushButton("◀ Back")
        self.back_button.setToolTip("Go up one level (Alt+Up)")
        self.back_button.setShortcut(QKeySequence("Alt+Up"))
        self.back_button.clicked.connect(lambda: self.go_to(len(self.levels) - 2))
        self.crumbs = QHBoxLayout()
        bar = QHBoxLayout()
        bar.addWidget(self.back_button)
        bar.addLayout(self.crumbs)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        for action in (
            self.session.undo_stack.createUndoAction(self, "&Undo"),
            self.session.undo_stack.createRedoAction(self, "&Redo"),
        ):
            self.addAction(action)
        self.actions()[0].setShortcut(QKeySequence.StandardKey.Undo)
        self.actions()[1].setShortcut(QKeySequence.StandardKey.Redo)
        self.resize(900, 600)

    def open_instance(self, graph: NetworkGraph, node_id: str) -> None:
        """Shows the definition of instance `node_id` of `graph` (the document) on its own."""
        self.levels = []
        self._push(graph, node_id)

    def path(self) -> str:
        """Where the canvas is: `stage2/block1`, instance names from the document inwards."""
        return "/".join(instance for instance, _, _ in self.levels)

    def go_to(self, level: int) -> None:
        """Shows level `level` (0: the outermost block); below 0 closes the window."""
        if level < 0:
            self.close()
            return
        del self.levels[level + 1 :]
        self._show()

    def _on_edited(self, _index: int) -> None:
        self.document.note_outside_edit()

    def _open_inner(self, node_id: str) -> None:
        self._push(self.session.graph, node_id)

    def _push(self, graph: NetworkGraph, node_id: str) -> None:
        node = graph.node(node_id)
        definition = graph.blocks.get(node.params["block"])
        if definition is None:  # validation reports it on the node
            return
        self.levels.append((node.name, node.params["block"], definition))
        self._show()

    def _show(self) -> None:
        _, block, definition = self.levels[-1]
        self.session.replace_graph(definition)
        self.view.fit_to_view()
        while self.crumbs.count():
            widget = self.crumbs.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        document = QPushButton(self.document.display_name)
        document.setFlat(True)
        document.setToolTip("Back to the document")
        document.clicked.connect(lambda: self.go_to(-1))
        self.crumbs.addWidget(document)
        for level, (instance, name, _) in enumerate(self.levels):
            self.crumbs.addWidget(QLabel("›"))
            crumb = QPushButton(f"{instance} ({name})")
            crumb.setFlat(True)
            crumb.setEnabled(level < len(self.levels) - 1)
            crumb.clicked.connect(lambda _checked=False, at=level: self.go_to(at))
            self.crumbs.addWidget(crumb)
        self.setWindowTitle(f"Block {block} — {self.path()}")
