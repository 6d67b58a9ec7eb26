"""tf.distribute strategies: mirrored in process, multi-worker with two local workers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runtime.data import load_dataset
from runtime.events import TrainingFinished
from runtime.trainer import Trainer
from tests.runtime.runtime_helpers import mlp

ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {root!r})
    from runtime.data import load_dataset
    from runtime.distribute import get_strategy
    from runtime.trainer import Trainer
    from tests.runtime.runtime_helpers import mlp

    graph = mlp(input_shape=(4,), units=3, hidden=8, epochs=2, strategy="multi_worker",
                dataset={{"name": "iris"}})
    result = Trainer(graph, load_dataset(graph.dataset)).run()
    print("RESULT " + json.dumps({{"kind": type(result).__name__,
        "history": getattr(result, "history", None),
        "message": getattr(result, "message", None),
        "replicas": get_strategy("multi_worker").num_replicas_in_sync}}))
    """
)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_mirrored_strategy_trains():
    graph = mlp(input_shape=(4,), units=3, hidden=8, epochs=2, strategy="mirrored")
    result = Trainer(graph, load_dataset({"name": "iris"})).run()
    assert isinstance(result, TrainingFinished)
    assert len(result.history["loss"]) == 2


def test_multi_worker_with_two_local_workers(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(root=str(ROOT)))
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config), "CUDA_VISIBLE_DEVICES": ""}
        processes.append(
            subprocess.Popen(
                [sys.executable, str(script)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=tmp_path,
            )
        )
    outputs = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=240)
            outputs.append((process.returncode, out, err))
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
        pytest.fail("multi-worker training did not finish within 240 s")
    results = []
    for code, out, err in outputs:
        assert code == 0, err[-2000:]
        line = next(line for line in out.splitlines() if line.startswith("RESULT "))
        results.append(json.loads(line.removeprefix("RESULT ")))
    assert [r["kind"] for r in results] == ["TrainingFinished"] * 2, results
    assert [r["replicas"] for r in results] == [2, 2]
    # Synchronous data-parallel training: both workers hold the same model and logs.
    assert results[0]["history"] == results[1]["history"]
    assert len(results[0]["history"]["loss"]) == 2
