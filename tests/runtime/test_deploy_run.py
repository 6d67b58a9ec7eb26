"""The `deploy` run kind and its command: files per format as events, and exit codes 0, 1, 2."""

from __future__ import annotations

import keras
import numpy as np

from graph.cli.exit_codes import EXIT_BAD_FILE, EXIT_INVALID
from graph.files import graph_to_yaml, save_graph
from main import main
from runtime.deploy_report import DeployResult, FormatExported
from runtime.events import RunFailed, RunFinished
from runtime.runs import RunRequest
from runtime.runs.local import run_inline
from runtime.saving import save_keras_model
from tests.runtime.runtime_helpers import mlp


def iris_graph():
    return mlp(input_shape=(4,), units=3, hidden=8, dataset={"name": "iris"})


def deploy(tmp_path, **options) -> tuple[RunFinished | RunFailed, list]:
    events = []
    request = RunRequest(
        "deploy", graph_to_yaml(iris_graph()), tmp_path, {"output_dir": str(tmp_path), **options}
    )
    return run_inline(request, events.append), events


def test_the_given_weights_are_exported_with_an_event_per_format(tmp_path):
    from runtime.builder import build_model
    from runtime.data import load_dataset

    model = build_model(iris_graph())
    weights = [w + 0.5 for w in model.get_weights()]
    outcome, events = deploy(tmp_path, weights=weights, formats=["keras"], name="iris")
    assert isinstance(outcome, RunFinished), outcome
    result = outcome.result
    assert isinstance(result, DeployResult) and result.failures == {}
    assert [r.format for r in result.reports] == ["keras"]
    exported = [e for e in events if isinstance(e, FormatExported)]
    assert [(e.format, e.report) for e in exported] == [(r.format, r) for r in result.reports]
    loaded = keras.saving.load_model(tmp_path / "iris.keras")
    sample = load_dataset(iris_graph().dataset).x_test[:4]
    model.set_weights(weights)
    assert np.allclose(loaded.predict(sample, verbose=0), model.predict(sample, verbose=0))
    assert result.keras_baseline is None and result.source == "the trained model"


def test_bad_options_and_files_fail_with_the_exit_code_a_command_needs(tmp_path):
    outcome, _ = deploy(tmp_path, formats=["pickle"], untrained=True)
    assert isinstance(outcome, RunFailed) and outcome.exit_code == EXIT_INVALID
    assert "unknown format 'pickle'" in outcome.message
    (tmp_path / "bad.keras").write_text("not a model")
    outcome, _ = deploy(tmp_path, model_path=str(tmp_path / "bad.keras"))
    assert isinstance(outcome, RunFailed) and outcome.exit_code == EXIT_BAD_FILE
    assert "bad.keras: not a readable Keras model file (a .keras model is a zip" in outcome.message


def test_the_command_exits_1_for_a_model_that_does_not_fit_the_data(tmp_path, capsys):
    inputs = keras.Input((3,))
    save_keras_model(keras.Model(inputs, keras.layers.Dense(3)(inputs)), tmp_path / "m.keras")
    save_graph(iris_graph(), tmp_path / "iris.yaml")
    args = ["deploy", str(tmp_path / "iris.yaml"), "--model", str(tmp_path / "m.keras")]
    assert main([*args, "-o", str(tmp_path / "out")]) == EXIT_INVALID
    assert "m.keras: the model does not fit the dataset" in capsys.readouterr().err
