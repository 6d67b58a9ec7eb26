"""Ctrl-C in the command line: once stops cleanly and keeps the model, twice exits at once.

Real processes and real SIGINTs, as a terminal sends them.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph.files import save_graph
from tests.runtime.runtime_helpers import mlp

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")


def start(tmp_path: Path, *args: str) -> subprocess.Popen:
    graph = mlp(epochs=2000)
    save_graph(graph, tmp_path / "long.yaml")
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args, str(tmp_path / "long.yaml")]
        + ["-o", str(tmp_path / "out")],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment,
    )


def read_until(process: subprocess.Popen, text: str, timeout: float = 120.0) -> str:
    """stderr up to the first line containing `text`."""
    seen = ""
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, f"no {text!r} in time; stderr so far: {seen}"
        if selector.select(timeout=1.0):
            line = process.stderr.readline()
            assert line, f"the process ended early; stderr: {seen}"
            seen += line
    return seen


def test_ctrl_c_once_stops_training_and_keeps_the_model(tmp_path):
    process = start(tmp_path, "train")
    read_until(process, "epoch 2/2000")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "interrupted: stopping at the next safe point" in err
    assert "stopped by you" in err
    assert "Traceback" not in err
    assert (tmp_path / "out" / "model.keras").stat().st_size > 0
    assert "test metrics" in out


def test_ctrl_c_twice_exits_at_once(tmp_path):
    process = start(tmp_path, "train")
    read_until(process, "epoch 1/2000")
    process.send_signal(signal.SIGINT)
    read_until(process, "interrupted")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err


def test_ctrl_c_while_tensorflow_imports_is_no_traceback(tmp_path):
    process = start(tmp_path, "train")
    time.sleep(1.5)  # main.py has started; TensorFlow takes seconds to import
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
