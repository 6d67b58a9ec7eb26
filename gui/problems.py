"""The problems panel: every validation problem; clicking one shows the node.

A problem with a known fix (graph.fixes) gets a button per fix under it, and
"Apply all fixes" applies the first fix of every problem as one undo step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from graph.fixes import Fix, all_fixes_command
from graph.model import GraphError
from graph.validation import ERROR, Problem
from gui.document import EditorSession

_NODE_ROLE = Qt.ItemDataRole.UserRole


class ProblemsPanel(QWidget):
    """Lists the session's problems, with their fixes as buttons.

    Signals:
        node_activated: The id of the node of a clicked problem.
        message: Why a fix was refused, for the status bar.
    """

    node_activated = Signal(str)
    message = Signal(str)

    def __init__(self, session: EditorSession) -> None:
        super().__init__()
        self.session = session
        self.fix_buttons: list[QPushButton] = []
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        self.fix_all_button = QPushButton("Apply all fixes")
        self.fix_all_button.setToolTip("Apply the first fix of every problem as one undo step")
        self.fix_all_button.clicked.connect(self.apply_all_fixes)
        header = QHBoxLayout()
        header.addStretch(1)
        header.addWidget(self.fix_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list)
        session.problems_changed.connect(self.show_problems)
        self.show_problems(session.problems)

    def show_problems(self, problems: list[Problem]) -> None:
        self.list.clear()
        self.fix_buttons = []
        self.problems = list(problems)
        style = self.style()
        error_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warning_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.fix_all_button.setVisible(sum(1 for p in problems if p.fixes) > 1)
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
            if problem.fixes:
                self._add_fix_row(problem)

    def _add_fix_row(self, problem: Problem) -> None:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(24, 0, 4, 2)
        for fix in problem.fixes:
            button = QPushButton(f"Fix: {fix.text}")
            button.setToolTip("Apply this change to the graph (undoable)")
            button.clicked.connect(lambda _checked=False, fix=fix: self.apply_fix(fix))
            layout.addWidget(button)
            self.fix_buttons.append(button)
        layout.addStretch(1)
        item = QListWidgetItem()
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setData(_NODE_ROLE, problem.node_id)
        item.setSizeHint(row.sizeHint())
        self.list.addItem(item)
        self.list.setItemWidget(item, row)

    def apply_fix(self, fix: Fix) -> str | None:
        """Applies one fix as an undo step; returns why it was refused, if it was."""
        return self._execute(lambda graph: fix.command(graph), f"Fix: {fix.text}")

    def apply_all_fixes(self) -> str | None:
        """Applies the first fix of every problem that has one, as one undo step."""
        fixes = [p.fixes[0] for p in self.problems if p.fixes]
        if not fixes:
            return "No problem has a fix."
        return self._execute(
            lambda graph: all_fixes_command(graph, fixes), f"Apply {len(fixes)} fixes"
        )

    def _execute(self, make_command, text: str) -> str | None:
        try:
            refused = self.session.execute(make_command(self.session.graph), text)
        except GraphError as error:
            refused = str(error)
        if refused:
            self.message.emit(refused)
        return refused

    def _on_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(_NODE_ROLE)
        if node_id:
            self.node_activated.emit(node_id)
