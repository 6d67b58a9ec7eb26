"""Tuning ranges are checked before the first trial, with the allowed range in the message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.files import save_graph
from graph.model import SetSettings
from graph.params import ParamError
from main import main
from runtime.tuning import SearchSpace, SearchSpaceError, Tuner, check_search_space
from tests.runtime.runtime_helpers import mlp, tiny_dataset

DATA = tiny_dataset([[0.0, 1.0]] * 30, [0, 1] * 15)


def graph_file(tmp_path):
    graph = mlp(input_shape=(4,), units=3, hidden=8, dataset={"name": "iris"}, epochs=1)
    path = tmp_path / "iris.yaml"
    save_graph(graph, path)
    return path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lr", "0.1", "100"], "learning rate range must lie within 1e-08 to 10"),
        (["--batch-sizes", "16", "100000"], "batch sizes must lie within 1 to 108"),
        (["--batch-sizes", "109"], "Received: 109"),
    ],
)
def test_cli_refuses_out_of_range_searches_before_any_trial(tmp_path, capsys, args, expected):
    assert main(["tune", str(graph_file(tmp_path)), "--trials", "2", *args]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "trial 0" not in err and "Traceback" not in err


def test_the_tuner_checks_before_its_first_trial():
    events = []
    graph = mlp(input_shape=(2,), units=2, hidden=4)
    tuner = Tuner(graph, DATA, SearchSpace(learning_rate=(1e-3, 50.0)), 3, on_event=events.append)
    with pytest.raises(SearchSpaceError, match="within 1e-08 to 10"):
        tuner.run()
    assert events == []


@settings(max_examples=200, deadline=None)
@given(
    st.floats(1e-12, 1e3),
    st.floats(1e-12, 1e3),
    st.lists(st.integers(-5, 200_000), min_size=1, max_size=4),
)
def test_accepted_ranges_are_exactly_those_every_trial_can_use(low, high, sizes):
    space = SearchSpace(learning_rate=(low, high), batch_sizes=tuple(sizes))
    graph = mlp(input_shape=(2,), units=2, hidden=4)
    usable = low <= high and all(1 <= size <= len(DATA.x_train) for size in sizes)
    for rate in (low, high):
        for size in sizes:
            try:
                graph.copy().apply(
                    SetSettings("training", {"learning_rate": rate, "batch_size": size})
                )
            except ParamError:
                usable = False
    try:
        check_search_space(space, DATA)
    except SearchSpaceError as error:
        assert not usable, error
    else:
        assert usable
