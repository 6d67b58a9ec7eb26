"""The tuning panel: a two-trial search, live table, and applying the best (undoably)."""

from __future__ import annotations

from graph.model import SetSettings
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
    assert panel.table.item(0, 0).text() == "0 (baseline)"  # trial 0: the graph's own settings
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


def test_applying_a_best_that_did_not_beat_the_baseline_asks_first(qtbot, make_window, prompts):
    window = make_window(example(epochs=1))
    panel = window.panels.tuning
    assert panel.epochs_spin.value() == 1 == panel.epochs_spin.maximum()  # the graph's epochs
    session = window.session
    session.execute(SetSettings("training", {"epochs": 3}))
    session.flush()
    assert panel.epochs_spin.value() == 3 == panel.epochs_spin.maximum()  # it follows them
    panel.epochs_spin.setValue(2)  # fewer, asked for: kept
    session.execute(SetSettings("training", {"epochs": 4}))
    session.flush()
    assert (panel.epochs_spin.value(), panel.epochs_spin.maximum()) == (2, 4)
    session.undo_stack.undo()
    session.undo_stack.undo()
    session.flush()
    assert panel.epochs_spin.value() == 1 == panel.epochs_spin.maximum()  # never more
    # Only near-total dropout is searched: no tuned trial can beat the graph's 0.2.
    for check in (panel.lr_check, panel.l2_check, panel.batch_check, panel.widths_check):
        check.setChecked(False)
    for check in panel.optimizer_checks.values():
        check.setChecked(False)
    panel.dropout_low.setValue(0.9)
    panel.dropout_high.setValue(0.95)
    panel.trials_spin.setValue(2)
    with qtbot.waitSignal(panel.tuning_ended, timeout=300_000) as ended:
        assert panel.start()
    finished = ended.args[0]
    assert not finished.beats_baseline
    assert finished.best_params == {"dropout_1.rate": 0.2}
    assert "No tuned trial beat your current settings" in panel.status.text()
    prompts.confirm_answer = False
    assert panel.apply_best() == "Not applied: the best trial did not beat the baseline."
    assert "No tuned trial beat your current settings" in prompts.asked[-1]
    assert window.session.undo_stack.index() == 0  # nothing applied


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
