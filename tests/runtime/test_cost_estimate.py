"""runtime.cost_estimate and the training refusal: estimates checked against Keras and real runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from graph.cost import graph_cost, machine_memory
from graph.files import load_graph, save_graph
from graph.model import NetworkGraph
from main import main
from runtime.builder import build_model
from runtime.cost_estimate import (
    StepProbe,
    dataset_bytes,
    estimate_training_memory,
    time_estimate,
)
from runtime.data import load_dataset
from runtime.events import TrainingFailed
from runtime.trainer import Trainer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_weights_match_keras_count_params(path):
    graph = load_graph(path)
    cost = graph_cost(graph)
    model = build_model(graph)
    assert cost.params == model.count_params()
    assert cost.weight_bytes("float32") == sum(w.nbytes for w in model.get_weights())


def test_the_estimate_adds_the_datasets_arrays():
    graph = load_graph(EXAMPLES / "mlp_digits.yaml")
    dataset = load_dataset(graph.dataset)
    data = dataset_bytes(dataset)
    assert data == sum(
        a.nbytes
        for a in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)
        + ((dataset.x_val, dataset.y_val) if dataset.has_validation else ())
    )
    with_data = estimate_training_memory(graph, dataset)
    assert with_data.data == data
    assert with_data.total == estimate_training_memory(graph).total + data


def huge_graph() -> NetworkGraph:
    """Input(64) -> Dense sized past this machine's memory once trained with Adam."""
    graph = NetworkGraph("huge")
    source = graph.add_node("Input", params={"shape": (64,)})
    dense = graph.add_node(
        "Dense", params={"units": machine_memory() // (65 * 16) + 1, "activation": "softmax"}
    )
    graph.connect(source.id, dense.id)
    graph.dataset.update({"source": "builtin", "name": "digits"})
    return graph


def test_the_trainer_refuses_a_graph_too_large_before_allocating_it():
    graph = huge_graph()
    dataset = load_dataset(graph.dataset)
    result = Trainer(graph, dataset).run()
    assert isinstance(result, TrainingFailed)
    assert "training would need about" in result.message
    assert "this machine has" in result.message
    assert result.node_id == graph.find("dense_1").id


def test_the_train_command_refuses_it_with_one_message(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    save_graph(huge_graph(), path)
    assert main(["train", str(path), "-o", str(tmp_path / "run")]) == 1
    _out, err = capsys.readouterr()
    assert "dense_1 (Dense): training would need about" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "model.keras").exists()


def test_an_epoch_counts_its_last_partial_batches_and_validation_only_when_there_is_some():
    graph = load_graph(EXAMPLES / "mlp_digits.yaml")  # batch_size 32
    dataset = load_dataset(graph.dataset)
    probe = StepProbe(0.01, 0.1, seconds_per_validation_step=0.005, seconds_per_validation=0.02)

    def seconds(train: int, validation: int) -> float:
        cut = replace(
            dataset,
            x_train=dataset.x_train[:train],
            x_val=dataset.x_val[:validation],
        )
        return time_estimate(graph, cut, probe).epoch_seconds

    assert seconds(32, 0) == pytest.approx(0.11)
    assert seconds(33, 0) == pytest.approx(0.12)
    assert seconds(33, 1) == pytest.approx(0.12 + 0.02 + 0.005)
    assert seconds(33, 33) == pytest.approx(0.12 + 0.02 + 2 * 0.005)
