"""Deployment exports: each format written, loaded back by its own runtime, compared, timed."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from graph.files import load_graph
from runtime.builder import build_model
from runtime.deploy import FORMATS, DeployError, export_model, export_path, keras_latency


@pytest.fixture(scope="module")
def two_input_model():
    keras.utils.set_random_seed(0)
    return build_model(load_graph("examples/multi_input.yaml"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_verified_and_measured(tmp_path, two_input_model, fmt):
    path = export_path(tmp_path, "model", fmt)
    report = export_model(two_input_model, fmt, path)
    assert report.path == path and path.exists()
    assert report.size_bytes > 1000
    assert 0 < report.p50_ms <= report.p95_ms
    assert report.throughput > 0
    assert report.max_abs_diff < 1e-4
    assert fmt in report.line()


def test_recurrent_model_exports_to_tflite_and_onnx(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(load_graph("examples/lstm_sequences.yaml"))
    sample = [np.random.default_rng(0).normal(size=(4, 20, 1)).astype("float32")]
    for fmt in ("tflite", "onnx"):
        report = export_model(model, fmt, export_path(tmp_path, "lstm", fmt), sample)
        assert report.max_abs_diff < 1e-4


def test_keras_baseline_latency(two_input_model):
    p50, p95, throughput = keras_latency(two_input_model)
    assert 0 < p50 <= p95 and throughput > 0


def test_bad_format_and_unwritable_path(tmp_path, two_input_model):
    with pytest.raises(DeployError, match="format must be one of keras, saved_model, tflite, onnx"):
        export_model(two_input_model, "pickle", tmp_path / "m.pkl")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DeployError, match="keras export to .* failed"):
        export_model(two_input_model, "keras", blocker / "model.keras")
