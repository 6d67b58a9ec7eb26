"""Explanation speed on the digits CNN, each against one forward pass of the same model.

Trains examples/cnn_digits.yaml briefly, then times, per test sample (median
over --samples samples, after one warm-up call each): one forward pass (the
baseline), Grad-CAM, integrated gradients (32 steps, one batch) and occlusion
(2x2 patch, stride 1). Permutation importance on the whole test split (1 and
--repeats shuffles per feature) is timed against one evaluation pass over the
test split times the number of features.
Targets: Grad-CAM <= 50 ms, IG <= 200 ms, occlusion <= 500 ms per sample,
permutation importance <= 3x (evaluation pass x features).

Usage: python bench/explain.py [--samples 50] [--epochs 2] [--repeats 3]
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
from runtime.explain.explain import explain
from runtime.explain.scoring import ModelScorer

GRAPH = Path(__file__).resolve().parents[1] / "examples" / "cnn_digits.yaml"
TARGETS_MS = {"gradcam": 50.0, "ig": 200.0, "occlusion": 500.0}
PERMUTATION_TARGET = 3.0


def median_ms(run, samples) -> float:
    run(samples[0])  # warm-up: the first call builds sub-models and kernels
    times = []
    for sample in samples:
        start = time.perf_counter()
        run(sample)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="permutation shuffles per feature")
    args = parser.parse_args()
    graph = load_graph(GRAPH)
    dataset = load_dataset(graph.dataset, base_dir=GRAPH.parent)
    keras.utils.set_random_seed(graph.training["seed"])
    model = build_model(graph)
    heads = compile_model(model, graph, dataset)
    model.fit(
        dataset.x_train,
        fit_targets(heads, dataset.y_train, dataset),
        epochs=args.epochs,
        batch_size=32,
        verbose=0,
    )
    scorer = ModelScorer(model, dataset.input_shape)
    samples = list(dataset.x_test[: args.samples])
    print(f"graph: {GRAPH.name}, {dataset.describe()}, samples timed: {len(samples)}")
    forward = median_ms(lambda x: scorer.predict(x[None]), samples)
    print(f"baseline: one forward pass of one sample: {forward:.2f} ms")
    for method, target in TARGETS_MS.items():
        figure = median_ms(lambda x, m=method: explain(scorer, m, x, steps=32), samples)
        verdict = "OK" if figure <= target else "OVER TARGET"
        print(
            f"{method:<10} {figure:8.2f} ms/sample  = {figure / forward:6.1f}x forward  "
            f"(target <= {target:.0f} ms) {verdict}"
        )
    x_test, y_test = dataset.x_test, dataset.y_test
    evaluation = median_ms(lambda _x: scorer.predict(x_test), samples[:5])
    features = x_test[0].size
    budget = evaluation * features
    print(
        f"baseline: one evaluation pass over {len(x_test)} test samples: {evaluation:.2f} ms; "
        f"x {features} features = {budget:.0f} ms"
    )
    for repeats in sorted({1, args.repeats}):
        start = time.perf_counter()
        explain(
            scorer, "permutation", x_eval=x_test, y_eval=y_test, task=dataset.task, repeats=repeats
        )
        permutation = (time.perf_counter() - start) * 1000
        ratio = permutation / budget
        verdict = "OK" if ratio <= PERMUTATION_TARGET else "OVER TARGET"
        print(
            f"permutation importance ({repeats} repeat(s)): {permutation:.0f} ms = {ratio:.2f}x "
            f"(evaluation pass x features) (target <= {PERMUTATION_TARGET:.0f}x) {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
