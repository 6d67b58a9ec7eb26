"""The main window: canvas in the middle, palette, inspector and problems docked.

Panels added later (data, training, evaluation, tuning, export) dock into it
with :meth:`MainWindow.add_panel` and observe :attr:`MainWindow.session`.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPointF, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from graph.block_templates import palette_node
from graph.cost import format_bytes, format_count, graph_cost, training_memory
from graph.files import GraphFileError, graph_from_yaml, graph_title, load_graph, save_graph
from graph.formatting import plural
from graph.layout import free_position, layered_layout
from graph.model import AddEdge, Batch, Edge, MoveNodes, NetworkGraph
from graph.validation import ERROR
from gui.background import prepare_worker_threads
from gui.block_actions import BlockActions
from gui.canvas.breadcrumb import Breadcrumb
from gui.canvas.scene import GraphScene, snap
from gui.canvas.view import CanvasView
from gui.canvas.wiring import ConnectionChecker
from gui.clipboard import copy_nodes, paste_command, release_clipboard
from gui.document import EditorSession
from gui.epoch_time import EpochTimeLabel
from gui.inspector import Inspector
from gui.palette import Palette
from gui.panels import bottom_dock_height, install_panels, start_idle_building
from gui.problems import ProblemsPanel
from gui.prompts import CANCEL, SAVE, Prompts
from gui.recovery import Autosaver, RecoveryStore
from gui.run_adapter import RunAdapter

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
GRAPH_FILTER = "DeepWire graphs (*.yaml *.yml);;All files (*)"
MAX_RECENT = 8
DEFAULT_SIZE = (1440, 900)


UNTITLED = "Untitled"


class MainWindow(QMainWindow):
    """The editor window.

    Args:
        prompts: The dialogs it asks questions with (tests pass scripted ones).
        recovery: Where unsaved work is autosaved; the app data folder when None.
        settings: Where recent files are remembered; the app's QSettings when None.

    Signals:
        runtime_loaded: The background TensorFlow import ended: empty on
            success, else why it failed.
        model_imported: An import of a Keras model ended: True when its graph
            replaced the document, False when the file could not be imported.
    """

    runtime_loaded = Signal(str)
    model_imported = Signal(bool)

    def __init__(
        self,
        prompts: Prompts | None = None,
        recovery: RecoveryStore | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__()
        # Garbage is collected by the GUI thread's timer from the window's birth, not
        # from the first background job: otherwise opening a big graph before any
        # run pays for automatic full collections of the whole heap midway.
        prepare_worker_threads()
        self.session = EditorSession(parent=self)
        self.prompts = prompts or Prompts(self)
        self.settings = settings or QSettings()
        # False for one-off runs (a screenshot, a start-up smoke test): their offscreen
        # window size is no layout for the user's next start
        self.remembers_layout = True
        self.recovery = recovery or RecoveryStore()
        self.autosaver = Autosaver(self.session, self.recovery)
        self.warmup = None
        self.import_run: RunAdapter | None = None
        self._shown_once = False
        self.scene = GraphScene(self.session)
        self.view = CanvasView(self.scene)
        self.breadcrumb = Breadcrumb(self.session)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.breadcrumb)
        column.addWidget(self.view, 1)
        self.setCentralWidget(central)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self.palette = Palette()
        self.inspector = Inspector(self.session)
        self.problems = ProblemsPanel(self.session)
        self._build_actions()
        self._build_menus()
        self.palette_dock = self.add_panel(
            self.palette, "Layers", Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.inspector_dock = self.add_panel(
            self.inspector, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.problems_dock = self.add_panel(
            self.problems, "Problems", Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self._build_status_bar()
        self.panels = install_panels(self)
        self.block_actions = BlockActions(self)
        self._build_help_menu()

        self.palette.layer_activated.connect(self.add_layer)
        self.problems.node_activated.connect(self.focus_node)
        self.problems.message.connect(self.show_message)
        self.scene.message.connect(self.show_message)
        self.session.dirty_changed.connect(lambda _dirty: self._update_title())
        self.session.path_changed.connect(lambda _path: self._update_title())
        self.session.graph_replaced.connect(self._update_title)
        self.session.graph_changed.connect(lambda _ids: self._update_status())
        self.session.problems_changed.connect(lambda _problems: self._update_status())
        self.session.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        self.session.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.session.selection_changed.connect(
            lambda node_ids: node_ids and self.inspector_dock.raise_()
        )
        QCoreApplication.instance().aboutToQuit.connect(release_clipboard)
        self._layout_restored = self.restore_layout()
        self._update_title()
        self._update_status()

    # Panels --------------------------------------------------------------------------

    def add_panel(
        self,
        widget: QWidget,
        title: str,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        tabify: bool = True,
    ) -> QDockWidget:
        """Docks `widget` as a panel; panels in the same area become tabs.

        Args:
            widget: The panel.
            title: Its title (and its entry in the View menu).
            area: Where it docks.
            tabify: Whether to share the area's space as a tab.

        Returns:
            The dock, e.g. to `raise_()` it.
        """
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        existing = [
            d
            for d in self.findChildren(QDockWidget)
            if d is not dock and self.dockWidgetArea(d) == area and not d.isFloating()
        ]
        self.addDockWidget(area, dock)
        if tabify and existing:
            self.tabifyDockWidget(existing[-1], dock)
            existing[0].raise_()
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    # Window layout -------------------------------------------------------------------

    def default_layout(self) -> None:
        """Sizes the window to the screen and gives the canvas most of it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        width, height = DEFAULT_SIZE
        if available is not None:
            width, height = min(width, available.width()), min(height, available.height())
        self.resize(width, height)
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock],
            [200, max(300, int(width * 0.26))],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks([self.problems_dock], [bottom_dock_height(self)], Qt.Orientation.Vertical)

    def save_layout(self) -> None:
        """Remembers the window's size, its docks and its splitters' sizes."""
        if not self.remembers_layout:
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        for splitter in self.findChildren(QSplitter):
            if splitter.objectName():
                self.settings.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())

    def restore_layout(self) -> bool:
        """Restores what save_layout remembered; returns False (default layout) when nothing."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is None or state is None:
            self.default_layout()
            return False
        self.restoreGeometry(geometry)
        self.restoreState(state)
        self.restore_splitters(self)
        return True

    def restore_splitters(self, widget: QWidget) -> None:
        """Gives the named splitters in `widget` the sizes save_layout remembered.

        Panels made after the window (see gui.panels.registry) call it for themselves.
        """
        for splitter in widget.findChildren(QSplitter):
            saved = self.settings.value(f"splitters/{splitter.objectName()}")
            if splitter.objectName() and saved is not None:
                splitter.restoreState(saved)

    # Actions and menus ---------------------------------------------------------------

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        # Shortcuts work wherever focus is in the window, docks included.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        self.new_action = self._action("&New", self.new_graph, keys.New)
        self.open_action = self._action("&Open…", self.open_file, keys.Open)
        self.save_action = self._action("&Save", self.save, keys.Save)
        self.save_as_action = self._action("Save &As…", self.save_as, keys.SaveAs)
        self.import_action = self._action("&Import Keras Model…", self.import_keras_model)
        self.export_action = self._action(
            "&Export Code and Model…", self.export_code, "Ctrl+E", "Python code and model files"
        )
        self.quit_action = self._action("&Quit", self.close, keys.Quit)
        stack = self.session.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence(keys.Undo))
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence(keys.Redo)])
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        self.copy_action = self._action("&Copy", self.copy_selection, keys.Copy)
        self.paste_action = self._action("&Paste", self.paste, keys.Paste)
        self.duplicate_action = self._action("&Duplicate", self.duplicate, "Ctrl+D")
        self.delete_action = self._action("&Delete", self.delete_or_go_up, keys.Delete)
        self.delete_action.setShortcuts([QKeySequence(keys.Delete), QKeySequence("Backspace")])
        self.select_all_action = self._action("Select &All", self.select_all, keys.SelectAll)
        self.fit_action = self._action("&Fit to View", self.view.fit_to_view, "F")
        self.zoom_in_action = self._action("Zoom &In", lambda: self.view.zoom_by(1.25), keys.ZoomIn)
        self.zoom_out_action = self._action(
            "Zoom &Out", lambda: self.view.zoom_by(0.8), keys.ZoomOut
        )
        self.layout_action = self._action("Auto &Layout", self.auto_layout, "Ctrl+L")
        self.summary_action = self._action("Model &Summary", self.show_summary, "Ctrl+M")
        # F fits from anywhere in the window (text fields keep their typed
        # letters: they claim printable keys first); Delete acts on the
        # canvas only, never while editing a field or list.
        for action in (self.delete_action,):
            self.removeAction(action)
            self.view.addAction(action)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        self.templates_menu = file_menu.addMenu("New from &Template")
        for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
            action = self.templates_menu.addAction(graph_title(path))
            action.triggered.connect(lambda _checked=False, p=path: self.new_from_template(p))
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        for action in (
            self.undo_action,
            self.redo_action,
            None,
            self.copy_action,
            self.paste_action,
            self.duplicate_action,
            self.delete_action,
            None,
            self.select_all_action,
        ):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        for action in (
            self.fit_action,
            self.zoom_in_action,
            self.zoom_out_action,
            None,
            self.layout_action,
            self.summary_action,
        ):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)
        view_menu.addSeparator()
        self.panels_menu: QMenu = view_menu.addMenu("&Panels")

    def _build_help_menu(self) -> None:
        from gui.help import add_help_menu

        self.help_actions = add_help_menu(self)

    def _build_status_bar(self) -> None:
        self.layers_label = QLabel()
        self.params_label = QLabel()
        self.cost_label = QLabel()
        self.epoch_time_label = EpochTimeLabel(self.session)
        self.problems_label = QLabel()
        self.runtime_label = QLabel()
        status = self.statusBar()
        for label in (
            self.runtime_label,
            self.problems_label,
            self.layers_label,
            self.params_label,
            self.cost_label,
            self.epoch_time_label,
        ):
            label.setContentsMargins(8, 0, 8, 0)
            status.addPermanentWidget(label)

    # Status and title ----------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.session.display_name}[*] — DeepWire")
        self.setWindowModified(self.session.is_dirty)

    def _update_status(self) -> None:
        session = self.session
        errors = sum(1 for p in session.problems if p.severity == ERROR)
        self.layers_label.setText(plural(len(session.graph), "layer"))
        self.params_label.setText(f"Total params: {session.analysis.total_params():,}")
        self._update_cost()
        if errors:
            self.problems_label.setText(f"⚠ {errors} problem{'s' if errors > 1 else ''}")
            self.problems_label.setStyleSheet("color: #d93025;")
        else:
            self.problems_label.setText("✓ builds in Keras")
            self.problems_label.setStyleSheet("color: #188038;")

    def _update_cost(self) -> None:
        cost = graph_cost(self.session.graph, self.session.analysis)
        memory = training_memory(cost, self.session.graph.training)
        approximate = "≥ " if cost.incomplete else ""
        self.cost_label.setText(
            f"MACs/sample: {approximate}{format_count(cost.macs)}    "
            f"Weights: {format_bytes(cost.weight_bytes())}    "
            f"Training memory: ~{format_bytes(memory.total)}"
        )
        self.cost_label.setToolTip(
            "Estimated from the shapes alone.\n"
            f"Weights: {format_bytes(cost.weight_bytes('float16'))} as float16, "
            f"{format_bytes(cost.weight_bytes('int8'))} as int8\n"
            f"Activations per sample: {format_bytes(cost.activation_bytes)}\n"
            f"Training memory: {memory.breakdown()}"
        )
        self.epoch_time_label.refresh()

    # Files -----------------------------------------------------------------------------

    def maybe_discard(self) -> bool:
        """Asks to save unsaved work; returns whether the window may drop it."""
        if not self.session.is_dirty:
            return True
        answer = self.prompts.save_changes(
            f"“{self.session.display_name}” has unsaved changes. Save them?"
        )
        if answer == CANCEL:
            return False
        if answer == SAVE:
            return self.save()
        return True

    def new_graph(self) -> None:
        if self.maybe_discard():
            self.session.replace_graph(NetworkGraph())

    def new_from_template(self, path: Path) -> bool:
        """Starts an unsaved graph from a template file (the examples)."""
        if not self.maybe_discard():
            return False
        return self.open_path(path, as_template=True, ask=False)

    def open_file(self) -> None:
        if not self.maybe_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open graph", self._last_dir(), GRAPH_FILTER)
        if path:
            self.open_path(Path(path), ask=False)

    def open_path(self, path: Path, as_template: bool = False, ask: bool = True) -> bool:
        """Opens a graph file; a bad file is reported in a dialog and changes nothing.

        Args:
            path: The graph file.
            as_template: Open as an unsaved copy (Save asks where).
            ask: Whether to offer saving the current unsaved work first.
        """
        if ask and not self.maybe_discard():
            return False
        try:
            graph = load_graph(path)
        except GraphFileError as error:
            self.prompts.error("Cannot open graph", str(error))
            return False
        self.session.replace_graph(graph, None if as_template else Path(path))
        if not as_template:
            self._remember(Path(path))
        self.view.fit_to_view()
        self.reveal_problems()
        return True

    def reveal_problems(self) -> None:
        """Brings the Problems panel to the front when the graph has errors."""
        if any(p.severity == ERROR for p in self.session.problems):
            self.problems_dock.show()
            self.problems_dock.raise_()

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        if event.spontaneous() or self._shown_once:
            return
        self._shown_once = True
        if not self._layout_restored:
            # Dock sizes are shares of the final window size.
            self.resizeDocks(
                [self.problems_dock], [bottom_dock_height(self)], Qt.Orientation.Vertical
            )
        # Raising a tabbed dock and fitting to the final viewport size only
        # work once the window is laid out.
        self.reveal_problems()
        QTimer.singleShot(0, self.view.fit_to_view)
        # The panels behind other tabs are made once the window is up.
        start_idle_building(self.panels)

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        return self.save_to(self.session.path)

    def save_as(self) -> bool:
        suggested = str(Path(self._last_dir()) / f"{self.session.display_name}.yaml")
        if self.session.path:
            suggested = str(self.session.path)
        path, _ = QFileDialog.getSaveFileName(self, "Save graph", suggested, GRAPH_FILTER)
        return bool(path) and self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Saves the graph to `path`; a failure is reported and keeps the work dirty."""
        graph = self.session.graph
        if graph.name == UNTITLED:
            # Files and exported models are named after the file, not "Untitled".
            graph.name = Path(path).stem
        try:
            save_graph(graph, path)
        except (OSError, GraphFileError) as error:
            self.prompts.error("Cannot save graph", f"{path}: {error}")
            return False
        self.session.mark_saved(Path(path))
        self._remember(Path(path))
        self.show_message(f"Saved {path}")
        return True

    def _remember(self, path: Path) -> None:
        recent = [str(path.resolve())] + [
            p for p in self.recent_files() if p != str(path.resolve())
        ]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in (value or [])]

    def last_file(self) -> Path | None:
        """The graph file opened or saved last, if it still exists (reopened at start-up)."""
        recent = self.recent_files()
        return Path(recent[0]) if recent and Path(recent[0]).is_file() else None

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(Path(p)))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _last_dir(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def import_keras_model(self, path: Path | None = None) -> bool:
        """Starts turning a saved Keras model into a new, laid-out, unsaved graph.

        Returns whether the import started; the graph (or a message saying why
        the file cannot be imported) arrives when the `import` run ends, and
        `model_imported` tells which.
        """
        if self.import_run is not None or not self.maybe_discard():
            return False
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Import Keras model", self._last_dir(), "Keras models (*.keras *.h5 *.json)"
            )
            if not chosen:
                return False
            path = Path(chosen)
        from runtime.runs.base import RunRequest

        self.show_message("Loading TensorFlow and the model…")
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        request = RunRequest("import", "", None, {"path": str(path)})
        self.import_run = RunAdapter(request, parent=self)
        self.import_run.finished.connect(lambda outcome: self._on_imported(path, outcome))
        self.import_run.start()
        return True

    def _on_imported(self, path: Path, outcome) -> None:
        from runtime.events import RunFinished

        QGuiApplication.restoreOverrideCursor()
        self.import_run.deleteLater()
        self.import_run = None
        if not isinstance(outcome, RunFinished):
            self.prompts.error("Cannot import model", f"{path}: {outcome.message}")
            self.model_imported.emit(False)
            return
        graph = self._offer_folding(graph_from_yaml(outcome.result))
        graph.apply(MoveNodes(layered_layout(graph)))
        self.session.replace_graph(graph, None, dirty=True)
        self.view.fit_to_view()
        self.model_imported.emit(True)

    def _offer_folding(self, graph: NetworkGraph) -> NetworkGraph:
        """Asks whether repeated structure found in an imported graph becomes blocks."""
        from graph.block_folding import describe, find_repeats, fold_repeats  # imports only

        repeats = find_repeats(graph)
        if not repeats or not self.prompts.confirm(
            "Fold repeated blocks", f"{describe(graph.name, repeats)}; fold them into blocks?"
        ):
            return graph
        return fold_repeats(graph, repeats).graph

    # Recovery ------------------------------------------------------------------------

    def offer_recovery(self) -> bool:
        """Offers the work an earlier session left unsaved; returns whether it was restored."""
        pending = self.recovery.pending()
        if pending is None:
            return False
        source = f" from {pending.source}" if pending.source else ""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(pending.saved_at))
        restore = self.prompts.confirm(
            "Recover unsaved work",
            f"DeepWire did not close normally. Restore the unsaved work{source} saved at {when}?",
        )
        if not restore:
            self.recovery.clear()
            return False
        try:
            graph = self.recovery.load()
        except GraphFileError as error:
            self.prompts.error("Cannot recover", str(error))
            self.recovery.clear()
            return False
        self.session.replace_graph(graph, pending.source, dirty=True)
        self.view.fit_to_view()
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_discard():
            event.ignore()
            return
        self.recovery.clear()
        self.save_layout()
        event.accept()

    # TensorFlow warm-up ----------------------------------------------------------------

    def start_runtime_warmup(self) -> None:
        """Imports TensorFlow on a worker thread (call once the window shows)."""
        from gui.warmup import start_runtime_warmup

        if self.warmup is not None:
            return
        # The training process imports TensorFlow too: started now, its import
        # overlaps this process's, so the first Train waits as little as it can.
        from runtime.training_process import shared_training_process

        shared_training_process().start()
        self.runtime_label.setText("TensorFlow loading…")
        self.warmup = start_runtime_warmup(self, self._on_runtime_loaded)

    def _on_runtime_loaded(self, error: str) -> None:
        self.runtime_label.setText("TensorFlow ready" if not error else "TensorFlow unavailable")
        self.runtime_label.setToolTip(error)
        self.runtime_loaded.emit(error)

    # Editing ---------------------------------------------------------------------------

    def add_layer(self, type_name: str) -> str | None:
        """Adds a layer from the palette: after the one selected node (and wired to
        it when that fits), else in the middle of the view."""
        graph = self.session.view
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            anchor = graph.node(selected[0])
            position = free_position(graph, (anchor.position[0] + 240.0, anchor.position[1]))
            node, command = palette_node(graph, type_name, position)
            checker = ConnectionChecker(graph, self.session.view_analysis, anchor.id)
            commands = [command]
            if checker.problem_for_new(node) is None:
                commands.append(AddEdge(Edge(anchor.id, node.id, 0)))
            refused = self.session.execute_in_view(Batch(commands, f"Add {node.name}"))
            if refused:
                self.show_message(refused)
                return None
            self.scene.select_nodes([node.id])
            self.view.centre_on_node(node.id)
            return node.id
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        return self.scene.add_layer(type_name, QPointF(centre), avoid_overlap=True)

    def delete_or_go_up(self) -> None:
        """Deletes the selection; with nothing selected inside a block, goes up a level."""
        if not self.scene.selected_node_ids() and not self.scene.selectedItems():
            if self.session.go_up():
                return
        self.scene.delete_selection()

    def focus_node(self, node_id: str) -> None:
        """Selects a node of the document and centres the canvas on it."""
        self.session.go_to_level(0)
        self.scene.select_nodes([node_id])
        self.view.centre_on_node(node_id)

    def select_all(self) -> None:
        self.scene.select_nodes(list(self.scene.node_items))

    def copy_selection(self) -> None:
        node_ids = self.scene.selected_node_ids()
        if node_ids:
            QGuiApplication.clipboard().setMimeData(copy_nodes(self.session.view, node_ids))

    def paste(self) -> None:
        result = paste_command(self.session.view, QGuiApplication.clipboard().mimeData())
        if result is None:
            return
        command, new_ids = result
        refused = self.session.execute_in_view(command)
        if refused:
            self.show_message(refused)
            return
        self.scene.select_nodes(new_ids)

    def duplicate(self) -> None:
        node_ids = self.scene.selected_node_ids()
        if not node_ids:
            return
        result = paste_command(self.session.view, copy_nodes(self.session.view, node_ids))
        if result is not None:
            command, new_ids = result
            if not self.session.execute_in_view(command, f"Duplicate {len(new_ids)}"):
                self.scene.select_nodes(new_ids)

    def auto_layout(self) -> None:
        """Lays the graph out left to right (one undo step)."""
        positions = {
            node_id: (snap(x), snap(y))
            for node_id, (x, y) in layered_layout(self.session.view).items()
        }
        self.session.execute_in_view(MoveNodes(positions), "Auto layout")
        self.view.fit_to_view()

    def show_summary(self) -> None:
        from gui.summary_view import SummaryView

        SummaryView(self.session, self).exec()

    def export_code(self):
        """Opens the one export dialog: Python code and deployable model files."""
        return self.panels.open_export_dialog(self)
