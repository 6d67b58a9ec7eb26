"""The time probe's cache: kept per graph, batch size and machine; a bad file is an empty cache."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from graph.cost import machine_memory
from graph.files import graph_from_yaml, graph_to_yaml, save_graph
from graph.model import MoveNodes, SetSettings
from main import main
from runtime.cost_estimate import estimate_epoch_time
from runtime.probe_cache import (
    CACHE_FILE,
    PROBE_FORMAT,
    ProbeCache,
    TimeEstimate,
    describe_epoch_time,
    machine_fingerprint,
    probe_key,
)
from runtime.runs.base import RunRequest
from runtime.runs.local import run_inline
from tests.runtime.runtime_helpers import mlp

ESTIMATE = TimeEstimate(
    seconds_per_step=0.01, seconds_per_epoch=0.1, train_samples=100, batch_size=32
)


def test_a_stored_estimate_is_found_again_after_layout_and_epoch_edits(tmp_path):
    graph = mlp()
    cache = ProbeCache(tmp_path)
    assert cache.lookup(graph) is None
    cache.store(graph, ESTIMATE)
    node = graph.nodes[1]
    graph.apply(MoveNodes({node.id: (500.0, 300.0)}))
    graph.name = "renamed"
    graph.training["epochs"] = 50
    assert ProbeCache(tmp_path).lookup(graph) == ESTIMATE
    # A graph read back from its file is the same graph.
    assert cache.lookup(graph_from_yaml(graph_to_yaml(graph))) == ESTIMATE
    assert ESTIMATE.epoch_seconds == 0.1 + 4 * 0.01  # 100 samples: 4 batches of 32


def test_a_changed_layer_batch_size_or_dataset_misses(tmp_path):
    graph = mlp()
    cache = ProbeCache(tmp_path)
    cache.store(graph, ESTIMATE)
    wider = graph.copy()
    wider.set_params(wider.nodes[1].id, units=64)
    assert cache.lookup(wider) is None
    batch = graph.copy()
    batch.apply(SetSettings("training", {"batch_size": 64}))
    assert cache.lookup(batch) is None
    other_data = graph.copy()
    other_data.dataset["name"] = "iris"
    assert cache.lookup(other_data) is None
    assert cache.lookup(graph) == ESTIMATE


def test_the_key_names_probe_format_graph_batch_and_machine():
    graph = mlp(batch_size=16)
    version, graph_hash, batch, machine = probe_key(graph).split(":")
    assert version == PROBE_FORMAT and len(graph_hash) == 64
    assert batch == "16" and machine == machine_fingerprint()


def test_results_of_an_older_probe_format_are_not_reused_and_go_on_the_next_store(tmp_path):
    graph = mlp()
    older = probe_key(graph).split(":", 1)[1]  # format 1 keys had no format
    entry = {"seconds_per_step": 0.01, "seconds_per_epoch": 0.1, "train_samples": 100}
    (tmp_path / CACHE_FILE).write_text(json.dumps({older: {**entry, "batch_size": 32}}))
    assert ProbeCache(tmp_path).lookup(graph) is None
    ProbeCache(tmp_path).store(graph, ESTIMATE)
    assert list(json.loads((tmp_path / CACHE_FILE).read_text())) == [probe_key(graph)]


def test_an_estimate_counts_and_names_the_validation_pass(tmp_path):
    graph = mlp()
    checked = replace(ESTIMATE, seconds_per_validation_step=0.002, seconds_per_validation=0.03)
    assert checked.epoch_seconds == ESTIMATE.epoch_seconds  # no validation samples
    checked = replace(checked, validation_samples=40)  # 2 batches of 32
    assert checked.epoch_seconds == pytest.approx(0.14 + 0.03 + 2 * 0.002)
    assert "(4 batches of 32 + 2 validation batches, from a short timed run)" in (
        describe_epoch_time(checked, cached=False)
    )
    ProbeCache(tmp_path).store(graph, checked)
    assert ProbeCache(tmp_path).lookup(graph) == checked


def test_a_corrupt_or_foreign_cache_file_is_an_empty_cache(tmp_path):
    graph = mlp()
    path = tmp_path / CACHE_FILE
    foreign = json.dumps({probe_key(graph): {"seconds": 1}})
    for text in ("{not json", "[1, 2]", foreign, "\x00\xff"):
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        assert ProbeCache(tmp_path).lookup(graph) is None
    ProbeCache(tmp_path).store(graph, ESTIMATE)  # replaces the bad file with a good one
    assert ProbeCache(tmp_path).lookup(graph) == ESTIMATE


def test_an_unwritable_cache_folder_only_costs_a_probe(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = ProbeCache(blocker / "cache")
    cache.store(mlp(), ESTIMATE)
    assert cache.lookup(mlp()) is None


def test_a_cache_hit_needs_no_data_and_no_probe(tmp_path):
    graph = mlp()
    ProbeCache(tmp_path).store(graph, ESTIMATE)
    assert estimate_epoch_time(graph, None, ProbeCache(tmp_path)) == (ESTIMATE, True)
    request = RunRequest("estimate_time", graph_to_yaml(graph), None, {"cache_dir": str(tmp_path)})
    outcome = run_inline(request)
    assert outcome.result.estimate == ESTIMATE and outcome.result.cached
    assert "estimated time per epoch: ~0.14 s" in outcome.result.message


def test_the_estimate_run_reports_bad_data_as_a_message(tmp_path):
    graph = mlp(dataset={"source": "csv", "path": str(tmp_path / "missing.csv")})
    request = RunRequest("estimate_time", graph_to_yaml(graph), None, {"cache_dir": str(tmp_path)})
    outcome = run_inline(request)
    assert outcome.message.startswith("Data: ") and "missing.csv" in outcome.message


def test_train_prints_the_estimate_before_the_first_epoch_then_reads_it_cached(
    tmp_path: Path, capsys, monkeypatch
):
    monkeypatch.setenv("DEEPWIRE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "iris.yaml"
    save_graph(mlp(input_shape=(4,), units=3, hidden=8, dataset={"name": "iris"}), path)
    assert main(["train", str(path), "--epochs", "1", "-o", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "estimated time per epoch" in line)
    assert "from a short timed run" in line
    assert err.index("estimated time per epoch") < err.index("epoch 1/1")
    assert (tmp_path / "cache" / CACHE_FILE).is_file()
    assert main(["train", str(path), "--epochs", "1", "-o", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert line.replace("from a short timed run", "timed earlier on this machine") in err
    # Quiet: neither the estimate nor its probe.
    assert main(["train", str(path), "--epochs", "1", "-q", "-o", str(tmp_path / "c")]) == 0
    assert "estimated" not in capsys.readouterr().err


def test_a_graph_too_large_for_memory_is_not_probed(tmp_path):
    graph = mlp(hidden=machine_memory() // (65 * 16) + 1)  # Adam's training state alone is too much
    request = RunRequest("estimate_time", graph_to_yaml(graph), None, {"cache_dir": str(tmp_path)})
    outcome = run_inline(request)
    assert outcome.result.estimate is None
    assert outcome.result.message == "no time estimate: training would not fit in memory"
    assert not (tmp_path / CACHE_FILE).exists()
