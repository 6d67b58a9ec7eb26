"""`main.py train / tune / deploy`: results saved, same numbers as the app, clean failures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from graph.files import load_graph, save_graph
from graph.model import RemoveEdge
from main import main
from runtime.data import load_dataset
from runtime.trainer import Trainer
from tests.runtime.runtime_helpers import mlp

ROOT = Path(__file__).resolve().parents[2]


def iris_file(tmp_path, **training) -> Path:
    graph = mlp(input_shape=(4,), units=3, hidden=8, dataset={"name": "iris"}, **training)
    path = tmp_path / "iris.yaml"
    save_graph(graph, path)
    return path


def test_train_saves_model_and_metrics_with_the_apps_numbers(tmp_path, capsys):
    path = iris_file(tmp_path)
    assert main(["train", str(path), "-o", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert "accuracy" in out and "f1_macro" in out
    assert "epoch 2/2" in err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics) >= {"history", "test", "diagnosis", "best_epoch"}
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.output_shape == (None, 3)
    graph = load_graph(path)
    app = Trainer(graph, load_dataset(graph.dataset)).run()
    assert metrics["history"] == app.history


def test_train_epochs_override(tmp_path, capsys):
    path = iris_file(tmp_path)
    assert main(["train", str(path), "--epochs", "1", "-q", "-o", str(tmp_path / "r")]) == 0
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1


def test_missing_file_exit_2(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_invalid_graph_exit_1(tmp_path, capsys):
    graph = mlp(input_shape=(4,), units=3, dataset={"name": "iris"})
    output = graph.output_nodes()[0]
    graph.apply(RemoveEdge(graph.in_edges(output.id)[0]))
    save_graph(graph, tmp_path / "broken.yaml")
    assert main(["train", str(tmp_path / "broken.yaml")]) == 1
    assert "the graph is not valid" in capsys.readouterr().err


def test_csv_with_one_class_exit_1(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("a,b,y\n" + "".join(f"{i},{i},x\n" for i in range(20)))
    graph = mlp(input_shape=(2,), units=2, dataset={"source": "csv", "path": "data.csv"})
    save_graph(graph, tmp_path / "csv.yaml")
    assert main(["train", str(tmp_path / "csv.yaml"), "-o", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "target column 'y' has a single class ('x')" in err


def test_diverging_training_exit_1(tmp_path, capsys):
    graph = mlp(
        input_shape=(20, 1),
        units=1,
        activation="linear",
        hidden=64,
        optimizer="sgd",
        learning_rate=10.0,
        epochs=3,
        metrics=(),
        dataset={"name": "sine", "samples": 200, "normalization": "none"},
    )
    save_graph(graph, tmp_path / "nan.yaml")
    assert main(["train", str(tmp_path / "nan.yaml"), "-q", "-o", str(tmp_path / "r")]) == 1
    assert "at epoch 1, batch" in capsys.readouterr().err


def test_deploy_a_trained_model(tmp_path, capsys):
    path = iris_file(tmp_path)
    assert main(["train", str(path), "-q", "-o", str(tmp_path / "run")]) == 0
    model = tmp_path / "run" / "model.keras"
    out_dir = tmp_path / "deploy"
    code = main(
        [
            "deploy",
            str(path),
            "--model",
            str(model),
            "--format",
            "onnx",
            "tflite",
            "-o",
            str(out_dir),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "p50 ms" in out and "onnx" in out and "tflite" in out
    assert (out_dir / "model.onnx").exists() and (out_dir / "model.tflite").exists()


def test_deploy_bad_model_file_exit_2(tmp_path, capsys):
    path = iris_file(tmp_path)
    (tmp_path / "bad.keras").write_text("not a model")
    assert main(["deploy", str(path), "--model", str(tmp_path / "bad.keras")]) == 2
    error = capsys.readouterr().err
    assert "bad.keras: not a readable Keras model file" in error
    assert "File not found" not in error  # Keras's words for a file that is there


def test_tune_writes_the_best_settings(tmp_path, capsys):
    path = iris_file(tmp_path)
    tuned = tmp_path / "tuned.yaml"
    args = [
        "tune",
        str(path),
        "--trials",
        "2",
        "--epochs",
        "1",
        "--batch-sizes",
        "8",
        "-o",
        str(tuned),
        "--runs-dir",
        str(tmp_path / "runs"),
    ]
    assert main(args) == 0
    # Trial 0 is the graph's own settings (batch 32), trial 1 the one batch size offered:
    # the file holds whichever the command reports best.
    printed = capsys.readouterr().out
    best_batch = re.search(r"best loss [\d.]+ with .*batch_size=(\d+)", printed)
    assert best_batch is not None, printed
    assert load_graph(tuned).training["batch_size"] == int(best_batch.group(1))
    assert int(best_batch.group(1)) in (8, 32)
    # Tuning runs are recorded in the run history too.
    from runtime.run_store import FINISHED, RunStore, graph_key_for

    with RunStore.open(tmp_path / "runs") as store:
        (run,) = store.runs_of(graph_key_for(path))
    assert (run.kind, run.status) == ("tune", FINISHED)
    assert len(run.epochs["trial value"]) >= 2 and "best trial value" in run.final_metrics
    assert main(["tune", str(path), "--trials", "0"]) == 1
    assert main(["tune", str(path), "--optimizers", "lbfgs"]) == 1
    assert "unknown lbfgs" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["tune", "deploy"])
def test_unreadable_graph_file_exit_2(tmp_path, capsys, command):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: deepwire-graph\nversion: 1\nnodes: [\n")
    assert main([command, str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_no_traceback_from_a_real_process(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: deepwire-graph\nversion: 1\nnodes: [\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "train", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")


def test_a_failing_evaluation_keeps_the_trained_model_and_records_the_run(tmp_path, capsys):
    """A fault injected into the evaluation: the trained model is saved, the run recorded failed."""
    import runtime.evaluation
    from runtime.run_store import RunStore, graph_key_for

    def broken_evaluation(model, dataset):
        raise ValueError("labels past the model's outputs\nsecond line")

    path = iris_file(tmp_path)
    runs = tmp_path / "runs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime.evaluation, "evaluate", broken_evaluation)
        code = main(
            ["train", str(path), "-q", "-o", str(tmp_path / "run"), "--runs-dir", str(runs)]
        )
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert (
        "evaluating it on the test split failed (ValueError: labels past the model's outputs)"
        in err
    )
    assert "model.keras" in err
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.output_shape == (None, 3)
    with RunStore.open(runs) as store:
        (record,) = store.runs_of(graph_key_for(path))
    assert record.status == "failed" and "evaluating it" in record.message
    assert record.epochs["loss"]  # the history is kept
