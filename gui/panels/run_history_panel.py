"""The Runs panel: the stored runs of the graph being edited, to sort, rename, star and delete.

A thin view over runtime.run_store: the table is read again whenever the
document's file changes, and after every edit made here. A store that cannot
be opened (corrupt, locked) is named in the panel; the rest of the app is
unaffected. Preview alone with `python -m gui.panels.run_history_panel GRAPH.yaml`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.panels.registry import PanelSpec

FIXED_COLUMNS = ("★", "Name", "Started", "Duration", "Ended")
NAME_COLUMN = 1
ID_ROLE = Qt.ItemDataRole.UserRole


class _SortableItem(QTableWidgetItem):
    """Sorts by the value kept in UserRole + 1 (times, durations, metrics), not by the text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(ID_ROLE + 1), other.data(ID_ROLE + 1)
        if mine is None or theirs is None:
            # Not super().__lt__: PySide would call this override again.
            return self.text() < other.text()
        return mine < theirs


def _item(text: str, key=None) -> QTableWidgetItem:
    item = _SortableItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if key is not None:
        item.setData(ID_ROLE + 1, key)
    return item


class RunHistoryPanel(QWidget):
    """The runs of the session's graph file.

    Args:
        session: The gui.document.EditorSession (its `path` and `path_changed`).
        folder: The run store folder; runtime.run_store.default_store_folder() if None.
    """

    def __init__(self, session, folder: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.folder = folder
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, len(FIXED_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        self.star_button = QPushButton("Star")
        self.star_button.setToolTip("Mark the selected runs, or unmark them if all are marked")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected runs and their weights")
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.star_button)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        self.star_button.clicked.connect(self.star_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.table.itemChanged.connect(self._renamed)
        session.path_changed.connect(lambda _path: self.refresh())
        self.refresh()

    def _open_store(self):
        from runtime.run_store import RunStore, RunStoreError, default_store_folder

        try:
            return RunStore.open(self.folder or default_store_folder())
        except RunStoreError as error:
            self._show_message(f"Run history unavailable: {error}")
            return None

    def _show_message(self, text: str) -> None:
        self.message.setText(text)

    def refresh(self) -> None:
        """Reads this graph's runs from the store again."""
        from runtime.run_store import RunStoreError, graph_key_for

        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        try:
            path = self.session.path
            if path is None:
                self._show_message("Save the graph to keep a history of its runs.")
                return
            store = self._open_store()
            if store is None:
                return
            with store:
                try:
                    runs = store.runs_of(graph_key_for(path))
                except RunStoreError as error:
                    self._show_message(f"Run history unavailable: {error}")
                    return
            self._fill(runs)
            self._show_message(f"{len(runs)} run{'s' if len(runs) != 1 else ''} of {path.name}")
        finally:
            self.table.setSortingEnabled(True)
            self.table.blockSignals(False)

    def _fill(self, runs) -> None:
        metrics = sorted({name for run in runs for name in run.final_metrics})
        self.table.setColumnCount(len(FIXED_COLUMNS) + len(metrics))
        self.table.setHorizontalHeaderLabels([*FIXED_COLUMNS, *metrics])
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            star = _item("★" if run.starred else "", int(run.starred))
            star.setData(ID_ROLE, run.id)
            name = _item(run.name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsEditable)
            name.setData(ID_ROLE, run.id)
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started))
            duration = "-" if run.duration is None else f"{run.duration:.1f} s"
            ended = f"{run.status}: {run.message}" if run.message else run.status
            cells = [
                star,
                name,
                _item(started, run.started),
                _item(duration, run.duration if run.duration is not None else -1.0),
                _item(ended),
            ]
            for metric in metrics:
                value = run.final_metrics.get(metric)
                number = isinstance(value, int | float)
                cells.append(_item(f"{value:.4f}" if number else "", value if number else None))
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.table.item(row, 0).data(ID_ROLE) for row in rows]

    def _edit(self, change) -> None:
        store = self._open_store()
        if store is None:
            return
        from runtime.run_store import RunStoreError

        with store:
            try:
                change(store)
            except RunStoreError as error:
                self._show_message(f"Run history unavailable: {error}")
                return
        self.refresh()

    def star_selected(self) -> None:
        ids = self.selected_ids()
        rows = {self.table.item(row, 0).data(ID_ROLE): row for row in range(self.table.rowCount())}
        starred = all(self.table.item(rows[run_id], 0).text() for run_id in ids)
        self._edit(lambda store: [store.star(run_id, not starred) for run_id in ids])

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._edit(lambda store: [store.delete(run_id) for run_id in ids])

    def _renamed(self, item: QTableWidgetItem) -> None:
        if item.column() != NAME_COLUMN:
            return
        name = item.text().strip()
        run_id = item.data(ID_ROLE)
        if name:
            self._edit(lambda store: store.rename(run_id, name))
        else:
            self.refresh()  # an empty name is not kept: show the old one again


PANEL = PanelSpec(
    name="run_history",
    title="Runs",
    order=85,
    create=lambda context: RunHistoryPanel(context.session),
)


if __name__ == "__main__":
    from PySide6.QtWidgets import QApplication

    from gui.document import EditorSession

    app = QApplication(sys.argv)
    preview = EditorSession()
    panel = RunHistoryPanel(preview)
    if len(sys.argv) > 1:
        from graph.files import load_graph

        target = Path(sys.argv[1]).resolve()
        preview.replace_graph(load_graph(target), target)
    panel.resize(900, 300)
    panel.show()
    sys.exit(app.exec())
