"""The model summary: Keras's `model.summary()` table, computed without Keras."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.cost import format_bytes, graph_cost
from graph.summary import (
    COLUMNS,
    NUMERIC_COLUMNS,
    cost_lines,
    summary_rows,
    summary_table,
    summary_totals,
)
from gui.document import EditorSession


class SummaryView(QDialog):
    """A table of layers with output shapes, parameter counts and inputs, plus totals.

    Args:
        session: The session whose graph is summarised.
        parent: The parent window.
    """

    def __init__(self, session: EditorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(f"Model summary — {session.graph.name}")
        self.resize(760, 480)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.totals = QLabel()
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        copy_button = QPushButton("Copy as text")
        copy_button.clicked.connect(self.copy_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        layout.addWidget(buttons)
        session.graph_changed.connect(lambda _ids: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        graph, analysis = self.session.graph, self.session.analysis
        rows = summary_rows(graph, analysis)
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            count = "?" if row.param_count is None else f"{row.param_count:,}"
            cells = (
                row.name,
                row.type,
                row.output_shape,
                count,
                "?" if row.macs is None else f"{row.macs:,}",
                format_bytes(row.weight_bytes),
                format_bytes(row.activation_bytes),
                ", ".join(row.connected_to) or "-",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in NUMERIC_COLUMNS:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(index, column, item)
        totals = summary_totals(graph, analysis)
        self.totals.setText(
            f"Total params: {totals.total:,}    Trainable params: {totals.trainable:,}    "
            f"Non-trainable params: {totals.non_trainable:,}\n"
            + "\n".join(cost_lines(graph, graph_cost(graph, analysis), totals))
        )

    def text(self) -> str:
        return summary_table(self.session.graph, self.session.analysis)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
