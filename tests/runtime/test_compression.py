"""runtime.compression, the compress run kind and `deepwire compress`: real conversions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.files import graph_to_yaml, save_graph
from main import main
from runtime.cli import compress as compress_cli
from runtime.compression import ALL_VARIANTS, CompressionError, compress, representative_inputs
from runtime.compression.pruning import check_sparsity, prunable_variables, sparsity_of
from runtime.compression.quantization import tflite_bytes
from runtime.data import load_dataset
from runtime.evaluation import evaluate
from runtime.events import Progress, RunFailed, RunFinished
from runtime.runs import RunRequest
from runtime.runs.local import run_inline
from runtime.trained_model import train_model
from tests.runtime.runtime_helpers import mlp


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small MLP trained on iris, saved as model.keras, with its graph file."""
    folder = tmp_path_factory.mktemp("iris")
    graph = mlp(input_shape=(4,), units=3, hidden=16, dataset={"name": "iris"}, epochs=10)
    graph.training["learning_rate"] = 0.03
    dataset = load_dataset(graph.dataset)
    model = train_model(graph, dataset)
    model.save(folder / "model.keras")
    save_graph(graph, folder / "iris.yaml")
    return folder, graph, dataset, model


def test_every_variant_is_measured_against_the_float_model(trained, tmp_path):
    _folder, graph, dataset, model = trained
    fractions = []
    report = compress(
        model,
        graph,
        dataset,
        tmp_path,
        sparsity=0.5,
        fine_tune_epochs=1,
        on_progress=lambda fraction, _text: fractions.append(fraction),
    )
    assert report.failures == {}
    rows = {r.name: r for r in report.results}
    assert list(rows) == ["float", *ALL_VARIANTS]
    float_accuracy = evaluate(model, dataset).metrics["accuracy"]
    assert rows["float"].metric == pytest.approx(float_accuracy)
    assert rows["float"].metric_name == "accuracy"
    for name, row in rows.items():
        assert row.metric_change == pytest.approx(row.metric - float_accuracy), name
        assert row.p50_ms > 0 and row.p95_ms >= row.p50_ms
        assert row.size_bytes > 0
    # Quantized TFLite files are smaller than the float Keras file.
    for name in ("tflite_dynamic", "tflite_int8", "tflite_float16"):
        assert rows[name].size_bytes < rows["float"].size_bytes, name
    # Pruning really zeroed half of the kernels, in the file that ships.
    pruned = keras.saving.load_model(tmp_path / "model_pruned.keras")
    assert sparsity_of(prunable_variables(pruned)) == pytest.approx(0.5, abs=0.02)
    assert "kernel sparsity 5" in rows["pruned"].note
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    # Every file was written through a temporary and renamed: none is left behind.
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert "tflite_int8" in report.table() and "float" in report.table()
    assert json.dumps(report.to_dict())


@pytest.mark.parametrize("sparsity", [0, 1, 1.5, -0.1, "half", None])
def test_a_sparsity_outside_0_1_is_refused_before_anything_is_written(trained, tmp_path, sparsity):
    _folder, graph, dataset, model = trained
    with pytest.raises(CompressionError, match="sparsity must"):
        compress(model, graph, dataset, tmp_path / "out", variants=("pruned",), sparsity=sparsity)
    assert not (tmp_path / "out").exists()


@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=5), st.none()))
@settings(max_examples=80, deadline=None)
def test_check_sparsity_accepts_only_numbers_strictly_between_0_and_1(value):
    try:
        result = check_sparsity(value)
    except CompressionError as error:
        assert "sparsity must" in str(error)
    else:
        assert 0 < result < 1


def test_representative_data_of_the_wrong_shape_is_named(trained):
    model = trained[3]
    with pytest.raises(CompressionError) as caught:
        representative_inputs(model, np.zeros((10, 7), dtype="float32"))
    message = str(caught.value)
    assert "sample shape (7,)" in message and "(4,)" in message
    with pytest.raises(CompressionError, match="one per row"):
        representative_inputs(model, np.zeros((0,), dtype="float32"))


def test_full_integer_refuses_a_recurrent_layer_by_name():
    inputs = keras.Input((6, 2))
    outputs = keras.layers.Dense(1)(keras.layers.LSTM(3, name="lstm_1")(inputs))
    model = keras.Model(inputs, outputs)
    samples = [[np.zeros((1, 6, 2), dtype="float32")]]
    with pytest.raises(CompressionError) as caught:
        tflite_bytes(model, "tflite_int8", samples)
    assert "layer lstm_1 (LSTM)" in str(caught.value)
    # The float16 variant converts it.
    assert len(tflite_bytes(model, "tflite_float16")) > 0


def test_the_run_kind_reports_progress_and_a_plain_result(trained, tmp_path):
    folder, graph, _dataset, _model = trained
    events = []
    options = {
        "output_dir": str(tmp_path),
        "model_path": str(folder / "model.keras"),
        "variants": ["tflite_dynamic"],
    }
    outcome = run_inline(RunRequest("compress", graph_to_yaml(graph), None, options), events.append)
    assert isinstance(outcome, RunFinished), outcome
    assert [row["name"] for row in outcome.result["variants"]] == ["float", "tflite_dynamic"]
    assert any(isinstance(e, Progress) for e in events)
    options["sparsity"] = 2.0
    options["variants"] = ["pruned"]
    failed = run_inline(RunRequest("compress", graph_to_yaml(graph), None, options))
    assert isinstance(failed, RunFailed) and "sparsity must" in failed.message
    options.update(variants=["tflite_dynamic"], model_path=str(tmp_path / "missing.keras"))
    failed = run_inline(RunRequest("compress", graph_to_yaml(graph), None, options))
    assert isinstance(failed, RunFailed) and "missing.keras: model file not found" in failed.message


def test_the_compress_command_prints_the_table_and_saves_json(trained, tmp_path, capsys):
    folder = trained[0]
    code = main(
        [
            "compress",
            str(folder / "iris.yaml"),
            "--weights",
            str(folder / "model.keras"),
            "--variants",
            "tflite_float16",
            "keras_int8",
            "-o",
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "tflite_float16" in out and "keras_int8" in out
    saved = json.loads((tmp_path / "compression.json").read_text())
    assert [row["name"] for row in saved["variants"]] == ["float", "tflite_float16", "keras_int8"]


def test_the_compress_command_refuses_bad_arguments_in_one_line(trained, tmp_path, capsys):
    folder = trained[0]
    graph_file = str(folder / "iris.yaml")
    assert main(["compress", graph_file, "--sparsity", "1.5", "-o", str(tmp_path)]) == 2
    assert "--sparsity must lie strictly between 0 and 1. Received: 1.5" in capsys.readouterr().err
    mine = tmp_path / "mine"  # a folder holding the user's own file of an output's name
    mine.mkdir()
    (mine / "model_tflite_float16.tflite").write_text("my notes")
    command = ["compress", graph_file, "--variants", "tflite_float16", "-o", str(mine)]
    assert main(command) == 2
    assert "model_tflite_float16.tflite: is a file this command did not write" in (
        capsys.readouterr().err
    )
    assert (mine / "model_tflite_float16.tflite").read_text() == "my notes"
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 9), dtype="float32"))
    code = main(
        [
            "compress",
            graph_file,
            "--weights",
            str(folder / "model.keras"),
            "--variants",
            "tflite_int8",
            "--representative",
            str(bad),
            "-o",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "representative data of sample shape (9,)" in err and "Traceback" not in err


def test_the_command_offers_exactly_the_runtimes_variants():
    assert compress_cli.VARIANTS == ALL_VARIANTS


KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
import keras
from runtime.compression.measure import save_keras

def killed(self, path, *args, **kwargs):
    Path(path).write_bytes(b"half")
    os.kill(os.getpid(), signal.SIGKILL)

keras.Model.save = killed
save_keras(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), Path(sys.argv[1]))
"""


def test_a_killed_save_of_a_variant_leaves_the_old_file_and_nothing_beside_it(tmp_path):
    # The model was staged beside its target as ".NAME.<hex>.keras", which a kill left there.
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "float.keras"
    target.write_bytes(b"the previous model")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, str(target)], cwd=root, timeout=300, check=False
    )
    assert result.returncode == -9
    assert target.read_bytes() == b"the previous model"
    assert [p.name for p in folder.iterdir()] == ["float.keras"]
