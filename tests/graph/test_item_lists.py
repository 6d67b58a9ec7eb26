"""Vocabularies typed as text: parsed one rule, refused with a message naming what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.catalog import CATALOG
from graph.files import GraphFileError, graph_from_yaml, graph_to_yaml
from graph.item_lists import items_text, parse_items
from graph.model import NetworkGraph
from graph.params import ParamError
from graph.validation import ERROR, validate

WORDS = CATALOG["StringLookup"].param_index["vocabulary"]
CODES = CATALOG["IntegerLookup"].param_index["vocabulary"]
# Tokens a user can type: no line breaks, no spaces around them.
TOKENS = st.text(min_size=1, max_size=8).map(lambda t: "".join(t.splitlines()).strip()).filter(bool)


def test_lines_commas_and_blank_text():
    assert parse_items("red, green ,blue") == ["red", "green", "blue"]
    assert parse_items("red\n\n  light, blue \r\n") == ["red", "light, blue"]
    assert parse_items(" \n ") is None
    assert parse_items("7, -2, +3, x1", integers=True) == [7, -2, 3, "x1"]


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (WORDS, parse_items("red, red"), "vocabulary lists 'red' more than once; each item"),
        (WORDS, parse_items("red,,blue"), "vocabulary: item 2 is empty; every item needs text"),
        (WORDS, ["red", 3], "vocabulary must contain strings; item 2 is not. Received: 3"),
        (WORDS, "red", "vocabulary must be a list of strings. Received: 'red'"),
        (CODES, parse_items("7, seven", True), "must contain integers. Received: [7, 'seven']"),
        (CODES, parse_items("7, 7", True), "vocabulary lists 7 more than once"),
        (CODES, [1.5], "vocabulary must contain integers"),
    ],
)
def test_bad_vocabularies_are_refused_naming_the_problem(param, value, message):
    """As typed in the inspector (parsed), or as a file holds them (lists, a lone string)."""
    with pytest.raises(ParamError) as error:
        param.coerce(value)
    assert message in str(error.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=6, unique=True))
def test_shown_vocabularies_read_back_as_they_were(tokens):
    assert WORDS.coerce(parse_items(items_text(tokens))) == tuple(tokens)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=6, unique=True))
def test_shown_codes_read_back_as_they_were(codes):
    assert CODES.coerce(parse_items(items_text(codes), integers=True)) == tuple(codes)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30), st.booleans())
def test_any_typed_text_is_a_vocabulary_or_a_clear_refusal(text, integers):
    param = CODES if integers else WORDS
    try:
        value = param.coerce(parse_items(text, integers=integers))
    except ParamError as error:
        assert str(error).startswith("vocabulary")
        return
    assert value is None or (len(set(value)) == len(value) and all(v != "" for v in value))


def _lookup_file(vocabulary: str) -> str:
    return f"""format: deepwire-graph
version: 1
name: colours
nodes:
- {{id: n1, type: Input, name: colour_in, params: {{shape: [1], dtype: string}}}}
- {{id: n2, type: StringLookup, name: colour, params: {{vocabulary: {vocabulary}}}}}
edges:
- {{source: n1, target: n2, port: 0}}
"""


def test_a_graph_file_keeps_its_vocabulary_and_refuses_a_repeated_token_with_its_line():
    graph = graph_from_yaml(_lookup_file("[red, 'light, blue']"))
    assert graph.find("colour").params["vocabulary"] == ("red", "light, blue")
    assert graph_from_yaml(graph_to_yaml(graph)).find("colour").params["vocabulary"] == (
        "red",
        "light, blue",
    )
    repeated = r":6:\d+: nodes\[1\]\.params\.vocabulary lists 'red' more than once"
    with pytest.raises(GraphFileError, match=repeated):
        graph_from_yaml(_lookup_file("[red, red]"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"vocabulary": ("red", "[UNK]")},
            "colour (StringLookup): vocabulary lists the oov_token '[UNK]': leave it out",
        ),
        (
            {"vocabulary": ("red", "blue", "green"), "max_tokens": 3},
            "colour (StringLookup): vocabulary holds 3 tokens, and with the 1 the layer adds that "
            "is more than max_tokens 3",
        ),
    ],
)
def test_a_vocabulary_that_cannot_work_is_a_problem_on_its_node(params, message):
    graph = graph_from_yaml(_lookup_file("[red]"))
    node = graph.find("colour")
    graph.set_params(node.id, **params)
    problems = [p for p in validate(graph) if p.severity == ERROR]
    assert [(p.node_id, p.message[: len(message)]) for p in problems] == [(node.id, message)]


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ((18.0, 65.0, 40.0), "must be increasing, each edge above the one before"),
        ((18.0, 18.0), "must be increasing"),
    ],
)
def test_fixed_bin_edges_must_increase_and_be_finite(edges, message):
    graph = NetworkGraph("ages")
    source = graph.add_node("Input", "age_in", {"shape": [1]})
    node = graph.add_node("Discretization", "age", {"num_bins": None})
    graph.connect(source.id, node.id)
    with pytest.raises(
        ParamError, match=r"age \(Discretization\): bin_boundaries must contain finite"
    ):
        graph.set_params(node.id, bin_boundaries=(18.0, float("inf")))
    graph.set_params(node.id, bin_boundaries=edges)
    problems = [p for p in validate(graph) if p.severity == ERROR]
    assert [(p.node_id, message in p.message) for p in problems] == [(node.id, True)]
