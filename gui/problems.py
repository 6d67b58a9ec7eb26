"""The problems panel: every validation problem; clicking one shows the node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from graph.validation import ERROR, Problem
from gui.document import EditorSession

_NODE_ROLE = Qt.ItemDataRole.UserRole


class ProblemsPanel(QWidget):
    """Lists the session's problems.

    Signals:
        node_activated: The id of the node of a clicked problem.
    """

    node_activated = Signal(str)

    def __init__(self, session: EditorSession) -> None:
        super().__init__()
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        session.problems_changed.connect(self.show_problems)
        self.show_problems(session.problems)

    def show_problems(self, problems: list[Problem]) -> None:
        self.list.clear()
        style = self.style()
        error_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warning_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        if not problems:
            item = QListWidgetItem(
                style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
                "No problems: the graph builds in Keras.",
            )
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
            return
        for problem in problems:
            icon = error_icon if problem.severity == ERROR else warning_icon
            item = QListWidgetItem(icon, problem.message)
            item.setToolTip(problem.message)
            item.setData(_NODE_ROLE, problem.node_id)
            self.list.addItem(item)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(_NODE_ROLE)
        if node_id:
            self.node_activated.emit(node_id)
