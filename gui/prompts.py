"""The questions the window asks the user, in one replaceable object.

Tests (and scripted runs) swap in their own answers instead of blocking on
modal dialogs.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

SAVE = "save"
DISCARD = "discard"
CANCEL = "cancel"


class Prompts:
    """Modal dialogs parented to `parent`.

    Args:
        parent: The window the dialogs belong to.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def save_changes(self, text: str) -> str:
        """Asks whether to save; returns SAVE, DISCARD or CANCEL."""
        buttons = (
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        answer = QMessageBox.question(self.parent, "Unsaved changes", text, buttons)
        if answer == QMessageBox.StandardButton.Save:
            return SAVE
        if answer == QMessageBox.StandardButton.Discard:
            return DISCARD
        return CANCEL

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.parent, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.parent, title, text)
