"""Whether a dock is up, for panels that do work only while someone looks at them.

A dock behind another tab is hidden, and a window coming up briefly reports
every tabbed dock visible before hiding those behind a tab; so "came up" is
called once the show has settled, and only if the dock is still up.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDockWidget


class DockPresence(QObject):
    """Follows `dock`: `up` says whether it is on screen; `came_up` runs when it comes up.

    Args:
        dock: The QDockWidget to follow (also the parent, so both go together).
        came_up: Called with no arguments each time the dock comes up and stays up.
    """

    def __init__(self, dock: QDockWidget, came_up: Callable[[], None]) -> None:
        super().__init__(dock)
        # A panel made while its dock is up (the user opened its tab) starts up.
        self.up = dock.isVisible()
        self._came_up = came_up
        dock.visibilityChanged.connect(self._visibility_changed)

    def _visibility_changed(self, visible: bool) -> None:
        self.up = visible
        if visible:
            QTimer.singleShot(0, self, self._settled)

    def _settled(self) -> None:
        if self.up:
            self._came_up()
