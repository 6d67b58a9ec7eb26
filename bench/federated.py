"""Simulated federated training vs a centralized `model.fit` over as many sample-passes.

Federated side: 10 IID clients x 5 rounds x 1 local epoch on the digits MLP
(runtime.federated.simulation: one model, reused by every client; global
validation after each round; no centralized baseline, no membership check).
Centralized side: seed + build + compile + `model.fit` for 5 epochs on the
whole training split with validation each epoch: the same number of
sample-passes and evaluations. Both start from nothing (build, compile and
first-call tracing included). Runs alternate so drift of the machine affects
both alike. Prints both medians and the ratio against the target (<= 1.5),
for wall time (the target) and CPU time of this process.

Usage: python bench/federated.py [--runs 5] [--clients 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras

from graph.files import load_graph
from runtime.builder import build_model
from runtime.compile import compile_model, fit_targets
from runtime.data import load_dataset
from runtime.federated.simulation import FederatedSimulation

TARGET = 1.5
GRAPH = Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.yaml"


def timed(run, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of `run(*args)`."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def centralized_fit(graph, dataset, epochs: int) -> None:
    keras.utils.set_random_seed(graph.settings["federated"]["seed"])
    model = build_model(graph)
    heads = compile_model(model, graph, dataset)
    model.fit(
        dataset.x_train,
        fit_targets(heads, dataset.y_train, dataset),
        batch_size=graph.settings["federated"]["batch_size"],
        epochs=epochs,
        validation_data=(dataset.x_val, fit_targets(heads, dataset.y_val, dataset)),
        verbose=0,
    )


def federated_fit(graph, dataset) -> None:
    FederatedSimulation(graph, dataset, check_membership=False).run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    graph = load_graph(GRAPH)
    graph.settings["federated"] = {
        **graph.settings["federated"],
        "clients": args.clients,
        "rounds": args.rounds,
        "local_epochs": 1,
        "centralized_baseline": False,
    }
    dataset = load_dataset(graph.dataset, base_dir=GRAPH.parent)
    print(dataset.describe())
    print(f"{args.clients} clients x {args.rounds} rounds x 1 local epoch vs {args.rounds} epochs")
    # One untimed run of each: TensorFlow's own first-use costs are not ours.
    centralized_fit(graph, dataset, 1)
    federated_fit(graph, dataset)
    central, federated = [], []
    for _ in range(args.runs):
        central.append(timed(centralized_fit, graph, dataset, args.rounds))
        federated.append(timed(federated_fit, graph, dataset))
    for label, index in (("wall", 0), ("cpu", 1)):
        base = statistics.median(t[index] for t in central)
        figure = statistics.median(t[index] for t in federated)
        print(
            f"{label}: centralized fit {base:.3f} s, federated simulation {figure:.3f} s, "
            f"ratio {figure / base:.2f} (target <= {TARGET})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
