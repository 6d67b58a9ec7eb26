"""Graph files: round trips, examples, located error messages, atomic save, migrations."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from graph import files
from graph.files import GraphFileError, graph_from_yaml, graph_to_yaml, load_graph, save_graph
from graph.generators import branched_graph, chain_graph
from graph.model import Edge
from graph.settings import SECTIONS
from graph.validation import is_valid, validate
from tests.graph.graph_state import snapshot
from tests.graph.strategies import graphs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REQUIRED_EXAMPLES = (
    "mlp_digits.yaml",
    "cnn_digits.yaml",
    "lstm_sequences.yaml",
    "residual_mlp.yaml",
    "multi_input.yaml",
    "autoencoder.yaml",
)

# Top-level keys a file may hold: fixed ones, then every registered settings section.
KNOWN_KEYS = "format, version, name, description, nodes, edges, blocks, " + ", ".join(SECTIONS)

BASE = """\
format: deepwire-graph
version: 1
name: Test
nodes:
- {id: n1, type: Input, name: input_1, params: {shape: [64]}, position: [0, 0]}
- {id: n2, type: Dense, name: dense_1, params: {units: 64}, position: [220, 0]}
edges:
- {source: n1, target: n2, port: 0}
"""


def test_base_file_loads_with_defaults_filled_in():
    graph = graph_from_yaml(BASE, "t.yaml")
    assert graph.name == "Test"
    assert graph.description == ""
    assert [(n.id, n.type, n.name) for n in graph.nodes] == [
        ("n1", "Input", "input_1"),
        ("n2", "Dense", "dense_1"),
    ]
    assert graph.node("n2").params["units"] == 64
    assert graph.node("n2").params["activation"] == "linear"
    assert graph.node("n2").position == (220.0, 0.0)
    assert graph.edges == [Edge("n1", "n2", 0)]
    assert graph.training["optimizer"] == "adam"
    assert graph.dataset["name"] == "digits"


def test_yaml_text_is_stable_and_readable():
    graph = graph_from_yaml(BASE, "t.yaml")
    text = graph_to_yaml(graph)
    assert list(yaml.safe_load(text)) == [
        "format",
        "version",
        "name",
        "description",
        "nodes",
        "edges",
        "training",
        "dataset",
    ]
    # Key and non-default params only, tuples as flow lists, one line per node and edge.
    assert "- {id: n1, type: Input, name: input_1, params: {shape: [64]}, position: [0, 0]}\n" in (
        text
    )
    assert (
        "- {id: n2, type: Dense, name: dense_1, params: {units: 64, activation: linear}, "
        "position: [220, 0]}\n" in text
    )
    assert "- {source: n1, target: n2, port: 0}\n" in text
    assert "  metrics: [accuracy]\n" in text
    assert graph_to_yaml(graph_from_yaml(text)) == text


def test_positions_are_rounded_to_a_tenth():
    graph = graph_from_yaml(BASE)
    graph.node("n1").position = (12.3456, -7.0)
    assert "position: [12.3, -7]" in graph_to_yaml(graph)


def test_finer_positions_in_a_file_load_as_they_would_save():
    # Found by the fuzz test: 0.25 saved as 0.2, so a second load differed.
    text = BASE.replace("position: [0, 0]", "position: [0.25, 0.04]", 1)
    assert text != BASE
    graph = graph_from_yaml(text)
    assert graph.node("n1").position == (0.2, 0.0)
    assert graph_from_yaml(graph_to_yaml(graph)).node("n1").position == (0.2, 0.0)


def test_multiline_description_is_written_as_a_block():
    graph = graph_from_yaml(BASE)
    graph.description = "First line.\nSecond line."
    text = graph_to_yaml(graph)
    assert "description: |-\n  First line.\n  Second line.\n" in text
    assert graph_from_yaml(text).description == graph.description


@pytest.mark.parametrize("build", [chain_graph, branched_graph])
def test_generated_graphs_round_trip(tmp_path, build):
    graph = build(40)
    path = tmp_path / "graph.yaml"
    save_graph(graph, path)
    assert snapshot(load_graph(path)) == snapshot(graph)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_save_then_load_is_lossless(graph):
    assert snapshot(graph_from_yaml(graph_to_yaml(graph))) == snapshot(graph)


@pytest.mark.parametrize("name", REQUIRED_EXAMPLES)
def test_every_required_example_exists(name):
    assert (EXAMPLES / name).is_file()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_loads_validates_and_round_trips(path):
    graph = load_graph(path)
    problems = validate(graph)
    assert problems == []
    assert is_valid(problems)
    assert snapshot(graph_from_yaml(graph_to_yaml(graph))) == snapshot(graph)


def test_example_datasets_match_their_task():
    assert load_graph(EXAMPLES / "mlp_digits.yaml").dataset["name"] == "digits"
    assert load_graph(EXAMPLES / "cnn_digits.yaml").dataset["name"] == "digits_images"
    lstm = load_graph(EXAMPLES / "lstm_sequences.yaml")
    assert lstm.dataset["name"] == "sequence_classification"
    assert [n.type for n in lstm.nodes] == ["Input", "LSTM", "Dense"]
    assert load_graph(EXAMPLES / "autoencoder.yaml").dataset["target"] == "inputs"
    assert "Add" in {n.type for n in load_graph(EXAMPLES / "residual_mlp.yaml").nodes}
    multi = load_graph(EXAMPLES / "multi_input.yaml")
    assert len(multi.input_nodes()) == 2
    assert "Concatenate" in {n.type for n in multi.nodes}


def test_an_invalid_graph_still_loads():
    text = BASE.replace("params: {shape: [64]}", "params: {shape: [8, 8]}").replace(
        "units: 64", "units: 3"
    )
    graph = graph_from_yaml(text.replace("type: Dense", "type: Conv2D").replace("units", "filters"))
    assert [p.message for p in validate(graph)] == [
        "dense_1 (Conv2D): expects an input of rank 4, like (None, 28, 28, 3). "
        "Received: input shape (None, 8, 8)"
    ]


# Each case: (text in BASE, replacement, the whole error message).
BAD_FILES = [
    (
        "units: 64",
        "units: sixty",
        "t.yaml:6:56: nodes[1].params.units must be an integer. Received: 'sixty'",
    ),
    ("units: 64", "units: 0", "t.yaml:6:56: nodes[1].params.units must be >= 1. Received: 0"),
    (
        "units: 64",
        "unit: 64",
        "t.yaml:6:49: nodes[1].params: Dense has no parameter 'unit' "
        "(its parameters: units, activation, use_bias, kernel_initializer, bias_initializer, "
        "kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint, "
        "bias_constraint)",
    ),
    (
        "type: Dense",
        "type: Dence",
        "t.yaml:6:18: nodes[1].type: unknown layer type 'Dence' (node n2)",
    ),
    (
        "id: n2",
        "id: n1",
        "t.yaml:6:8: nodes[1].id 'n1' is already used by another node; node ids must be unique",
    ),
    ("target: n2", "target: n9", "t.yaml:8:24: edges[0].target: no node has the id 'n9'"),
    (
        "version: 1",
        "version: 2",
        "t.yaml:2:10: was written by a newer DeepWire (file version 2); "
        "this version reads files up to version 1",
    ),
    (
        "version: 1",
        "version: one",
        "t.yaml:2:10: version must be a positive integer. Received: 'one'",
    ),
    ("version: 1\n", "", "t.yaml:1:1: version is missing; expected 'version: 1'"),
    (
        "format: deepwire-graph",
        "format: other",
        "t.yaml:1:9: format must be 'deepwire-graph'. Received: 'other'",
    ),
    (
        "format: deepwire-graph\n",
        "",
        "t.yaml:1:1: is not a DeepWire graph file: 'format: deepwire-graph' is missing",
    ),
    (
        "name: Test",
        "nane: Test",
        "t.yaml:3:1: unknown top-level key 'nane'; expected one of " + KNOWN_KEYS,
    ),
    (
        "nodes:",
        "nodez:",
        "t.yaml:4:1: unknown top-level key 'nodez'; expected one of " + KNOWN_KEYS,
    ),
    ("name: Test", "name: [a]", "t.yaml:3:7: name must be a string. Received: ['a']"),
    (
        ", position: [220, 0]",
        ", position: [220]",
        "t.yaml:6:71: nodes[1].position must be [x, y] numbers. Received: [220]",
    ),
    (
        ", position: [220, 0]",
        ", position: [.inf, 0]",
        "t.yaml:6:71: nodes[1].position must be [x, y] numbers. Received: [inf, 0]",
    ),
    (
        ", position: [220, 0]",
        ", colour: red",
        "t.yaml:6:61: nodes[1] has an unknown key "
        "'colour'; expected id, type, name, params, position",
    ),
    ("name: dense_1, ", "", "t.yaml:6:3: nodes[1].name is missing"),
    (
        "- {source: n1, target: n2, port: 0}",
        "- {source: n1, target: n2, port: 0}\n- {source: n1, target: n2}",
        "t.yaml:9:3: edges[1]: input 0 of dense_1 (Dense) is already connected by edges[0]; "
        "a port takes one edge",
    ),
    (
        "port: 0",
        "port: -1",
        "t.yaml:8:34: edges[0].port must be an integer from 0 to 4095. Received: -1",
    ),
    # Once accepted: the canvas then drew every port of the Dense up to 10**12 (a hang).
    (
        "port: 0",
        "port: 1000000000000",
        "t.yaml:8:34: edges[0].port must be an integer from 0 to 4095. Received: 1000000000000",
    ),
    (
        "port: 0",
        "port: 0, source_port: 4096",
        "t.yaml:8:50: edges[0].source_port must be an integer from 0 to 4095. Received: 4096",
    ),
    (
        "edges:\n",
        "training: {optimizer: adams}\nedges:\n",
        "t.yaml:7:23: training.optimizer "
        "must be one of 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'nadam'. Received: 'adams'",
    ),
    (
        "edges:\n",
        "dataset: {source: parquet}\nedges:\n",
        "t.yaml:7:19: dataset.source must be one of 'builtin', 'csv', 'numpy', 'image_folder'. "
        "Received: 'parquet' (a Parquet file is a table: choose 'csv' and give its path)",
    ),
    (
        "edges:\n",
        "dataset: {test_size: 2.0}\nedges:\n",
        "t.yaml:7:22: dataset.test_size must be <= 0.9. Received: 2.0",
    ),
    (
        "edges:\n",
        "training: [1]\nedges:\n",
        "t.yaml:7:11: training must be a mapping. Received: a list",
    ),
    (
        "shape: [64]",
        "shape: [64, x]",
        "t.yaml:5:56: nodes[0].params.shape must contain integers. Received: [64, 'x']",
    ),
    (
        "[220, 0]}",
        "[220, 0]",
        "t.yaml:7:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping)",
    ),
    (
        "name: Test",
        "name: Test\nname: Again",
        "t.yaml:4:1: key 'name' appears twice in the same mapping",
    ),
    (
        "name: Test",
        "name: &a Test\ndescription: *a",
        "t.yaml:3:7: this value is reused by an alias (*name); graph files do not support "
        "anchors and aliases: write the value out",
    ),
    (
        "nodes:\n",
        "nodes: 3\nedges_old:\n",
        "t.yaml:5:1: unknown top-level key 'edges_old'; expected one of " + KNOWN_KEYS,
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_FILES, ids=lambda v: str(v)[:30])
def test_bad_file_errors_name_line_column_field_and_expectation(old, new, message):
    assert old in BASE
    with pytest.raises(GraphFileError) as caught:
        graph_from_yaml(BASE.replace(old, new, 1), "t.yaml")
    assert str(caught.value) == message


def test_error_carries_line_and_column():
    with pytest.raises(GraphFileError) as caught:
        graph_from_yaml(BASE.replace("units: 64", "units: sixty"), "t.yaml")
    assert (caught.value.source, caught.value.line, caught.value.column) == ("t.yaml", 6, 56)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "t.yaml: is empty; expected a DeepWire graph file"),
        (
            "- 1\n- 2",
            "t.yaml:1:1: must be a mapping starting with 'format: deepwire-graph'. "
            "Received: a list",
        ),
        ("a: 1\x00", "t.yaml:1:5: invalid YAML: character #x0000 is not allowed"),
        (
            "a: [1",
            "t.yaml:2:1: invalid YAML: did not find expected ',' or ']' "
            "(while parsing a flow sequence)",
        ),
        (
            "--- 1\n--- 2\n",
            "t.yaml:2:1: invalid YAML: but found another document "
            "(expected a single document in the stream)",
        ),
        # Once without a line and column: PyYAML raises these without a mark.
        ("a: 2020-13-45", "t.yaml:1:4: invalid YAML value: month must be in 1..12"),
        (
            "a: [1, {b: 2, c: !!int x}]",
            "t.yaml:1:18: invalid YAML value: invalid literal for int() with base 10: 'x'",
        ),
        (
            "a: !!python/object:os.system x",
            "t.yaml:1:4: invalid YAML: could not determine a "
            "constructor for the tag 'tag:yaml.org,2002:python/object:os.system'",
        ),
        (
            "[" * 5000,
            "t.yaml:1:1001: invalid YAML: exceeded maximum nesting depth "
            "(while increasing flow level)",
        ),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_malformed_yaml_gets_a_clean_error(text, message):
    with pytest.raises(GraphFileError) as caught:
        graph_from_yaml(text, "t.yaml")
    assert str(caught.value) == message


def test_load_names_the_file(tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text(BASE.replace("units: 64", "units: sixty"))
    with pytest.raises(GraphFileError, match=r"digits\.yaml:6:56: nodes\[1\]\.params\.units"):
        load_graph(path)


def test_missing_file_and_binary_file(tmp_path):
    with pytest.raises(GraphFileError, match=r"nothing\.yaml: cannot be read: No such file"):
        load_graph(tmp_path / "nothing.yaml")
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(GraphFileError, match=r"image\.yaml: is not UTF-8 text: byte 0x89"):
        load_graph(binary)


def test_a_file_without_name_is_named_after_itself(tmp_path):
    path = tmp_path / "my net.yaml"
    path.write_text(BASE.replace("name: Test\n", ""))
    assert load_graph(path).name == "my net"


def test_save_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("old content")
    os.chmod(path, 0o640)
    save_graph(graph_from_yaml(BASE), path)
    assert snapshot(load_graph(path)) == snapshot(graph_from_yaml(BASE, default_name="net"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]
    assert path.stat().st_mode & 0o777 == 0o640


def test_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "net.yaml"
    path.write_text("old content")

    def disk_full(_descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # Fault injection: the disk fills up while the new file is being flushed.
    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        save_graph(graph_from_yaml(BASE), path)
    assert path.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


def test_save_into_a_missing_folder_raises_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        save_graph(graph_from_yaml(BASE), tmp_path / "missing" / "net.yaml")


def test_migrations_upgrade_old_files_before_the_check(monkeypatch):
    def rename_units(data: dict) -> dict:
        for node in data["nodes"]:
            params = node.get("params", {})
            if "neurons" in params:
                params["units"] = params.pop("neurons")
        return data

    monkeypatch.setattr(files, "FORMAT_VERSION", 2)
    monkeypatch.setattr(files, "MIGRATIONS", {1: rename_units})
    graph = graph_from_yaml(BASE.replace("units: 64", "neurons: 12"))
    assert graph.node("n2").params["units"] == 12
    assert "version: 2\n" in graph_to_yaml(graph)


def test_a_missing_or_broken_migration_is_a_clean_error(monkeypatch):
    monkeypatch.setattr(files, "FORMAT_VERSION", 3)
    monkeypatch.setattr(files, "MIGRATIONS", {1: lambda data: data})
    with pytest.raises(GraphFileError, match="version 2 files cannot be upgraded: no migration"):
        graph_from_yaml(BASE)

    def broken(data: dict) -> dict:
        raise KeyError("layers")

    monkeypatch.setattr(files, "MIGRATIONS", {1: broken, 2: broken})
    with pytest.raises(GraphFileError, match="cannot upgrade from version 1 to 2: 'layers'"):
        graph_from_yaml(BASE)


def test_version_1_is_current_and_has_no_migrations():
    assert files.FORMAT_VERSION == 1
    assert files.MIGRATIONS == {}


def test_federated_settings_round_trip_and_stay_out_of_files_at_defaults():
    graph = graph_from_yaml(BASE)
    assert "federated" not in graph_to_yaml(graph)
    graph.settings["federated"] = {
        **graph.settings["federated"],
        "clients": 4,
        "partition": "dirichlet",
        "alpha": 0.1,
        "clip_norm": 1.5,
        "noise_multiplier": 0.8,
    }
    text = graph_to_yaml(graph)
    assert "federated:" in text
    again = graph_from_yaml(text)
    assert again.settings["federated"] == graph.settings["federated"]


def test_federated_settings_are_checked_with_their_location():
    with pytest.raises(GraphFileError, match=r"federated.alpha must be >= 1e-06. Received: 0.0"):
        graph_from_yaml(BASE + "federated: {alpha: 0.0}\n")


def test_a_column_written_as_a_bare_number_reads_as_its_name():
    """YAML reads `target_column: 2` (a .npy column, a CSV header "2") as a number."""
    graph = graph_from_yaml(BASE + "dataset: {source: numpy, path: d.npy, target_column: 2}\n")
    assert graph.dataset["target_column"] == "2"
    assert graph_from_yaml(graph_to_yaml(graph)).dataset["target_column"] == "2"
    for value, shown in (("true", "True"), ("1.5", "1.5")):
        with pytest.raises(
            GraphFileError, match=f"target_column must be a string. Received: {shown}"
        ):
            graph_from_yaml(BASE + f"dataset: {{target_column: {value}}}\n")


def test_numbers_with_an_exponent_read_as_numbers_and_names_like_them_stay_names():
    """YAML 1.1 reads `1e-3` as text; a learner copies it from the guide or Python."""
    graph = graph_from_yaml(BASE + "training: {learning_rate: 1e-3, weight_decay: 5E-4}\n")
    assert graph.training["learning_rate"] == 0.001 and graph.training["weight_decay"] == 0.0005
    graph.name = "1e5"
    text = graph_to_yaml(graph)
    assert "name: '1e5'" in text
    assert graph_from_yaml(text).name == "1e5"


def test_a_seed_past_what_numpy_takes_is_refused_at_its_line():
    """It passed the file's check and failed the split with advice about sample counts."""
    too_large = r"dataset.seed must be <= 4294967295. Received: 9{20}"
    with pytest.raises(GraphFileError, match=too_large):
        graph_from_yaml(BASE + "dataset: {seed: 99999999999999999999}\n")
    assert graph_from_yaml(BASE + "dataset: {seed: 4294967295}\n").dataset["seed"] == 2**32 - 1


def test_graph_title_reads_the_name_line_else_the_file_name(tmp_path):
    assert files.graph_title(EXAMPLES / "mlp_digits.yaml") == "MLP on digits"
    quoted = tmp_path / "quoted.yaml"
    quoted.write_text("format: deepwire-graph\nname: 'My net'\nnodes: []\n", encoding="utf-8")
    assert files.graph_title(quoted) == "My net"
    unnamed = tmp_path / "small_cnn.yaml"
    unnamed.write_text("format: deepwire-graph\nname: ''\n", encoding="utf-8")
    assert files.graph_title(unnamed) == "small cnn"
    binary = tmp_path / "odd_bytes.yaml"
    binary.write_bytes(b"\xff\xfe\x00name\x00")
    assert files.graph_title(binary) == "odd bytes"
    assert files.graph_title(tmp_path / "missing_file.yaml") == "missing file"
