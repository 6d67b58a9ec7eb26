"""The panels where a network learns: data, training, evaluation, tuning, export.

`install_panels(window)` docks them into the main window and adds their menu
actions. Each panel is a thin view over runtime/ (imported lazily, on worker
threads) and can be previewed alone with `python -m gui.panels.<module>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QDockWidget


@dataclass
class Panels:
    """The installed panels and their docks."""

    runs: object
    training: object
    training_dock: QDockWidget
    faults: object


def install_panels(window) -> Panels:
    """Creates the panels, docks them into `window` and wires them to each other.

    Args:
        window: The gui.main_window.MainWindow.
    """
    from gui.panels.background import stop_all_threads
    from gui.panels.faults import FaultMarker
    from gui.panels.runs import RunHistory
    from gui.panels.training_panel import TrainingPanel

    session = window.session
    runs = RunHistory(window)
    faults = FaultMarker(window)
    training = TrainingPanel(session, runs, autosave=window.autosaver.autosave)
    training.node_at_fault.connect(faults.mark)
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    training_dock = window.add_panel(training, "Training", bottom)
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop_all_threads)
    return Panels(runs, training, training_dock, faults)
