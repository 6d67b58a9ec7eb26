"""The data-to-graph check: each mismatch names the node and says the fix."""

from __future__ import annotations

import numpy as np
import pytest

from graph.files import load_graph
from graph.validation import ERROR, WARNING
from runtime.data import load_dataset
from runtime.data_check import check_data
from tests.runtime.runtime_helpers import mlp

EXAMPLES = ["mlp_digits", "cnn_digits", "lstm_sequences", "residual_mlp", "multi_input"]


@pytest.fixture(scope="module")
def digits():
    return load_dataset({"name": "digits"})


def errors(problems):
    return [p for p in problems if p.severity == ERROR]


@pytest.mark.parametrize("name", [*EXAMPLES, "autoencoder"])
def test_examples_fit_their_data(name):
    graph = load_graph(f"examples/{name}.yaml")
    dataset = load_dataset({**graph.dataset, "samples": 100})
    assert errors(check_data(graph, dataset)) == []


def test_matching_graph_has_no_problems(digits):
    assert check_data(mlp(), digits) == []


def test_one_unit_for_ten_classes(digits):
    graph = mlp(units=1, activation="sigmoid")
    (problem,) = errors(check_data(graph, digits))
    output = graph.output_nodes()[0]
    assert problem.node_id == output.id
    assert problem.message == (
        "output dense_2 (Dense) has 1 unit but digits has 10 classes: "
        "set units=10 and activation=softmax"
    )


def test_wrong_number_of_units(digits):
    (problem,) = errors(check_data(mlp(units=3), digits))
    assert "has 3 units but digits has 10 classes: set units=10" in problem.message


def test_input_shape_mismatch_names_the_input(digits):
    graph = mlp(input_shape=(32,))
    (problem,) = errors(check_data(graph, digits))
    assert problem.node_id == graph.input_nodes()[0].id
    assert problem.message == (
        "input_1 (Input): shape (32,) does not fit digits samples of shape (64,): set shape=[64]"
    )


def test_same_size_different_shape_is_reshaped_with_a_warning(digits):
    problems = check_data(mlp(input_shape=(8, 8, 1)), digits)
    assert errors(problems) == []
    assert "samples will be reshaped" in problems[0].message


def test_multi_input_sizes_must_add_up(digits):
    graph = load_graph("examples/multi_input.yaml")
    graph.set_params(graph.find("bottom_half").id, shape=[16])
    (problem,) = errors(check_data(graph, digits))
    assert "take 48 values per sample together but digits samples hold 64" in problem.message


def test_regression_loss_on_classes(digits):
    graph = mlp(loss="mean_squared_error")
    (problem,) = errors(check_data(graph, digits))
    assert "loss mean_squared_error is for regression" in problem.message


def test_binary_crossentropy_with_several_units():
    dataset = load_dataset({"name": "moons", "samples": 100})
    graph = mlp(input_shape=(2,), units=2, loss="binary_crossentropy")
    (problem,) = errors(check_data(graph, dataset))
    assert "set loss=sparse_categorical_crossentropy" in problem.message


def test_classifier_output_activation_warning():
    dataset = load_dataset({"name": "moons", "samples": 100})
    problems = check_data(mlp(input_shape=(2,), units=2, activation="relu"), dataset)
    assert [p.severity for p in problems] == [WARNING]
    assert "should use activation=softmax" in problems[0].message


def test_regression_output_checks():
    sine = load_dataset({"name": "sine", "samples": 100})
    wide = mlp(input_shape=(20, 1), units=4, activation="linear")
    (problem,) = errors(check_data(wide, sine))
    assert "targets have shape (None, 1): set units=1 and activation=linear" in problem.message
    softmax = mlp(input_shape=(20, 1), units=1, activation="softmax")
    (problem,) = errors(check_data(softmax, sine))
    assert "applies softmax to 1 unit" in problem.message
    metric = mlp(input_shape=(20, 1), units=1, activation="linear", metrics=("accuracy",))
    problems = check_data(metric, sine)
    assert errors(problems) == []
    assert "metrics accuracy apply to classification" in problems[0].message


def test_reconstruction_needs_the_input_shape():
    dataset = load_dataset({"name": "digits", "target": "inputs"})
    graph = mlp(units=32, activation="linear")
    (problem,) = errors(check_data(graph, dataset))
    assert "reconstructing digits needs the input's shape (None, 64)" in problem.message


def test_settings_warnings(digits):
    graph = mlp(batch_size=5000)
    problems = check_data(graph, digits)
    assert "batch_size 5000 is larger than the 1293 training samples" in problems[0].message


def test_numbers_written_with_a_comma_are_named_as_such(tmp_path):
    """'1,000' and '2,5' are read as categories: the check says so, for a feature and the target."""
    rows = [f'"{1 + i % 7},{i:03d}",{i % 3}.5,"{i % 4},5"' for i in range(40)]
    path = tmp_path / "prices.csv"
    path.write_text("price,size,weight\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dataset = load_dataset({"source": "csv", "path": str(path), "stratify": False})
    graph = mlp(input_shape=(len(dataset.feature_names),), units=dataset.num_classes)
    messages = [p.message for p in check_data(graph, dataset) if p.severity == WARNING]
    (feature,) = [m for m in messages if m.startswith("column 'price'")]
    assert "holds numbers written with a comma (e.g. '1,000'): they are read as " in feature
    assert "categories, not as numbers; write them with '.' for decimals" in feature
    (target,) = [m for m in messages if m.startswith("target column 'weight'")]
    assert "(e.g. '0,5'): they are read as 4 classes, not as values to predict" in target
    assert not [m for m in messages if "'size'" in m]  # numbers with '.' are numbers


def test_categories_with_a_few_numbers_in_them_are_left_alone(tmp_path):
    rows = [f"{['red', 'blue', 'green', 'teal'][i % 4]},{i}" for i in range(30)] + ['"1,5",99']
    path = tmp_path / "colours.csv"
    path.write_text("colour,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dataset = load_dataset({"source": "csv", "path": str(path), "stratify": False})
    graph = mlp(input_shape=(len(dataset.feature_names),), units=1, activation="linear")
    assert not [p for p in check_data(graph, dataset) if "comma" in p.message]


def test_a_word_in_a_column_of_numbers_is_named(tmp_path):
    """One typo turns a whole column of numbers into hundreds of one-hot features."""
    rng = np.random.default_rng(0)
    rows = [f"{rng.normal():.3f},{rng.normal():.3f},{'abc'[i % 3]}" for i in range(120)]
    rows[40] = "oops," + rows[40].split(",", 1)[1]
    rows[41] = "n.a.," + rows[41].split(",", 1)[1]
    path = tmp_path / "typo.csv"
    path.write_text("x1,x2,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dataset = load_dataset({"source": "csv", "path": str(path)})
    graph = mlp(input_shape=(2,), units=3)
    messages = [p.message for p in check_data(graph, dataset) if p.severity == WARNING]
    (stray,) = [m for m in messages if m.startswith("column 'x1'")]
    assert "is read as " in stray and " categories, not as numbers, because 2 of its" in stray
    assert "'oops'" in stray and "'n.a.'" in stray
    assert "empty those cells to mark them missing" in stray
    assert not [m for m in messages if "'x2'" in m or "'y'" in m]
    # training refuses the misfit and says why, warning included
    from runtime.trainer import Trainer

    failed = Trainer(graph, dataset).run()
    assert "does not fit typo.csv samples" in failed.message
    assert "  - warning: column 'x1' is read as " in failed.message
