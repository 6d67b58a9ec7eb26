"""The continual section: declared once, saved with the graph only when used, round-tripped."""

import pytest

from graph.files import GraphFileError, graph_from_yaml, graph_to_yaml
from graph.model import NetworkGraph
from graph.settings import (
    CONTINUAL_PARAMS,
    CONTINUAL_STRATEGIES,
    SECTIONS,
    STRATEGY_EXPLANATIONS,
    continual_files,
)


def test_the_section_is_registered_with_every_setting_explained():
    section = SECTIONS["continual"]
    assert section.params is CONTINUAL_PARAMS
    names = {p.name for p in CONTINUAL_PARAMS}
    assert {"split", "strategy", "buffer_size", "ewc_lambda", "lwf_alpha", "seed"} <= names
    assert all(p.help for p in CONTINUAL_PARAMS)
    assert set(STRATEGY_EXPLANATIONS) == set(CONTINUAL_STRATEGIES)


def test_defaults_are_not_written_but_changes_round_trip():
    graph = NetworkGraph()
    assert "continual:" not in graph_to_yaml(graph)
    graph.settings["continual"] = {
        **graph.settings["continual"],
        "strategy": "ewc",
        "ewc_lambda": 250.0,
        "split": "files",
        "files": "jan.csv; feb.csv",
        "scenario": "task_incremental",
    }
    text = graph_to_yaml(graph)
    assert "continual:" in text
    again = graph_from_yaml(text)
    assert again.settings["continual"] == graph.settings["continual"]
    assert continual_files(again.settings["continual"]["files"]) == ["jan.csv", "feb.csv"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("strategy: forget", "strategy must be one of"),
        ("buffer_size: 0", "buffer_size"),
        ("memory: 3", "continual has no setting 'memory'"),
    ],
)
def test_bad_values_are_named(entry, message):
    text = graph_to_yaml(NetworkGraph()) + f"continual:\n  {entry}\n"
    with pytest.raises(GraphFileError, match=message):
        graph_from_yaml(text)
