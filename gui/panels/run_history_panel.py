"""The Runs panel: the graph's recorded runs, to sort, filter, compare and restore.

A thin view over the document's run journal (`RunHistory.journal`,
runtime.runs.recording): the table is read again whenever the journal says
its runs changed. What differs between runs (settings, graphs) is computed
by graph.diff; restoring is `RunHistory.restore`. A store that cannot be used
(corrupt, locked) is named here once; runs are then kept in memory and the
rest of the app is unaffected. Preview alone with
`python -m gui.panels.run_history_panel GRAPH.yaml`.
"""

from __future__ import annotations

import sys
import time
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui.panels.registry import PanelSpec

FIXED_COLUMNS = ("★", "Name", "Kind", "Started", "Duration", "Ended")
STAR_COLUMN, NAME_COLUMN = 0, 1
ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = ID_ROLE + 1


class _SortableItem(QTableWidgetItem):
    """Sorts by the value kept in SORT_ROLE (times, durations, metrics), not by the text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None or type(mine) is not type(theirs):
            # Not super().__lt__: PySide would call this override again.
            return self.text() < other.text()
        return mine < theirs


def _item(text: str, key=None) -> QTableWidgetItem:
    item = _SortableItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if key is not None:
        item.setData(SORT_ROLE, key)
    return item


def _value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class RunHistoryPanel(QWidget):
    """The recorded runs of the session's graph.

    Args:
        session: The gui.document.EditorSession (restoring edits its graph).
        runs: The document's gui.panels.runs.RunHistory (its `journal`).

    Signals:
        compared: The runtime.run_store.RunRecords selected together (two or
            more, oldest first), whose curves the training charts overlay.
    """

    compared = Signal(object)

    def __init__(self, session, runs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runs = runs
        self.records: dict[str, object] = {}
        self.store_message = ""
        self._settings_cache: dict[str, dict] = {}
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter runs…")
        self.filter_edit.setClearButtonEnabled(True)
        self.starred_check = QCheckBox("Starred only")
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
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip(
            "Make the selected run's graph and settings the document's (one undo step) "
            "and its weights the trained model, without training"
        )
        self.comparison = QTextBrowser()
        self.comparison.setPlaceholderText(
            "Select two or more runs to compare their metrics and graphs."
        )
        top = QHBoxLayout()
        top.addWidget(self.message, 1)
        top.addWidget(self.filter_edit)
        top.addWidget(self.starred_check)
        top.addWidget(self.star_button)
        top.addWidget(self.delete_button)
        top.addWidget(self.restore_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.comparison)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.star_button.clicked.connect(self.star_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.restore_button.clicked.connect(self.restore_selected)
        self.filter_edit.textChanged.connect(lambda _text: self.apply_filter())
        self.starred_check.toggled.connect(lambda _on: self.apply_filter())
        self.table.itemChanged.connect(self._renamed)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        runs.records_changed.connect(self.refresh)
        runs.store_failed.connect(self._store_failed)
        runs.restore_failed.connect(self._show_message)
        session.path_changed.connect(lambda _path: self.refresh())
        self.refresh()

    # Reading -------------------------------------------------------------------------

    def _store_failed(self, error: str) -> None:
        self.store_message = (
            f"Run history unavailable: {error}. Runs are kept in memory for this session."
        )
        self._show_message(self.store_message)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)

    def refresh(self) -> None:
        """Reads this graph's runs from the journal again, keeping the selection."""
        selected = self.selected_ids()
        runs = self.runs.journal.runs()
        self.records = {run.id: run for run in runs}
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        try:
            self._fill(runs)
        finally:
            self.table.setSortingEnabled(True)
            self.table.blockSignals(False)
        self._select(selected)
        self.apply_filter()
        if self.store_message:
            self._show_message(self.store_message)
        elif self.session.path is None:
            self._show_message(f"{len(runs)} run(s) of this unsaved graph: save it to keep them.")
        else:
            count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
            self._show_message(f"{count} of {self.session.path.name}")
        self._selection_changed()

    def _settings_of(self, run) -> dict:
        """A run's flat settings; parsed once per graph snapshot (runs often share one)."""
        from graph.diff import flat_settings
        from graph.files import GraphFileError, graph_from_yaml

        settings = self._settings_cache.get(run.graph_sha256)
        if settings is None:
            try:
                settings = graph_from_yaml(run.graph_yaml).settings
            except GraphFileError:
                settings = {}
            self._settings_cache[run.graph_sha256] = settings
        return flat_settings(settings, run.options)

    def _fill(self, runs) -> None:
        from graph.diff import differing_settings

        differing = differing_settings([self._settings_of(run) for run in runs])
        metrics = sorted({name for run in runs for name in run.final_metrics})
        headers = [*FIXED_COLUMNS, *differing, *metrics]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
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
                _item(run.kind),
                _item(started, run.started),
                _item(duration, run.duration if run.duration is not None else -1.0),
                _item(ended),
            ]
            for values in differing.values():
                value = values[row]
                number = isinstance(value, int | float) and not isinstance(value, bool)
                cells.append(_item(_value_text(value), float(value) if number else None))
            for metric in metrics:
                value = run.final_metrics.get(metric)
                number = isinstance(value, int | float)
                cells.append(_item(f"{value:.4f}" if number else "", value if number else None))
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)

    def apply_filter(self) -> None:
        """Hides the rows the filter text does not match (any cell), or not starred."""
        wanted = self.filter_edit.text().strip().lower()
        starred_only = self.starred_check.isChecked()
        columns = self.table.columnCount()
        for row in range(self.table.rowCount()):
            texts = [self.table.item(row, column).text().lower() for column in range(columns)]
            hidden = (starred_only and not texts[STAR_COLUMN]) or (
                wanted and not any(wanted in text for text in texts)
            )
            self.table.setRowHidden(row, bool(hidden))

    # Selection and comparison ------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.table.item(row, STAR_COLUMN).data(ID_ROLE) for row in rows]

    def selected_runs(self) -> list:
        """The selected runs, oldest first."""
        runs = [self.records[run_id] for run_id in self.selected_ids() if run_id in self.records]
        return sorted(runs, key=lambda run: run.started)

    def _select(self, run_ids: list[str]) -> None:
        from PySide6.QtCore import QItemSelectionModel

        model = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in range(self.table.rowCount()):
            if self.table.item(row, STAR_COLUMN).data(ID_ROLE) in run_ids:
                model.select(self.table.model().index(row, 0), flags)

    def _selection_changed(self) -> None:
        runs = self.selected_runs()
        self.restore_button.setEnabled(len(runs) == 1)
        if len(runs) < 2:
            self.comparison.clear()
            return
        self.comparison.setHtml(comparison_html(runs))
        self.compared.emit(runs)

    # Editing -------------------------------------------------------------------------

    def star_selected(self) -> None:
        runs = [self.records[run_id] for run_id in self.selected_ids()]
        starred = all(run.starred for run in runs)
        for run in runs:
            self.runs.journal.star(run.id, not starred)

    def delete_selected(self) -> None:
        for run_id in self.selected_ids():
            self.runs.journal.delete(run_id)

    def restore_selected(self) -> bool:
        """Restores the one selected run (see RunHistory.restore); returns whether it began."""
        runs = self.selected_runs()
        if len(runs) != 1:
            return False
        refused = self.runs.restore(runs[0], self.session)
        if refused is not None:
            self._show_message(refused)
            return False
        self._show_message(f"Restored run {runs[0].name!r}; loading its trained model…")
        return True

    def _renamed(self, item: QTableWidgetItem) -> None:
        if item.column() != NAME_COLUMN:
            return
        name = item.text().strip()
        if name:
            self.runs.journal.rename(item.data(ID_ROLE), name)
        else:
            self.refresh()  # an empty name is not kept: show the old one again


def comparison_html(runs: list) -> str:
    """Metrics side by side, then how each run's graph differs from the first one's."""
    from graph.diff import describe_diff, graph_diff
    from graph.files import GraphFileError, graph_from_yaml

    metrics = sorted({name for run in runs for name in run.final_metrics})
    header = "".join(f"<th>{escape(run.name)}</th>" for run in runs)
    rows = "".join(
        f"<tr><td>{escape(metric)}</td>"
        + "".join(
            f"<td>{_value_text(run.final_metrics[metric])}</td>"
            if metric in run.final_metrics
            else "<td>-</td>"
            for run in runs
        )
        + "</tr>"
        for metric in metrics
    )
    parts = [f"<table border='1' cellspacing='0' cellpadding='2'><tr><th></th>{header}</tr>{rows}"]
    parts.append("</table>")
    try:
        graphs = [graph_from_yaml(run.graph_yaml) for run in runs]
    except GraphFileError as error:
        return "".join(parts) + f"<p>{escape(str(error))}</p>"
    first = runs[0]
    for run, graph in zip(runs[1:], graphs[1:], strict=True):
        lines = describe_diff(graphs[0], graph, graph_diff(graphs[0], graph))
        parts.append(f"<p><b>{escape(run.name)}</b> against <b>{escape(first.name)}</b>:</p>")
        if lines:
            parts.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>")
        else:
            parts.append("<p>same graph</p>")
    return "".join(parts)


def _connect(context, panel: RunHistoryPanel) -> None:
    training = context.widgets.get("training")
    if training is not None:
        panel.compared.connect(training.overlay_recorded_runs)
    context.runs.store_failed.connect(
        lambda error: context.window.show_message(f"Run history unavailable: {error}")
    )
    context.runs.restored.connect(
        lambda run: panel._show_message(
            "Restored: its trained model is the current one (evaluation, explanation, export)."
        )
    )


PANEL = PanelSpec(
    name="run_history",
    title="Runs",
    order=85,
    create=lambda context: RunHistoryPanel(context.session, context.runs),
    connect=_connect,
)


if __name__ == "__main__":
    from PySide6.QtWidgets import QApplication

    from gui.document import EditorSession
    from gui.panels.runs import RunHistory

    app = QApplication(sys.argv)
    preview = EditorSession()
    panel = RunHistoryPanel(preview, RunHistory(preview))
    if len(sys.argv) > 1:
        from graph.files import load_graph

        target = Path(sys.argv[1]).resolve()
        preview.replace_graph(load_graph(target), target)
    panel.resize(900, 300)
    panel.show()
    sys.exit(app.exec())
