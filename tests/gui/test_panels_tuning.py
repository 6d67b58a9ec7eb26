"""The tuning panel: a two-trial search, live table, and applying the best (undoably)."""

from __future__ import annotations

from tests.gui.panel_helpers import example


def test_two_trials_run_and_the_best_is_applied_undoably(qtbot, make_window):
    window = make_window(example())
    panel = window.panels.tuning
    panel.trials_spin.setValue(2)
    panel.epochs_spin.setValue(1)
    before = window.session.graph.copy()
    with qtbot.waitSignal(panel.tuning_ended, timeout=300_000) as ended:
        assert panel.start()
        assert panel.stop_button.isEnabled()
    finished = ended.args[0]
    assert finished.trials == 2
    assert panel.table.rowCount() == 2
    assert {panel.table.item(r, 1).text() for r in range(2)} <= {"done", "pruned", "failed"}
    assert finished.best_params and panel.apply_button.isEnabled()
    assert panel.best_curve and panel.best_curve[-1][1] == finished.best_value

    assert panel.apply_best() is None
    graph = window.session.graph
    best = finished.best_params
    assert graph.training["learning_rate"] == best["learning_rate"]
    assert graph.training["optimizer"] == best["optimizer"]
    assert graph.find("dropout_1").params["rate"] == best["dropout_1.rate"]
    assert graph.find("dense_1").params["units"] == best["dense_1.units"]
    window.session.undo_stack.undo()
    assert window.session.graph.training == before.training
    assert window.session.graph.find("dense_1").params == before.find("dense_1").params


def test_stop_ends_tuning_early(qtbot, make_window):
    window = make_window(example())
    panel = window.panels.tuning
    panel.trials_spin.setValue(50)
    panel.epochs_spin.setValue(50)
    with qtbot.waitSignal(panel.tuning_ended, timeout=300_000) as ended:
        panel.start()
        qtbot.waitUntil(lambda: panel.table.rowCount() >= 1, timeout=120_000)
        panel.stop()
    assert ended.args[0] is None or ended.args[0].trials < 50
    assert panel.start_button.isEnabled()


def test_bad_ranges_are_refused_with_a_message(qtbot, make_window):
    window = make_window(example())
    panel = window.panels.tuning
    panel.lr_low.setValue(0.1)
    panel.lr_high.setValue(0.01)
    assert not panel.start()
    assert "learning rate: the range must run from low to high" in panel.error_label.text()
    panel.lr_low.setValue(0.001)
    panel.batch_edit.setText("sixteen")
    assert not panel.start()
    assert "batch sizes" in panel.error_label.text() and "'sixteen'" in panel.error_label.text()
