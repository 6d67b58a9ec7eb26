"""The panels where a network learns: data, training, evaluation, tuning, and every run kind's.

Panels are declared, not wired: each panel module ends with a `PANEL =
PanelSpec(...)` (gui.panels.registry) and `install_panels(window)` docks
every declared panel, builds the Run menu from their entries and lets them
wire to each other. Each panel is a thin view over runtime/ (imported lazily;
runs go through gui.run_adapter) and can be previewed alone with
`python -m gui.panels.<module>`.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget

from gui.panels.registry import PanelContext, PanelSpec, discover_panels

# Share of the window's height the bottom panels take when shown: at 1280x720
# the canvas keeps at least half of it.
BOTTOM_DOCK_SHARE = 0.36


class Panels:
    """The installed panels: their widgets by name (also as attributes), docks and shared state.

    Attributes:
        context: The PanelContext every panel was made with.
        docks: The docks, by panel name.
        specs: The declarations, in order.
    """

    def __init__(self, context: PanelContext, docks: dict[str, QDockWidget], specs) -> None:
        self.context = context
        self.docks = docks
        self.specs: list[PanelSpec] = specs

    @property
    def runs(self):
        return self.context.runs

    @property
    def faults(self):
        return self.context.faults

    def __getattr__(self, name: str):
        widgets = self.__dict__.get("context").widgets if "context" in self.__dict__ else {}
        if name in widgets:
            return widgets[name]
        raise AttributeError(name)

    def open_export_dialog(self, window):
        from gui.panels.export_dialog import open_export_dialog

        return open_export_dialog(self.context, None)


def install_panels(window) -> Panels:
    """Creates the declared panels, docks them into `window` and adds the Run menu.

    Args:
        window: The gui.main_window.MainWindow.
    """
    from gui.background import stop_all_jobs
    from gui.panels.faults import FaultMarker
    from gui.panels.runs import RunHistory
    from runtime.training_process import shared_training_process

    runs = RunHistory(window.session, window)
    context = PanelContext(window, window.session, runs, FaultMarker(window))
    specs = discover_panels()
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    docks = context.docks
    for spec in specs:
        if spec.create is not None:
            widget = context.widgets[spec.name] = spec.create(context)
            docks[spec.name] = window.add_panel(_scrollable(widget), spec.title, bottom)
    if "training" in docks:
        # Training is the tab a session starts on, however many panels are declared.
        docks["training"].raise_()

    def show(name: str) -> None:
        dock = docks[name]
        was_hidden = dock.isHidden()
        dock.show()
        dock.raise_()
        # A dock the user closed comes back at its usual height; one that is
        # open keeps the height the user gave it (and the window no re-layout).
        if was_hidden:
            window.resizeDocks([dock], [bottom_dock_height(window)], Qt.Orientation.Vertical)

    context.show = show
    for spec in specs:
        if spec.connect is not None:
            spec.connect(context, context.widgets.get(spec.name))
    _add_run_menu(window, context, specs)
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop_all_jobs)
        app.aboutToQuit.connect(shared_training_process().close)
    return Panels(context, docks, specs)


def bottom_dock_height(window) -> int:
    """The height the bottom panels get: a share of the window, within limits."""
    return max(170, min(420, int(window.height() * BOTTOM_DOCK_SHARE)))


def _scrollable(panel: QWidget) -> QScrollArea:
    """`panel` in a scroll area: a tall panel scrolls rather than squeezing the canvas."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(panel)
    return area


def _add_run_menu(window, context: PanelContext, specs: list[PanelSpec]) -> None:
    menu = window.menuBar().addMenu("&Run")
    for spec in specs:
        widget = context.widgets.get(spec.name)
        for entry in spec.menu:
            if entry.separator_before:
                menu.addSeparator()
            action = menu.addAction(entry.text)
            if entry.shortcut:
                action.setShortcut(QKeySequence(entry.shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(
                lambda _checked=False, entry=entry, widget=widget: entry.action(context, widget)
            )
