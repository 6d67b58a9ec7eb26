"""`deepwire export --flower`: a Flower app that really runs on Flower's deployment engine.

The end-to-end test starts a real SuperLink and two SuperNodes on 127.0.0.1
(each with its own data file), runs 2 rounds of a digits MLP with `flwr run`,
then 1 round of a tiny text model whose vocabulary the server learns, and
checks each global model's test accuracy rose above chance. Every process it starts is
killed at the end, with its children.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BIN = Path(sys.executable).parent
# A tiny model and data: 2 clients, 2 rounds, no client-side evaluation.
TINY = (
    (EXAMPLES / "mlp_digits.yaml")
    .read_text()
    .replace("units: 64", "units: 16")
    .replace("learning_rate: 0.001", "learning_rate: 0.01")
) + ("federated:\n  clients: 2\n  rounds: 2\n")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flower")
    graph = folder / "tiny.yaml"
    graph.write_text(TINY)
    out = folder / "app"
    assert main(["export", str(graph), "--flower", str(out)]) == 0
    return out


def test_the_app_pins_installed_versions_and_keeps_the_graph_settings(app):
    from importlib import metadata

    project = tomllib.loads((app / "pyproject.toml").read_text())
    dependencies = project["project"]["dependencies"]
    for name in ("flwr", "tensorflow", "keras"):
        assert f"{name}=={metadata.version(name)}" in dependencies
    config = project["tool"]["flwr"]["app"]["config"]
    assert config["num-server-rounds"] == 2 and config["aggregation"] == "fedavg"
    components = project["tool"]["flwr"]["app"]["components"]
    assert components["clientapp"] == "deepwire_fl.client_app:app"
    task = (app / "deepwire_fl" / "task.py").read_text()
    assert "def build_model():" in task and "units=16" in task
    lint = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "."], cwd=app, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout


def test_export_flower_refuses_an_invalid_graph(tmp_path, capsys):
    graph = tmp_path / "bad.yaml"
    # dense_1 loses its input: the graph no longer validates.
    graph.write_text(TINY.replace("- {source: n1, target: n2, port: 0}\n", ""))
    code = main(["export", str(graph), "--flower", str(tmp_path / "out")])
    assert code == 1
    assert "bad.yaml" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


# A tiny text graph: TextVectorization learns its vocabulary on the server, which sends it
# to the nodes (they build the model from task.py without it). 1 round, 2 local epochs.
TEXT = (EXAMPLES.parent / "tests" / "codegen" / "flower_text.yaml").read_text()


# What a SuperNode logs when its ClientApp raised.
CLIENT_FAILED = "An unhandled exception occurred in a task process"


@pytest.fixture(scope="module")
def text_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flower_text")
    graph = folder / "text.yaml"
    graph.write_text(TEXT)
    out = folder / "app"
    assert main(["export", str(graph), "--flower", str(out)]) == 0
    return out


def prepare(app: Path, data: Path, env: dict) -> None:
    """The app's prepare_data.py: client_1.npz and client_2.npz in `data` (replaced)."""
    prepared = subprocess.run(
        [sys.executable, "prepare_data.py", str(data), "2"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert prepared.returncode == 0, prepared.stderr[-2000:]


def test_two_supernodes_train_the_apps(app, text_app, tmp_path):
    """One SuperLink and two SuperNodes run the digits app, then the text app.

    The nodes read their data file at every message, so the second app's files
    replace the first's between the runs (sharing the processes' start-up).
    """
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "FLWR_HOME": str(tmp_path / "flwr"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    data = tmp_path / "data"
    prepare(app, data, env)
    link = free_port()
    (tmp_path / "flwr").mkdir()
    (tmp_path / "flwr" / "config.toml").write_text(
        f'[superlink]\ndefault = "test"\n\n[superlink.test]\n'
        f'address = "127.0.0.1:{link}"\ninsecure = true\n'
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = []

    def start(name, *args, cwd=app):
        log = open(logs / f"{name}.log", "w")  # closed with the process, below
        process = subprocess.Popen(
            [str(BIN / args[0]), *args[1:]],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: killing it ends its children too
        )
        processes.append((process, log))
        return process

    def run_app(name, folder, output):
        run = start(
            name,
            "flwr",
            "run",
            ".",
            "test",
            "--stream",
            "--run-config",
            f'output-dir="{output}" fraction-evaluate=0.0',
            cwd=folder,
        )
        deadline = time.monotonic() + 480
        while not (output / "metrics.json").exists() and time.monotonic() < deadline:
            if run.poll() is not None and run.returncode != 0:
                break
            if any(CLIENT_FAILED in (logs / f"supernode{n}.log").read_text() for n in (1, 2)):
                break  # the server would wait for that node's reply for an hour
            time.sleep(1)
        log_text = "\n".join(
            f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(logs.iterdir())
        )
        assert (output / "metrics.json").exists(), log_text
        assert (output / "model.keras").is_file()
        return json.loads((output / "metrics.json").read_text())["server"]

    try:
        start(
            "superlink",
            "flower-superlink",
            "--insecure",
            "--disable-runtime-dependency-installation",
            "--port",
            str(link),
        )
        wait_for_port(link, 120)
        for number in (1, 2):
            start(
                f"supernode{number}",
                "flower-supernode",
                "--insecure",
                "--superlink",
                f"127.0.0.1:{link}",
                "--port",
                str(free_port()),
                "--node-config",
                f'data-path="{data / f"client_{number}.npz"}"',
            )
        digits = run_app("run_digits", app, tmp_path / "result")
        prepare(text_app, data, env)
        text = run_app("run_text", text_app, tmp_path / "result_text")
    finally:
        for process, _log in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, log in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()
    assert set(digits) >= {"0", "1", "2"}  # round 0: the initial model
    # Chance is 0.1 over 10 digits: the global model learned from the two nodes.
    assert digits["2"]["test_accuracy"] > max(0.3, digits["0"]["test_accuracy"])
    # Nodes without the server's vocabulary would see every word as [UNK] and could not
    # beat chance (0.5); the app's own federated run reaches 0.85 to 1.0 here (seeds 1-3).
    assert text["1"]["test_accuracy"] > max(0.65, text["0"]["test_accuracy"])
