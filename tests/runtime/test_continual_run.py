"""The `continual` run kind and command: task events, stop at a boundary, same numbers, continue."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits

from graph.files import graph_to_yaml, save_graph
from main import main
from runtime.continual.comparison import SequenceRun
from runtime.continual.continuing import ContinueResult
from runtime.data import load_dataset
from runtime.events import Progress, RoundEnd, RunFailed, RunFinished
from runtime.runs import RunContext, RunRequest
from runtime.runs.local import execute_run, run_inline
from runtime.trainer import Trainer
from tests.runtime.continual_helpers import split_digits_graph
from tests.runtime.runtime_helpers import mlp

ONE_EPOCH = {"epochs_per_task": 1}


@pytest.fixture(scope="module")
def compared():
    """naive and replay through the run kind, with every event it emitted."""
    graph = split_digits_graph(**ONE_EPOCH)
    events = []
    request = RunRequest(
        "continual", graph_to_yaml(graph), None, {"strategies": ["naive", "replay"]}
    )
    return run_inline(request, events.append), events


def test_the_kind_emits_a_round_per_task_and_keeps_each_strategys_result(compared):
    outcome, events = compared
    assert isinstance(outcome, RunFinished), outcome
    run = outcome.result
    assert isinstance(run, SequenceRun) and list(run.results) == ["naive", "replay"]
    rounds = [e for e in events if isinstance(e, RoundEnd)]
    assert [(e.details["strategy"], e.round) for e in rounds] == [
        (s, r) for s in ("naive", "replay") for r in range(1, 6)
    ]
    for event in rounds:
        result = run.results[event.details["strategy"]]
        assert event.details["row"] == result.matrix[event.round - 1]
        assert event.rounds == 5 and "backward_transfer" in event.logs
    last = rounds[4]
    assert last.logs["average_accuracy"] == run.results["naive"].metrics["average_accuracy"]
    progress = [e.fraction for e in events if isinstance(e, Progress)]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert len(run.results["replay"].weights) == 4
    # The run history keeps each strategy's test-split summary; no one model of several.
    tests = run.final_test_metrics()
    assert tests["replay average_accuracy"] == run.results["replay"].metrics["average_accuracy"]
    assert len(tests) == 6 and run.weights is None


def test_stop_ends_at_a_task_boundary_with_the_tasks_done():
    graph = split_digits_graph(**ONE_EPOCH)
    request = RunRequest("continual", graph_to_yaml(graph), None, {"strategies": ["naive", "ewc"]})
    context = None

    def on_event(event):
        if isinstance(event, RoundEnd) and event.round == 2:
            context.stop()

    context = RunContext(on_event)
    outcome = execute_run(request, context)
    assert isinstance(outcome, RunFinished) and outcome.stopped_by_user
    run = outcome.result
    assert run.stopped and list(run.results) == ["naive"]
    assert run.results["naive"].stopped and len(run.results["naive"].matrix) == 2


def test_the_command_prints_the_kinds_numbers(compared, tmp_path, capsys):
    outcome, _ = compared
    path = tmp_path / "split.yaml"
    save_graph(split_digits_graph(**ONE_EPOCH), path)
    numbers = tmp_path / "numbers.json"
    code = main(["continual", str(path), "--strategy", "naive", "--json", str(numbers), "-q"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Backward transfer" in out and "negative means forgetting" in out
    saved = json.loads(numbers.read_text())["strategies"]["naive"]
    naive = outcome.result.results["naive"]
    assert saved["matrix"] == naive.matrix
    assert saved["metrics"] == naive.metrics
    assert f"{naive.matrix[-1][0]:.3f}" in out
    from runtime.run_store import (
        FINISHED,
        TEST_SPLIT,
        RunStore,
        default_store_folder,
        graph_key_for,
    )

    with RunStore.open(default_store_folder()) as store:
        (run,) = store.runs_of(graph_key_for(path))
    assert (run.kind, run.status) == ("continual", FINISHED)  # recorded, one value per task
    assert len(next(iter(run.epochs.values()))) == len(naive.matrix)
    assert (run.metrics_split, run.final_metrics) == (TEST_SPLIT, pytest.approx(naive.metrics))
    assert run.weights is not None  # one strategy: its model


def test_command_options_override_the_files_settings(tmp_path, capsys):
    path = tmp_path / "split.yaml"
    save_graph(split_digits_graph(**ONE_EPOCH), path)
    code = main(["continual", str(path), "--classes-per-task", "5", "-q", "--epochs-per-task", "1"])
    assert code == 0
    assert "tasks 0-4, 5-9" in capsys.readouterr().out


def test_command_failures_are_one_clear_line(tmp_path, capsys):
    assert main(["continual", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml" in capsys.readouterr().err
    path = tmp_path / "split.yaml"
    save_graph(split_digits_graph(split="column", column="month"), path)
    assert main(["continual", str(path), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "CSV" in err and "Traceback" not in err
    assert main(["continual", str(path), "--new-data", "x.csv"]) == 1
    assert "--continue-from" in capsys.readouterr().err
    before = path.read_bytes()  # --json over the graph file is refused before the run
    assert main(["continual", str(path), "-q", "--json", str(path)]) == 2
    assert "split.yaml: is the input file" in capsys.readouterr().err
    assert path.read_bytes() == before


def _write_npz(path, x, y):
    np.savez(path, x=x, y=y)
    return path


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory):
    """Digits as the old data and the same digits with shuffled pixels as the new data."""
    folder = tmp_path_factory.mktemp("continue")
    digits = load_digits()
    x, y = digits.data.astype("float32"), digits.target
    permuted = x[:, np.random.default_rng(0).permutation(64)]
    _write_npz(folder / "old.npz", x, y)
    _write_npz(folder / "new.npz", permuted, y)
    graph = mlp(hidden=64, learning_rate=0.01, dataset={"source": "numpy", "path": "old.npz"})
    graph.training["epochs"] = 8
    graph.dataset["validation_size"] = 0.0
    graph.settings["continual"] = {**graph.settings["continual"], "epochs_per_task": 4}
    trained = Trainer(graph, load_dataset(graph.dataset, folder)).run()
    return folder, graph, trained.model


def test_continue_training_reports_old_and_new_accuracy_before_and_after(old_and_new):
    folder, graph, model = old_and_new
    results = {}
    for rehearsal in (True, False):
        options = {
            "continue_from": {
                "weights": model.get_weights(),
                "new_data": {"path": "new.npz"},
                "rehearsal": rehearsal,
            },
            "settings": {"buffer_size": 300},
        }
        request = RunRequest("continual", graph_to_yaml(graph), folder, options)
        outcome = run_inline(request)
        assert isinstance(outcome, RunFinished), outcome
        results[rehearsal] = outcome.result
    replayed, plain = results[True], results[False]
    assert isinstance(replayed, ContinueResult)
    assert replayed.before == plain.before
    assert replayed.before["old"] > 0.9 and replayed.before["new"] < 0.5
    for result in (replayed, plain):
        assert result.after["new"] > 0.7
    # Without rehearsal the old data is forgotten more.
    assert replayed.after["old"] > plain.after["old"] + 0.05
    assert replayed.after["old"] > 0.8
    assert replayed.final_test_metrics() == {
        "old data accuracy": replayed.after["old"],
        "new data accuracy": replayed.after["new"],
    }


def test_continue_from_a_saved_model_on_the_command_line(old_and_new, tmp_path, capsys):
    folder, graph, model = old_and_new
    model_path = tmp_path / "model.keras"
    model.save(model_path)
    path = folder / "graph.yaml"
    save_graph(graph, path)
    code = main(
        [
            "continual",
            str(path),
            "--continue-from",
            str(model_path),
            "--new-data",
            str(folder / "new.npz"),
            "-q",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "old data" in out and "new data" in out and "with rehearsal" in out


def test_continue_training_with_weights_of_another_graph_fails_cleanly(old_and_new):
    folder, graph, model = old_and_new
    options = {
        "continue_from": {"weights": model.get_weights()[:2], "new_data": {"path": "new.npz"}}
    }
    outcome = run_inline(RunRequest("continual", graph_to_yaml(graph), folder, options))
    assert isinstance(outcome, RunFailed)
    assert "weights do not fit the graph" in outcome.message


def test_pause_holds_the_run_at_a_task_boundary_until_resumed():
    import threading
    import time

    graph = split_digits_graph(**ONE_EPOCH)
    request = RunRequest("continual", graph_to_yaml(graph), None, {"strategies": ["naive"]})
    rounds: list[tuple[int, float]] = []
    resumed_at: list[float] = []
    context = None

    def resume_later():
        time.sleep(1.0)
        resumed_at.append(time.monotonic())
        context.resume()

    def on_event(event):
        if isinstance(event, RoundEnd):
            rounds.append((event.round, time.monotonic()))
            if event.round == 2:
                context.pause()
                threading.Thread(target=resume_later, daemon=True).start()

    context = RunContext(on_event)
    outcome = execute_run(request, context)
    assert isinstance(outcome, RunFinished) and not outcome.result.stopped
    assert [r for r, _ in rounds] == [1, 2, 3, 4, 5]
    third = dict(rounds)[3]
    assert third > resumed_at[0]  # task 3 waited for the resume
