"""The data panel: choose and preprocess the dataset, preview it, check it against the graph.

Settings are the graph's dataset section (graph/settings.py DATASET_PARAMS),
edited undoably. Each change reloads the data on a worker thread (after a
short pause, so dragging a slider loads once) and shows the split sizes, a
table or a grid of sample images, and the data-to-graph check, each
mismatch with a one-click fix.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from graph.fixes import Fix, all_fixes_command, working_fix
from graph.model import GraphError
from graph.params import Param
from graph.settings import DATASET_PARAMS, dataset_path, path_text_for
from graph.validation import ERROR, Problem
from gui.document import EditorSession
from gui.panels.dock_presence import DockPresence
from gui.panels.registry import MenuEntry, PanelSpec
from gui.panels.settings_form import SettingsForm, form_scroll
from gui.param_editors import ParamEditor, WheelWhenFocused
from gui.run_adapter import RunAdapter
from gui.theme import ERROR_COLOR, WARNING_COLOR

if TYPE_CHECKING:  # numpy loads when a panel first shows data, not at start-up
    import numpy as np

RELOAD_DELAY_MS = 300
PREVIEW_ROWS = 50
PREVIEW_COLUMNS = 20
PREVIEW_IMAGES = 40
# At most this share of the preview's height goes to the data check's problems.
CHECK_SHARE = 0.6
NO_PATH_YET = "Choose a file or folder in <b>path</b> to load your data."


class _PercentSlider(WheelWhenFocused, QSlider):
    """A slider that the wheel moves only once clicked (scrolling the form passes over it)."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.take_wheel_only_when_focused()


class SliderEditor(ParamEditor):
    """A share between the Param's minimum and maximum, as a percent slider."""

    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.slider = _PercentSlider()
        self.slider.setRange(round(param.minimum * 100), round(param.maximum * 100))
        self.label = QLabel()
        self.label.setMinimumWidth(36)
        self.slider.valueChanged.connect(self._on_moved)
        self.slider.sliderReleased.connect(self._emit)
        self._layout.addWidget(self.slider, 1)
        self._layout.addWidget(self.label)

    def _on_moved(self, percent: int) -> None:
        self.label.setText(f"{percent}%")
        if not self.slider.isSliderDown():
            self._emit()

    def value(self) -> float:
        return self.slider.value() / 100

    def _show(self, value: Any) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(float(value) * 100))
        self.slider.blockSignals(False)
        self.label.setText(f"{self.slider.value()}%")


class PathEditor(ParamEditor):
    """A file or folder path with a Browse button (a folder for image datasets).

    Paths are relative to the graph file's folder (`base_dir`), as the dataset
    settings read them: Browse starts where the path points, and a file chosen
    inside that folder is kept relative, so the graph and its data move together.
    """

    def __init__(self, param: Param, source: callable, base_dir: callable) -> None:
        super().__init__(param)
        self.source = source
        self.base_dir = base_dir
        self.line = QLineEdit()
        self.line.setPlaceholderText("file or folder")
        self.line.editingFinished.connect(self._emit)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        self._layout.addWidget(self.line, 1)
        self._layout.addWidget(browse)

    def browse(self) -> None:
        base = self.base_dir()
        text = self.value()
        start = str(dataset_path(text, base)) if text else str(base or "")
        if self.source() == "image_folder":
            chosen = QFileDialog.getExistingDirectory(self, "Image folder", start)
        else:
            filters = "Tables (*.csv *.parquet *.pq);;All files (*)"
            if self.source() == "numpy":
                filters = "NumPy arrays (*.npz *.npy);;All files (*)"
            chosen, _ = QFileDialog.getOpenFileName(self, "Data file", start, filters)
        if chosen:
            self.line.setText(path_text_for(chosen, base))
            self._emit()

    def value(self) -> str:
        return self.line.text().strip()

    def _show(self, value: Any) -> None:
        self.line.setText(str(value or ""))


class DataPanel(QWidget):
    """Dataset settings, preview and the data-to-graph check.

    Args:
        session: The editing session.

    Signals:
        loaded: The runtime.data.Dataset now shown (after each successful load).
        checked: The data-to-graph problems now shown.
        layers_added: A fix added layers to the graph (the window then shows it whole).
    """

    loaded = Signal(object)
    checked = Signal(object)
    layers_added = Signal()

    def __init__(self, session: EditorSession) -> None:
        super().__init__()
        self.session = session
        self.dataset = None
        self.problems: list[Problem] = []
        self.fixes: dict[int, Fix] = {}
        self.job = None  # the newest loading run (gui.run_adapter.RunAdapter)
        self._generation = 0
        self._stale = True
        params = {p.name: p for p in DATASET_PARAMS}
        editors = {
            "test_size": SliderEditor(params["test_size"]),
            "validation_size": SliderEditor(params["validation_size"]),
            "path": PathEditor(
                params["path"],
                lambda: self.session.graph.dataset["source"],
                lambda: self.session.path.parent if self.session.path else None,
            ),
        }
        self.settings = SettingsForm(session, "dataset", DATASET_PARAMS, editors)
        self.settings.changed.connect(self._on_settings_changed)
        scroll = form_scroll(self.settings, 280)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.reload_button = QPushButton("Reload")
        self.reload_button.clicked.connect(self.reload)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # One line of text a row: three rows show, not one and a half, in a 720-pixel window.
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.images = QScrollArea()
        self.images.setWidgetResizable(True)
        self.preview = QTabWidget()
        self.preview.addTab(self.table, "Table")
        self.preview.addTab(self.images, "Samples")
        self.check_list = QListWidget()
        self.check_list.setWordWrap(True)
        self.fix_button = QPushButton("Apply fix")
        self.fix_button.setToolTip("Change the graph as the selected problem suggests (undoable)")
        self.fix_button.clicked.connect(self.apply_selected_fix)
        self.fix_all_button = QPushButton("Apply all fixes")
        self.fix_all_button.setToolTip("Apply every fix listed below as one undoable step")
        self.fix_all_button.clicked.connect(self.apply_all_fixes)
        self.fix_all_button.hide()
        self.check_list.currentRowChanged.connect(self._on_problem_selected)
        check_box = QWidget()
        check_layout = QVBoxLayout(check_box)
        check_layout.setContentsMargins(0, 0, 0, 0)
        check_header = QHBoxLayout()
        check_header.addWidget(QLabel("<b>Does the data fit the graph?</b>"), 1)
        check_header.addWidget(self.fix_button)
        check_header.addWidget(self.fix_all_button)
        check_layout.addLayout(check_header)
        check_layout.addWidget(self.check_list)
        # Small minimum heights: at 1280x720 the panel is short and the canvas
        # keeps its half of the window.
        self.preview.setMinimumHeight(60)
        self.check_list.setMinimumHeight(36)
        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("data_preview_splitter")
        right.addWidget(self.preview)
        right.addWidget(check_box)
        right.setSizes([400, 160])
        right.setMinimumHeight(90)
        right.setCollapsible(1, False)  # the check always says whether the data fits
        self.preview_splitter, self.check_box = right, check_box
        # Whether the split was last set for problems; as built (or restored), for none.
        self._check_lists = False
        header = QHBoxLayout()
        header.addWidget(self.summary, 1)
        header.addWidget(self.reload_button)
        right_side = QWidget()
        right_layout = QVBoxLayout(right_side)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(header)
        right_layout.addWidget(right, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("data_splitter")
        splitter.addWidget(scroll)
        splitter.addWidget(right_side)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 780])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        self.reload_timer = QTimer(self)
        self.reload_timer.setSingleShot(True)
        self.reload_timer.setInterval(RELOAD_DELAY_MS)
        self.reload_timer.timeout.connect(self._reload_if_shown)
        # None: Qt's visibility says whether the panel is on screen; once it
        # follows a dock (follow_dock), whether that dock is up.
        self._dock: DockPresence | None = None
        session.edits_settled.connect(self.recheck)
        session.problems_changed.connect(lambda _problems: self.recheck())
        self.fix_button.setEnabled(False)

    # Settings --------------------------------------------------------------------------

    def _on_settings_changed(self) -> None:
        self._stale = True
        if self._on_screen():
            self.summary.setText("Loading…")
            self.reload_timer.start()

    def showEvent(self, event) -> None:
        # Data loads when someone looks, never at start-up.
        super().showEvent(event)
        if self._stale:
            self.reload_timer.start()

    def follow_dock(self, dock) -> None:
        """Loads only while `dock` (a QDockWidget) is up, and when it comes up."""
        self._dock = DockPresence(dock, self._came_up)

    def _came_up(self) -> None:
        if self._stale:
            self.reload_timer.start()

    def _on_screen(self) -> bool:
        return self.isVisible() and (self._dock is None or self._dock.up)

    def _reload_if_shown(self) -> None:
        if self._on_screen():
            self.reload()

    # Loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Loads the dataset the settings describe, on a worker thread."""
        self.reload_timer.stop()
        self._stale = False
        self._generation += 1
        generation = self._generation
        settings = self.session.graph.dataset
        base_dir = self.session.path.parent if self.session.path else None
        if settings["source"] != "builtin" and not settings["path"].strip():
            # Not an error: the user has not chosen a file yet.
            self._clear_preview()
            self.summary.setText(NO_PATH_YET)
            return

        from runtime.runs.base import RunRequest

        self.summary.setText("Loading…")
        request = RunRequest("dataset", "", base_dir, {"settings": dict(settings)})
        job = RunAdapter(request, parent=self)
        job.finished.connect(lambda outcome: self._on_outcome(job, generation, outcome))
        self.job = job
        job.start()

    def _on_outcome(self, job: RunAdapter, generation: int, outcome) -> None:
        from runtime.events import RunFinished

        job.deleteLater()
        result = outcome.result if isinstance(outcome, RunFinished) else outcome.message
        self._on_loaded(generation, result)

    def _on_loaded(self, generation: int, result: object) -> None:
        if generation != self._generation:
            return
        if isinstance(result, str):
            self.dataset = None
            self._clear_preview()
            self.summary.setText(
                f"<span style='color:{ERROR_COLOR.name()}'>{escape(str(result))}</span>"
            )
            return
        self.dataset = result
        self._show_summary(result)
        self._show_table(result)
        self._show_images(result)
        self.recheck()
        self.loaded.emit(result)

    def _clear_preview(self) -> None:
        self.dataset = None
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.images.setWidget(QWidget())
        self.recheck()

    def _show_summary(self, dataset) -> None:
        train = len(dataset.x_train)
        val = 0 if dataset.x_val is None else len(dataset.x_val)
        test = len(dataset.x_test)
        total = train + val + test
        if dataset.target == "inputs":
            kind = "the model reconstructs its input"
        elif dataset.task == "classification":
            names = ", ".join(dataset.class_names[:12])
            more = "…" if len(dataset.class_names) > 12 else ""
            kind = f"classification into {dataset.num_classes} classes ({names}{more})"
        else:
            kind = "regression (predict a number)"
        self.summary.setText(
            f"<b>{escape(dataset.name)}</b>: {total} samples of shape "
            f"{dataset.input_shape}, {kind}.<br>"
            f"Split: <b>{train}</b> train · <b>{val}</b> validation · <b>{test}</b> test "
            f"({train / total:.0%} / {val / total:.0%} / {test / total:.0%})."
        )

    def _show_table(self, dataset) -> None:
        rows = dataset.x_train[:PREVIEW_ROWS].reshape(min(PREVIEW_ROWS, len(dataset.x_train)), -1)
        columns = min(rows.shape[1], PREVIEW_COLUMNS)
        names = list(dataset.feature_names[:columns]) or [f"x{i}" for i in range(columns)]
        names += [f"x{i}" for i in range(len(names), columns)]
        target = dataset.y_train[: len(rows)]
        show_target = dataset.target != "inputs"
        target_header = f"{dataset.target_name or 'target'} (target)"
        headers = names + ([target_header] if show_target else [])
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(headers)
        for r, row in enumerate(rows):
            for c in range(columns):
                value = row[c]  # a number, or a whole text for text datasets
                text = value if isinstance(value, str) else f"{value:.3g}"
                self.table.setItem(r, c, QTableWidgetItem(text))
            if show_target:
                self.table.setItem(r, columns, QTableWidgetItem(_target_text(dataset, target[r])))
        shown = f"first {len(rows)} training rows after preprocessing"
        if rows.shape[1] > columns:
            shown += f", {columns} of {rows.shape[1]} features"
        self.preview.setTabToolTip(0, shown)
        self.preview.setTabText(0, "Table")

    def _show_images(self, dataset) -> None:
        from gui.panels.evaluation_panel import image_pixmap
        from runtime.evaluation_views import to_display_image

        self.preview.setTabVisible(1, bool(dataset.images))
        content = QWidget()
        grid = QGridLayout(content)
        if dataset.images:
            pictures = dataset.x_train[:PREVIEW_IMAGES]  # image files decode here, once
            for index, picture in enumerate(pictures):
                cell = QLabel()
                cell.setPixmap(image_pixmap(to_display_image(picture), 56))
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                caption = QLabel(_target_text(dataset, dataset.y_train[index]))
                caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
                grid.addWidget(cell, 2 * (index // 10), index % 10)
                grid.addWidget(caption, 2 * (index // 10) + 1, index % 10)
            grid.setRowStretch(grid.rowCount(), 1)
            self.preview.setCurrentIndex(1)
        else:
            self.preview.setCurrentIndex(0)
        self.images.setWidget(content)

    # Checking --------------------------------------------------------------------------

    def recheck(self) -> None:
        """Runs the data-to-graph check for the current graph and the loaded data."""
        self.check_list.clear()
        self.fixes = {}
        self.problems = []
        self.fix_all_button.hide()
        if self.dataset is None:
            self.fix_button.setEnabled(False)
            self._fit_split_to_check()
            return
        graph_errors = [p for p in self.session.problems if p.severity == ERROR]
        if graph_errors:
            self._add_item("Fix the graph's own problems first (see the Problems panel).", None)
            self.fix_button.setEnabled(False)
            self._fit_split_to_check()
            return
        from runtime.data_check import check_data

        dataset = self.dataset
        graph = self.session.graph
        self.problems = check_data(graph, dataset)
        if not self.problems:
            self._add_item("✓ The data fits the graph.", None)
        for problem in self.problems:
            fix = working_fix(graph, problem, lambda g: check_data(g, dataset))
            text = problem.message
            if fix is not None:
                text += f"\n    Fix: {fix.text}"
                self.fixes[self.check_list.count()] = fix
            self._add_item(text, problem)
        self.fix_all_button.setVisible(len(self.fixes) > 1)
        self._fit_split_to_check()
        first_fix = min(self.fixes, default=None)
        if first_fix is not None:
            self.check_list.setCurrentRow(first_fix)
        self._on_problem_selected(self.check_list.currentRow())
        self.checked.emit(self.problems)

    def _fit_split_to_check(self) -> None:
        """Problems get the room their lines need (up to CHECK_SHARE of the split); a check
        that says the data fits gives it back to the preview.

        Only when that changes, so a split the user dragged stays until then.
        """
        lists = bool(self.problems)
        total = sum(self.preview_splitter.sizes())
        if lists == self._check_lists or not total:  # not laid out yet: at the next check
            return
        self._check_lists = lists
        check = self.check_box.minimumSizeHint().height()  # its header and a line
        if lists:
            lines = self.check_list
            rows = sum(lines.sizeHintForRow(row) for row in range(lines.count()))
            around = self.check_box.minimumSizeHint().height() - lines.minimumHeight()
            check = min(around + rows + 2 * lines.frameWidth(), int(total * CHECK_SHARE))
        self.preview_splitter.setSizes([total - check, check])

    def _add_item(self, text: str, problem: Problem | None) -> None:
        item = QListWidgetItem(text)
        if problem is not None:
            color = ERROR_COLOR if problem.severity == ERROR else WARNING_COLOR.darker(130)
            item.setForeground(color)
        self.check_list.addItem(item)

    def _on_problem_selected(self, row: int) -> None:
        self.fix_button.setEnabled(row in self.fixes)

    def apply_selected_fix(self) -> str | None:
        """Applies the selected problem's fix as one undo step; returns why not, if refused."""
        fix = self.fixes.get(self.check_list.currentRow())
        if fix is None:
            return "No fix for the selected problem."
        return self._execute_fix(lambda graph: fix.command(graph), f"Fix: {fix.text}")

    def apply_all_fixes(self) -> str | None:
        """Applies every listed fix as one undo step; returns why not, if refused."""
        fixes = [self.fixes[row] for row in sorted(self.fixes)]
        if not fixes:
            return "No fixes to apply."
        return self._execute_fix(lambda graph: all_fixes_command(graph, fixes), None)

    def _execute_fix(self, make_command, text: str | None) -> str | None:
        layers = len(self.session.graph)
        try:
            refused = self.session.execute(make_command(self.session.graph), text)
        except GraphError as error:
            refused = str(error)
        if refused:
            self.summary.setText(f"<span style='color:{ERROR_COLOR.name()}'>{refused}</span>")
        elif len(self.session.graph) > layers:
            self.layers_added.emit()
        return refused


def _target_text(dataset, value: np.ndarray) -> str:
    import numpy as np

    if dataset.task == "classification" and dataset.class_names:
        return str(dataset.class_names[int(value)])
    return f"{float(np.asarray(value).reshape(-1)[0]):.3g}"


def _connect(context, panel: DataPanel) -> None:
    panel.follow_dock(context.docks["data"])
    # a fix that inserts layers (the text chain) pushes the rest right: show it all
    panel.layers_added.connect(context.window.view.fit_to_view)


PANEL = PanelSpec(
    name="data",
    title="Data",
    order=10,
    create=lambda context: DataPanel(context.session),
    menu=(MenuEntry("&Data…", lambda context, _panel: context.show("data")),),
    connect=_connect,
)


def _preview() -> int:
    """Opens the panel alone on the default example."""
    from gui.panels.preview import example_session, preview

    def make() -> DataPanel:
        panel = DataPanel(example_session())
        panel.reload()
        return panel

    return preview(make, 1100, 600)


if __name__ == "__main__":
    raise SystemExit(_preview())
