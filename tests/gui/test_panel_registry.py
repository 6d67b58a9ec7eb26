"""Panels are declared and found; each document owns its runs."""

from __future__ import annotations

from graph.model import NetworkGraph
from gui.panels.registry import discover_panels
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
