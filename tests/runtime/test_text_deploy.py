"""A model that reads raw text, deployed and compressed: what works is measured, what a
format cannot hold (TFLite, ONNX: no text operations) is refused with the formats that can."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import runtime.deploy
from graph.files import graph_to_yaml, load_graph
from runtime.builder import build_model
from runtime.compression import compress
from runtime.data import load_dataset, model_inputs
from runtime.deploy import DeployError, export_model, export_path, sample_inputs
from runtime.deploy_report import TEXT_FORMATS_HINT
from runtime.events import RunFailed
from runtime.runs import RunRequest
from runtime.runs.local import run_inline
from runtime.trainer import adapt_normalization

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def text_example():
    """(graph, dataset, model): the text example on 300 reviews, its vocabulary adapted.

    Untrained: deployment checks that files agree with the model, whatever its weights.
    """
    graph = load_graph(EXAMPLES / "text_sentiment.yaml")
    graph.settings["dataset"]["samples"] = 300
    dataset = load_dataset(graph.dataset, EXAMPLES)
    keras.utils.set_random_seed(0)
    model = build_model(graph)
    adapt_normalization(model, dataset.x_train)
    return graph, dataset, model


@pytest.fixture(autouse=True)
def few_latency_runs(monkeypatch):
    """Latency on 5 calls, not 50: an eager call of the LSTM takes 0.1 s here."""
    monkeypatch.setattr(runtime.deploy, "LATENCY_RUNS", 5)


def test_random_samples_of_a_text_input_are_texts():
    inputs = keras.Input((1,), dtype="string")
    model = keras.Model(inputs, keras.layers.TextVectorization(vocabulary=["film", "plot"])(inputs))
    (texts,) = sample_inputs(model, 5)
    assert texts.shape == (5, 1) and all(len(t.split()) == 6 for t in texts.ravel())
    assert model(texts).shape[0] == 5  # the model takes them as they are


@pytest.mark.parametrize("fmt", ["keras", "saved_model"])
def test_a_text_model_is_exported_checked_on_test_reviews_and_timed(tmp_path, text_example, fmt):
    _graph, dataset, model = text_example
    reviews = model_inputs(dataset.x_test[:8], [(1,)])
    report = export_model(model, fmt, export_path(tmp_path, "model", fmt), [reviews])
    assert report.max_abs_diff <= 1e-4
    assert report.p50_ms > 0 and report.throughput > 0


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_a_format_without_text_operations_is_refused_naming_those_that_work(
    tmp_path, text_example, fmt
):
    model = text_example[2]
    with pytest.raises(DeployError, match="split text into words") as refused:
        export_model(model, fmt, export_path(tmp_path, "model", fmt))
    assert str(refused.value).endswith(TEXT_FORMATS_HINT)
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_the_deploy_run_refuses_text_for_tflite_and_onnx_before_training(tmp_path, text_example):
    graph = text_example[0]
    options = {"output_dir": str(tmp_path / "out"), "formats": ["tflite", "onnx"]}
    events = []
    outcome = run_inline(
        RunRequest("deploy", graph_to_yaml(graph), EXAMPLES, options), events.append
    )
    assert isinstance(outcome, RunFailed)
    assert outcome.message.startswith("tflite: TFLite's own operations cannot split text")
    assert "onnx: ONNX has no operations" in outcome.message
    assert not (tmp_path / "out").exists() and len(events) == 0  # no training, no file


def test_compressing_a_text_model_measures_what_keras_can_and_names_why_tflite_cannot(
    tmp_path, text_example
):
    graph, dataset, model = text_example
    variants = ("tflite_dynamic", "keras_int8", "pruned")
    report = compress(model, graph, dataset, tmp_path, variants, fine_tune_epochs=1)
    rows = {row.name: row for row in report.results}
    assert list(rows) == ["float", "keras_int8", "pruned"]
    for row in rows.values():
        assert 0 <= row.metric <= 1 and row.p50_ms > 0
    # keras_int8 quantized the Embedding and the Dense kernel, not the vocabulary's lookup
    quantized = keras.saving.load_model(tmp_path / "model_keras_int8.keras")
    assert quantized.get_layer("word_vectors").quantization_mode == "int8"
    assert rows["keras_int8"].size_bytes < rows["float"].size_bytes
    assert report.failures["tflite_dynamic"].startswith(
        "tflite_dynamic: TFLite's own operations cannot split text into words"
    )
    assert np.isfinite(rows["pruned"].metric)
