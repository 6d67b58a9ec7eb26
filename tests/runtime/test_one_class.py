"""A run whose predictions are all one class says so in its summary and on the command line."""

from __future__ import annotations

import json

import numpy as np

from graph.files import save_graph
from main import main
from runtime.diagnosis import diagnose, one_class_warning
from runtime.evaluation import EvaluationReport
from tests.runtime.runtime_helpers import mlp

HISTORY = {"loss": [1.0, 0.99, 0.99], "accuracy": [0.9, 0.9, 0.9]}


def report(y_pred, names=("cat", "dog", "bird")) -> EvaluationReport:
    y_pred = np.asarray(y_pred)
    return EvaluationReport("classification", {}, class_names=names, y_pred=y_pred)


def test_one_class_for_every_sample_is_said_first():
    text = diagnose(HISTORY, report([1] * 30))
    assert text.startswith(
        "Every prediction is one class: all 30 test samples are predicted as dog"
    )
    assert "learning rate" in text
    assert diagnose(HISTORY, report([0, 1, 2] * 10)) == diagnose(HISTORY)
    assert one_class_warning(report([2])) is None
    assert one_class_warning(EvaluationReport("regression", {}, y_pred=np.zeros(5))) is None


def test_a_class_name_is_printed_escaped():
    text = one_class_warning(report([0] * 4, names=("a\u202eb", "c")))
    assert "a\\u202eb" in text and "\u202e" not in text


def test_train_with_dead_relu_units_says_every_prediction_is_one_class(tmp_path, capsys):
    graph = mlp(input_shape=(4,), units=3, hidden=8, dataset={"name": "iris"}, epochs=2)
    hidden = next(node for node in graph.nodes if node.params.get("activation") == "relu")
    # Zero weights and biases: every ReLU outputs 0 and never learns, so the
    # output is its bias alone, the same class for every sample.
    graph.set_params(hidden.id, kernel_initializer="zeros")
    path = tmp_path / "dead.yaml"
    save_graph(graph, path)
    assert main(["train", str(path), "-q", "-o", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert "Every prediction is one class: all 30 test samples" in out
    assert "warning: every test prediction is the same class" in err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["diagnosis"].startswith("Every prediction is one class")
