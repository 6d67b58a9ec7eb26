"""The continual panel: learn and compare strategies, draw the matrix, continue training."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

from graph.model import SetSettings
from gui.document import EditorSession
from gui.panels.continual_panel import ContinualPanel
from gui.panels.runs import RunHistory
from gui.panels.strategy_view import UNSEEN, StrategyView, heat_color, matrix_image
from tests.gui.panel_helpers import TRAIN_TIMEOUT_MS
from tests.runtime.continual_helpers import split_digits_graph


def make_panel(qtbot, graph, runs=None, path=None) -> ContinualPanel:
    session = EditorSession(graph)
    if path is not None:
        session.path = path
    panel = ContinualPanel(session, runs)
    qtbot.addWidget(panel)
    panel.resize(1300, 700)
    panel.show()
    return panel


def test_the_matrix_image_colours_rows_learned_and_greys_the_rest():
    image = matrix_image([[1.0, 0.0, 0.5]], 3)
    assert image.shape == (3, 3, 3)
    assert tuple(image[0, 0]) == heat_color(1.0) and tuple(image[0, 1]) == (255, 255, 255)
    assert tuple(image[1, 2]) == UNSEEN and tuple(image[2, 0]) == UNSEEN


def test_a_strategy_view_draws_the_matrix_curves_and_metrics(qtbot):
    view = StrategyView("replay", ["0-1", "2-3", "4-5"])
    qtbot.addWidget(view)
    view.draw([[0.9, 0.0, 0.0], [0.7, 0.8, 0.0]], {"average_accuracy": 0.75})
    assert len(view.cell_labels) == 6 and view.cell_labels[4].toPlainText() == "0.80"
    xs, ys = view.curves[0].getData()
    assert list(xs) == [1, 2] and list(ys) == [0.9, 0.7]
    assert view.metric_labels["average_accuracy"].text() == "0.750"
    assert view.metric_labels["backward_transfer"].text() == "—"


def test_the_form_edits_the_continual_section_undoably(qtbot):
    panel = make_panel(qtbot, split_digits_graph())
    assert panel.form.apply("classes_per_task", 5) is None
    assert panel.session.graph.settings["continual"]["classes_per_task"] == 5
    panel.session.undo_stack.undo()
    assert panel.session.graph.settings["continual"]["classes_per_task"] == 2
    for name in ("naive", "replay", "ewc", "lwf"):
        assert panel.strategy_checks[name].toolTip()


def test_learning_needs_a_strategy(qtbot):
    panel = make_panel(qtbot, split_digits_graph())
    for check in panel.strategy_checks.values():
        check.setChecked(False)
    assert not panel.start()
    assert "at least one strategy" in panel.error_label.text()


def test_two_strategies_side_by_side_then_continue_training(qtbot, tmp_path, monkeypatch):
    graph = split_digits_graph(epochs_per_task=1)
    runs = RunHistory()
    panel = make_panel(qtbot, graph, runs, tmp_path / "split.yaml")
    panel.strategy_checks["replay"].setChecked(True)
    with qtbot.waitSignal(panel.sequence_ended, timeout=TRAIN_TIMEOUT_MS) as ended:
        assert panel.start()
        assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()
    outcome = ended.args[0]
    assert type(outcome).__name__ == "RunFinished", outcome
    assert list(panel.views) == ["naive", "replay"]
    assert panel.board_hint.isHidden()
    for name, view in panel.views.items():
        assert view.matrix == outcome.result.results[name].matrix
        assert len(view.matrix) == 5
        assert view.metric_labels["backward_transfer"].text().startswith(("+", "-"))
    assert panel.start_button.isEnabled()

    # Continue training: the "trained" model here is the sequence's final weights.
    trained = runs.start(graph.copy())
    trained.weights = outcome.result.results["naive"].weights
    digits = load_digits()
    np.savez(tmp_path / "more.npz", x=digits.data[::-1], y=digits.target[::-1])
    chosen_in_the_dialog(monkeypatch, "getOpenFileName", (str(tmp_path / "more.npz"), ""))
    panel.browse_file()
    assert panel.new_data_edit.text() == "more.npz"  # beside the graph: read from its folder
    with qtbot.waitSignal(panel.continue_ended, timeout=TRAIN_TIMEOUT_MS) as ended:
        assert panel.continue_training()
    outcome = ended.args[0]
    assert type(outcome).__name__ == "RunFinished", outcome
    result = panel.continue_result
    assert result.rehearsal and set(result.before) == set(result.after) == {"old", "new"}
    assert "before" in panel.continue_label.text() and "more.npz" in panel.continue_label.text()


def chosen_in_the_dialog(monkeypatch, method, answer):
    """Answers QFileDialog's `method` (a native modal dialog) with `answer`; returns the calls."""
    from PySide6.QtWidgets import QFileDialog

    calls = []

    def answered(*args):
        calls.append(args)
        return answer

    monkeypatch.setattr(QFileDialog, method, staticmethod(answered))
    return calls


def test_the_empty_board_says_what_will_appear_and_new_data_can_be_a_folder(
    qtbot, tmp_path, monkeypatch
):
    from graph.settings import data_settings_at

    panel = make_panel(qtbot, split_digits_graph(), RunHistory(), tmp_path / "split.yaml")
    assert panel.board_hint.isVisible() and "forgetting" in panel.board_hint.text()
    (tmp_path / "new images" / "cats").mkdir(parents=True)
    calls = chosen_in_the_dialog(monkeypatch, "getExistingDirectory", str(tmp_path / "new images"))
    panel.browse_folder()
    assert calls[-1][2] == str(tmp_path)  # opens in the graph's folder
    assert panel.new_data_edit.text() == "new images"
    # a folder named relative to the graph is an image folder, whatever the working folder
    assert data_settings_at("new images", panel._base_dir())["source"] == "image_folder"
    panel.browse_folder()
    assert calls[-1][2] == str(tmp_path / "new images")  # then where the path points
    outside = tmp_path.parent / "elsewhere.csv"
    chosen_in_the_dialog(monkeypatch, "getOpenFileName", (str(outside), ""))
    panel.browse_file()
    assert panel.new_data_edit.text() == str(outside)
    panel._view("naive", ["1", "2"])
    assert panel.board_hint.isHidden()
    panel._clear_board()
    assert panel.board_hint.isVisible()


def test_a_bad_split_is_reported_in_the_panel(qtbot):
    graph = split_digits_graph()
    graph.apply(SetSettings("continual", {"classes_per_task": 3}))
    panel = make_panel(qtbot, graph)
    with qtbot.waitSignal(panel.sequence_ended, timeout=TRAIN_TIMEOUT_MS):
        assert panel.start()
    assert "with one class" in panel.error_label.text()
    assert not panel.views


def test_continue_training_needs_a_trained_model(qtbot):
    panel = make_panel(qtbot, split_digits_graph(), RunHistory())
    assert not panel.continue_training()
    assert "Train the model first" in panel.error_label.text()


def test_the_window_docks_the_panel_and_the_run_menu_opens_it(make_window):
    window = make_window(split_digits_graph())
    panel = window.panels.continual
    assert isinstance(panel, ContinualPanel) and panel.runs is window.panels.runs
    dock = window.panels.docks["continual"]
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    action = next(a for a in run_menu.actions() if a.text() == "&Continual Learning…")
    dock.hide()
    action.trigger()
    assert not dock.isHidden()
