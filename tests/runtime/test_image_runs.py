"""Image folders stay files in every run kind (issue 18): Normalization adapts by streaming,
federated clients, continual tasks, the membership check and compression hold file names,
never pixels, and unreadable files are left out and counted."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from graph.files import graph_from_yaml
from runtime.builder import build_model
from runtime.compression import compress, measure, representative_inputs
from runtime.continual.comparison import learn_sequence
from runtime.continual.tasks import build_sequence
from runtime.data import ImageFiles, load_dataset, model_inputs
from runtime.events import LogLine, RunFinished
from runtime.federated.local_training import take_rows
from runtime.runs import RunRequest
from runtime.runs.local import run_inline
from runtime.trainer import adapt_normalization

CLASSES = ("amber", "blue", "green", "red")
GRAPH = """format: deepwire-graph
version: 1
name: images
nodes:
- {id: n1, type: Input, name: input_1, params: {shape: [8, 8, 3]}, position: [0, 0]}
- {id: n2, type: Flatten, name: flatten_1, params: {}, position: [200, 0]}
- {id: n3, type: Dense, name: dense_1, params: {units: 4, activation: softmax}, position: [400, 0]}
edges:
- {source: n1, target: n2, port: 0}
- {source: n2, target: n3, port: 0}
training: {optimizer: adam, learning_rate: 0.01, batch_size: 8, epochs: 1, seed: 1}
dataset:
  source: image_folder
  path: PATH
  image_size: [8, 8]
  color_mode: rgb
  normalization: standard
  test_size: 0.25
  validation_size: 0.0
  seed: 1
"""


def write_folder(root: Path, seed: int, broken: bool) -> Path:
    """4 tinted classes x 8 PNG files of 8x8 pixels, and maybe one file that is no image."""
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 90, size=(8, 8, 3), dtype=np.uint8)
            pixels[..., label % 3] += 80 + 40 * (label // 3)
            (root / name / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    if broken:
        (root / "blue" / "broken.png").write_bytes(b"not a png")
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("images") / "tints", 0, broken=True)


@pytest.fixture(scope="module")
def later_folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("later") / "tints_later", 1, broken=False)


def graph_text(folder: Path, extra: str = "") -> str:
    return GRAPH.replace("PATH", str(folder)) + extra


def test_normalization_adapts_to_streamed_images_as_to_the_decoded_array(folder):
    dataset = load_dataset({**graph_from_yaml(graph_text(folder)).dataset, "normalization": "none"})
    pixels = np.asarray(dataset.x_train)
    for before in ([], [keras.layers.Rescaling(0.5, offset=1.0)]):
        inputs = keras.Input((8, 8, 3))
        hidden = inputs
        for layer in before:
            hidden = layer(hidden)
        normalization = keras.layers.Normalization()
        model = keras.Model(inputs, normalization(hidden))
        adapt_normalization(model, dataset.x_train)
        seen = pixels * 0.5 + 1.0 if before else pixels
        np.testing.assert_allclose(
            np.ravel(normalization.mean), seen.mean(axis=(0, 1, 2)), rtol=1e-5
        )
        np.testing.assert_allclose(
            np.ravel(normalization.variance), seen.var(axis=(0, 1, 2)), rtol=1e-4
        )


def test_federated_clients_hold_file_names_and_the_run_counts_unreadable_files(folder):
    dataset = load_dataset(graph_from_yaml(graph_text(folder)).dataset)
    client = take_rows(dataset.x_train, np.array([3, 0]))
    assert isinstance(client, ImageFiles) and list(client.files) == [
        dataset.x_train.files[3],
        dataset.x_train.files[0],
    ]
    extra = "federated:\n  clients: 2\n  rounds: 1\n  centralized_baseline: false\n  seed: 3\n"
    events = []
    ended = run_inline(RunRequest("federated", graph_text(folder, extra), None), events.append)
    assert isinstance(ended, RunFinished), ended
    outcome = ended.result
    assert isinstance(outcome.dataset.x_train, ImageFiles)
    assert sum(outcome.federated.client_sizes) == len(outcome.dataset.x_train) == 23
    assert 0.0 <= outcome.federated.membership_auc <= 1.0
    assert {"loss", "accuracy"} <= set(outcome.federated.test_logs)
    lines = [e.text for e in events if isinstance(e, LogLine)]
    assert any(line.startswith("1 image file of tints is left out, unreadable") for line in lines)


def test_continual_tasks_of_an_image_folder_hold_files_and_learn(folder):
    graph = graph_from_yaml(graph_text(folder))
    sequence = build_sequence(graph.dataset, {"split": "classes", "classes_per_task": 2})
    assert [task.name for task in sequence.tasks] == ["amber-blue", "green-red"]
    assert all(isinstance(task.x_train, ImageFiles) for task in sequence.tasks)
    assert all(isinstance(task.x_test, ImageFiles) for task in sequence.tasks)
    assert len(sequence.skipped) == 1 and "broken.png" in sequence.skipped[0]
    graph.settings["continual"] = {
        **graph.settings["continual"],
        "split": "classes",
        "classes_per_task": 2,
        "epochs_per_task": 1,
        "buffer_size": 6,
    }
    run = learn_sequence(graph, None, ["replay"])
    assert run.skipped == sequence.skipped
    result = run.results["replay"]
    assert len(result.matrix) == 2 and all(len(row) == 2 for row in result.matrix)
    assert sum(result.buffer_counts.values()) == 6


def test_continual_image_folders_as_files_scale_like_the_first_task(folder, later_folder):
    graph = graph_from_yaml(graph_text(folder))
    continual = {"split": "files", "files": f"{folder}; {later_folder}"}
    sequence = build_sequence(graph.dataset, continual)
    first, later = sequence.tasks
    assert isinstance(first.x_train, ImageFiles) and isinstance(later.x_test, ImageFiles)
    assert len(first.x_train) + len(first.x_test) == 32 and len(sequence.skipped) == 1
    scaled = np.asarray(first.x_train)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-4)
    assert later.x_train.scaling is first.x_train.scaling


def test_membership_check_streams_image_files_and_counts_unreadable_ones(folder):
    graph = graph_from_yaml(graph_text(folder))
    dataset = load_dataset(graph.dataset)
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(4, "softmax")]
    )
    x = model_inputs(dataset.x_train, [(8, 8, 3)])
    assert isinstance(x, ImageFiles)
    request = RunRequest("membership", graph_text(folder), None, {"weights": model.get_weights()})
    events = []
    ended = run_inline(request, events.append)
    assert isinstance(ended, RunFinished), ended
    assert ended.result.samples == len(dataset.y_test) and 0.0 <= ended.result.auc <= 1.0
    assert len(ended.result.skipped) == 1 and "broken.png" in ended.result.skipped[0]
    assert any(isinstance(e, LogLine) and "broken.png" in e.text for e in events)


def test_compression_streams_image_files_and_scores_them_as_decoded(folder, tmp_path, monkeypatch):
    graph = graph_from_yaml(graph_text(folder))
    dataset = load_dataset(graph.dataset)
    model = build_model(graph)  # untrained: compression only needs its weights
    decoded = dataclasses.replace(
        dataset, x_train=np.asarray(dataset.x_train), x_test=np.asarray(dataset.x_test)
    )
    expected_metric = measure.test_metric(measure.keras_runner(model), model, decoded)
    expected_samples = representative_inputs(model, decoded.x_train, count=5)

    # From here on no image split may be decoded whole: np.asarray on ImageFiles fails,
    # and reads through indexing (one sample, for latency) are counted.
    def decoded_whole(images, dtype=None, copy=None):
        raise AssertionError(f"{len(images)} image files decoded whole")

    reads = []
    read = ImageFiles._read
    monkeypatch.setattr(ImageFiles, "__array__", decoded_whole)
    monkeypatch.setattr(
        ImageFiles, "_read", lambda self, files: reads.append(len(files)) or read(self, files)
    )
    samples = representative_inputs(model, dataset.x_train, count=5)
    for streamed, drawn in zip(samples, expected_samples, strict=True):
        np.testing.assert_allclose(streamed[0], drawn[0], rtol=1e-5, atol=1e-5)
    # Pruning fine-tunes on the training split and scores on the test split.
    report = compress(model, graph, dataset, tmp_path, ("pruned",), fine_tune_epochs=1)
    assert report.failures == {}
    rows = {row.name: row for row in report.results}
    assert list(rows) == ["float", "pruned"]
    assert rows["float"].metric == pytest.approx(expected_metric)
    assert reads and max(reads) == 1


def test_the_train_command_names_the_files_it_left_out(folder, tmp_path, capsys):
    """It said only "1 unreadable images left out", in the dataset's one-line summary."""
    from main import main

    graph = tmp_path / "images.yaml"
    graph.write_text(graph_text(folder), encoding="utf-8")
    runs = ["--runs-dir", str(tmp_path / "runs")]
    assert main(["train", str(graph), "-q", "-o", str(tmp_path / "out"), *runs]) == 0
    err = capsys.readouterr().err
    assert "warning: 1 image file of tints is left out, unreadable or too large: " in err
    assert "blue/broken.png (" in err
