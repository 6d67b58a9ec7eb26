"""The panels where a network learns: data, training, evaluation, tuning, export.

`install_panels(window)` docks them into the main window, adds a Run menu
and wires them to each other. Each panel is a thin view over runtime/
(imported lazily, used on worker threads) and can be previewed alone with
`python -m gui.panels.<module>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

# Share of the window's height the bottom panels take when shown: at 1280x720
# the canvas keeps at least half of it.
BOTTOM_DOCK_SHARE = 0.36


@dataclass
class Panels:
    """The installed panels, their docks and the shared run history."""

    runs: object
    data: object
    training: object
    evaluation: object
    tuning: object
    faults: object
    docks: dict[str, QDockWidget]

    def open_export_dialog(self, window: QMainWindow):
        from gui.panels.export_dialog import ExportDialog

        dialog = ExportDialog(window.session, self.runs, window)
        dialog.show()
        return dialog


def install_panels(window) -> Panels:
    """Creates the panels, docks them into `window` and adds the Run menu.

    Args:
        window: The gui.main_window.MainWindow.
    """
    from gui.panels.background import stop_all_jobs
    from gui.panels.data_panel import DataPanel
    from gui.panels.evaluation_panel import EvaluationPanel
    from gui.panels.faults import FaultMarker
    from gui.panels.runs import RunHistory
    from gui.panels.training_panel import TrainingPanel
    from gui.panels.tuning_panel import TuningPanel
    from runtime.training_process import shared_training_process

    session = window.session
    runs = RunHistory(window)
    faults = FaultMarker(window)
    data = DataPanel(session)
    training = TrainingPanel(session, runs, autosave=window.autosaver.autosave)
    evaluation = EvaluationPanel(runs)
    tuning = TuningPanel(session)
    training.node_at_fault.connect(faults.mark)
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    docks = {
        "data": window.add_panel(data, "Data", bottom),
        "training": window.add_panel(training, "Training", bottom),
        "evaluation": window.add_panel(evaluation, "Evaluation", bottom),
        "tuning": window.add_panel(tuning, "Tuning", bottom),
    }
    # The training settings sit beside the inspector, where a form has height.
    docks["training_settings"] = window.add_panel(
        training.settings_area, "Training settings", Qt.DockWidgetArea.RightDockWidgetArea
    )
    docks["training"].visibilityChanged.connect(
        lambda visible: visible and docks["training_settings"].raise_()
    )
    panels = Panels(runs, data, training, evaluation, tuning, faults, docks)

    def show(name: str) -> None:
        dock = docks[name]
        was_hidden = dock.isHidden()
        dock.show()
        dock.raise_()
        # A dock the user closed comes back at its usual height; one that is
        # open keeps the height the user gave it (and the window no re-layout).
        if was_hidden:
            window.resizeDocks([dock], [bottom_dock_height(window)], Qt.Orientation.Vertical)

    training.training_started.connect(lambda: show("training"))
    # Results that arrived behind another tab are drawn when their tab comes up.
    docks["evaluation"].visibilityChanged.connect(
        lambda visible: visible and evaluation.draw_if_pending()
    )
    _add_run_menu(window, panels, show)
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop_all_jobs)
        app.aboutToQuit.connect(shared_training_process().close)
    return panels


def bottom_dock_height(window) -> int:
    """The height the bottom panels get: a share of the window, within limits."""
    return max(170, min(420, int(window.height() * BOTTOM_DOCK_SHARE)))


def _add_run_menu(window, panels: Panels, show) -> None:
    menu = window.menuBar().addMenu("&Run")
    entries = (
        ("&Data…", None, lambda: show("data")),
        ("&Train", "F5", panels.training.train),
        ("&Pause / Resume", "F6", panels.training.toggle_pause),
        ("&Stop", "Shift+F5", panels.training.stop),
        (None, None, None),
        ("&Evaluate", None, lambda: (show("evaluation"), panels.evaluation.evaluate_latest())),
        ("T&une Hyperparameters…", None, lambda: show("tuning")),
        (None, None, None),
        ("E&xport Model…", "Ctrl+Shift+E", lambda: panels.open_export_dialog(window)),
    )
    for text, shortcut, slot in entries:
        if text is None:
            menu.addSeparator()
            continue
        action = menu.addAction(text)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
