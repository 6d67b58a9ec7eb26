"""A model too large for the machine ends in a clear message, never a traceback or an abort."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from graph.files import save_graph
from tests.runtime.runtime_helpers import mlp

ROOT = Path(__file__).resolve().parents[2]
# The child may reserve address space up to this; a request beyond it fails at once
# instead of touching memory, whatever the machine's overcommit policy.
ADDRESS_SPACE = 24 * 2**30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_a_layer_of_two_billion_units_is_refused_before_anything_allocates(tmp_path):
    # 64 inputs x 2e9 units: 512 GB of weights, far beyond any test machine.
    graph = mlp(input_shape=(64,), units=10, hidden=2_000_000_000, epochs=1)
    path = tmp_path / "huge.yaml"
    save_graph(graph, path)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "train",
            str(path),
            "-q",
            "-o",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    # The memory estimate (graph.cost) refuses it, naming the layer, before Keras builds it.
    assert "dense_1" in result.stderr and "this machine has" in result.stderr
    assert "Use fewer units" in result.stderr
