"""The panels where a network learns: data, training, evaluation, tuning, and every run kind's.

Panels are declared, not wired: each panel module ends with a `PANEL =
PanelSpec(...)` (gui.panels.registry) and `install_panels(window)` docks
every declared panel, builds the Run menu from their entries and lets them
wire to each other. Each panel is a thin view over runtime/ (imported lazily;
runs go through gui.run_adapter) and can be previewed alone with
`python -m gui.panels.<module>`.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from gui.panels.panel_area import PanelArea
from gui.panels.registry import PanelContext, PanelSpec, discover_panels

# Share of the window's height the bottom panels take when shown: at 1280x720
# the canvas keeps at least half of it.
BOTTOM_DOCK_SHARE = 0.36


class Panels:
    """The installed panels: their widgets by name (also as attributes), docks and shared state.

    A panel not made yet is made when asked for by name (see PanelSpec.eager).

    Attributes:
        context: The PanelContext every panel was made with.
        docks: The docks, by panel name.
        specs: The declarations, in order.
    """

    def __init__(self, context: PanelContext, builder: _PanelBuilder) -> None:
        self.context = context
        self.docks = context.docks
        self.specs: list[PanelSpec] = builder.specs
        self._builder = builder

    @property
    def runs(self):
        return self.context.runs

    @property
    def faults(self):
        return self.context.faults

    def __getattr__(self, name: str):
        builder = self.__dict__.get("_builder")
        if builder is not None and (name in builder.pending or name in self.context.widgets):
            return builder.panel(name)
        raise AttributeError(name)

    def build_all(self) -> None:
        """Makes every panel not made yet (the window's idle time does it too)."""
        self._builder.build_all()

    def all_made(self) -> bool:
        return not self._builder.pending

    def open_export_dialog(self, window):
        from gui.panels.export_dialog import open_export_dialog

        return open_export_dialog(self.context, None)


class _PanelBuilder:
    """Makes each declared panel once: eagerly, on demand, or one per idle moment."""

    def __init__(self, window, context: PanelContext, specs: list[PanelSpec]) -> None:
        self.window = window
        self.context = context
        self.specs = specs
        self._pending = {spec.name: spec for spec in specs if spec.create is not None}
        self._waiting: dict[str, list] = {}

    @property
    def pending(self) -> list[str]:
        """The names of the declared panels not made yet."""
        return list(self._pending)

    def panel(self, name: str) -> QWidget:
        if name not in self.context.widgets:
            self._build(self._pending.pop(name))
        return self.context.widgets[name]

    def when_built(self, name: str, then) -> None:
        widget = self.context.widgets.get(name)
        if widget is not None:
            then(widget)
        elif name in self._pending:
            self._waiting.setdefault(name, []).append(then)

    def build_all(self) -> None:
        for name in self.pending:
            self.panel(name)

    def build_next_when_idle(self) -> None:
        """Makes the next pending panel, then comes back on the next idle moment."""
        if self._pending:
            self.panel(next(iter(self._pending)))
        if self._pending:
            QTimer.singleShot(0, self.window, self.build_next_when_idle)

    def _build(self, spec: PanelSpec) -> None:
        context = self.context
        widget = context.widgets[spec.name] = spec.create(context)
        context.docks[spec.name].widget().setWidget(widget)
        self.window.restore_splitters(widget)
        if spec.connect is not None:
            spec.connect(context, widget)
        for then in self._waiting.pop(spec.name, []):
            then(widget)


def install_panels(window) -> Panels:
    """Docks the declared panels into `window`, makes the eager ones and adds the Run menu.

    The other panels are made when first needed, or one per idle moment once
    the window shows (`start_idle_building`).

    Args:
        window: The gui.main_window.MainWindow.
    """
    from gui.background import stop_all_jobs
    from gui.panels.dock_presence import DockPresence
    from gui.panels.faults import FaultMarker
    from gui.panels.runs import RunHistory
    from runtime.training_process import shared_training_process

    runs = RunHistory(window.session, window)
    context = PanelContext(window, window.session, runs, FaultMarker(window))
    specs = discover_panels()
    builder = _PanelBuilder(window, context, specs)
    context.panel = builder.panel
    context.when_built = builder.when_built
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    docks = context.docks
    for spec in specs:
        if spec.create is not None:
            docks[spec.name] = window.add_panel(PanelArea(), spec.title, bottom)
    if "training" in docks:
        # Training is the tab a session starts on, however many panels are declared.
        docks["training"].raise_()

    def show(name: str) -> None:
        builder.panel(name)
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
        if spec.eager and spec.create is not None:
            builder.panel(spec.name)
        elif spec.create is None and spec.connect is not None:
            spec.connect(context, None)
    for name in builder.pending:
        # A tab the user brings up is made then, if idle time has not made it yet.
        DockPresence(docks[name], lambda name=name: builder.panel(name))
    # Every panel follows the runs it shows from the start of a run (restored ones start too).
    runs.run_started.connect(lambda _run: builder.build_all())
    _add_run_menu(window, context, specs)
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop_all_jobs)
        app.aboutToQuit.connect(shared_training_process().close)
    return Panels(context, builder)


def start_idle_building(panels: Panels) -> None:
    """Makes the panels not made yet, one per idle moment (call once the window shows)."""
    QTimer.singleShot(0, panels._builder.build_next_when_idle)


def bottom_dock_height(window) -> int:
    """The height the bottom panels get: a share of the window, within limits."""
    return max(170, min(420, int(window.height() * BOTTOM_DOCK_SHARE)))


def _add_run_menu(window, context: PanelContext, specs: list[PanelSpec]) -> None:
    menu = window.menuBar().addMenu("&Run")
    for spec in specs:
        for entry in spec.menu:
            if entry.separator_before:
                menu.addSeparator()
            action = menu.addAction(entry.text)
            if entry.shortcut:
                action.setShortcut(QKeySequence(entry.shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(
                lambda _checked=False, entry=entry, spec=spec: entry.action(
                    context, context.panel(spec.name) if spec.create is not None else None
                )
            )
