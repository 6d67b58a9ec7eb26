"""Optuna tuning: trials run real training, events, pruning, stop, best settings written back."""

from __future__ import annotations

import pytest

from graph.files import load_graph
from graph.model import RemoveEdge
from runtime.data import load_dataset
from runtime.events import EpochEnd, TrialFinished, TrialStarted, TuningFinished
from runtime.tuning import SearchSpace, Tuner, apply_best, tunable_widths
from tests.runtime.runtime_helpers import mlp


@pytest.fixture(scope="module")
def iris():
    return load_dataset({"name": "iris"})


def iris_graph():
    graph = mlp(input_shape=(4,), units=3, hidden=16, epochs=2)
    dropout = graph.add_node("Dropout", params={"rate": 0.1})
    hidden, output = graph.nodes[1], graph.nodes[2]
    graph.apply(RemoveEdge(graph.in_edges(output.id)[0]))
    graph.connect(hidden.id, dropout.id)
    graph.connect(dropout.id, output.id)
    return graph


def test_tuning_reports_trials_and_finds_the_best(iris):
    graph = iris_graph()
    before = graph.copy()
    events = []
    space = SearchSpace(learning_rate=(1e-3, 1e-1), batch_sizes=(8, 16), l1=(1e-6, 1e-3))
    finished = Tuner(graph, iris, space, trials=3, on_event=events.append).run()
    started = [e for e in events if isinstance(e, TrialStarted)]
    done = [e for e in events if isinstance(e, TrialFinished)]
    assert [e.number for e in started] == [0, 1, 2]
    assert [e.number for e in done] == [0, 1, 2]
    assert any(isinstance(e, EpochEnd) for e in events)
    assert events[-1] is finished and isinstance(finished, TuningFinished)
    assert set(finished.best_params) == {
        "learning_rate",
        "batch_size",
        "optimizer",
        "l1",
        "l2",
        "dropout_1.rate",
        "dense_1.units",
    }
    completed = [e.value for e in done if e.state == "complete"]
    assert finished.best_value == min(completed)
    assert 1e-3 <= finished.best_params["learning_rate"] <= 1e-1
    assert 8 <= finished.best_params["dense_1.units"] <= 32
    # Tuning trains copies: the graph itself is unchanged.
    assert [n.params for n in graph.nodes] == [n.params for n in before.nodes]


def test_same_seed_same_trials(iris):
    space = SearchSpace(batch_sizes=(16,), optimizers=("adam",))
    first = Tuner(iris_graph(), iris, space, trials=2, epochs=1).run()
    second = Tuner(iris_graph(), iris, space, trials=2, epochs=1).run()
    assert first.best_params == second.best_params
    assert first.best_value == pytest.approx(second.best_value)


def test_apply_best_is_one_undoable_command():
    graph = iris_graph()
    params = {
        "learning_rate": 0.01,
        "batch_size": 16,
        "optimizer": "sgd",
        "l1": 0.0,
        "l2": 0.001,
        "dropout_1.rate": 0.3,
        "dense_1.units": 12,
    }
    command = apply_best(graph, params)
    inverse = graph.apply(command)
    assert graph.training["optimizer"] == "sgd" and graph.training["batch_size"] == 16
    assert graph.find("dense_1").params["units"] == 12
    assert graph.find("dense_1").params["kernel_regularizer"] == {"l1": 0.0, "l2": 0.001}
    assert graph.find("dropout_1").params["rate"] == 0.3
    graph.apply(inverse)
    assert graph.find("dense_1").params["units"] == 16
    assert graph.training["optimizer"] == "adam"
    with pytest.raises(ValueError, match="'nope.units' names no node parameter"):
        apply_best(graph, {"nope.units": 3})


def test_widths_tied_to_a_merge_are_not_tuned():
    # dense_1 and dense_2 both feed add_1 (their widths must match); dense_3 is the output.
    residual = load_graph("examples/residual_mlp.yaml")
    assert tunable_widths(residual) == []
    assert [(node.name, param) for node, param in tunable_widths(iris_graph())] == [
        ("dense_1", "units")
    ]


def test_pruning_and_failed_trials_are_reported(iris):
    # Learning rates up to 10 make some trials diverge (failed); the median
    # pruner stops weak ones after the first epochs.
    events = []
    space = SearchSpace(learning_rate=(1e-4, 10.0), optimizers=("sgd",), batch_sizes=(8,))
    graph = iris_graph()
    graph.training["epochs"] = 4
    Tuner(graph, iris, space, trials=6, on_event=events.append).run()
    states = {e.state for e in events if isinstance(e, TrialFinished)}
    assert states <= {"complete", "pruned", "fail"}
    assert "complete" in states and len(states) >= 2


def test_stop_ends_tuning_after_the_current_trial(iris):
    tuner = None

    def on_event(event):
        if isinstance(event, TrialStarted):
            tuner.stop()

    tuner = Tuner(iris_graph(), iris, SearchSpace(), trials=5, on_event=on_event, epochs=3)
    finished = tuner.run()
    assert finished.trials == 1


def test_trial_0_is_the_graphs_own_settings_and_every_trial_trains_its_epochs(iris):
    graph = iris_graph()
    graph.training["epochs"] = 1
    events = []
    space = SearchSpace(batch_sizes=(8, 16), l2=None)
    finished = Tuner(graph, iris, space, trials=1, on_event=events.append, epochs=50).run()
    started = [e for e in events if isinstance(e, TrialStarted)]
    assert started[0].number == 0
    assert started[0].params == {
        "learning_rate": graph.training["learning_rate"],
        "batch_size": graph.training["batch_size"],
        "optimizer": graph.training["optimizer"],
        "dropout_1.rate": 0.1,
        "dense_1.units": 16,
    }
    assert {e.epochs for e in events if isinstance(e, EpochEnd)} == {1}  # never more than set
    baseline = next(e for e in events if isinstance(e, TrialFinished) and e.number == 0)
    assert finished.baseline_value == baseline.value == finished.best_value
    assert finished.best_params == started[0].params and not finished.beats_baseline


def test_the_best_beats_the_baseline_only_when_strictly_better():
    assert TuningFinished({"batch_size": 8}, 0.4, 2, baseline_value=0.5).beats_baseline
    assert not TuningFinished({"batch_size": 8}, 0.5, 2, baseline_value=0.5).beats_baseline
    assert not TuningFinished({}, None, 2, baseline_value=None).beats_baseline
    assert TuningFinished({"batch_size": 8}, 0.4, 2, baseline_value=None).beats_baseline
