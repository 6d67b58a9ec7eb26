"""The run abstraction: the kind registry, the context's controls, outcomes, and the process."""

from __future__ import annotations

import threading

import pytest

from graph.files import graph_to_yaml
from runtime.events import (
    EpochEnd,
    LogLine,
    RunFailed,
    RunFinished,
    TuningFinished,
)
from runtime.runs import (
    RunContext,
    RunError,
    RunKind,
    RunRequest,
    RunStopped,
    get_run_kind,
    register_run_kind,
    run_kind_names,
)
from runtime.runs.kinds.train import TrainingOutcome
from runtime.runs.local import run_inline
from runtime.training_process import shared_training_process
from tests.runtime.runtime_helpers import mlp


@register_run_kind
class _FailingRun(RunKind):
    name = "test-failing"
    title = "Failing"

    def execute(self, request, context):
        if request.options.get("crash"):
            raise ZeroDivisionError("division by zero\nsecond line")
        raise RunError("dense_1 (Dense): units must be positive. Received: 0", "dense_1")


@register_run_kind
class _CountingRun(RunKind):
    """Counts to `n`, one checkpoint per step; keeps the count when stopped."""

    name = "test-counting"

    def execute(self, request, context):
        done = 0
        try:
            for _ in range(request.options["n"]):
                context.checkpoint()
                done += 1
                context.emit(LogLine(f"step {done}"))
        except RunStopped:
            pass
        return done


def test_kinds_are_found_from_their_modules():
    names = run_kind_names()
    assert {"train", "tune"} <= set(names)
    assert get_run_kind("train").title == "Training"


def test_an_unknown_kind_names_the_known_ones():
    with pytest.raises(KeyError, match="no run kind 'nope'; known kinds: .*train"):
        get_run_kind("nope")
    outcome = run_inline(RunRequest("nope", ""))
    assert isinstance(outcome, RunFailed) and "known kinds" in outcome.message


def test_a_name_taken_by_another_kind_is_refused():
    class Impostor(RunKind):
        name = "train"

    with pytest.raises(ValueError, match="registered twice"):
        register_run_kind(Impostor)


def test_failures_become_messages_with_their_node_never_exceptions():
    failed = run_inline(RunRequest("test-failing", ""))
    assert isinstance(failed, RunFailed)
    assert failed.node_id == "dense_1" and "Received: 0" in failed.message
    crashed = run_inline(RunRequest("test-failing", "", options={"crash": True}))
    assert crashed.message == "Failing failed: ZeroDivisionError: division by zero"
    assert crashed.node_id is None


def test_stop_ends_a_run_at_its_next_checkpoint_and_keeps_its_partial_result():
    context = RunContext(lambda _event: None)
    context.stop()
    with pytest.raises(RunStopped):
        context.checkpoint()
    stopped_at: list[int] = []

    def emit(event):
        stopped_at.append(int(event.text.split()[1]))
        if len(stopped_at) == 3:
            context.stop()

    context = RunContext(emit)
    from runtime.runs.local import execute_run

    outcome = execute_run(RunRequest("test-counting", "", options={"n": 100}), context)
    assert isinstance(outcome, RunFinished) and outcome.stopped_by_user
    assert outcome.result == 3


def test_pause_holds_a_run_at_its_checkpoint_until_resumed():
    steps: list[str] = []
    context = RunContext(lambda event: steps.append(event.text))
    context.pause()
    from runtime.runs.local import execute_run

    outcome: list = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            execute_run(RunRequest("test-counting", "", options={"n": 2}), context)
        )
    )
    worker.start()
    worker.join(0.5)
    assert steps == [] and worker.is_alive()
    context.resume()
    worker.join(10)
    assert steps == ["step 1", "step 2"] and outcome[0].result == 2


def test_controls_reach_what_a_kind_hands_them_also_when_given_late():
    class Target:
        def __init__(self):
            self.calls = []

        def stop(self):
            self.calls.append("stop")

        def pause(self):
            self.calls.append("pause")

        def resume(self):
            self.calls.append("resume")

    context = RunContext(lambda _event: None)
    context.pause()
    late = Target()
    context.on_control(late)
    context.resume()
    context.stop()
    assert late.calls == ["pause", "resume", "stop"]


def test_the_train_kind_inline_reports_its_data_epochs_and_weights():
    events: list = []
    graph = mlp(epochs=2)
    request = RunRequest("train", graph_to_yaml(graph), None, {"epochs": 1})
    outcome = run_inline(request, events.append)
    assert isinstance(outcome, RunFinished) and isinstance(outcome.result, TrainingOutcome)
    assert isinstance(events[0], LogLine) and "digits" in events[0].text
    assert [event.epoch for event in events if isinstance(event, EpochEnd)] == [1]
    assert outcome.result.weights and outcome.result.result.model is None


def test_the_training_process_executes_other_kinds_too():
    graph = mlp(epochs=1)
    request = RunRequest(
        "tune",
        graph_to_yaml(graph),
        None,
        {"space": {"tune_widths": False, "batch_sizes": (32,)}, "trials": 1, "epochs": 1},
    )
    events: list = []
    done = threading.Event()

    def collect(event):
        events.append(event)
        if isinstance(event, (RunFinished, RunFailed)):
            done.set()

    shared_training_process().start_run(request, collect)
    assert done.wait(180)
    outcome = events[-1]
    assert isinstance(outcome, RunFinished), outcome
    assert isinstance(outcome.result, TuningFinished) and outcome.result.trials == 1
    assert any(type(event).__name__ == "TrialFinished" for event in events)
