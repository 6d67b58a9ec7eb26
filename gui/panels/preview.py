"""Previewing one panel alone: `python -m gui.panels.<module>` opens it on an example graph."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from graph.files import load_graph
from graph.model import SetSettings
from gui.document import EditorSession

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_session(name: str = "mlp_digits", **sections: dict) -> EditorSession:
    """An editing session on an example, with any settings sections changed as given."""
    graph = load_graph(EXAMPLES / f"{name}.yaml")
    for section, changes in sections.items():
        graph.apply(SetSettings(section, changes))
    session = EditorSession()
    session.replace_graph(graph)
    session.path = EXAMPLES / f"{name}.yaml"
    return session


def preview(make: Callable[[], QWidget], width: int, height: int) -> int:
    """Shows what `make` builds (called once the application exists); returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    widget = make()
    widget.resize(width, height)
    widget.show()
    return app.exec()
