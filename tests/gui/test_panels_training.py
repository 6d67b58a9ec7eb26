"""The training panel: live charts, pause/stop, failures, and editing while training."""

from __future__ import annotations

import math
import os
import re
import signal

import numpy as np
import pytest
from PySide6.QtCore import Qt

from graph.model import SetParams, SetSettings
from gui.epoch_time import CALIBRATING, NOT_TIMED
from gui.panels import training_panel
from gui.panels.charts import MetricCurves
from gui.panels.training_panel import LOADING_DATA, STARTING_TENSORFLOW, describe_run
from gui.run_adapter import FLUSH_SECONDS
from runtime.probe_cache import ProbeCache, TimeEstimate
from runtime.training_process import shared_training_process
from tests.gui.panel_helpers import TRAIN_TIMEOUT_MS, example, train


def test_full_run_updates_charts_and_ends_with_metrics(qtbot, make_window):
    window = make_window(example(epochs=2))
    window.panels.docks["training"].raise_()
    run = train(qtbot, window)
    panel = window.panels.training

    assert run.succeeded and run.number == 1
    assert len(run.history["loss"]) == 2
    charts = panel.charts
    assert charts.metric_names() == ["loss", "accuracy"]
    x, y = charts.plotted("loss", "train")
    assert list(x) == [1.0, 2.0]
    assert np.allclose(y, run.history["loss"])
    _, val = charts.plotted("accuracy", "validation")
    assert np.allclose(val, run.history["val_accuracy"])
    batch_x, batch_y = charts.plotted("loss", "batch")
    batches_per_epoch = math.ceil(len(run.dataset.x_train) / 32)
    assert len(batch_x) == 2 * batches_per_epoch
    assert batch_x[-1] == pytest.approx(2.0)
    assert np.all(np.isfinite(batch_y))
    # Throttled: far fewer redraws than batches.
    assert 0 < charts.redraws < len(batch_x)
    text = panel.result_label.text()
    assert "Finished all 2 epochs" in text and "val_accuracy" in text
    assert run.diagnosis and run.diagnosis in text
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()


def test_second_run_overlays_the_first(qtbot, make_window):
    window = make_window(example(epochs=1))
    train(qtbot, window)
    train(qtbot, window)
    charts = window.panels.training.charts
    assert [label for label, _ in charts.previous_runs] == ["run 1"]
    assert len(charts.plots["loss"].previous) == 2  # run 1's train and validation curves


def test_stop_ends_the_run_early_and_keeps_the_model(qtbot, make_window):
    window = make_window(example(epochs=200))
    panel = window.panels.training
    with qtbot.waitSignal(panel.training_ended, timeout=TRAIN_TIMEOUT_MS) as ended:
        panel.train()
        qtbot.waitUntil(lambda: panel.charts.curves.get("loss") is not None, timeout=60_000)
        panel.stop()
    run = ended.args[0]
    assert run.succeeded and run.stopped_by_user
    assert len(run.history["loss"]) < 200
    assert "Stopped by you" in panel.result_label.text()
    # The bar keeps the share really done.
    assert 0 <= panel.progress.value() < panel.progress.maximum()


def test_pause_holds_training_until_resumed(qtbot, make_window):
    window = make_window(example(epochs=200))
    panel = window.panels.training
    with qtbot.waitSignal(panel.training_ended, timeout=TRAIN_TIMEOUT_MS):
        panel.train()
        qtbot.waitUntil(lambda: panel.charts.curves.get("loss") is not None, timeout=60_000)
        panel.toggle_pause()
        assert panel.is_paused and panel.pause_button.text() == "Resume"
        qtbot.wait(int(4 * FLUSH_SECONDS * 1000))
        held = panel.charts.curves["loss"].batch.size
        qtbot.wait(int(5 * FLUSH_SECONDS * 1000))
        assert panel.charts.curves["loss"].batch.size == held
        panel.toggle_pause()
        assert not panel.is_paused
        qtbot.waitUntil(lambda: panel.charts.curves["loss"].batch.size > held, timeout=30_000)
        panel.stop()


def test_nan_loss_shows_a_message_and_the_app_keeps_working(qtbot, make_window):
    graph = example(epochs=2, learning_rate=10.0, optimizer="sgd", momentum=0.9)
    graph.apply(SetSettings("dataset", {"normalization": "none"}))
    graph.set_params(graph.find("dense_1").id, activation="exponential")
    window = make_window(graph)
    run = train(qtbot, window)
    panel = window.panels.training
    assert not run.succeeded
    assert "loss became NaN" in run.message
    assert "loss became NaN" in panel.result_label.text()
    # Nothing is lost and the next run works once the graph is fixed.
    assert len(window.session.graph) == 4
    window.session.execute(SetParams(graph.find("dense_1").id, {"activation": "relu"}))
    window.session.execute(SetSettings("training", {"learning_rate": 0.001, "momentum": 0.0}))
    assert train(qtbot, window).succeeded


def test_data_that_does_not_fit_marks_the_node_at_fault(qtbot, make_window):
    graph = example(epochs=1)
    output = graph.find("dense_2")
    graph.set_params(output.id, units=7)
    window = make_window(graph)
    run = train(qtbot, window)
    assert not run.succeeded
    assert "dense_2 (Dense) has 7 units but digits has 10 classes" in run.message
    assert run.node_id == output.id
    item = window.scene.node_items[output.id]
    assert item.has_error
    assert window.scene.selected_node_ids() == [output.id]
    # Editing the graph clears the runtime mark.
    window.session.execute(SetParams(output.id, {"units": 10}))
    window.session.flush()
    assert not window.scene.node_items[output.id].has_error


def test_graph_with_errors_is_refused_before_training(qtbot, make_window):
    graph = example(epochs=1)
    graph.add_node("Dense", params={"units": 4}, position=(0, 300))
    window = make_window(graph)
    panel = window.panels.training
    assert not panel.train()
    assert "does not build yet" in panel.result_label.text()
    assert not panel.is_training


def test_edits_during_training_apply_to_the_next_run(qtbot, make_window, tmp_path):
    window = make_window(example(epochs=3))
    panel = window.panels.training
    dense = window.session.graph.find("dense_1")
    with qtbot.waitSignal(panel.training_ended, timeout=TRAIN_TIMEOUT_MS) as ended:
        panel.train()
        assert panel.note_label.isVisibleTo(panel)
        assert window.session.execute(SetParams(dense.id, {"units": 16})) is None
        window.session.execute(SetSettings("training", {"epochs": 1}))
    first = ended.args[0]
    assert first.succeeded and first.graph.find("dense_1").params["units"] == 64
    assert len(first.history["loss"]) == 3
    second = train(qtbot, window)
    assert second.graph.find("dense_1").params["units"] == 16
    assert len(second.history["loss"]) == 1


def test_unsaved_work_is_autosaved_before_training(qtbot, make_window):
    window = make_window(example(epochs=1))
    window.session.execute(SetSettings("training", {"batch_size": 64}))
    assert window.session.is_dirty
    assert window.recovery.pending() is None
    train(qtbot, window)
    assert window.recovery.pending() is not None


def test_training_settings_edit_through_the_undo_stack(qtbot, make_window):
    window = make_window(example(epochs=2))
    form = window.panels.training.settings
    form.editors["batch_size"].spin.setValue(64)
    assert window.session.graph.training["batch_size"] == 64
    window.session.undo_stack.undo()
    assert window.session.graph.training["batch_size"] == 32
    assert form.editors["batch_size"].value() == 32
    assert not form.labels["momentum"].isVisibleTo(form)
    form.editors["optimizer"].combo.setCurrentText("sgd")
    assert form.labels["momentum"].isVisibleTo(form)


def test_per_batch_values_are_recovered_from_running_means():
    curves = MetricCurves("loss")
    # Batch losses 4, 2, 0 give running means 4, 3, 2.
    for batch, mean in enumerate((4.0, 3.0, 2.0), start=1):
        curves.add_batch(1, batch, 3, mean)
    x, y = curves.batch.arrays()
    assert list(x) == pytest.approx([1 / 3, 2 / 3, 1.0])
    # Debiased exponential moving average of 4, 2, 0 (smoothing 0.6).
    expected = [4.0, (0.4 * 0.6 * 4 + 0.4 * 2) / (1 - 0.6**2)]
    assert y[:2] == pytest.approx(expected)
    assert y[2] < y[1] < y[0]


def test_training_keeps_the_height_the_user_gave_the_panel(qtbot, make_window):
    window = make_window(example())
    dock = window.panels.docks["training"]
    dock.raise_()
    qtbot.wait(50)
    usual = dock.height()
    window.resizeDocks([dock], [usual - 60], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: dock.height() < usual - 30, timeout=2_000)
    chosen = dock.height()
    window.panels.training.training_started.emit()  # what Train emits
    qtbot.wait(50)
    assert dock.height() == chosen
    dock.close()
    window.panels.training.training_started.emit()  # a closed panel comes back as usual
    qtbot.waitUntil(lambda: dock.isVisible() and dock.height() > chosen + 30, timeout=2_000)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_crash_of_the_training_process_shows_a_message_and_the_next_run_works(qtbot, make_window):
    window = make_window(example(epochs=200))
    panel = window.panels.training
    with qtbot.waitSignal(panel.training_ended, timeout=TRAIN_TIMEOUT_MS) as ended:
        panel.train()
        qtbot.waitUntil(
            lambda: panel.charts.curves.get("loss") is not None, timeout=TRAIN_TIMEOUT_MS
        )
        os.kill(shared_training_process().pid, signal.SIGKILL)
    run = ended.args[0]
    assert not run.succeeded
    assert "training process stopped unexpectedly" in panel.result_label.text()
    assert len(window.session.graph) == 4  # the graph is untouched
    from runtime.run_store import INTERRUPTED, LAST_EPOCH

    (recorded,) = window.panels.runs.journal.runs()  # the run history says how it ended
    assert (recorded.status, recorded.metrics_split) == (INTERRUPTED, LAST_EPOCH)
    assert "stopped unexpectedly" in recorded.message
    window.session.execute(SetSettings("training", {"epochs": 1}))
    assert train(qtbot, window).succeeded  # a new training process took over


def test_the_summary_says_what_happened_and_which_weights_the_model_has():
    history = {"loss": [0.9, 0.5, 0.7], "val_loss": [1.0, 0.6, 0.8], "learning_rate": [1, 1, 1]}
    how, shown, numbers = describe_run(history, 3, 2, True, False)
    assert how == "Finished all 3 epochs; the model holds the weights of epoch 2, its best"
    assert (shown, numbers) == (2, {"loss": 0.5, "val_loss": 0.6})
    how, shown, numbers = describe_run(history, 10, 3, False, True)
    assert how == (
        "Stopped by you after 3 epochs of 10; the model holds the weights of the last epoch"
    )
    assert (shown, numbers["loss"]) == (3, 0.7)
    how, _, _ = describe_run(history, 5, 3, True, False)
    assert how.startswith("Stopped early after 3 epochs of 5")
    assert how.endswith("the weights of the last epoch, its best")


def test_first_train_says_tensorflow_is_starting_with_a_busy_bar(qtbot, make_window, monkeypatch):
    monkeypatch.setattr(training_panel, "_tensorflow_started", False)
    window = make_window(example(epochs=1))
    panel = window.panels.training
    with qtbot.waitSignal(panel.training_ended, timeout=TRAIN_TIMEOUT_MS):
        assert panel.train()
        assert panel.progress_label.text() == STARTING_TENSORFLOW
        assert panel.progress.maximum() == 0  # Qt's busy indicator
    assert training_panel._tensorflow_started
    with qtbot.waitSignal(panel.training_ended, timeout=TRAIN_TIMEOUT_MS):
        panel.train()
        assert panel.progress_label.text() == LOADING_DATA


def test_the_status_bar_shows_a_cached_time_per_epoch(qtbot, make_window, tmp_path):
    window = make_window(example(epochs=2))
    label = window.epoch_time_label
    label.cache_folder = tmp_path / "cache"
    label.look_up()
    assert label.text() == NOT_TIMED
    estimate = TimeEstimate(0.01, 0.1, train_samples=100, batch_size=32)
    ProbeCache(label.cache_folder).store(window.session.graph, estimate)
    window.session.graph.training["epochs"] = 3  # the epochs count does not change an epoch
    label.refresh()
    qtbot.waitUntil(lambda: label.text() == "Time/epoch: ~0.14 s")
    assert "4 batches of 32" in label.toolTip()


def test_estimate_says_calibrating_then_shows_the_timed_epoch(qtbot, make_window, tmp_path):
    window = make_window(example(epochs=2))
    label = window.epoch_time_label
    label.cache_folder = tmp_path / "cache"
    assert label.estimate()
    assert label.text() == CALIBRATING and not label.estimate()  # one probe at a time
    qtbot.waitUntil(lambda: not label.calibrating, timeout=TRAIN_TIMEOUT_MS)
    assert re.fullmatch(r"Time/epoch: ~[\d.]+ (s|min)", label.text()), label.toolTip()
    assert "from a short timed run" not in label.toolTip()  # read back from the cache
    assert ProbeCache(label.cache_folder).lookup(window.session.graph) is not None
    window.session.graph.set_params(window.session.graph.find("dense_1").id, units=8)
    label.look_up()
    assert label.text() == NOT_TIMED


def test_the_summary_says_first_when_the_evaluation_finds_one_class(make_window):
    # The run hands back the curves' reading alone; the evaluation that follows
    # every run adds the one-class warning to the summary still on display.
    from gui.panels.evaluation_panel import Evaluation
    from runtime.diagnosis import diagnose
    from runtime.evaluation import EvaluationReport

    window = make_window(example(epochs=3))
    panel, runs = window.panels.training, window.panels.runs
    history = {"loss": [1.0, 0.99, 0.99], "accuracy": [0.9, 0.9, 0.9]}
    earlier, shown, federated = (runs.start(window.session.graph.copy()) for _ in range(3))
    for run in (earlier, shown, federated):
        run.history = dict(history)
    earlier.diagnosis = shown.diagnosis = diagnose(history)  # as the runs handed back
    panel.run = shown
    one_class = np.zeros(30, dtype=int)

    def evaluated(run) -> None:
        report = EvaluationReport("classification", {}, class_names=("a", "b"), y_pred=one_class)
        window.panels.evaluation.evaluated.emit(Evaluation(run, report, [], [], 30))

    evaluated(earlier)
    assert earlier.diagnosis.startswith("Every prediction is one class: all 30 test samples")
    assert "Every prediction" not in panel.result_label.text()  # not the run on display
    evaluated(shown)
    assert "Every prediction is one class: all 30 test samples" in panel.result_label.text()
    evaluated(federated)
    assert federated.diagnosis == ""  # not a training run's: it has no reading to extend
