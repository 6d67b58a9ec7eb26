"""`deepwire train` records its run; `runs` lists it and bundles it; `reproduce` retrains it."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runtime.evaluation
from main import main
from runtime.cli.reproduce import verdict
from runtime.run_bundle import (
    BundleError,
    compare_metrics,
    read_bundle,
    read_split,
    split_differences,
    version_differences,
)
from runtime.run_store import DATABASE_NAME, FINISHED, RunStore, graph_key_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mlp_digits.yaml"


@pytest.fixture
def digits(tmp_path) -> Path:
    path = tmp_path / "digits.yaml"
    shutil.copyfile(EXAMPLE, path)
    return path


def test_train_records_lists_bundles_and_reproduces(digits, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    args = ["--runs-dir", str(runs_dir), "-q", "-o", str(tmp_path / "out")]
    assert main(["train", str(digits), "--epochs", "1", *args]) == 0
    with RunStore.open(runs_dir) as store:
        (run,) = store.runs_of(graph_key_for(digits))
    assert run.status == FINISHED and run.options == {"epochs": 1}
    assert len(run.epochs["loss"]) == 1 and 0.0 <= run.final_metrics["accuracy"] <= 1.0
    assert run.weights.suffix == ".keras" and run.weights.is_file()
    assert "MLP on digits" in run.graph_yaml and len(run.graph_sha256) == 64
    capsys.readouterr()

    assert main(["runs", str(digits), "--runs-dir", str(runs_dir)]) == 0
    table = capsys.readouterr().out
    assert run.id in table and "train 1" in table and "finished" in table
    assert f"test accuracy {run.final_metrics['accuracy']:.4f}" in table

    bundle = tmp_path / "run.zip"
    command = ["runs", str(digits), "--runs-dir", str(runs_dir), "--bundle", run.id]
    assert main([*command, "-o", str(bundle)]) == 0
    with zipfile.ZipFile(bundle) as archive:
        assert set(archive.namelist()) == {
            "graph.yaml",
            "run.json",
            "train.py",
            "model.keras",
            "split.npz",
        }
        script = archive.read("train.py").decode()
        assert "def build_model" in script and ".fit(" in script
    record = read_bundle(bundle).record
    assert record["seeds"]["training"] == 42 and record["seeds"]["dataset"] == 42
    assert record["settings"]["training"]["optimizer"] == "adam"
    assert record["final_metrics"] == run.final_metrics and record["metrics_split"] == "test"
    rows = read_split(bundle)
    assert [len(rows[name]) for name in ("train", "validation", "test")] == [1293, 144, 360]
    capsys.readouterr()

    assert main(["reproduce", str(bundle), "-q"]) == 0
    out = capsys.readouterr().out
    assert "reproduced: the metrics match" in out and "DIFFERENT" not in out
    assert "test accuracy" in out and "split differs" not in out

    def broken_evaluation(model, dataset):  # a fault injected after the retraining
        raise ValueError("labels past the model's outputs")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime.evaluation, "evaluate", broken_evaluation)
        assert main(["reproduce", str(bundle), "-q"]) == 1
    err = capsys.readouterr().err
    assert "evaluating it on the test split failed (ValueError: labels past" in err
    assert "Traceback" not in err


def test_the_verdict_names_other_versions_and_a_changed_split():
    rows = {"train": np.arange(5), "validation": np.arange(0), "test": np.array([7, 8])}
    assert split_differences(rows, rows) == []
    moved = {**rows, "test": np.array([7, 9]), "validation": np.arange(1)}
    changes = split_differences(rows, moved)
    assert changes == ["validation: 0 rows recorded, 1 now", "test: 1 of 2 rows differ"]
    assert verdict("r1", True, [], []) == (
        0,
        "reproduced: the metrics match run r1 within tolerance",
    )
    code, text = verdict("r1", True, ["numpy 0.1 -> 2.0"], None)
    assert code == 0 and "with other library versions: numpy 0.1 -> 2.0" in text
    code, text = verdict("r1", False, ["numpy 0.1 -> 2.0"], changes)
    assert code == 1 and "library versions differ: numpy 0.1 -> 2.0" in text
    assert "the data split differs from the recorded one (validation: 0 rows" in text
    assert verdict("r1", False, [], None)[1].endswith("(the data may have changed)")


def test_comparison_names_what_differs():
    rows = compare_metrics({"accuracy": 0.5, "loss": 1.0}, {"accuracy": 0.5 + 1e-9, "loss": 1.3})
    assert [(name, close) for name, _, _, close in rows] == [("accuracy", True), ("loss", False)]
    assert compare_metrics({"f1": 0.4}, {})[0][3] is False
    recorded = {"numpy": "0.1", "python": "3.12.0", "keras": "3.15.0"}
    current = {"numpy": "2.0", "python": "3.12.0", "keras": "3.15.0"}
    assert version_differences(recorded, current) == ["numpy 0.1 -> 2.0"]


def test_runs_of_another_graph_are_not_listed(digits, tmp_path, capsys):
    with RunStore.open(tmp_path / "runs") as store:
        store.start(graph_key_for(tmp_path / "other.yaml"), "train", "yaml")
    assert main(["runs", str(digits), "--runs-dir", str(tmp_path / "runs")]) == 0
    assert "no recorded runs" in capsys.readouterr().err
    # a mistyped name is said to be one, not taken for a graph never trained
    missing = str(tmp_path / "digts.yaml")
    assert main(["runs", missing, "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "digts.yaml: no such file, and no recorded runs" in capsys.readouterr().err
    # a file deleted after its runs were recorded still lists them
    assert main(["runs", str(tmp_path / "other.yaml"), "--runs-dir", str(tmp_path / "runs")]) == 0
    assert "other.yaml" not in capsys.readouterr().err


def test_a_damaged_run_is_left_out_of_the_listing_with_a_warning(digits, tmp_path, capsys):
    import sqlite3

    from runtime.runs.recording import RunJournal

    folder = tmp_path / "runs"
    with RunStore.open(folder) as store:
        for metric in (0.5, 0.75):
            run_id = store.start(graph_key_for(digits), "train", "yaml")
            store.finish(run_id, FINISHED, final_metrics={"test_accuracy": metric})
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.execute("UPDATE runs SET options = '[' WHERE id = ?", (run_id,))
    connection.close()
    assert main(["runs", str(digits), "--runs-dir", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "test_accuracy 0.5000" in out and "0.7500" not in out
    assert err.startswith(f"warning: {folder / DATABASE_NAME}: the run store holds a damaged run")
    assert err.rstrip().endswith("it is left out of the list")
    # the app's history lists the readable run too, names the other, and the store works on
    told = []
    journal = RunJournal(folder, digits, on_error=told.append)
    assert [run.final_metrics for run in journal.runs()] == [{"test_accuracy": 0.5}]
    (damaged,) = journal.damaged
    assert run_id in damaged and "final_metrics" not in damaged and "options" in damaged
    assert told == [] and journal.error is None


def test_unusable_store_only_warns_and_training_goes_on(digits, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    (runs_dir / DATABASE_NAME).write_bytes(b"garbage" * 100)
    args = ["--runs-dir", str(runs_dir), "-q", "-o", str(tmp_path / "out")]
    assert main(["train", str(digits), "--epochs", "1", *args]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "not recorded" in line]
    assert len(warnings) == 1 and "corrupt" in warnings[0]
    assert (tmp_path / "out" / "model.keras").is_file()
    assert main(["runs", str(digits), "--runs-dir", str(runs_dir)]) == 2
    assert "run store is corrupt" in capsys.readouterr().err


def test_bundle_arguments_and_unknown_run(digits, tmp_path, capsys):
    runs_dir = ["--runs-dir", str(tmp_path / "runs")]
    assert main(["runs", str(digits), *runs_dir, "--bundle", "abc"]) == 2
    assert "needs -o" in capsys.readouterr().err
    command = ["runs", str(digits), *runs_dir, "--bundle", "abc", "-o", str(tmp_path / "b.zip")]
    assert main(command) == 2
    assert "no run with id 'abc'" in capsys.readouterr().err


def test_reproduce_refuses_what_is_not_a_bundle(tmp_path, capsys):
    assert main(["reproduce", str(tmp_path / "missing.zip")]) == 2
    assert "missing.zip" in capsys.readouterr().err
    (tmp_path / "plain.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    assert main(["reproduce", str(tmp_path / "plain.zip")]) == 2
    assert "plain.zip: not a run bundle (graph.yaml is missing)" in capsys.readouterr().err


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400), as_zip=st.booleans(), record=st.text(max_size=80))
def test_fuzzed_bundles_give_a_clear_error(tmp_path, data, as_zip, record):
    path = tmp_path / "fuzz.zip"
    if as_zip:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("graph.yaml", data)
            archive.writestr("run.json", record)
    else:
        path.write_bytes(data)
    with pytest.raises(BundleError, match="fuzz.zip"):
        read_bundle(path)


def test_reproduce_retrains_train_runs_only(tmp_path, capsys):
    record = {"format": "deepwire-run-bundle", "version": 1, "kind": "federated"}
    record.update(options={}, versions={}, final_metrics={"accuracy": 0.5})
    path = tmp_path / "federated.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("graph.yaml", EXAMPLE.read_text())
        archive.writestr("run.json", json.dumps(record))
    assert main(["reproduce", str(path)]) == 1
    assert "holds a federated run; reproduce retrains train runs only" in capsys.readouterr().err


def test_a_run_kept_in_memory_is_bundled_with_its_weights(tmp_path):
    from runtime.run_bundle import bundle_run, write_bundle
    from runtime.run_store import RunRecord

    yaml = EXAMPLE.read_text()
    run = RunRecord("m1", "unsaved:x", "train", "train 1", yaml, "", {}, {}, 1.0, 2.0, FINISHED)
    path = tmp_path / "memory.zip"
    write_bundle(run, path, "# script\n", [np.arange(3.0), np.ones((2, 2))])
    listed, weights = bundle_run(path)
    assert listed.name == "train 1" and [w.shape for w in weights] == [(3,), (2, 2)]
    assert len(read_split(path)["test"]) == 360
