"""Training through the Trainer vs plain `model.fit`: same model, data, epochs and seed.

Both sides build and compile the model the same way (runtime.builder,
runtime.compile), then train; the Trainer side adds its data check, events
(a listener receives every one), NaN guard, pause/stop hooks and best-weights
checkpoint. Runs alternate so drift of the machine affects both alike.
Prints both medians and the ratio against the target (<= 1.05).

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

import keras  # noqa: E402

from graph.files import load_graph  # noqa: E402
from runtime.builder import build_model  # noqa: E402
from runtime.compile import compile_model, fit_targets  # noqa: E402
from runtime.data import load_dataset  # noqa: E402
from runtime.events import TrainingFinished  # noqa: E402
from runtime.trainer import Trainer  # noqa: E402

TARGET = 1.05
DEFAULT_GRAPH = Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.yaml"


def plain_fit(graph, dataset, epochs: int) -> float:
    """Seconds for seed + build + compile + `model.fit`, as a user would write it."""
    start = time.perf_counter()
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
    return time.perf_counter() - start


def trainer_fit(graph, dataset, epochs: int) -> float:
    """Seconds for the same run through the Trainer, with a listener taking every event."""
    events = []
    start = time.perf_counter()
    result = Trainer(graph, dataset, on_event=events.append, epochs=epochs).run()
    elapsed = time.perf_counter() - start
    if not isinstance(result, TrainingFinished):
        raise SystemExit(f"Trainer failed: {result.message}")
    return elapsed


def _times(seconds: list[float]) -> str:
    return ", ".join(f"{t:.3f}" for t in seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
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
        plain.append(plain_fit(graph, dataset, args.epochs))
        trainer.append(trainer_fit(graph, dataset, args.epochs))
    plain_median, trainer_median = statistics.median(plain), statistics.median(trainer)
    ratio = trainer_median / plain_median
    print(f"graph: {args.graph.name}, {dataset.describe()}")
    print(f"epochs: {args.epochs}, batch_size: {graph.training['batch_size']}, runs: {args.runs}")
    print(f"plain model.fit  median: {plain_median:.3f} s  ({_times(plain)})")
    print(f"Trainer.run      median: {trainer_median:.3f} s  ({_times(trainer)})")
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"ratio Trainer / plain: {ratio:.3f} (target <= {TARGET}) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
