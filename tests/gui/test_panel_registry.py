"""Panels are declared and found; each document owns its runs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from graph.files import save_graph
from graph.model import NetworkGraph
from gui.main_window import MainWindow
from gui.panels.registry import discover_panels
from gui.recovery import RecoveryStore
from tests.gui.panel_helpers import example, train


def test_every_panel_module_declares_its_panel_once_and_in_order():
    specs = discover_panels()
    names = [spec.name for spec in specs]
    assert names[:4] == ["data", "training", "evaluation", "tuning"]
    assert "export" in names and len(set(names)) == len(names)
    assert [spec.order for spec in specs] == sorted(spec.order for spec in specs)


def test_the_run_menu_and_docks_follow_the_declarations(window):
    specs = discover_panels()
    run_menu = next(
        action.menu() for action in window.menuBar().actions() if action.text() == "&Run"
    )
    entries = [action.text() for action in run_menu.actions() if not action.isSeparator()]
    assert entries == [entry.text for spec in specs for entry in spec.menu]
    docked = {spec.name for spec in specs if spec.create is not None}
    assert docked <= set(window.panels.docks)  # panels may add docks of their own
    assert window.panels.training is window.panels.context.widgets["training"]


def test_a_new_document_starts_with_no_runs_charts_or_evaluation(qtbot, make_window):
    window = make_window(example(epochs=1))
    first = train(qtbot, window)
    assert first.number == 1 and window.panels.runs.runs == [first]
    panels = window.panels
    qtbot.waitUntil(lambda: panels.evaluation.evaluation is not None, timeout=60_000)

    window.session.replace_graph(example(epochs=1))  # File > Open of another graph
    assert panels.runs.runs == [] and panels.runs.latest_trained() is None
    assert panels.evaluation.evaluation is None
    assert panels.evaluation.metrics_table.rowCount() == 0
    assert panels.training.charts.previous_runs == [] and panels.training.charts.curves == {}

    again = train(qtbot, window)
    assert again.number == 1
    assert panels.training.charts.previous_runs == []  # the other document's run is not overlaid


def test_a_run_of_the_previous_document_that_ends_late_is_not_recorded(qtbot, make_window):
    window = make_window(example(epochs=200))
    panel = window.panels.training
    assert panel.train()
    old_run = panel.run
    window.session.replace_graph(NetworkGraph())  # File > New while it trains: it is stopped
    with qtbot.waitSignal(panel.training_ended, timeout=180_000):
        pass
    assert old_run not in window.panels.runs.runs and window.panels.runs.runs == []


# Panels made when first needed. ----------------------------------------------------------


@pytest.fixture
def unshown(qtbot, tmp_path):
    """Makes main windows that are never shown, so no idle moment makes their panels."""

    def make() -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(recovery=RecoveryStore(tmp_path / "recovery"), settings=settings)
        qtbot.addWidget(window)
        return window

    return make


def _lazy_names():
    return [s.name for s in discover_panels() if s.create is not None and not s.eager]


def test_a_window_makes_only_its_first_tab_and_the_rest_once_when_asked(unshown):
    window = unshown()
    assert set(window.panels.context.widgets) == {"training"}
    assert not window.panels.all_made()
    evaluation = window.panels.evaluation
    assert window.panels.evaluation is evaluation is window.panels.context.widgets["evaluation"]
    assert window.panels.docks["evaluation"].widget().widget() is evaluation
    window.panels.build_all()
    assert window.panels.all_made()
    assert set(window.panels.context.widgets) >= set(_lazy_names())


def test_wiring_to_a_panel_waits_for_it_and_runs_once(unshown):
    window = unshown()
    context, seen = window.panels.context, []
    context.when_built("explain", seen.append)
    assert seen == []
    explain = window.panels.explain
    assert seen == [explain]
    context.when_built("explain", seen.append)  # made already: at once
    window.panels.build_all()
    assert seen == [explain, explain]


def test_a_run_starting_makes_every_panel_so_none_misses_it(unshown):
    window = unshown()
    window.panels.runs.start(example(epochs=1))
    assert window.panels.all_made()


def test_a_shown_window_makes_its_other_panels_while_idle(qtbot, make_window):
    window = make_window()
    qtbot.waitUntil(window.panels.all_made, timeout=10_000)


def _what_a_user_reads(panel: QWidget) -> list:
    """Texts, choices, values, checks and enabled states of `panel` and its children."""
    read = []
    for child in [panel, *panel.findChildren(QWidget)]:
        if isinstance(child, QLabel | QLineEdit | QAbstractSpinBox):
            value = child.text()
        elif isinstance(child, QComboBox):
            value = (child.currentText(), child.count())
        elif isinstance(child, QAbstractButton):
            value = (child.text(), child.isChecked())
        elif isinstance(child, QAbstractItemView) and child.model() is not None:
            value = child.model().rowCount()
        else:
            continue
        read.append((type(child).__name__, value, child.isEnabled()))
    return read


def test_a_panel_made_after_a_document_opens_shows_what_one_made_before_shows(unshown, tmp_path):
    path = tmp_path / "digits.yaml"
    save_graph(example(epochs=3, batch_size=16), path)
    early = unshown()
    early.panels.build_all()
    assert early.open_path(path, ask=False)
    late = unshown()
    assert late.open_path(path, ask=False)
    late.panels.build_all()
    for name in _lazy_names():
        made_early = _what_a_user_reads(early.panels.context.widgets[name])
        assert _what_a_user_reads(late.panels.context.widgets[name]) == made_early, name
