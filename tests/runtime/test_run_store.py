"""The run store: kept across restarts, per graph, crash-safe, clear when unusable."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.run_store import (
    DATABASE_NAME,
    FAILED,
    FINISHED,
    INTERRUPTED,
    LAST_EPOCH,
    RUNNING,
    TEST_SPLIT,
    VALIDATION_SPLIT,
    RunStore,
    RunStoreError,
    default_store_folder,
    graph_key_for,
    labelled_metrics,
    load_npz_weights,
    unsaved_graph_key,
)

ROOT = Path(__file__).resolve().parents[2]
YAML = "format: deepwire-graph\nversion: 1\nname: g\nnodes: []\nedges: []\n"


def test_reopened_store_lists_a_graphs_runs_and_not_another_graphs(tmp_path):
    key, other = graph_key_for(tmp_path / "a.yaml"), graph_key_for(tmp_path / "b.yaml")
    with RunStore.open(tmp_path) as store:
        first = store.start(key, "train", YAML, options={"epochs": 2})
        store.finish(
            first,
            FINISHED,
            epochs={"loss": [1.0, 0.5]},
            final_metrics={"accuracy": np.float32(0.75)},
            weights=[np.arange(3.0), np.ones((2, 2))],
        )
        second = store.start(key, "tune", YAML)
        store.finish(second, FAILED, message="loss became NaN")
        store.start(other, "train", YAML)
    with RunStore.open(tmp_path) as store:
        runs = store.runs_of(key)
        assert [run.id for run in runs] == [second, first]
        done = store.get(first)
        assert done.status == FINISHED and done.name == "train 1"
        assert done.epochs == {"loss": [1.0, 0.5]}
        assert done.final_metrics == {"accuracy": 0.75}
        assert done.options == {"epochs": 2}
        assert done.metrics_split == TEST_SPLIT
        assert set(done.versions) == {"python", "tensorflow", "keras", "numpy", "scikit-learn"}
        assert done.duration is not None and done.duration >= 0
        arrays = load_npz_weights(done.weights)
        assert np.array_equal(arrays[1], np.ones((2, 2)))
        assert store.get(second).message == "loss became NaN"
        assert len(store.runs_of(other)) == 1
        assert store.runs_of(unsaved_graph_key()) == []


def test_test_scores_made_after_a_run_replace_its_last_epoch_figures(tmp_path):
    with RunStore.open(tmp_path) as store:
        run_id = store.start("k", "train", YAML)
        store.finish(run_id, FINISHED, final_metrics={"val_loss": 0.5}, metrics_split=LAST_EPOCH)
        assert labelled_metrics(store.get(run_id)) == {"last epoch val_loss": 0.5}
        store.set_final_metrics(run_id, {"accuracy": 0.9}, TEST_SPLIT)
        assert labelled_metrics(store.get(run_id)) == {"test accuracy": 0.9}
        with pytest.raises(ValueError, match="unknown split 'train'"):
            store.set_final_metrics(run_id, {}, "train")


def test_a_format_1_store_gets_each_runs_split(tmp_path):
    # The store as DeepWire wrote it before the split was kept: the app's last-epoch
    # figures, the train command's test scores and a tuning objective, side by side.
    database = sqlite3.connect(tmp_path / DATABASE_NAME, isolation_level=None)
    old_schema = (
        "CREATE TABLE runs (id TEXT PRIMARY KEY, graph_key TEXT NOT NULL, kind TEXT NOT NULL,"
        " name TEXT NOT NULL, graph_yaml TEXT NOT NULL, graph_sha256 TEXT NOT NULL,"
        " options TEXT NOT NULL, versions TEXT NOT NULL, started REAL NOT NULL, duration REAL,"
        " status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',"
        " epochs TEXT NOT NULL DEFAULT '{}', final_metrics TEXT NOT NULL DEFAULT '{}',"
        " weights TEXT NOT NULL DEFAULT '', starred INTEGER NOT NULL DEFAULT 0,"
        " host TEXT NOT NULL, pid INTEGER NOT NULL)"
    )
    database.execute(old_schema)
    for run_id, kind, metrics in (
        ("app", "train", '{"loss": 0.4, "val_loss": 0.5}'),
        ("cli", "train", '{"accuracy": 0.9}'),
        ("tune", "tune", '{"best trial value": 0.3}'),
    ):
        database.execute(
            "INSERT INTO runs VALUES (?, 'k', ?, ?, 'yaml', 'sha', '{}', '{}', 1.0, 2.0,"
            " 'finished', '', '{}', ?, '', 0, 'host', 1)",
            (run_id, kind, run_id, metrics),
        )
    database.execute("PRAGMA user_version = 1")
    database.close()
    with RunStore.open(tmp_path) as store:
        splits = {run.id: run.metrics_split for run in store.runs_of("k")}
        assert splits == {"app": LAST_EPOCH, "cli": TEST_SPLIT, "tune": VALIDATION_SPLIT}
        assert store.get("cli").final_metrics == {"accuracy": 0.9}


def test_rename_star_delete_and_move(tmp_path):
    key = unsaved_graph_key()
    with RunStore.open(tmp_path) as store:
        run_id = store.start(key, "train", YAML)
        store.finish(run_id, FINISHED, weights=[np.zeros(2)])
        weights = store.get(run_id).weights
        store.rename(run_id, "wider layers")
        store.star(run_id)
        saved = graph_key_for(tmp_path / "saved.yaml")
        assert store.move_runs(key, saved) == 1
        run = store.runs_of(saved)[0]
        assert run.name == "wider layers" and run.starred
        store.delete(run_id)
        assert store.runs_of(saved) == [] and not weights.exists()
        with pytest.raises(RunStoreError, match="no run with id"):
            store.get(run_id)


def test_a_run_whose_process_died_is_marked_interrupted(tmp_path):
    # A real crash: a child process starts a run and dies without finishing it.
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from runtime.run_store import RunStore
        store = RunStore.open({str(tmp_path)!r})
        print(store.start("k", "train", "yaml"), flush=True)
        os._exit(3)
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    run_id = child.stdout.strip()
    with RunStore.open(tmp_path) as store:
        run = store.get(run_id)
        assert run.status == INTERRUPTED and "ended before" in run.message
        # A run of this living process stays running across a reopen.
        alive = store.start("k", "train", "yaml")
    with RunStore.open(tmp_path) as store:
        assert store.get(alive).status == RUNNING


def test_corrupt_store_gives_a_clear_error(tmp_path):
    (tmp_path / DATABASE_NAME).write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(RunStoreError, match=r"runs\.sqlite3: the run store is corrupt"):
        RunStore.open(tmp_path)


def test_locked_store_gives_a_clear_error(tmp_path):
    RunStore.open(tmp_path).close()
    holder = sqlite3.connect(tmp_path / DATABASE_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(RunStoreError, match="locked by another program"):
            RunStore.open(tmp_path, timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_unwritable_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunStoreError, match="cannot create the run store folder"):
        RunStore.open(blocker / "runs")


def test_default_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPWIRE_RUNS_DIR", str(tmp_path / "mine"))
    assert default_store_folder() == tmp_path / "mine"
    monkeypatch.delenv("DEEPWIRE_RUNS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_folder() == tmp_path / "data" / "DeepWire" / "runs"


@pytest.fixture(scope="module")
def healthy_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("healthy")
    with RunStore.open(folder) as store:
        for index in range(40):
            run_id = store.start(f"graph {index % 3}", "train", YAML * 20)
            store.finish(run_id, FINISHED, epochs={"loss": [0.5] * 30}, final_metrics={"a": 1.0})
    return folder / DATABASE_NAME


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offset=st.integers(min_value=0, max_value=60_000), garbage=st.binary(min_size=1, max_size=600)
)
def test_damaged_store_files_give_only_clear_errors(tmp_path, healthy_store, offset, garbage):
    data = bytearray(healthy_store.read_bytes())
    offset = min(offset, len(data) - 1)
    data[offset : offset + len(garbage)] = garbage
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / DATABASE_NAME).write_bytes(bytes(data))
    try:
        with RunStore.open(folder) as store:
            for index in range(3):
                for run in store.runs_of(f"graph {index}"):
                    store.get(run.id)
    except RunStoreError as error:
        assert DATABASE_NAME in str(error)


def test_a_run_with_unreadable_json_is_left_out_named_by_id_and_name(tmp_path):
    with RunStore.open(tmp_path) as store:
        damaged = store.start("graph", "train", YAML)
        store.finish(damaged, FINISHED, final_metrics={"a": 1.0})
        kept = store.start("graph", "train", YAML)
        store.finish(kept, FINISHED, final_metrics={"a": 2.0})
    with sqlite3.connect(tmp_path / DATABASE_NAME) as connection:
        connection.execute("UPDATE runs SET final_metrics = '{bad' WHERE id = ?", (damaged,))
    connection.close()
    with RunStore.open(tmp_path) as store:
        assert [run.id for run in store.runs_of("graph")] == [kept]  # the other runs stay
        (problem,) = store.damaged
        with pytest.raises(RunStoreError) as caught:
            store.get(damaged)
    assert problem == str(caught.value)
    assert f"the run store holds a damaged run: run {damaged} (train 1) has unreadable " in problem
    assert "final_metrics" in problem
