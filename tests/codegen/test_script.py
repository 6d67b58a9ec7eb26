"""The exported training script: same data as the app, and it really trains and saves."""

import subprocess
import sys
import types
from pathlib import Path

import keras
import numpy as np
import pytest

from codegen.python_source import export_training_script
from graph.files import load_graph
from graph.model import RemoveEdge
from graph.settings import DATASET_PARAMS, default_section
from runtime.data import load_dataset

ROOT = Path(__file__).parents[2]


def script_namespace(source: str) -> dict:
    """The script's functions, without running main().

    The script is a registered module, as when Python runs it: its dataclasses
    look their module up in sys.modules.
    """
    module = types.ModuleType("exported_script")
    sys.modules[module.__name__] = module
    exec(compile(source, "<script>", "exec"), module.__dict__)
    return module.__dict__


def assert_same_arrays(graph, data_dir=None):
    namespace = script_namespace(export_training_script(graph, data_dir=data_dir))
    (x_train, y_train), (x_val, y_val), (x_test, y_test), task = namespace["load_data"]()
    expected = load_dataset(graph.dataset, base_dir=data_dir)
    assert task == expected.task
    for actual, wanted in (
        (x_train, expected.x_train),
        (y_train, expected.y_train),
        (x_val, expected.x_val),
        (y_val, expected.y_val),
        (x_test, expected.x_test),
        (y_test, expected.y_test),
    ):
        if wanted is None:
            assert actual is None
            continue
        assert actual.dtype == wanted.dtype
        np.testing.assert_array_equal(actual, wanted)


BUILTIN_SETTINGS = [
    {"name": "digits"},
    {"name": "digits_images", "normalization": "minmax", "validation_size": 0.0},
    {"name": "iris", "stratify": False, "drop_duplicates": True},
    {"name": "wine", "normalization": "none"},
    {"name": "breast_cancer", "test_size": 0.3},
    {"name": "moons", "samples": 120, "noise": 0.2},
    {"name": "circles", "samples": 100},
    {"name": "blobs", "samples": 90, "seed": 7},
    {"name": "sine", "samples": 80},
    {"name": "sequence_classification", "samples": 80, "noise": 0.3},
    {"name": "digits", "target": "inputs"},
    {"name": "sentiment", "samples": 120},
]


@pytest.mark.parametrize("settings", BUILTIN_SETTINGS, ids=lambda s: s["name"])
def test_builtin_data_matches_the_app(settings):
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    graph.dataset = {**default_section(DATASET_PARAMS), **settings}
    assert_same_arrays(graph)


@pytest.mark.parametrize("missing", ["drop", "mean", "most_frequent"])
def test_csv_data_matches_the_app(tmp_path, missing):
    rows = ["size;colour;weight;label"]
    rng = np.random.default_rng(0)
    for i in range(60):
        size = "" if i % 17 == 3 else f"{rng.normal():.3f}"
        colour = ["red", "green", "NA", "blue"][i % 4]
        rows.append(f"{size};{colour};{i % 7};{'cat' if i % 3 else 'dog'}")
    (tmp_path / "animals.csv").write_text("\n".join(rows) + "\n")
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    graph.dataset = {
        **default_section(DATASET_PARAMS),
        "source": "csv",
        "path": "animals.csv",
        "target_column": "label",
        "missing": missing,
        "drop_duplicates": True,
    }
    assert_same_arrays(graph, data_dir=tmp_path)


def test_csv_regression_target_matches_the_app(tmp_path):
    rows = ["a,b,price"] + [f"{i},{i % 5},{i * 1.5 + 0.25}" for i in range(50)]
    (tmp_path / "prices.csv").write_text("\n".join(rows))
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    graph.dataset = {
        **default_section(DATASET_PARAMS),
        "source": "csv",
        "path": str(tmp_path / "prices.csv"),
        "normalization": "minmax",
    }
    assert_same_arrays(graph)


def test_numpy_data_matches_the_app(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "data.npz", x=rng.normal(size=(70, 4, 3)), y=rng.integers(0, 3, 70))
    table = np.concatenate([rng.normal(size=(50, 3)), rng.integers(0, 2, (50, 1))], axis=1)
    np.save(tmp_path / "table.npy", table)
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    for path in ("data.npz", "table.npy"):
        graph.dataset = {**default_section(DATASET_PARAMS), "source": "numpy", "path": path}
        assert_same_arrays(graph, data_dir=tmp_path)


def test_image_folder_data_matches_the_app(tmp_path):
    from tests.runtime.runtime_helpers import write_image_folder

    write_image_folder(tmp_path / "pets", ("cats", "dogs"), per_class=6, seed=2, shape=(10, 12, 3))
    graph = load_graph(ROOT / "examples" / "cnn_digits.yaml")
    graph.dataset = {
        **default_section(DATASET_PARAMS),
        "source": "image_folder",
        "path": "pets",
        "image_size": [8, 8],
        "validation_size": 0.0,
        "test_size": 0.25,
    }
    assert_same_arrays(graph, data_dir=tmp_path)


def test_image_folder_script_streams_skips_unreadable_files_and_trains(tmp_path, capsys):
    import tensorflow as tf

    rng = np.random.default_rng(3)
    for label in ("cats", "dogs"):
        (tmp_path / "pets" / label).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 255, size=(9, 9, 1), dtype=np.uint8)
            (tmp_path / "pets" / label / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (tmp_path / "pets" / "dogs" / "broken.png").write_bytes(b"not a png")
    graph = load_graph(ROOT / "examples" / "cnn_digits.yaml")
    graph.training.update(epochs=1)
    graph.dataset = {
        **default_section(DATASET_PARAMS),
        "source": "image_folder",
        "path": "pets",
        "image_size": [8, 8],
        "test_size": 0.25,
    }
    namespace = script_namespace(export_training_script(graph, data_dir=tmp_path))
    (x_train, _), _, (x_test, _), _ = namespace["load_data"]()
    assert type(x_train).__name__ == "ImageFiles"  # streamed, not decoded at once
    assert len(x_train) + len(x_test) < 16 + 1
    namespace["main"](str(tmp_path / "pets.keras"))
    assert "test accuracy:" in capsys.readouterr().out
    assert keras.saving.load_model(tmp_path / "pets.keras").input_shape == (None, 8, 8, 1)


def test_multi_input_script_feeds_each_input(tmp_path):
    graph = load_graph(ROOT / "examples" / "multi_input.yaml")
    namespace = script_namespace(export_training_script(graph))
    (x_train, _), _, _, _ = namespace["load_data"]()
    parts = namespace["model_inputs"](x_train, namespace["INPUT_SHAPES"])
    assert [p.shape[1:] for p in parts] == [(32,), (32,)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), x_train)


def test_full_script_trains_evaluates_and_saves(tmp_path):
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    graph.training.update(epochs=1, early_stopping=True, reduce_lr_on_plateau=True)
    script = tmp_path / "train_digits.py"
    script.write_text(export_training_script(graph, script.name))
    output = tmp_path / "out" / "digits.keras"
    output.parent.mkdir()
    result = subprocess.run(
        [sys.executable, str(script), str(output)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy:" in result.stdout
    assert "val_loss:" in result.stdout  # trained with the validation split
    accuracy = float(result.stdout.split("test accuracy:")[1].split()[0])
    assert accuracy > 0.3  # one epoch on digits is far above chance (0.1)
    model = keras.saving.load_model(output)
    assert [layer.name for layer in model.layers] == [n.name for n in graph.nodes]
    assert model.predict(np.zeros((2, 64), dtype="float32"), verbose=0).shape == (2, 10)


def test_normalization_layers_are_adapted_as_the_trainer_does():
    from runtime.builder import build_model
    from runtime.trainer import adapt_normalization

    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    graph.dataset["normalization"] = "none"
    first = graph.nodes[1]
    norm = graph.add_node("Normalization", "norm")
    for edge in graph.out_edges(graph.nodes[0].id):
        graph.apply(RemoveEdge(edge))
    graph.connect(graph.nodes[0].id, norm.id)
    graph.connect(norm.id, first.id)
    namespace = script_namespace(export_training_script(graph))
    (x_train, _), _, _, _ = namespace["load_data"]()
    exported = namespace["build_model"]()
    shapes = namespace["INPUT_SHAPES"]
    namespace["adapt_normalization"](exported, namespace["model_inputs"](x_train, shapes))
    built = build_model(graph)
    adapt_normalization(built, load_dataset(graph.dataset).x_train)
    for mine, theirs in zip(
        exported.get_layer("norm").get_weights(), built.get_layer("norm").get_weights(), strict=True
    ):
        np.testing.assert_array_equal(mine, theirs)


def test_script_with_strategy_schedule_and_one_hot_targets_runs(tmp_path):
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    graph.nodes[0].params["shape"] = (4,)
    graph.dataset.update(name="iris", validation_size=0.0, normalization="minmax")
    graph.training.update(
        epochs=2,
        optimizer="sgd",
        momentum=0.9,
        nesterov=True,
        lr_schedule="exponential_decay",
        loss="categorical_crossentropy",
        metrics=("accuracy", "precision", "recall", "auc"),
        strategy="mirrored",
        checkpoint_best=True,
        early_stopping=True,
    )
    graph.set_params(graph.nodes[-1].id, units=3)
    script = tmp_path / "train_iris.py"
    script.write_text(export_training_script(graph, script.name))
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "iris.keras")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for metric in ("accuracy", "precision", "recall", "auc"):
        assert f"test {metric}:" in result.stdout
    assert keras.saving.load_model(tmp_path / "iris.keras").output.shape == (None, 3)
