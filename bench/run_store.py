"""Opening the runs table: a store holding 1,000 runs of one graph, read with `runs_of`.

Fills a fresh store in a temporary folder with 1,000 finished runs (the example
graph's YAML, 20 epochs of four metrics each, final metrics), then times opening
the store and listing the graph's runs, as the Runs panel does. Prints the
median against the target (<= 200 ms) and the ratio.

With --panel, also times the Runs panel (gui/panels/run_history_panel.py)
reading and drawing the same table offscreen, against the same target.

Usage: python bench/run_store.py [--runs 1000] [--repeats 5] [--panel]
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        key = fill(Path(folder), args.runs)
        print(f"inserted {args.runs} runs in {time.perf_counter() - started:.2f} s")
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            with RunStore.open(folder) as store:
                listed = store.runs_of(key)
            times.append(time.perf_counter() - started)
            assert len(listed) == args.runs
        report("open + runs_of", times)
        if args.panel:
            report("Runs panel refresh", panel_times(Path(folder), args.repeats))


def panel_times(folder: Path, repeats: int) -> list[float]:
    """Seconds the Runs panel takes to read and draw the graph's runs, `repeats` times."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from graph.files import load_graph
    from gui.document import EditorSession
    from gui.panels.run_history_panel import RunHistoryPanel

    app = QApplication.instance() or QApplication([])
    session = EditorSession()
    session.replace_graph(load_graph(GRAPH), GRAPH.resolve())
    panel = RunHistoryPanel(session, folder)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        panel.refresh()
        app.processEvents()
        times.append(time.perf_counter() - started)
    return times


def report(what: str, times: list[float]) -> None:
    median = statistics.median(times)
    print(f"target ({what}): {TARGET_SECONDS * 1000:.0f} ms")
    print(f"figure (median of {len(times)}): {median * 1000:.1f} ms")
    print(f"ratio: {median / TARGET_SECONDS:.2f} (<= 1.00 meets the target)")


if __name__ == "__main__":
    main()
