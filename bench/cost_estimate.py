"""Estimated vs measured cost of training: peak memory and time per epoch.

For each example (and two wider variants, where the model rather than the
framework dominates), a fresh child process loads the data, notes its RSS,
trains with plain `model.fit` while a thread samples RSS, and reports the
peak RSS delta and the median time of the epochs after the first (which
pays for tracing). The estimate is runtime.cost_estimate's: graph.cost's
training memory (weights, gradients, optimizer slots, activations x batch)
plus the framework's own working memory, and the time per epoch from the
probe of the model's own training steps (run in another fresh process, as
the app would before training, so it cannot disturb the measured peak).
Target: estimate / measured within 0.7-1.3.

Usage: python bench/cost_estimate.py [--epochs 4] [--graph FILE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOW, HIGH = 0.7, 1.3
# Wider variants of the examples: (name, example file, node name, params to set,
# settings to change). The LSTM's large batch makes the steps it keeps for
# backpropagation through time, not the framework, fill memory.
VARIANTS = (
    ("wide_mlp_digits", "mlp_digits.yaml", "dense_1", {"units": 65536}, {}),
    ("wide_cnn_digits", "cnn_digits.yaml", "conv2d_1", {"filters": 1024}, {}),
    (
        "wide_lstm_sequences",
        "lstm_sequences.yaml",
        "lstm_1",
        {"units": 256},
        {"training": {"batch_size": 512}, "dataset": {"samples": 4000}},
    ),
)


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakSampler(threading.Thread):
    """Samples this process's RSS every few milliseconds; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_bytes()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.002)


def load_case(path: Path, node: str | None, params: dict, settings: dict):
    """The example graph with a variant's params and settings."""
    from graph.files import load_graph

    graph = load_graph(path)
    if node:
        graph.set_params(graph.find(node).id, **params)
    for section, values in settings.items():
        graph.settings[section].update(values)
    return graph


def child(path: Path, node: str | None, params: dict, settings: dict, epochs: int) -> dict:
    """Measures one training run in this (fresh) process."""
    from runtime.cost_estimate import estimate_training_memory, timed_epochs, trainable_model
    from runtime.data import load_dataset

    graph = load_case(path, node, params, settings)
    dataset = load_dataset(graph.dataset, base_dir=path.parent)
    estimate = estimate_training_memory(graph)  # the data is loaded before the baseline
    baseline = rss_bytes()
    sampler = PeakSampler()
    sampler.start()
    model, fit_data = trainable_model(graph, dataset)
    samples = len(dataset.x_train)
    times = timed_epochs(model, *fit_data(samples), graph.training["batch_size"], epochs)
    sampler.running = False
    sampler.join()
    return {
        "measured_bytes": sampler.peak - baseline,
        "model_estimate_bytes": estimate.total,
        "epoch_seconds": statistics.median(times[1:]),
        "train_samples": len(dataset.x_train),
    }


def probe(path: Path, node: str | None, params: dict, settings: dict) -> dict:
    """The time estimate's probe of one graph, in this (fresh) process."""
    from runtime.cost_estimate import probe_training
    from runtime.data import load_dataset

    graph = load_case(path, node, params, settings)
    dataset = load_dataset(graph.dataset, base_dir=path.parent)
    start = time.perf_counter()
    figures = probe_training(graph, dataset)
    return {
        "step_seconds": figures.seconds_per_step,
        "epoch_fixed_seconds": figures.seconds_per_epoch,
        "probe_seconds": time.perf_counter() - start,
    }


def measure(
    path: Path, node: str | None, params: dict, settings: dict, epochs: int, mode="--child"
) -> dict:
    command = [sys.executable, __file__, mode, str(path), "--epochs", str(epochs)]
    if node:
        command += ["--node", node, "--params", json.dumps(params)]
    command += ["--settings", json.dumps(settings)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{path.name}: child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def framework_bytes(epochs: int) -> int:
    """The framework's own training memory: the measured delta of a model with ~no weights."""
    tiny = ROOT / "examples" / "mlp_digits.yaml"
    figures = measure(tiny, "dense_1", {"units": 1}, {}, epochs)
    return figures["measured_bytes"] - figures["model_estimate_bytes"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--graph", type=Path, nargs="*")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--node", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    case = (args.node, json.loads(args.params), json.loads(args.settings))
    if args.child:
        print(json.dumps(child(args.child, *case, args.epochs)))
        return 0
    if args.probe:
        print(json.dumps(probe(args.probe, *case)))
        return 0

    from graph.cost import format_bytes
    from runtime.cost_estimate import StepProbe, epoch_seconds

    overhead = framework_bytes(args.epochs)
    print(f"framework working memory (measured once, a 1-unit model): {format_bytes(overhead)}")
    cases = [
        (p.stem, p, None, {}, {})
        for p in (args.graph or sorted((ROOT / "examples").glob("*.yaml")))
    ]
    cases += [(name, ROOT / "examples" / file, *rest) for name, file, *rest in VARIANTS]
    print(
        f"{'graph':<22}{'est. memory':>13}{'measured':>11}{'ratio':>7}"
        f"{'est. s/epoch':>14}{'measured':>10}{'ratio':>7}{'probe s':>9}"
    )
    memory_ratios, time_ratios = [], []
    for name, path, node, params, settings in cases:
        figures = measure(path, node, params, settings, args.epochs)
        probed = measure(path, node, params, settings, args.epochs, "--probe")
        graph = load_case(path, node, params, settings)
        estimate = figures["model_estimate_bytes"] + overhead
        memory_ratio = estimate / max(figures["measured_bytes"], 1)
        step = StepProbe(probed["step_seconds"], probed["epoch_fixed_seconds"])
        seconds = epoch_seconds(graph, figures["train_samples"], step)
        time_ratio = seconds / figures["epoch_seconds"]
        memory_ratios.append(memory_ratio)
        time_ratios.append(time_ratio)
        print(
            f"{name:<22}{format_bytes(estimate):>13}{format_bytes(figures['measured_bytes']):>11}"
            f"{memory_ratio:>7.2f}{seconds:>14.3f}{figures['epoch_seconds']:>10.3f}"
            f"{time_ratio:>7.2f}{probed['probe_seconds']:>9.2f}"
        )
    for what, ratios in (("memory", memory_ratios), ("time/epoch", time_ratios)):
        inside = sum(LOW <= r <= HIGH for r in ratios)
        print(
            f"{what}: estimate/measured median {statistics.median(ratios):.2f}, "
            f"{inside}/{len(ratios)} within {LOW}-{HIGH} (target: all)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
