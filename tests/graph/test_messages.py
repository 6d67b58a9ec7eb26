"""Messages quote received values briefly and print names with invisible characters escaped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.files import GraphFileError, graph_from_yaml, graph_to_yaml
from graph.messages import EXCERPT_CHARS, bounded_lines, excerpt, first_line, printable
from graph.model import NetworkGraph
from graph.summary import summary_table
from graph.validation import validate

ROOT = Path(__file__).resolve().parents[2]
# A message may name a few things and list a catalog's choices, never a whole value.
MESSAGE_CHARS = 1_500
TRICKY = ["\u202e", "\u2066", "\u200b", "\x1b[2J", "\x00", "\r", "\x85", "\u2028"]


def assert_quotes_briefly(message: str) -> None:
    """A message is short and shows no control or bidirectional character raw."""
    assert len(message) <= MESSAGE_CHARS, message[:300]
    raw = [char for char in message if not (char.isprintable() or char == "\n")]
    assert not raw, (raw, message[:300])


def graph_text(**node_fields) -> str:
    node = {"id": "n1", "type": "Input", "name": "input_1", "params": {"shape": [4]}}
    node.update(node_fields)
    data = {"format": "deepwire-graph", "version": 1, "nodes": [node]}
    return yaml.safe_dump(data, allow_unicode=True)


def load_error(text: str) -> str:
    try:
        graph_from_yaml(text, "g.yaml")
    except GraphFileError as error:
        return str(error)
    raise AssertionError("the file was accepted")


def test_excerpt_is_bounded_and_says_how_long_the_value_was():
    shown = excerpt("x" * 2_000_000)
    assert len(shown) < EXCERPT_CHARS + 40
    assert "2,000,000 characters" in shown
    assert len(excerpt(list(range(10**6)))) <= EXCERPT_CHARS + 2
    assert len(excerpt({str(i): [[[i]]] for i in range(1000)})) <= EXCERPT_CHARS + 2
    assert excerpt("relu") == "'relu'"
    assert excerpt(3) == "3"


def test_printable_escapes_invisible_characters_and_bounds_length():
    assert printable("a\u202eb") == "a\\u202eb"
    assert printable("dense 1") == "dense 1"
    assert printable("x\x1b[2Jy\n") == "x\\x1b[2Jy\\n"
    assert len(printable("n" * 10_000)) <= 70
    assert_quotes_briefly(printable("".join(TRICKY)))


def test_first_line_and_bounded_lines():
    assert first_line(ValueError("a" * 10_000 + "\nsecond")).startswith("aaa")
    assert len(first_line(ValueError("a" * 10_000))) < 300
    assert first_line(ValueError()) == "ValueError"
    lines = bounded_lines([f"line {i}" for i in range(5000)])
    assert len(lines) == 21 and lines[-1] == "... and 4,980 more"


def test_a_huge_string_parameter_is_quoted_briefly():
    message = load_error(graph_text(params={"shape": "9" * 2_000_000}))
    assert "shape" in message
    assert_quotes_briefly(message)


def test_a_huge_unknown_key_and_type_are_quoted_briefly():
    assert_quotes_briefly(load_error(graph_text(type="T" * 300_000)))
    assert_quotes_briefly(load_error(graph_text(params={"k" * 300_000: 1})))
    assert_quotes_briefly(load_error(graph_text(id=["x"] * 100_000)))


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40).map(lambda t: t + "".join(TRICKY[:3])))
def test_node_names_are_printed_escaped_in_validation_and_summaries(name):
    graph = NetworkGraph(name)
    source = graph.add_node("Input", name, {"shape": [3]})
    target = graph.add_node("Dense", name, {"units": 2})
    graph.connect(source.id, target.id)
    messages = [problem.message for problem in validate(graph)]
    assert messages
    for message in messages:
        assert_quotes_briefly(message)
    for line in summary_table(graph).splitlines():
        assert_quotes_briefly(line)


def test_cli_validate_prints_a_bidi_name_escaped(tmp_path):
    graph = NetworkGraph("m")
    graph.add_node("Input", "evil\u202eexe.txt", {"shape": [3]})
    path = tmp_path / "g.yaml"
    path.write_text(graph_to_yaml(graph), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "validate", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    output = result.stdout + result.stderr
    assert "evil\\u202eexe.txt" in output
    assert "\u202e" not in output
