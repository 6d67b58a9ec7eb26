"""Estimated vs measured cost of training: peak memory and time per epoch.

For each example (and three wider variants, where the model rather than the
framework dominates), a fresh child process loads the data, notes its RSS,
trains with the app's own runtime.trainer.Trainer (validation pass, shuffling
and its callbacks included, as a user's run) while a thread samples RSS, and
reports the peak RSS delta (sampled over the first two epochs) and the median
time between the ends of the later epochs (the first pays for tracing, the
second for the sampler): what a user sees per epoch. The
estimate is runtime.cost_estimate's: graph.cost's training memory (weights,
gradients, optimizer slots, activations x batch) plus the framework's own
working memory, and the time per epoch from the probe of the model's own
training and validation steps (run in another fresh process, as the app
would before training, so it cannot disturb the measured peak).
Target: estimate / measured within 0.7-1.3.

Wall-clock figures: run it on a quiet machine (the load average is printed
before and after) and repeat it when the ratios scatter. On a machine other
processes keep busy, `--clock cpu` times probe and run by this process's CPU
time instead (all its threads), which checks the model of an epoch (what it
counts) with less noise, though not the wall-clock figure a user reads.

Usage: python bench/cost_estimate.py [--epochs 4] [--graph FILE ...] [--only NAME ...]
                                     [--clock wall|cpu] [--details]
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
from dataclasses import asdict
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


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def child(
    path: Path, node: str | None, params: dict, settings: dict, epochs: int, clock: str
) -> dict:
    """Measures one training run in this (fresh) process, as the app trains."""
    from runtime.cost_estimate import estimate_training_memory
    from runtime.data import load_dataset
    from runtime.events import EpochEnd, TrainingFailed

    graph = load_case(path, node, params, settings)
    dataset = load_dataset(graph.dataset, base_dir=path.parent)
    estimate = estimate_training_memory(graph)  # the data is loaded before the baseline
    ends: list[float] = []

    def on_event(event: object) -> None:
        if isinstance(event, EpochEnd):
            ends.append(CLOCKS[clock]())
            if len(ends) == 2:
                # The peak is reached by now (tracing, optimizer slots, a validation pass and
                # the kept best weights); the sampler, reading /proc every 2 ms and taking the
                # GIL from Keras's per-batch Python, would slow the timed epochs.
                sampler.running = False

    baseline = rss_bytes()
    sampler = PeakSampler()
    sampler.start()
    # Imported after the baseline: the framework's memory (TensorFlow, Keras) counts as
    # before, as `framework_bytes` measures it.
    from runtime.trainer import Trainer

    # Two epochs more: the first pays for tracing, the second for the sampler.
    result = Trainer(graph, dataset, on_event=on_event, epochs=epochs + 2).run()
    sampler.running = False
    sampler.join()
    if isinstance(result, TrainingFailed):
        raise SystemExit(result.message)
    return {
        "measured_bytes": sampler.peak - baseline,
        "model_estimate_bytes": estimate.total,
        "epoch_seconds": statistics.median(b - a for a, b in zip(ends[1:], ends[2:], strict=False)),
    }


def probe(path: Path, node: str | None, params: dict, settings: dict, clock: str) -> dict:
    """The time estimate's probe of one graph, in this (fresh) process."""
    from runtime.cost_estimate import probe_training, time_estimate
    from runtime.data import load_dataset

    graph = load_case(path, node, params, settings)
    dataset = load_dataset(graph.dataset, base_dir=path.parent)
    start = time.perf_counter()
    figures = probe_training(graph, dataset, clock=CLOCKS[clock])
    estimate = time_estimate(graph, dataset, figures)
    return {
        "epoch_seconds": estimate.epoch_seconds,
        "figures": asdict(figures),
        "probe_seconds": time.perf_counter() - start,
    }


def measure(
    path: Path,
    node: str | None,
    params: dict,
    settings: dict,
    epochs: int,
    mode="--child",
    clock: str = "wall",
) -> dict:
    command = [sys.executable, __file__, mode, str(path), "--epochs", str(epochs)]
    command += ["--clock", clock]
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
    parser.add_argument("--only", nargs="*", help="just these cases (example stems, variants)")
    parser.add_argument("--details", action="store_true", help="print each probe's figures")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="what times epochs (default wall)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--node", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    case = (args.node, json.loads(args.params), json.loads(args.settings))
    if args.child:
        print(json.dumps(child(args.child, *case, args.epochs, args.clock)))
        return 0
    if args.probe:
        print(json.dumps(probe(args.probe, *case, args.clock)))
        return 0

    from graph.cost import format_bytes

    print(f"load average before: {os.getloadavg()}; clock: {args.clock}")
    overhead = framework_bytes(args.epochs)
    print(f"framework working memory (measured once, a 1-unit model): {format_bytes(overhead)}")
    cases = [
        (p.stem, p, None, {}, {})
        for p in (args.graph or sorted((ROOT / "examples").glob("*.yaml")))
    ]
    cases += [(name, ROOT / "examples" / file, *rest) for name, file, *rest in VARIANTS]
    if args.only:
        cases = [case for case in cases if case[0] in args.only]
    print(
        f"{'graph':<22}{'est. memory':>13}{'measured':>11}{'ratio':>7}"
        f"{'est. s/epoch':>14}{'measured':>10}{'ratio':>7}{'probe s':>9}"
    )
    memory_ratios, time_ratios = [], []
    for name, path, node, params, settings in cases:
        figures = measure(path, node, params, settings, args.epochs, clock=args.clock)
        probed = measure(path, node, params, settings, args.epochs, "--probe", args.clock)
        estimate = figures["model_estimate_bytes"] + overhead
        memory_ratio = estimate / max(figures["measured_bytes"], 1)
        seconds = probed["epoch_seconds"]
        time_ratio = seconds / figures["epoch_seconds"]
        memory_ratios.append(memory_ratio)
        time_ratios.append(time_ratio)
        print(
            f"{name:<22}{format_bytes(estimate):>13}{format_bytes(figures['measured_bytes']):>11}"
            f"{memory_ratio:>7.2f}{seconds:>14.3f}{figures['epoch_seconds']:>10.3f}"
            f"{time_ratio:>7.2f}{probed['probe_seconds']:>9.2f}"
        )
        if args.details:
            print("    probe: " + ", ".join(f"{k} {v:.4f}" for k, v in probed["figures"].items()))
    for what, ratios in (("memory", memory_ratios), ("time/epoch", time_ratios)):
        inside = sum(LOW <= r <= HIGH for r in ratios)
        print(
            f"{what}: estimate/measured median {statistics.median(ratios):.2f}, "
            f"{inside}/{len(ratios)} within {LOW}-{HIGH} (target: all)"
        )
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
