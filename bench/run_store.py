"""Opening the runs table: a store holding 1,000 runs of one graph, read with `runs_of`.

Fills a fresh store in a temporary folder with 1,000 finished runs (the example
graph's YAML, 20 epochs of four metrics each, final metrics), then times opening
the store and listing the graph's runs as the Runs panel does (curves left out:
the panel reads those of the runs it compares). Prints the
median against the target (<= 200 ms) and the ratio.

With --panel, also times opening the Runs panel (gui/panels/run_history_panel.py):
reading, filling, sizing and drawing the same table offscreen, against the same target.

With --recording, times training the example (the "train" run kind, inline)
with and without recording it in a store as the app does (RunJournal: the
run inserted at the start, its events observed, its ending, curves and
weights written at the end). Runs alternate; prints both medians and the
ratio against the target (recorded / unrecorded <= 1.02), for wall and CPU time.

Usage: python bench/run_store.py [--runs 1000] [--repeats 5] [--panel]
                                 [--recording] [--train-runs 5] [--epochs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.run_store import FINISHED, RunStore, graph_key_for

TARGET_SECONDS = 0.200
RECORDING_TARGET = 1.02
GRAPH = Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.yaml"


def fill(folder: Path, runs: int) -> str:
    key = graph_key_for(GRAPH)
    yaml = GRAPH.read_text()
    epochs = {
        name: [0.5 + i / 100 for i in range(20)]
        for name in ("loss", "accuracy", "val_loss", "val_accuracy")
    }
    with RunStore.open(folder) as store:
        for _ in range(runs):
            run_id = store.start(key, "train", yaml, options={"epochs": 20})
            store.finish(
                run_id, FINISHED, epochs=epochs, final_metrics={"accuracy": 0.9, "f1_macro": 0.88}
            )
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--panel", action="store_true", help="also time the Runs panel")
    parser.add_argument("--recording", action="store_true", help="also time recording a run")
    parser.add_argument("--train-runs", type=int, default=5, help="alternated runs per side")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per training run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        key = fill(Path(folder), args.runs)
        print(f"inserted {args.runs} runs in {time.perf_counter() - started:.2f} s")
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            with RunStore.open(folder) as store:
                listed = store.runs_of(key, with_epochs=False)
            times.append(time.perf_counter() - started)
            assert len(listed) == args.runs
        report("open + runs_of, as the table reads them", times)
        if args.panel:
            report("Runs panel opened", panel_times(Path(folder), args.repeats))
    if args.recording:
        recording_report(args.train_runs, args.epochs)


def panel_times(folder: Path, repeats: int) -> list[float]:
    """Seconds the Runs panel takes to read and draw the graph's runs, `repeats` times."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from graph.files import load_graph
    from gui.document import EditorSession
    from gui.panels.run_history_panel import RunHistoryPanel
    from gui.panels.runs import RunHistory

    app = QApplication.instance() or QApplication([])
    session = EditorSession()
    session.replace_graph(load_graph(GRAPH), GRAPH.resolve())
    runs = RunHistory(session, store_folder=folder)
    times = []
    for _ in range(repeats):
        # Opening the panel: reading, the table model, sizing the columns, drawing.
        started = time.perf_counter()
        panel = RunHistoryPanel(session, runs)
        panel.show()
        app.processEvents()
        times.append(time.perf_counter() - started)
        assert panel.row_count() == len(panel.records) > 0
        panel.close()
        panel.deleteLater()
        app.processEvents()
    return times


def recording_report(runs: int, epochs: int) -> None:
    """Prints unrecorded (baseline) and recorded training times and their ratio."""
    from graph.files import graph_to_yaml, load_graph
    from runtime.runs.base import RunRequest
    from runtime.runs.local import run_inline
    from runtime.runs.recording import RunJournal

    graph = load_graph(GRAPH)
    graph.training["epochs"] = epochs
    request = RunRequest("train", graph_to_yaml(graph), GRAPH.parent)
    run_inline(request)  # TensorFlow warmed up for both sides

    def timed(work) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        return time.perf_counter() - wall, time.process_time() - cpu

    with tempfile.TemporaryDirectory() as folder:
        journal = RunJournal(Path(folder), GRAPH)

        def recorded() -> None:
            recording = journal.begin(request)
            journal.end(recording, run_inline(request, recording.observe))

        plain, kept = [], []
        for _ in range(runs):
            plain.append(timed(lambda: run_inline(request)))
            kept.append(timed(recorded))
        assert len(journal.runs()) == runs
    for index, what in enumerate(("wall", "CPU")):
        baseline = statistics.median(times[index] for times in plain)
        figure = statistics.median(times[index] for times in kept)
        print(f"baseline (unrecorded training, {what}, median of {runs}): {baseline:.3f} s")
        print(f"figure (recorded training, {what}, median of {runs}): {figure:.3f} s")
        print(f"ratio: {figure / baseline:.3f} (<= {RECORDING_TARGET} meets the target)")


def report(what: str, times: list[float]) -> None:
    median = statistics.median(times)
    print(f"target ({what}): {TARGET_SECONDS * 1000:.0f} ms")
    print(f"figure (median of {len(times)}): {median * 1000:.1f} ms")
    print(f"ratio: {median / TARGET_SECONDS:.2f} (<= 1.00 meets the target)")


if __name__ == "__main__":
    main()
