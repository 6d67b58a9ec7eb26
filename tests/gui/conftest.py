"""Fixtures for GUI tests: a main window with scripted answers and private storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from graph.model import NetworkGraph
from gui.background import stop_all_jobs
from gui.clipboard import release_clipboard
from gui.collection import restore_automatic_collection
from gui.main_window import MainWindow
from gui.prompts import DISCARD
from gui.recovery import RecoveryStore


class ScriptedPrompts:
    """Answers the window's questions without dialogs and records what was asked.

    Args:
        save_answer: What `save_changes` answers.
        confirm_answer: What `confirm` answers.
    """

    def __init__(self, save_answer: str = DISCARD, confirm_answer: bool = True) -> None:
        self.save_answer = save_answer
        self.confirm_answer = confirm_answer
        self.asked: list[str] = []
        self.errors: list[str] = []

    def save_changes(self, text: str) -> str:
        self.asked.append(text)
        return self.save_answer

    def confirm(self, _title: str, text: str) -> bool:
        self.asked.append(text)
        return self.confirm_answer

    def error(self, _title: str, text: str) -> None:
        self.errors.append(text)


@pytest.fixture(autouse=True)
def background_work_ends_with_the_test():
    """Each test's worker threads end with it; then garbage is collected as usual again.

    A thread left running could touch the next test's objects, and the tests
    that follow (runtime, codegen) run without a window to collect garbage.
    """
    yield
    stop_all_jobs()
    restore_automatic_collection()


@pytest.fixture(autouse=True)
def empty_clipboard_afterwards(qapp):
    """Tests never call QApplication.quit, so they release the clipboard themselves."""
    yield
    release_clipboard()


@pytest.fixture
def prompts() -> ScriptedPrompts:
    return ScriptedPrompts()


@pytest.fixture
def make_window(qtbot, tmp_path: Path, prompts: ScriptedPrompts):
    """Builds shown main windows sharing one private recovery folder and settings file."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    store_dir = tmp_path / "recovery"

    def make(graph: NetworkGraph | None = None) -> MainWindow:
        window = MainWindow(prompts=prompts, recovery=RecoveryStore(store_dir), settings=settings)
        qtbot.addWidget(window)
        if graph is not None:
            window.session.replace_graph(graph)
        window.resize(1200, 800)
        # Shortcuts only fire in the active window.
        with qtbot.waitActive(window):
            window.show()
            window.activateWindow()
        window.view.fit_to_view()
        return window

    return make


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


def mlp_graph() -> NetworkGraph:
    """Input(64) -> Dense(64) -> Dropout -> Dense(10), laid out left to right."""
    graph = NetworkGraph("MLP")
    a = graph.add_node("Input", params={"shape": [64]}, position=(0, 0))
    b = graph.add_node("Dense", params={"units": 64, "activation": "relu"}, position=(220, 0))
    c = graph.add_node("Dropout", params={"rate": 0.2}, position=(440, 0))
    d = graph.add_node("Dense", params={"units": 10, "activation": "softmax"}, position=(660, 0))
    for source, target in ((a, b), (b, c), (c, d)):
        graph.connect(source.id, target.id)
    return graph
