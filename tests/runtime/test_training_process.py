"""The training process: real runs in a child process, their events, control and crashes."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from runtime.events import BatchEnd, EpochEnd, RunFailed, RunFinished, TrainingFinished
from runtime.runs.kinds.train import TrainingOutcome
from runtime.training_process import TrainingProcess, rebuild_model, shared_training_process
from tests.runtime.runtime_helpers import mlp

RUN_TIMEOUT_S = 180


class Recorder:
    """Collects a run's events (on the reader thread) and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list = []
        self._changed = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def batches(self) -> list[BatchEnd]:
        return [event for batch in self.events if isinstance(batch, list) for event in batch]

    def wait_for(self, condition, timeout: float = RUN_TIMEOUT_S) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, timeout), f"timed out; got {self.events}"

    @property
    def outcome(self) -> TrainingOutcome:
        """The finished training run's outcome."""
        assert isinstance(self.events[-1], RunFinished), self.events[-1]
        assert isinstance(self.events[-1].result, TrainingOutcome)
        return self.events[-1].result

    @property
    def failure(self) -> RunFailed:
        assert isinstance(self.events[-1], RunFailed), self.events[-1]
        return self.events[-1]


def test_a_run_reports_batches_epochs_and_weights_that_rebuild_the_trained_model():
    graph = mlp(epochs=3)
    recorder = Recorder()
    run = shared_training_process().train(graph, None, recorder)
    assert run.join(RUN_TIMEOUT_S)

    outcome = recorder.outcome
    result = outcome.result
    assert isinstance(result, TrainingFinished) and result.model is None
    assert len(result.history["loss"]) == 3 and outcome.diagnosis
    epochs = [event for event in recorder.events if isinstance(event, EpochEnd)]
    assert [event.epoch for event in epochs] == [1, 2, 3]
    batches = recorder.batches()
    assert len(batches) == 3 * batches[0].batches
    assert all(type(value) is float for event in batches for value in event.logs.values())
    # The weights sent back are the trained ones: the rebuilt model scores
    # the validation split exactly as training last measured it.
    dataset = outcome.dataset
    model = rebuild_model(graph, dataset, outcome.weights)
    scores = model.evaluate(dataset.x_val, dataset.y_val, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(result.history["val_loss"][-1], rel=1e-4)


def test_the_graph_is_a_snapshot_sent_at_train_time():
    graph = mlp(epochs=1, hidden=7)
    recorder = Recorder()
    run = shared_training_process().train(graph, None, recorder)
    graph.set_params(graph.find("dense_1").id, units=99)  # too late to reach the run
    assert run.join(RUN_TIMEOUT_S)
    shapes = [weights.shape for weights in recorder.outcome.weights]
    assert shapes[0] == (64, 7)


def test_pause_holds_the_run_and_stop_ends_it_with_what_it_learned():
    recorder = Recorder()
    run = shared_training_process().train(mlp(epochs=500), None, recorder, flush_seconds=0.05)
    recorder.wait_for(lambda: len(recorder.batches()) > 0)
    run.pause()
    # Batches already under way may still arrive; then nothing does.
    threading.Event().wait(1.0)
    held = len(recorder.batches())
    threading.Event().wait(1.0)
    assert len(recorder.batches()) == held
    run.resume()
    recorder.wait_for(lambda: len(recorder.batches()) > held)
    run.stop()
    assert run.join(RUN_TIMEOUT_S)
    result = recorder.outcome.result
    assert isinstance(result, TrainingFinished) and result.stopped_by_user
    assert len(result.history["loss"]) < 500
    assert recorder.outcome.weights


def test_stop_before_the_run_starts_ends_it_at_once():
    recorder = Recorder()
    run = shared_training_process().train(mlp(epochs=500), None, recorder)
    run.stop()
    assert run.join(RUN_TIMEOUT_S)
    result = recorder.outcome.result
    assert isinstance(result, TrainingFinished) and result.stopped_by_user
    assert len(result.history.get("loss", [])) <= 1


def test_data_that_cannot_load_fails_with_a_message():
    graph = mlp(dataset={"source": "csv", "path": "no_such_file.csv"})
    recorder = Recorder()
    run = shared_training_process().train(graph, None, recorder)
    assert run.join(RUN_TIMEOUT_S)
    failure = recorder.failure
    assert failure.kind == "train"
    assert failure.message.startswith("Data:") and "no_such_file.csv" in failure.message


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_crashed_process_fails_its_run_clearly_and_the_next_run_starts_a_new_one():
    process = TrainingProcess()
    try:
        recorder = Recorder()
        run = process.train(mlp(epochs=500), None, recorder, flush_seconds=0.05)
        recorder.wait_for(lambda: len(recorder.batches()) > 0)
        crashed = process.pid
        os.kill(crashed, signal.SIGKILL)
        assert run.join(RUN_TIMEOUT_S)
        assert "training process stopped unexpectedly" in recorder.failure.message

        again = Recorder()
        assert process.train(mlp(epochs=1), None, again).join(RUN_TIMEOUT_S)
        assert isinstance(again.outcome.result, TrainingFinished)
        assert process.pid != crashed
        assert np.all(np.isfinite(again.outcome.result.history["loss"]))
    finally:
        process.close()
    assert not process.alive
