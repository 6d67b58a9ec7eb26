"""Every command with -o refuses its input file or a stranger's file unless --force is given.

Also: the refusal comes before any training, earlier outputs of the same
command are rewritten without --force, and `train -o` saves its model and
metrics atomically (a failing save keeps the previous model).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import keras
import pytest

from graph.files import load_graph, save_graph
from main import main
from runtime.saving import save_keras_model
from tests.runtime.runtime_helpers import mlp

ROOT = Path(__file__).resolve().parents[2]
STRANGER = b"my notes, not written by DeepWire\n"


def iris_file(folder: Path) -> Path:
    graph = mlp(input_shape=(4,), units=3, hidden=8, dataset={"name": "iris"}, epochs=1)
    path = folder / "iris.yaml"
    save_graph(graph, path)
    return path


def test_export_refuses_its_input_and_strangers_but_rewrites_its_own(tmp_path, capsys):
    graph = iris_file(tmp_path)
    before = graph.read_bytes()
    for args in (["-o", str(graph)], ["--script", "-o", str(graph)]):
        assert main(["export", str(graph), *args]) == 2
        assert "is the input file" in capsys.readouterr().err
        assert graph.read_bytes() == before
    notes = tmp_path / "notes.py"
    notes.write_bytes(STRANGER)
    assert main(["export", str(graph), "-o", str(notes)]) == 2
    assert "--force" in capsys.readouterr().err
    assert notes.read_bytes() == STRANGER
    out = tmp_path / "model.py"
    assert main(["export", str(graph), "-o", str(out)]) == 0
    assert main(["export", str(graph), "--script", "-o", str(out)]) == 0
    assert main(["export", str(graph), "-o", str(notes), "--force"]) == 0
    assert notes.read_bytes() != STRANGER
    assert main(["export", str(graph), "-o", str(graph), "--force"]) == 0
    assert graph.read_text().startswith('"""Keras model exported from DeepWire')


def test_import_and_tune_refuse_before_any_work(tmp_path, capsys):
    graph = iris_file(tmp_path)
    model_path = tmp_path / "m.keras"
    save_keras_model(keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]), model_path)
    model_bytes = model_path.read_bytes()
    assert main(["import", str(model_path), "-o", str(model_path)]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert model_path.read_bytes() == model_bytes
    notes = tmp_path / "notes.yaml"
    notes.write_bytes(STRANGER)
    assert main(["import", str(model_path), "-o", str(notes)]) == 2
    assert notes.read_bytes() == STRANGER
    assert main(["import", str(model_path), "-o", str(graph)]) == 0
    assert len(load_graph(graph)) == 2
    iris = iris_file(tmp_path)
    assert main(["tune", str(iris), "--trials", "1", "-o", str(iris)]) == 2
    err = capsys.readouterr().err
    assert "is the input file" in err and "trial" not in err
    assert main(["tune", str(iris), "--trials", "1", "-o", str(notes)]) == 2
    assert notes.read_bytes() == STRANGER


def test_train_and_deploy_refuse_strangers_in_their_folder(tmp_path, capsys):
    graph = iris_file(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_bytes(STRANGER)
    assert main(["train", str(graph), "-q", "-o", str(run)]) == 2
    err = capsys.readouterr().err
    assert "metrics.json: is a file this command did not write" in err and "epoch" not in err
    assert main(["train", str(graph), "-q", "-o", str(graph)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    (run / "metrics.json").unlink()
    assert main(["train", str(graph), "-q", "-o", str(run)]) == 0
    assert main(["train", str(graph), "-q", "-o", str(run)]) == 0
    model = run / "model.keras"
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "model.tflite").write_bytes(STRANGER)
    args = ["deploy", str(graph), "--model", str(model), "--format", "tflite", "-o"]
    assert main([*args, str(deploy)]) == 2
    assert (deploy / "model.tflite").read_bytes() == STRANGER
    assert main([*args, str(run), "--format", "keras"]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert main([*args, str(deploy), "--force"]) == 0
    assert main([*args, str(deploy)]) == 0


def test_train_keeps_the_previous_model_when_saving_fails(tmp_path, capsys, monkeypatch):
    graph = iris_file(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(graph), "-q", "-o", str(run)]) == 0
    model, metrics = (run / "model.keras").read_bytes(), (run / "metrics.json").read_bytes()

    def full_disk(src, dst, *args, **kwargs):
        with open(dst, "wb") as stream:
            stream.write(Path(src).read_bytes()[:100])
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(shutil, "copyfile", full_disk)
    assert main(["train", str(graph), "-q", "-o", str(run)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert (run / "model.keras").read_bytes() == model
    assert (run / "metrics.json").read_bytes() == metrics
    assert sorted(p.name for p in run.iterdir()) == ["metrics.json", "model.keras"]
    json.loads(metrics)


@pytest.mark.parametrize("name", ["model.keras", "graph.yaml"])
def test_killed_keras_saves_leave_the_old_model(tmp_path, name):
    """save_keras_model is atomic whatever the name: a writer that dies keeps the old file."""
    target = tmp_path / name
    target.write_bytes(STRANGER)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    class Killed(BaseException):
        pass

    def dying_save(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half")
        raise Killed

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keras.Model, "save", dying_save)
        with pytest.raises(Killed):
            save_keras_model(model, target)
    assert target.read_bytes() == STRANGER
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_federate_keeps_the_previous_model_and_leaves_no_stray_file_when_saving_dies(
    tmp_path, monkeypatch
):
    # It saved through a ".model.keras.<hex>.tmp.keras" sibling that a failed or killed
    # save left behind in the output folder for good.
    graph = iris_file(tmp_path)
    out = tmp_path / "federated"
    assert main(["federate", str(graph), "-q", "--rounds", "1", "-o", str(out)]) == 0
    model = (out / "model.keras").read_bytes()

    class Killed(BaseException):
        pass

    def dying_save(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half")
        raise Killed

    monkeypatch.setattr(keras.Model, "save", dying_save)
    with pytest.raises(Killed):
        main(["federate", str(graph), "-q", "--rounds", "1", "-o", str(out)])
    assert (out / "model.keras").read_bytes() == model
    assert sorted(p.name for p in out.iterdir()) == ["federated.json", "model.keras"]
