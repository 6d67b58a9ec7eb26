"""Fuzzing graph files: every bad file gets a GraphFileError, nothing else, never half a graph.

Three kinds of input: valid files mutated as text (characters and lines
inserted, deleted, swapped), valid files mutated as data (any field replaced
by any YAML value), and random text and bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.files import GraphFileError, graph_from_yaml, graph_to_yaml, load_graph
from graph.model import NetworkGraph
from tests.graph.graph_state import snapshot
from tests.graph.test_messages import assert_quotes_briefly

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDS = [path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.yaml"))]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that matter to YAML's syntax, plus some that must never crash it.
YAML_CHARACTERS = st.sampled_from(list(":-[]{},#&*!|>'\"%@`?\n\t ") + ["\x00", "\ufeff", "é"])
SNIPPETS = st.text(YAML_CHARACTERS | st.characters(blacklist_categories=("Cs",)), max_size=12)
YAML_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["Dense", "Input", "n1", "n2", "relu", "deepwire-graph", "adam"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=4)
    ),
    max_leaves=10,
)


def load_cleanly(text: str) -> NetworkGraph | None:
    """Loads `text`; None for a refused file. Anything but GraphFileError fails the test."""
    try:
        graph = graph_from_yaml(text, "fuzz.yaml")
    except GraphFileError as error:
        assert str(error).startswith("fuzz.yaml")
        assert_quotes_briefly(str(error))
        return None
    assert_complete(graph, text)
    return graph


def assert_complete(graph: NetworkGraph, text: str) -> None:
    """A loaded graph holds every node and edge of its file and survives a round trip."""
    # Parsed as graph.files parses it: libyaml when present, which accepts a
    # few things (a tab before a colon) that PyYAML's pure-Python parser refuses.
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert len(graph) == len(data["nodes"])
    assert len(graph.edges) == len(data.get("edges") or [])
    assert snapshot(graph_from_yaml(graph_to_yaml(graph))) == snapshot(graph)


@st.composite
def text_mutations(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "swap_lines", "drop_line"]))
        position = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:position] + draw(SNIPPETS) + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif kind == "replace":
            text = text[:position] + draw(SNIPPETS) + text[position + len(draw(SNIPPETS)) :]
        else:
            lines = text.split("\n")
            first = draw(st.integers(0, len(lines) - 1))
            second = draw(st.integers(0, len(lines) - 1))
            if kind == "swap_lines":
                lines[first], lines[second] = lines[second], lines[first]
            else:
                del lines[first]
            text = "\n".join(lines)
    return text


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every field path of `data` (mapping keys and list indices)."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def data_mutations(draw: st.DrawFn) -> str:
    data = yaml.safe_load(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            parent[path[-1]] = draw(YAML_VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@FUZZ
@given(text_mutations())
def test_text_mutations_of_valid_files(text):
    load_cleanly(text)


@FUZZ
@given(data_mutations())
def test_data_mutations_of_valid_files(text):
    load_cleanly(text)


@FUZZ
@given(st.text(max_size=200) | st.text(YAML_CHARACTERS, max_size=200))
def test_random_text(text):
    load_cleanly(text)


@FUZZ
@given(YAML_VALUES)
def test_random_yaml_documents(value):
    load_cleanly(yaml.safe_dump(value))
    load_cleanly(yaml.safe_dump({"format": "deepwire-graph", "version": 1, "nodes": value}))
    load_cleanly(
        yaml.safe_dump({"format": "deepwire-graph", "version": 1, "nodes": [], "edges": value})
    )


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_on_disk(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "file.yaml"
    path.write_bytes(data)
    try:
        load_graph(path)
    except GraphFileError as error:
        assert str(error).startswith(str(path))


def test_unmutated_seeds_load():
    assert all(load_cleanly(text) is not None for text in SEEDS)
