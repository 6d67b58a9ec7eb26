"""`deepwire serve` under a bounded loopback load vs the in-process predict time.

Trains nothing: a model shaped like examples/mlp_digits.yaml (built from the
graph, untrained weights) is saved and served by `main.py serve` in a child
process on 127.0.0.1. A few client threads send single-sample requests for a
fixed count; the script prints requests/s and p50/p95 latency, and the
in-process time of the same single-sample call to the model (the baseline),
with the ratio of the server's p50 to it: the cost of HTTP, JSON and checks.

Usage: python bench/serve.py [--requests 400] [--clients 4] [--graph FILE]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from graph.files import load_graph  # noqa: E402
from runtime.builder import build_model  # noqa: E402

DEFAULT_GRAPH = ROOT / "examples" / "mlp_digits.yaml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(connection: http.client.HTTPConnection, body: bytes) -> float:
    start = time.perf_counter()
    connection.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"server answered {response.status}")
    return (time.perf_counter() - start) * 1000


def wait_until_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--graph", type=Path, default=DEFAULT_GRAPH)
    args = parser.parse_args()
    graph = load_graph(args.graph)
    model = build_model(graph)
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
    if len(shapes) != 1:
        raise SystemExit("the bench sends single-input samples; pick a one-input graph")
    sample = np.random.default_rng(0).normal(size=(1, *shapes[0])).astype("float32")
    body = json.dumps({"instances": sample.tolist()}).encode()

    for _ in range(5):
        model(sample, training=False)
    local = []
    for _ in range(200):
        start = time.perf_counter()
        model(sample, training=False)
        local.append((time.perf_counter() - start) * 1000)

    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "model.keras")
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "serve", folder, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until_up(port, process)
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(10):
                post(warm, body)
            warm.close()
            latencies: list[float] = []
            lock = threading.Lock()
            share = args.requests // args.clients

            def client() -> None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                mine = [post(connection, body) for _ in range(share)]
                connection.close()
                with lock:
                    latencies.extend(mine)

            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
        finally:
            process.terminate()
            process.wait(30)

    local_p50 = statistics.median(local)
    p50 = float(np.percentile(latencies, 50))
    p95 = float(np.percentile(latencies, 95))
    print(f"graph: {args.graph.name}, sample shape {shapes[0]}, {os.cpu_count()} CPUs")
    print(
        f"baseline in-process model(x) p50: {local_p50:.3f} ms  "
        f"p95: {float(np.percentile(local, 95)):.3f} ms"
    )
    print(
        f"server ({args.clients} clients, {len(latencies)} requests on 127.0.0.1): "
        f"{len(latencies) / elapsed:.1f} requests/s  p50: {p50:.3f} ms  p95: {p95:.3f} ms"
    )
    print(f"ratio server p50 / in-process p50: {p50 / local_p50:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
