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

import math
import sys
import time
from dataclasses import replace
from html import escape
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui.panels.dock_presence import DockPresence
from gui.panels.registry import PanelSpec

FIXED_COLUMNS = ("★", "Name", "Kind", "Started", "Duration", "Ended")
STAR_COLUMN, NAME_COLUMN, STARTED_COLUMN = 0, 1, 3
ID_ROLE = Qt.ItemDataRole.UserRole


def _value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# A column: (run -> its text, run -> its number to sort by, or None to sort by the text).
# Numbers to sort by may be None for a blank cell (sorted first).


def _fixed_columns() -> list:
    def started(run):
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started))

    def duration(run):
        return "-" if run.duration is None else f"{run.duration:.1f} s"

    return [
        (lambda run: "★" if run.starred else "", lambda run: float(run.starred)),
        (lambda run: run.name, None),
        (lambda run: run.kind, None),
        (started, lambda run: run.started),
        (duration, lambda run: run.duration),
        (lambda run: f"{run.status}: {run.message}" if run.message else run.status, None),
    ]


def _setting_column(values: dict) -> tuple:
    numeric = all(_number(value) for value in values.values())
    return (
        lambda run: _value_text(values[run.id]),
        (lambda run: float(values[run.id])) if numeric else None,
    )


def _metric_column(values: dict[str, float]) -> tuple:
    """A final metric's column: `values` maps run id -> value (runs without it stay blank)."""

    def value(run):
        return values.get(run.id)

    def text(run):
        number = values.get(run.id)
        return "" if number is None else f"{number:.4f}"

    return text, value


class RunTableModel(QAbstractTableModel):
    """The runs, one per row; a cell's text is made when Qt shows it (1,000 runs open at once).

    It sorts its rows itself, in Python, by keys of one type per column: a
    sort proxy would call back into Python at every comparison.

    Signals:
        renamed: (run id, new name) typed into the Name column.
    """

    renamed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.headers: list[str] = list(FIXED_COLUMNS)
        self.runs: list = []
        self.ids: list[str] = []
        self.tooltips: dict[str, str] = {}
        self._columns = _fixed_columns()
        self.sort_column = STARTED_COLUMN
        self.sort_order = Qt.SortOrder.DescendingOrder

    def set_runs(
        self,
        runs: list,
        differing: dict[str, dict],
        metrics: dict[str, dict],
        tooltips: dict[str, str] | None = None,
    ) -> None:
        """Shows `runs`.

        Args:
            runs: runtime.run_store.RunRecords.
            differing: Each differing setting -> run id -> value.
            metrics: Each final metric, labelled with its split ("test accuracy")
                -> run id -> value.
            tooltips: Header -> what it means (a metric's split).
        """
        self.beginResetModel()
        self.headers = [*FIXED_COLUMNS, *differing, *metrics]
        self.tooltips = dict(tooltips or {})
        self._columns = [
            *_fixed_columns(),
            *(_setting_column(values) for values in differing.values()),
            *(_metric_column(values) for values in metrics.values()),
        ]
        self.runs = list(runs)
        self._sort_rows()
        self.endResetModel()

    def text(self, row: int, column: int) -> str:
        return self._columns[column][0](self.runs[row])

    def row_texts(self, row: int) -> list[str]:
        run = self.runs[row]
        return [text(run) for text, _key in self._columns]

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Qt override: the view asks for its rows sorted by `column`."""
        self.layoutAboutToBeChanged.emit()
        self.sort_column, self.sort_order = column, order
        self._sort_rows()
        self.layoutChanged.emit()

    def _sort_rows(self) -> None:
        column = self.sort_column
        if self.runs and 0 <= column < len(self._columns):
            text, number = self._columns[column]
            if number is None:
                keys = [text(run).lower() for run in self.runs]
            else:
                keys = [-math.inf if (key := number(run)) is None else key for run in self.runs]
            pairs = sorted(
                zip(keys, self.runs, strict=True),
                key=lambda pair: pair[0],
                reverse=self.sort_order == Qt.SortOrder.DescendingOrder,
            )
            self.runs = [run for _key, run in pairs]
        self.ids = [run.id for run in self.runs]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self.text(index.row(), index.column())
        if role == ID_ROLE:
            return self.ids[index.row()]
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        name = self.headers[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return name.removeprefix("training.")  # the settings most runs differ in
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltips.get(name, name if "." in name else None)
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.column() == NAME_COLUMN:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        name = str(value).strip()
        if role != Qt.ItemDataRole.EditRole or index.column() != NAME_COLUMN or not name:
            return False
        self.runs[index.row()] = replace(self.runs[index.row()], name=name)
        self.dataChanged.emit(index, index)
        run_id = self.ids[index.row()]
        # After the editor has let go: renaming reloads the table.
        QTimer.singleShot(0, lambda: self.renamed.emit(run_id, name))
        return True


class RunHistoryPanel(QWidget):
    """The recorded runs of the session's graph.

    Args:
        session: The gui.document.EditorSession (restoring edits its graph).
        runs: The document's gui.panels.runs.RunHistory (its `journal`).
        on_screen: Whether it is on screen from the start. A panel in a dock
            starts off screen (False) and follows the dock (`follow_dock`):
            its table is read only while the dock is up, and when it comes up
            if the runs changed meanwhile, so neither start-up nor a run pays
            for a table nobody looks at.

    Signals:
        compared: The runtime.run_store.RunRecords selected together (two or
            more, oldest first, read in full), whose curves the training charts overlay.
        differences_shown: Ids of the document's nodes where the compared runs'
            graphs differ (the canvas selects them).
    """

    compared = Signal(object)
    differences_shown = Signal(list)

    def __init__(
        self, session, runs, parent: QWidget | None = None, on_screen: bool = True
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.runs = runs
        self._shown_alone = on_screen
        self._dock: DockPresence | None = None
        self._stale = True
        self.records: dict[str, object] = {}
        self.store_message = ""
        self._settings_cache: dict[str, dict] = {}
        self._sized_for: tuple | None = None
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter runs…")
        self.filter_edit.setClearButtonEnabled(True)
        self.starred_check = QCheckBox("Starred only")
        self.model = RunTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        # Columns fit their contents, judged on the first rows (1,000 runs open fast).
        self.table.horizontalHeader().setResizeContentsPrecision(20)
        self.table.horizontalHeader().setSortIndicator(
            self.model.sort_column, self.model.sort_order
        )
        self.table.setSortingEnabled(True)
        self.model.layoutChanged.connect(self.apply_filter)
        self.star_button = QPushButton("Star")
        self.star_button.setToolTip("Mark the selected runs, or unmark them if all are marked")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected runs and their weights")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip(
            "Make the selected run's graph and settings the document's (one undo step) "
            "and its weights the trained model, without training"
        )
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Save the selected run as a reproducibility bundle (.zip): graph, settings, "
            "seeds, data split, weights, metrics, versions and a training script"
        )
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("List the run of a reproducibility bundle (.zip) here")
        self.show_differences_button = QPushButton("Show on canvas")
        self.show_differences_button.setToolTip(
            "Select the layers where the compared runs' graphs differ"
        )
        self.differing_ids: list[str] = []
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
        top.addWidget(self.show_differences_button)
        top.addWidget(self.export_button)
        top.addWidget(self.import_button)
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
        self.import_button.clicked.connect(self._choose_bundle)
        self.export_button.clicked.connect(self._choose_export)
        self.show_differences_button.clicked.connect(
            lambda: self.differences_shown.emit(self.differing_ids)
        )
        self.filter_edit.textChanged.connect(lambda _text: self.apply_filter())
        self.starred_check.toggled.connect(lambda _on: self.apply_filter())
        self.model.renamed.connect(lambda run_id, name: self.runs.journal.rename(run_id, name))
        self.table.selectionModel().selectionChanged.connect(
            lambda *_args: self._selection_changed()
        )
        runs.records_changed.connect(self._records_changed)
        runs.store_failed.connect(self._store_failed)
        runs.restore_failed.connect(self._show_message)
        runs.bundle_imported.connect(self._show_message)
        runs.bundle_exported.connect(self._show_message)
        session.path_changed.connect(lambda _path: self._records_changed())
        if runs.store_error is not None:  # it failed before this panel was made
            self._store_failed(runs.store_error)
        self._records_changed()

    # Reading -------------------------------------------------------------------------

    def _records_changed(self) -> None:
        if self._on_screen:
            self.refresh()
        else:
            self._stale = True

    def follow_dock(self, dock) -> None:
        """Reads the table while `dock` (a QDockWidget) is up, and when it comes up."""
        self._dock = DockPresence(dock, self._catch_up)

    @property
    def _on_screen(self) -> bool:
        return self._shown_alone if self._dock is None else self._dock.up

    def _catch_up(self) -> None:
        if self._stale:
            self.refresh()

    def _store_failed(self, error: str) -> None:
        self.store_message = (
            f"Run history unavailable: {error}. Runs are kept in memory for this session."
        )
        self._show_message(self.store_message)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)

    def refresh(self) -> None:
        """Reads this graph's runs from the journal again, keeping the selection."""
        self._stale = False
        selected = self.selected_ids()
        runs = self.runs.journal.runs(with_epochs=False)
        self.records = {run.id: run for run in runs}
        self._fill(runs)
        layout = (tuple(self.model.headers), bool(runs))
        if layout != self._sized_for:
            # Only when the columns change: widths the user set survive refreshes.
            self._sized_for = layout
            self.table.resizeColumnsToContents()
        self.apply_filter()
        self._select(selected)
        damaged = self.runs.journal.damaged
        count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
        if self.store_message:
            self._show_message(self.store_message)
        elif damaged:  # the others are listed: a note, not the store's failure
            more = f" ({len(damaged) - 1} more like it)" if len(damaged) > 1 else ""
            self._show_message(f"{count} listed; left out: {damaged[0]}{more}")
        elif self.session.path is None:
            self._show_message(f"{len(runs)} run(s) of this unsaved graph: save it to keep them.")
        else:
            self._show_message(f"{count} of {self.session.path.name}")
        self._selection_changed()

    def _fill(self, runs) -> None:
        from graph.diff import differing_settings, flat_settings
        from graph.files import GraphFileError, graph_from_yaml
        from runtime.run_store import METRICS_SPLITS, labelled_metrics

        # Runs mostly share a few graph snapshots and options: compare those once each.
        distinct: dict[tuple[str, str], int] = {}
        columns = []
        for run in runs:
            key = (run.graph_sha256, repr(sorted(run.options.items())))
            if key not in distinct:
                settings = self._settings_cache.get(run.graph_sha256)
                if settings is None:
                    try:
                        settings = graph_from_yaml(run.graph_yaml).settings
                    except GraphFileError:
                        settings = {}
                    self._settings_cache[run.graph_sha256] = settings
                distinct[key] = len(columns)
                columns.append(flat_settings(settings, run.options))
        differing = differing_settings(columns)
        at = [distinct[(run.graph_sha256, repr(sorted(run.options.items())))] for run in runs]
        per_run = {
            name: {run.id: values[index] for run, index in zip(runs, at, strict=True)}
            for name, values in differing.items()
        }
        metrics: dict[str, dict] = {}
        tooltips: dict[str, str] = {}
        for run in runs:
            for label, value in labelled_metrics(run).items():
                metrics.setdefault(label, {})[run.id] = value
                tooltips[label] = METRICS_SPLITS.get(run.metrics_split, "")
        metrics = {label: metrics[label] for label in sorted(metrics, key=_metric_order)}
        self.model.set_runs(runs, per_run, metrics, tooltips)

    def apply_filter(self) -> None:
        """Shows only the rows whose text holds the filter (and only starred ones if asked)."""
        wanted = self.filter_edit.text().strip().lower()
        starred_only = self.starred_check.isChecked()
        for row, run in enumerate(self.model.runs):
            hidden = (starred_only and not run.starred) or (
                wanted and not any(wanted in text.lower() for text in self.model.row_texts(row))
            )
            if self.table.isRowHidden(row) != bool(hidden):
                self.table.setRowHidden(row, bool(hidden))

    # Table access (for the window and tests) ------------------------------------------------

    def shown_rows(self) -> list[int]:
        """The model rows the filter shows, top to bottom."""
        return [row for row in range(len(self.model.runs)) if not self.table.isRowHidden(row)]

    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self.shown_rows())

    def cell(self, row: int, column: int) -> str:
        """The text at the `row`-th shown row (as sorted) and `column`."""
        return self.model.text(self.shown_rows()[row], column)

    def headers(self) -> list[str]:
        return list(self.model.headers)

    def run_id_at(self, row: int) -> str:
        """The run at model row `row`."""
        return self.model.ids[row]

    # Selection and comparison ------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.run_id_at(row) for row in rows]

    def selected_runs(self) -> list:
        """The selected runs, oldest first (as listed: curves left out)."""
        runs = [self.records[run_id] for run_id in self.selected_ids() if run_id in self.records]
        return sorted(runs, key=lambda run: run.started)

    def _select(self, run_ids: list[str]) -> None:
        model = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        wanted = set(run_ids)
        if not wanted:
            return
        for row, run_id in enumerate(self.model.ids):
            if run_id in wanted:
                model.select(self.model.index(row, 0), flags)

    def _selection_changed(self) -> None:
        from graph.diff import differing_nodes
        from graph.files import GraphFileError, graph_from_yaml

        runs = self.selected_runs()
        self.restore_button.setEnabled(len(runs) == 1)
        self.export_button.setEnabled(len(runs) == 1)
        self.differing_ids = []
        if len(runs) >= 2:
            full = [self.runs.journal.get(run.id) or run for run in runs]
            self.comparison.setHtml(comparison_html(full))
            try:
                graphs = [graph_from_yaml(run.graph_yaml) for run in full]
            except GraphFileError:
                graphs = []
            current = self.session.graph
            self.differing_ids = sorted(i for i in differing_nodes(graphs) if i in current)
            self.compared.emit(full)
        else:
            self.comparison.clear()
        self.show_differences_button.setEnabled(bool(self.differing_ids))

    # Editing -------------------------------------------------------------------------

    def star_selected(self) -> None:
        runs = [self.records[run_id] for run_id in self.selected_ids()]
        starred = all(run.starred for run in runs)
        for run in runs:
            self.runs.journal.star(run.id, not starred)

    def delete_selected(self) -> None:
        for run_id in self.selected_ids():
            self.runs.journal.delete(run_id)

    def _choose_bundle(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Import run bundle", "", "Run bundles (*.zip);;All files (*)"
        )
        if path:
            self.runs.import_bundle(Path(path))

    def _choose_export(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "Export run bundle", "run.zip", "Run bundles (*.zip);;All files (*)"
        )
        if path:
            self.export_selected(Path(path))

    def export_selected(self, path: Path) -> bool:
        """Saves the one selected run as a bundle at `path`; returns whether it began."""
        runs = self.selected_runs()
        if len(runs) != 1:
            return False
        run = self.runs.journal.get(runs[0].id) or runs[0]
        self._show_message(f"Saving run {run.name!r} as {path.name}…")
        self.runs.export_bundle(run, path)
        return True

    def restore_selected(self) -> bool:
        """Restores the one selected run (see RunHistory.restore); returns whether it began."""
        runs = self.selected_runs()
        if len(runs) != 1:
            return False
        run = self.runs.journal.get(runs[0].id) or runs[0]
        refused = self.runs.restore(run, self.session)
        if refused is not None:
            self._show_message(refused)
            return False
        self._show_message(f"Restored run {run.name!r}; loading its trained model…")
        return True


def _metric_order(label: str) -> tuple:
    """Test scores first, then the other splits' figures; by name within a split."""
    from runtime.run_store import TEST_SPLIT  # the store (SQLite) loads with the first runs

    return (not label.startswith(f"{TEST_SPLIT} "), label)


def comparison_html(runs: list) -> str:
    """Metrics side by side (each named with its split: "test accuracy"), then how each
    run's settings and graph differ from the first one's."""
    from graph.diff import describe_diff, describe_settings_diff, flat_settings, graph_diff
    from graph.files import GraphFileError, graph_from_yaml
    from runtime.run_store import labelled_metrics

    labelled = [labelled_metrics(run) for run in runs]
    metrics = sorted({label for values in labelled for label in values}, key=_metric_order)
    header = "".join(f"<th>{escape(run.name)}</th>" for run in runs)
    rows = "".join(
        f"<tr><td>{escape(metric)}</td>"
        + "".join(
            f"<td>{_value_text(values[metric])}</td>" if metric in values else "<td>-</td>"
            for values in labelled
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
    first_settings = flat_settings(graphs[0].settings, first.options)
    for run, graph in zip(runs[1:], graphs[1:], strict=True):
        lines = describe_settings_diff(first_settings, flat_settings(graph.settings, run.options))
        lines += describe_diff(graphs[0], graph, graph_diff(graphs[0], graph))
        parts.append(f"<p><b>{escape(run.name)}</b> against <b>{escape(first.name)}</b>:</p>")
        if lines:
            parts.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>")
        else:
            parts.append("<p>same graph and settings</p>")
    return "".join(parts)


def _connect(context, panel: RunHistoryPanel) -> None:
    panel.follow_dock(context.docks["run_history"])
    context.when_built(
        "training", lambda training: panel.compared.connect(training.overlay_recorded_runs)
    )
    panel.differences_shown.connect(context.window.scene.select_nodes)
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
    create=lambda context: RunHistoryPanel(context.session, context.runs, on_screen=False),
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
