"""The bar above the canvas saying which block the canvas is inside: doc › stage2 › block1.

Shown only inside a block. Clicking a crumb goes to that level; the last
crumb is where you are. Thin: it reads the session's levels and calls
`go_to_level`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from graph.messages import printable
from gui.document import EditorSession


class Breadcrumb(QWidget):
    """Crumb buttons for the document and every opened block instance."""

    def __init__(self, session: EditorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.crumbs: list[QPushButton] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        session.view_replaced.connect(self.refresh)
        session.path_changed.connect(lambda _path: self.refresh())
        self.refresh()

    def path(self) -> str:
        """The crumbs' text: `digits.yaml › stage2 › block1`."""
        return " › ".join(crumb.text().split(" (")[0] for crumb in self.crumbs)

    def refresh(self) -> None:
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        levels = self.session.levels
        self.crumbs = [self._crumb(self.session.display_name, 0, "Back to the document")]
        for depth, level in enumerate(levels, 1):
            self._layout.addWidget(QLabel("›"))
            text = f"{printable(level.instance)} ({printable(level.block)})"
            self.crumbs.append(self._crumb(text, depth, f"Inside block {printable(level.block)}"))
        # Where you are: not a link, but not greyed out either.
        self.crumbs[-1].setEnabled(False)
        self.crumbs[-1].setStyleSheet("QPushButton:disabled { color: palette(text); }")
        font = self.crumbs[-1].font()
        font.setBold(True)
        self.crumbs[-1].setFont(font)
        hint = QLabel("  Esc or Backspace: up a level · edits change every use of the block")
        hint.setEnabled(False)
        self._layout.addWidget(hint)
        self._layout.addStretch(1)
        self.setVisible(bool(levels))

    def _crumb(self, text: str, depth: int, tip: str) -> QPushButton:
        crumb = QPushButton(text)
        crumb.setFlat(True)
        crumb.setToolTip(tip)
        crumb.clicked.connect(lambda _checked=False: self.session.go_to_level(depth))
        self._layout.addWidget(crumb)
        return crumb
