"""Training through the Trainer vs plain `model.fit`: same model, data, epochs and seed.

Both sides build and compile the model the same way (runtime.builder,
runtime.compile), then train; the Trainer side adds its data check, events
(a listener receives every one), NaN guard, pause/stop hooks and best-weights
checkpoint. Runs alternate so drift of the machine affects both alike.
Prints both medians and the ratio against the target (<= 1.05), for wall
time (the target) and for the process's CPU time (steadier when other
programs share the machine).

Usage: python bench/training_overhead.py [--runs 5] [--epochs 5] [--graph FILE]
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
from runtime.events import TrainingFinished
from runtime.trainer import Trainer

TARGET = 1.05
DEFAULT_GRAPH = Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.yaml"


def timed(run, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of `run(*args)`."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def plain_fit(graph, dataset, epochs: int) -> None:
    """Seed + build + compile + `model.fit`, as a user would write it."""
    keras.utils.set_random_seed(graph.training["seed"])
    model = build_model(graph)
    heads = compile_model(model, graph, dataset)
    model.fit(
        dataset.x_train,
        fit_targets(heads, dataset.y_train, dataset),
        batch_size=graph.training["batch_size"],
        epochs=epochs,
        validation_data=(dataset.x_val, fit_targets(heads, dataset.y_val, dataset)),
        verbose=0,
    )


def trainer_fit(graph, dataset, epochs: int) -> None:
    """The same run through the Trainer, with a listener taking every event."""
    events = []
    result = Trainer(graph, dataset, on_event=events.append, epochs=epochs).run()
    if not isinstance(result, TrainingFinished):
        raise SystemExit(f"Trainer failed: {result.message}")


def _times(seconds: list[float]) -> str:
    return ", ".join(f"{t:.3f}" for t in seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--graph", type=Path, default=DEFAULT_GRAPH)
    args = parser.parse_args()
    graph = load_graph(args.graph)
    dataset = load_dataset(graph.dataset, base_dir=args.graph.parent)
    # Warm-up: the first fit in a process pays for tracing and kernel setup.
    plain_fit(graph, dataset, 1)
    trainer_fit(graph, dataset, 1)
    plain, trainer = [], []
    for _ in range(args.runs):
        plain.append(timed(plain_fit, graph, dataset, args.epochs))
        trainer.append(timed(trainer_fit, graph, dataset, args.epochs))
    print(f"graph: {args.graph.name}, {dataset.describe()}")
    print(f"epochs: {args.epochs}, batch_size: {graph.training['batch_size']}, runs: {args.runs}")
    for index, clock in enumerate(("wall", "cpu")):
        plain_times = [times[index] for times in plain]
        trainer_times = [times[index] for times in trainer]
        plain_median = statistics.median(plain_times)
        trainer_median = statistics.median(trainer_times)
        ratio = trainer_median / plain_median
        verdict = "OK" if ratio <= TARGET else "OVER TARGET"
        print(f"[{clock}] plain model.fit median: {plain_median:.3f} s  ({_times(plain_times)})")
        print(
            f"[{clock}] Trainer.run     median: {trainer_median:.3f} s  ({_times(trainer_times)})"
        )
        print(f"[{clock}] ratio Trainer / plain: {ratio:.3f} (target <= {TARGET}) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
