"""Continual strategies' cost vs naive fine-tuning on the same task sequence.

Each strategy learns the same split-digits sequence (five tasks of two
digits) with the same graph, epochs and seed through runtime.continual's
learner: build, train task after task, and measure every task's accuracy
after each one. Replay trains each batch with a replay batch of the same size
from its memory; EWC adds its penalty to every step and estimates the Fisher
information in batches after each task. Runs alternate so drift of the
machine affects every strategy alike. Prints each median and its ratio to
naive against the target (<= 1.3) for three clocks:

- wall: the whole sequence, wall time;
- cpu: the whole sequence, this process's CPU time (steadier on a shared machine);
- steady: the CPU time of tasks 2 to 5 alone (training, the strategy's work
  after each task such as the Fisher estimate, and the accuracy row). The
  whole-sequence clocks also hold TensorFlow's one-time tracing of each
  strategy's functions during task 1, which a sequence this small cannot
  amortise.

Usage: python bench/continual.py [--runs 5] [--epochs-per-task 10] [--graph FILE]
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

from graph.files import load_graph
from runtime.continual.learner import ContinualLearner
from runtime.continual.tasks import build_sequence

TARGET = 1.3
STRATEGIES = ("naive", "replay", "ewc", "lwf")
DEFAULT_GRAPH = Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.yaml"


def learn(graph, sequence, settings: dict, strategy: str) -> tuple[float, float, float, float]:
    """(wall s, CPU s, steady CPU s, backward transfer) of learning the sequence once."""
    task_ends: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    result = ContinualLearner(graph, sequence, settings, strategy).run(
        on_task=lambda report: task_ends.append(time.process_time())
    )
    return (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        task_ends[-1] - task_ends[0],
        result.metrics["backward_transfer"],
    )


def _times(seconds: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--epochs-per-task", type=int, default=10)
    parser.add_argument("--buffer-size", type=int, default=200)
    parser.add_argument("--graph", type=Path, default=DEFAULT_GRAPH)
    args = parser.parse_args()
    graph = load_graph(args.graph)
    settings = {
        **graph.settings["continual"],
        "epochs_per_task": args.epochs_per_task,
        "buffer_size": args.buffer_size,
    }
    sequence = build_sequence(graph.dataset, settings, args.graph.parent)
    for strategy in STRATEGIES:  # warm-up: TensorFlow's first traces in a process cost more
        ContinualLearner(graph, sequence, {**settings, "epochs_per_task": 1}, strategy).run()
    measured: dict[str, list[tuple[float, float, float, float]]] = {s: [] for s in STRATEGIES}
    for _ in range(args.runs):
        for strategy in STRATEGIES:
            measured[strategy].append(learn(graph, sequence, settings, strategy))
    print(f"graph: {args.graph.name}; sequence: {sequence.source}, tasks {sequence.names}")
    print(
        f"epochs per task: {args.epochs_per_task}, batch_size: {graph.training['batch_size']}, "
        f"buffer: {args.buffer_size}, runs: {args.runs}"
    )
    for index, clock in enumerate(("wall", "cpu", "steady")):
        medians = {s: statistics.median(t[index] for t in measured[s]) for s in STRATEGIES}
        for strategy in STRATEGIES:
            times = [t[index] for t in measured[strategy]]
            line = f"[{clock}] {strategy:<6} median {medians[strategy]:.3f} s ({_times(times)})"
            if strategy != "naive":
                ratio = medians[strategy] / medians["naive"]
                verdict = "OK" if ratio <= TARGET else "OVER TARGET"
                if strategy == "lwf":
                    verdict = "(no target)"
                line += f"  ratio to naive {ratio:.3f} (target <= {TARGET}) {verdict}"
            print(line)
    for strategy in STRATEGIES:
        print(f"backward transfer {strategy:<6} {measured[strategy][0][3]:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
