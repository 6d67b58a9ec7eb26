"""Bad continual input: a clear message naming what is wrong, and nothing trained."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.files import graph_to_yaml
from graph.settings import DATASET_PARAMS, default_section
from runtime.continual import ContinualError
from runtime.continual.tasks import build_sequence
from runtime.events import RoundEnd, RunFailed
from runtime.runs import RunRequest
from runtime.runs.local import run_inline
from tests.runtime.continual_helpers import split_digits_graph
from tests.runtime.runtime_helpers import mlp


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def monthly_rows(months=("jan", "feb", "mar"), per_month=30, seed=0):
    rng = np.random.default_rng(seed)
    return [
        [round(float(rng.normal()), 3), round(float(rng.normal()), 3), month, ["a", "b"][i % 2]]
        for month in months
        for i in range(per_month)
    ]


def csv_dataset(path, **extra):
    return {**default_section(DATASET_PARAMS), "source": "csv", "path": str(path), **extra}


def fails_without_training(graph, base_dir=None, options=None):
    """Runs the continual kind; returns its failure message after checking no task trained."""
    events = []
    request = RunRequest("continual", graph_to_yaml(graph), base_dir, options or {})
    outcome = run_inline(request, events.append)
    assert isinstance(outcome, RunFailed), outcome
    assert not [e for e in events if isinstance(e, RoundEnd)]
    assert "Traceback" not in outcome.message and "Error:" not in outcome.message
    return outcome


def test_a_split_that_leaves_a_task_with_one_class():
    outcome = fails_without_training(split_digits_graph(classes_per_task=3))
    assert "leaves task 4 (9) with one class" in outcome.message
    assert "choose classes_per_task 2 or 4 or 5" in outcome.message  # 10 = 4 + 4 + 2


def test_three_classes_are_too_few_for_two_tasks_and_the_advice_says_so():
    """It advised a classes_per_task that divides 3: the only one, 3, makes a single task."""
    iris = {**default_section(DATASET_PARAMS), "name": "iris"}
    with pytest.raises(ContinualError, match="3 classes are too few for 2 such tasks"):
        build_sequence(iris, {"classes_per_task": 2})


def test_more_classes_per_task_than_the_data_has():
    with pytest.raises(ContinualError, match="classes_per_task is 12 but digits has only 10"):
        build_sequence(default_section(DATASET_PARAMS), {"classes_per_task": 12})


def test_a_column_that_does_not_exist(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "month", "label"], monthly_rows())
    with pytest.raises(ContinualError) as caught:
        build_sequence(csv_dataset(path), {"split": "column", "column": "week"})
    assert "no column 'week' to split by" in str(caught.value)
    assert "month" in str(caught.value)


def test_split_by_column_needs_a_csv_and_a_column(tmp_path):
    with pytest.raises(ContinualError, match="needs a CSV dataset"):
        build_sequence(default_section(DATASET_PARAMS), {"split": "column", "column": "m"})
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "month", "label"], monthly_rows())
    with pytest.raises(ContinualError, match="needs the column's name"):
        build_sequence(csv_dataset(path), {"split": "column"})


def test_split_by_column_cuts_tasks_in_order(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "month", "label"], monthly_rows())
    sequence = build_sequence(csv_dataset(path), {"split": "column", "column": "month"})
    assert sequence.names == ["feb", "jan", "mar"]
    assert sequence.input_shape == (2,)  # the month is not a feature
    assert all(task.classes == (0, 1) for task in sequence.tasks)


def test_a_task_with_one_class(tmp_path):
    rows = monthly_rows() + [[0.1, 0.2, "apr", "a"]] * 12
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "month", "label"], rows)
    with pytest.raises(ContinualError, match="task 'apr' holds one class \\('a'\\)"):
        build_sequence(csv_dataset(path), {"split": "column", "column": "month"})


def test_an_empty_task_file(tmp_path):
    write_csv(tmp_path / "a.csv", ["x1", "x2", "label"], [r[:2] + r[3:] for r in monthly_rows()])
    write_csv(tmp_path / "b.csv", ["x1", "x2", "label"], [])
    with pytest.raises(ContinualError, match="b.csv: has a header row but no data rows"):
        build_sequence(csv_dataset(""), {"split": "files", "files": "a.csv; b.csv"}, tmp_path)


def test_files_whose_features_do_not_match(tmp_path):
    rows = [r[:2] + r[3:] for r in monthly_rows()]
    write_csv(tmp_path / "a.csv", ["x1", "x2", "label"], rows)
    write_csv(tmp_path / "b.csv", ["x1", "x3", "label"], rows)
    with pytest.raises(ContinualError) as caught:
        build_sequence(csv_dataset(""), {"split": "files", "files": "a.csv;b.csv"}, tmp_path)
    message = str(caught.value)
    assert "b.csv: its features do not match a.csv's" in message
    assert "missing x2" in message and "extra x3" in message
    np.savez(tmp_path / "c.npz", x=np.zeros((40, 3)), y=np.arange(40) % 2)
    np.savez(tmp_path / "d.npz", x=np.zeros((40, 4)), y=np.arange(40) % 2)
    with pytest.raises(ContinualError, match="d.npz: samples of shape \\(4,\\) do not match"):
        build_sequence(csv_dataset(""), {"split": "files", "files": "c.npz;d.npz"}, tmp_path)


def test_files_that_do_not_fit_the_graph(tmp_path):
    rows = [r[:2] + r[3:] for r in monthly_rows()]
    write_csv(tmp_path / "a.csv", ["x1", "x2", "label"], rows)
    write_csv(tmp_path / "b.csv", ["x1", "x2", "label"], rows)
    graph = split_digits_graph(split="files", files="a.csv; b.csv")
    graph.dataset.update({"source": "csv", "path": "a.csv"})
    outcome = fails_without_training(graph, tmp_path)
    assert "does not fit the task sequence" in outcome.message
    assert outcome.node_id == graph.input_nodes()[0].id


def test_a_single_file_is_not_a_sequence(tmp_path):
    with pytest.raises(ContinualError, match="at least 2 data files"):
        build_sequence(csv_dataset(""), {"split": "files", "files": "a.csv"}, tmp_path)


def test_a_buffer_larger_than_the_data():
    outcome = fails_without_training(
        split_digits_graph(buffer_size=5000), options={"strategies": ["naive", "replay"]}
    )
    assert "buffer_size is 5000 but the whole sequence has 1437 training samples" in (
        outcome.message
    )


def test_an_unknown_strategy_in_the_options():
    outcome = fails_without_training(split_digits_graph(), options={"strategies": ["forget"]})
    assert "unknown strategy 'forget'" in outcome.message


def test_a_regression_graph_is_refused():
    graph = mlp(input_shape=(1,), units=1, activation="linear", dataset={"name": "sine"})
    graph.training["loss"] = "mean_squared_error"
    outcome = fails_without_training(graph)
    assert "regression" in outcome.message


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.floats(-5, 5), st.just("")),
            st.sampled_from(["jan", "feb", "", "mar"]),
            st.sampled_from(["a", "b", "c", ""]),
        ),
        min_size=0,
        max_size=40,
    ),
    column=st.sampled_from(["month", "x", "label", "nope"]),
)
def test_any_csv_split_by_a_column_gives_tasks_or_a_clear_error(tmp_path, rows, column):
    path = write_csv(tmp_path / "fuzz.csv", ["x", "month", "label"], rows)
    try:
        sequence = build_sequence(csv_dataset(path), {"split": "column", "column": column})
    except ContinualError as error:
        assert str(error) and "Traceback" not in str(error)
        return
    assert len(sequence.tasks) >= 2
    for task in sequence.tasks:
        assert len(task.x_train) and len(task.x_test) and len(task.classes) >= 2
