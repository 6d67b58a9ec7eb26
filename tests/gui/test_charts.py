"""The training charts on their own: ranges kept without auto-range, redraw pacing, the key."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gui.panels.charts import MAX_REDRAW_MS, TrainingCharts

BATCHES = 4


def _feed(charts: TrainingCharts, epochs: int, loss_scale: float = 1.0) -> None:
    """Batch and epoch events as the training worker hands them over."""
    for epoch in range(1, epochs + 1):
        charts.add_batches(
            [
                SimpleNamespace(
                    epoch=epoch,
                    batch=batch,
                    batches=BATCHES,
                    logs={"loss": loss_scale / (epoch + batch), "accuracy": 0.5},
                )
                for batch in range(1, BATCHES + 1)
            ]
        )
        charts.add_epoch(
            SimpleNamespace(
                epoch=epoch,
                logs={
                    "loss": loss_scale / epoch,
                    "accuracy": 0.5,
                    "val_loss": loss_scale / epoch,
                    "val_accuracy": 0.4,
                },
            )
        )


@pytest.fixture
def charts(qtbot) -> TrainingCharts:
    widget = TrainingCharts()
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    return widget


def _ranges(charts: TrainingCharts, name: str):
    return charts.plots[name].item.getViewBox().viewRange()


def test_x_spans_the_planned_epochs_and_y_shows_every_point(charts):
    charts.begin_run("run 1", epochs=10)
    _feed(charts, 3, loss_scale=4.0)
    charts.redraw()
    (x_low, x_high), (y_low, y_high) = _ranges(charts, "loss")
    assert x_low <= 0 and 10 <= x_high < 10.5  # all ten epochs from the start
    assert y_low <= 0 and y_high >= 4.0 / 2  # the highest batch value (epoch 1, batch 1)
    (_, _), (acc_low, acc_high) = _ranges(charts, "accuracy")
    assert acc_low <= 0 and 1 <= acc_high < 1.1  # a fraction spans 0..1
    assert not any(charts.plots["loss"].item.getViewBox().autoRangeEnabled())


def test_a_plot_the_user_zoomed_keeps_its_range_until_the_next_run(charts):
    charts.begin_run("run 1", epochs=3)
    _feed(charts, 1)
    charts.redraw()
    plot = charts.plots["loss"]
    box = plot.item.getViewBox()
    box.setYRange(0.2, 0.3, padding=0)
    box.sigRangeChangedManually.emit(box.state["mouseEnabled"])  # as a mouse zoom does
    _feed(charts, 3, loss_scale=50.0)
    charts.redraw()
    assert box.viewRange()[1] == pytest.approx([0.2, 0.3])
    charts.end_run()
    charts.begin_run("run 2", epochs=3)
    _feed(charts, 1, loss_scale=50.0)
    charts.redraw()
    assert box.viewRange()[1][1] >= 50.0 / 2


def test_a_single_epoch_shows_as_a_dot_and_longer_runs_as_lines(charts):
    charts.begin_run("run 1", epochs=5)
    _feed(charts, 1)
    charts.redraw()
    train = charts.plots["loss"].train
    assert train.opts["symbol"] == "o"
    _feed(charts, 2)
    charts.redraw()
    assert train.opts["symbol"] is None


def test_redraws_slow_down_when_drawing_is_expensive(charts):
    charts.begin_run("run 1", epochs=5)
    for _ in range(2):  # the first redraw also creates the plots
        _feed(charts, 1)
        charts.redraw()
    # Cheap offscreen: the base period, or a little more on a busy machine.
    cheap = charts.timer.interval()
    assert charts.redraw_ms <= cheap < MAX_REDRAW_MS
    charts.view.last_paint_s = 0.2  # a slow machine
    _feed(charts, 1)
    charts.redraw()
    assert charts.timer.interval() == MAX_REDRAW_MS


def test_the_key_names_the_overlaid_runs(charts):
    charts.begin_run("run 1", epochs=2)
    _feed(charts, 2)
    charts.end_run()
    assert "run 1" not in charts.key.text()
    charts.begin_run("run 2", epochs=2)
    assert "run 1</span> (dashed: train, dotted: val.)" in charts.key.text()
    assert len(charts.plots["loss"].previous) == 2
