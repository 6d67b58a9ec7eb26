"""Comparing runs: graph diffs, the settings that tell runs apart, and restoring a graph."""

from __future__ import annotations

from pathlib import Path

from graph.diff import (
    MISSING,
    describe_diff,
    describe_settings_diff,
    differing_nodes,
    differing_settings,
    flat_settings,
    graph_diff,
)
from graph.files import graph_to_yaml, load_graph
from graph.model import AddEdge, AddNode, Edge, Node, RemoveEdge, RemoveNode, SetParams
from graph.replace import replace_contents

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _digits():
    return load_graph(EXAMPLES / "mlp_digits.yaml")


def test_an_unchanged_graph_has_an_empty_diff():
    assert graph_diff(_digits(), _digits()).empty


def test_diff_names_added_removed_and_changed_nodes_and_edges():
    old, new = _digits(), _digits()
    RemoveNode("n3").apply(new)  # the dropout and both its edges
    AddNode(Node("n9", "Dropout", "dropout_9", {"rate": 0.5})).apply(new)
    AddEdge(Edge("n2", "n9")).apply(new)
    AddEdge(Edge("n9", "n4")).apply(new)
    SetParams("n2", {"units": 128}).apply(new)
    diff = graph_diff(old, new)
    assert diff.added_nodes == ["n9"] and diff.removed_nodes == ["n3"]
    assert [(c.node_id, c.changes) for c in diff.changed_nodes] == [("n2", {"units": (64, 128)})]
    assert diff.added_edges == [Edge("n2", "n9"), Edge("n9", "n4")]
    assert diff.removed_edges == [Edge("n2", "n3"), Edge("n3", "n4")]
    assert diff.touched_nodes == {"n9", "n2"}
    assert differing_nodes([old, new, old]) == {"n2", "n3", "n4", "n9"}  # n4: rewired
    assert differing_nodes([old]) == set()
    lines = describe_diff(old, new, diff)
    assert "added dropout_9 (Dropout)" in lines
    assert "removed dropout_1 (Dropout)" in lines
    assert "dense_1 (Dense): units 64 -> 128" in lines
    assert "disconnected dropout_1 (Dropout) -> dense_2 (Dense) (input 0)" in lines


def test_a_param_set_in_one_graph_only_is_a_change_from_not_set():
    old, new = _digits(), _digits()
    SetParams("n2", {"use_bias": False}).apply(new)
    (change,) = graph_diff(old, new).changed_nodes
    assert change.changes == {"use_bias": (old.node("n2").params.get("use_bias", MISSING), False)}


def test_differing_settings_keeps_only_what_tells_runs_apart():
    first, second, third = _digits(), _digits(), _digits()
    second.training["learning_rate"] = 0.01
    third.training["epochs"] = 3
    flat = [
        flat_settings(first.settings),
        flat_settings(second.settings),
        flat_settings(third.settings, {"epochs": 2}),
    ]
    differing = differing_settings(flat)
    assert differing == {
        "training.learning_rate": [0.001, 0.01, 0.001],
        "training.epochs": [10, 10, 3],
        "run.epochs": [MISSING, MISSING, 2],
    }


def test_settings_differences_read_as_lines():
    old, new = _digits(), _digits()
    new.training["learning_rate"] = 0.01
    lines = describe_settings_diff(flat_settings(old.settings), flat_settings(new.settings))
    assert lines == ["training.learning_rate 0.001 -> 0.01"]


def test_differing_settings_of_one_run_or_identical_runs_is_empty():
    assert differing_settings([flat_settings(_digits().settings)]) == {}
    assert (
        differing_settings([flat_settings(_digits().settings), flat_settings(_digits().settings)])
        == {}
    )
    assert differing_settings([]) == {}


def test_replace_contents_makes_the_target_and_its_inverse_gives_the_original_back():
    current, target = _digits(), load_graph(EXAMPLES / "residual_mlp.yaml")
    before = graph_to_yaml(current)
    inverse = replace_contents(current, target, "Restore run 1").apply(current)
    after = graph_to_yaml(current)
    assert graph_diff(target, current).empty
    assert current.settings == target.settings
    inverse.apply(current)
    assert graph_to_yaml(current) == before
    assert after != before


def test_replace_contents_over_a_graph_sharing_ids_keeps_edges():
    current, target = _digits(), _digits()
    RemoveEdge(Edge("n2", "n3")).apply(current)
    replace_contents(current, target, "Restore").apply(current)
    assert set(current.edges) == set(target.edges)
