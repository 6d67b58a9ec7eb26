"""Recording runs of any kind: in the store per graph file, else in memory until it can be."""

from __future__ import annotations

import numpy as np

from runtime.events import (
    EpochEnd,
    RoundEnd,
    RunFailed,
    RunFinished,
    TrainingFinished,
    TrialFinished,
    TuningFinished,
)
from runtime.run_store import (
    DATABASE_NAME,
    FAILED,
    FINISHED,
    INTERRUPTED,
    LAST_EPOCH,
    RUNNING,
    STOPPED,
    TEST_SPLIT,
    VALIDATION_SPLIT,
    labelled_metrics,
    load_npz_weights,
)
from runtime.runs.base import RunRequest
from runtime.runs.kinds.train import TrainingOutcome
from runtime.runs.recording import RunJournal

YAML = "format: deepwire-graph\nversion: 1\nname: g\nnodes: []\nedges: []\n"
WEIGHTS = [np.arange(4.0), np.ones((2, 3))]


def _trained(stopped=False):
    history = {"loss": [1.0, 0.5], "val_accuracy": [0.5, 0.75]}
    result = TrainingFinished(history, False, None, 2, stopped)
    return RunFinished("train", TrainingOutcome(result, None, "", WEIGHTS), stopped)


def _train(journal, epochs=None):
    request = RunRequest("train", YAML, options={"epochs": epochs})
    recording = journal.begin(request)
    for epoch in (1, 2):
        recording.observe(EpochEnd(epoch, 2, {"loss": 1.0 / epoch}))
    return recording


def test_a_saved_graphs_runs_are_stored_and_listed_again_by_a_new_journal(tmp_path):
    errors = []
    journal = RunJournal(tmp_path / "store", tmp_path / "a.yaml", errors.append)
    recording = _train(journal, epochs=2)
    assert [run.status for run in journal.runs()] == [RUNNING]
    journal.end(recording, _trained())
    again = RunJournal(tmp_path / "store", tmp_path / "a.yaml").runs()
    assert [(run.kind, run.status, run.name) for run in again] == [("train", FINISHED, "train 1")]
    (run,) = again
    assert run.epochs["val_accuracy"] == [0.5, 0.75]
    assert run.final_metrics == {"loss": 0.5, "val_accuracy": 0.75}
    assert run.metrics_split == LAST_EPOCH  # never scored on the test split: said so
    assert run.options == {"epochs": 2}
    assert [a.tolist() for a in load_npz_weights(run.weights)] == [w.tolist() for w in WEIGHTS]
    assert RunJournal(tmp_path / "store", tmp_path / "b.yaml").runs() == []
    assert errors == []


def test_endings_stopped_failed_and_kinds_not_kept(tmp_path):
    journal = RunJournal(tmp_path, tmp_path / "a.yaml")
    journal.end(_train(journal), _trained(stopped=True))
    failed = _train(journal)
    journal.end(failed, RunFailed("train", "dense_1 (Dense): loss became NaN", "n2"))
    crashed = _train(journal)
    journal.end(crashed, RunFailed("train", "The training process stopped", interrupted=True))
    assert journal.begin(RunRequest("explain", YAML)) is None
    runs = {run.name: run for run in journal.runs()}
    assert runs["train 1"].status == STOPPED
    assert (runs["train 2"].status, runs["train 2"].message) == (
        FAILED,
        "dense_1 (Dense): loss became NaN",
    )
    assert runs["train 2"].epochs == {"loss": [1.0, 0.5]}  # the curve drawn before it failed
    assert runs["train 3"].status == INTERRUPTED


def test_tuning_federated_and_continual_runs_are_recorded_with_their_curves(tmp_path):
    journal = RunJournal(tmp_path, tmp_path / "a.yaml")
    tune = journal.begin(RunRequest("tune", YAML, options={"trials": 2}))
    tune.observe(EpochEnd(1, 1, {"loss": 3.0}))  # a trial's epoch: not the run's curve
    for number, value in ((0, 0.8), (1, 0.6)):
        tune.observe(TrialFinished(number, {}, value, "complete"))
    journal.end(tune, RunFinished("tune", TuningFinished({"learning_rate": 0.01}, 0.6, 2)))
    continual = journal.begin(RunRequest("continual", YAML))
    continual.observe(RoundEnd(1, 2, {"accuracy": 0.9}))
    continual.observe(RoundEnd(2, 2, {"accuracy": 0.7}))
    journal.end(continual, RunFinished("continual", object()))
    weights = {"weights": WEIGHTS, "new_data": {"path": "new.npz"}, "rehearsal": True}
    continued = journal.begin(RunRequest("continual", YAML, options={"continue_from": weights}))
    assert continued.options == {
        "continue_from": {"new_data": {"path": "new.npz"}, "rehearsal": True}
    }
    runs = {run.kind: run for run in journal.runs()}
    assert runs["tune"].epochs == {"trial value": [0.8, 0.6]}
    assert runs["tune"].final_metrics == {"best trial value": 0.6}
    assert runs["tune"].metrics_split == VALIDATION_SPLIT
    assert runs["continual"].epochs == {"accuracy": [0.9, 0.7]}
    assert runs["continual"].final_metrics == {"accuracy": 0.7}


def test_an_unsaved_documents_runs_stay_in_memory_until_it_is_saved(tmp_path):
    store = tmp_path / "store"
    journal = RunJournal(store)
    journal.end(_train(journal), _trained())
    running = _train(journal)
    assert not (store / DATABASE_NAME).exists()
    assert len(journal.runs()) == 2
    journal.attach(tmp_path / "saved.yaml")
    journal.end(running, _trained())
    runs = RunJournal(store, tmp_path / "saved.yaml").runs()
    assert sorted(run.status for run in runs) == [FINISHED, FINISHED]
    assert all(run.weights is not None for run in runs)


def test_a_corrupt_store_is_reported_once_and_runs_stay_in_memory(tmp_path):
    (tmp_path / DATABASE_NAME).write_bytes(b"this is not a database" * 100)
    errors = []
    journal = RunJournal(tmp_path, tmp_path / "a.yaml", errors.append)
    first = _train(journal)
    journal.end(first, _trained())
    journal.end(_train(journal), _trained())
    assert len(errors) == 1 and "corrupt" in errors[0] and DATABASE_NAME in errors[0]
    runs = journal.runs()
    assert [run.status for run in runs] == [FINISHED, FINISHED]
    assert journal.weights_of(runs[0])[1].shape == (2, 3)
    journal.rename(runs[0].id, "kept")
    journal.star(runs[0].id)
    assert (journal.runs()[0].name, journal.runs()[0].starred) == ("kept", True)
    journal.delete(runs[0].id)
    assert len(journal.runs()) == 1


def test_a_locked_store_is_reported_and_the_runs_reach_it_once_it_is_free(tmp_path):
    import sqlite3

    RunJournal(tmp_path, tmp_path / "a.yaml").runs()  # the store exists
    holder = sqlite3.connect(tmp_path / DATABASE_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing
    errors = []
    journal = RunJournal(tmp_path, tmp_path / "a.yaml", errors.append, timeout=0.05)
    journal.end(_train(journal), _trained())
    assert len(errors) == 1 and "locked" in errors[0]
    assert [run.id.startswith("memory-") for run in journal.runs()] == [True]
    holder.execute("ROLLBACK")
    holder.close()
    journal.end(_train(journal), _trained())  # the store works again: both runs go there
    stored = RunJournal(tmp_path, tmp_path / "a.yaml").runs()
    assert [run.status for run in stored] == [FINISHED, FINISHED]


def test_test_scores_made_after_the_run_become_its_final_metrics(tmp_path):
    journal = RunJournal(tmp_path, tmp_path / "a.yaml")
    recording = _train(journal)
    journal.end(recording, _trained())
    recording.add_test_metrics({"accuracy": np.float64(0.9), "f1_macro": float("nan")})
    (run,) = RunJournal(tmp_path, tmp_path / "a.yaml").runs()
    assert (run.status, run.metrics_split) == (FINISHED, TEST_SPLIT)
    assert labelled_metrics(run) == {"test accuracy": 0.9}  # a NaN score is left out
    # Scores that arrive before the run's end wait for it.
    early = _train(journal)
    early.add_test_metrics({"accuracy": 0.8})
    journal.end(early, _trained())
    assert labelled_metrics(journal.get(early.run_id)) == {"test accuracy": 0.8}


def test_test_scores_follow_a_run_kept_in_memory_into_the_store(tmp_path):
    store = tmp_path / "store"
    journal = RunJournal(store)  # an unsaved document
    recording = _train(journal)
    journal.end(recording, _trained())
    recording.add_test_metrics({"accuracy": 0.7})
    assert labelled_metrics(journal.runs()[0]) == {"test accuracy": 0.7}
    journal.attach(tmp_path / "saved.yaml")  # saved: the run moves to the store, a new id
    recording.add_test_metrics({"precision_macro": 0.6})
    (run,) = RunJournal(store, tmp_path / "saved.yaml").runs()
    assert labelled_metrics(run) == {"test accuracy": 0.7, "test precision_macro": 0.6}


def test_a_run_whose_end_found_the_store_locked_is_stored_once_as_it_ended(tmp_path):
    import sqlite3

    errors = []
    journal = RunJournal(tmp_path, tmp_path / "a.yaml", errors.append, timeout=0.05)
    recording = _train(journal)  # begun in the store: a "running" row
    holder = sqlite3.connect(tmp_path / DATABASE_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    journal.end(recording, _trained())  # kept in memory
    holder.execute("ROLLBACK")
    holder.close()
    assert [run.status for run in journal.runs()] == [FINISHED]  # listed once, as it ended
    journal.end(_train(journal), _trained())  # the next write moves it to the store
    stored = RunJournal(tmp_path, tmp_path / "a.yaml").runs()
    assert sorted(run.status for run in stored) == [FINISHED, FINISHED]
    assert len(errors) == 1 and "locked" in errors[0]
