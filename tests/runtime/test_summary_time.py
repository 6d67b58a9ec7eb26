"""`deepwire summary FILE --time`: the estimated time per epoch in the summary's totals."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.cost import machine_memory
from graph.files import load_graph, save_graph
from main import main
from runtime.probe_cache import ProbeCache, TimeEstimate
from tests.runtime.runtime_helpers import mlp

TIMED = "Time per epoch (estimate): "


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DEEPWIRE_CACHE_DIR", str(folder))
    return folder


def iris(tmp_path: Path, dataset: dict | None = None) -> Path:
    """A tiny graph on iris (fast to time), saved to a file."""
    path = tmp_path / "iris.yaml"
    graph = mlp(input_shape=(4,), units=3, hidden=8, dataset=dataset or {"name": "iris"})
    save_graph(graph, path)
    return path


def totals_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(TIMED))


def test_time_probes_once_then_reads_the_cache(tmp_path, cache, capsys):
    path = iris(tmp_path)
    assert main(["summary", str(path), "--time"]) == 0
    out, err = capsys.readouterr()
    assert "timing a few training steps" in err and "Traceback" not in err
    line = totals_line(out)
    # After the training memory, like the other totals; iris: 108 training samples, 12 to validate.
    assert out.splitlines()[out.splitlines().index(line) - 1].startswith("Training memory")
    assert "(4 batches of 32 + 1 validation batch, from a short timed run)" in line
    # The probe timed real epochs of the model, and fit's validation pass after each.
    estimate = ProbeCache(cache).lookup(load_graph(path))
    assert 0 < estimate.seconds_per_step < 5  # a 67-weight MLP: milliseconds, never seconds
    assert estimate.seconds_per_epoch >= 0
    assert estimate.seconds_per_validation_step + estimate.seconds_per_validation > 0
    assert (estimate.train_samples, estimate.validation_samples) == (108, 12)
    assert main(["summary", str(path), "--time"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # no probe
    assert totals_line(out) == line.replace(
        "from a short timed run", "timed earlier on this machine"
    )


def test_a_cached_estimate_needs_no_data(tmp_path, cache, capsys):
    path = iris(tmp_path, dataset={"source": "csv", "path": "missing.csv"})
    ProbeCache(cache).store(load_graph(path), TimeEstimate(0.01, 0.1, 100, 32, 0.002, 0.03, 40))
    assert main(["summary", str(path), "--time"]) == 0
    line = totals_line(capsys.readouterr().out)
    assert line == (
        f"{TIMED}~0.17 s (4 batches of 32 + 2 validation batches, timed earlier on this machine)"
    )


def test_a_graph_too_large_for_memory_is_not_timed(tmp_path, cache, capsys):
    path = tmp_path / "huge.yaml"
    save_graph(mlp(hidden=machine_memory() // (65 * 16) + 1), path)
    assert main(["summary", str(path), "--time"]) == 1
    out, err = capsys.readouterr()
    line = totals_line(out)
    assert line.startswith(f"{TIMED}none, training would need about ")
    assert "this machine has" in line
    assert err == "" and not cache.exists()


def test_an_invalid_graph_is_not_timed_and_bad_data_is_one_message(tmp_path, cache, capsys):
    graph = load_graph(iris(tmp_path))
    add = graph.add_node("Add")  # of a (None, 8) and a (None, 3): they differ
    for port, node in enumerate(graph.nodes[1:3]):
        graph.connect(node.id, add.id, port)
    path = tmp_path / "invalid.yaml"
    save_graph(graph, path)
    assert main(["summary", str(path), "--time"]) == 1
    out, err = capsys.readouterr()
    assert totals_line(out) == f"{TIMED}none, the graph is not valid (see the problems below)"
    assert "Problems (" in out and err == ""
    path = iris(tmp_path, dataset={"source": "csv", "path": "missing.csv"})
    assert main(["summary", str(path), "--time"]) == 1
    out, err = capsys.readouterr()
    assert totals_line(out) == f"{TIMED}none, the timing failed (see the error above)"
    assert "error: Data: " in err and "missing.csv" in err and "Traceback" not in err


def test_an_unreadable_file_exits_2(tmp_path, cache, capsys):
    assert main(["summary", str(tmp_path / "nothing.yaml"), "--time"]) == 2
    assert "nothing.yaml: cannot be read" in capsys.readouterr().err
