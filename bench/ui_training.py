"""Training in the app (live charts on, offscreen) vs a plain `model.fit`, and UI stalls.

Both sides train the default example with the same model, data, epochs and
seed in this process. The app side clicks Train in the main window's
training panel and waits for the run to end while the event loop runs. The
plain side loads the data, builds, compiles and calls `model.fit` as a
user's script would. Runs alternate; medians are compared.

Responsiveness is measured on further app runs, not timed: a timer probe on
the main thread fires every PROBE_MS and records how late each tick comes;
its longest stall and 99th percentile show how responsive the window stays.
The probe wakes the GUI thread 200 times a second, which a real window never
does, so it would slow the run it measures (the observer effect).

Like for like: both timed spans include loading the data, seeding, building,
compiling, tracing and every epoch of `fit`; the app's span also includes
what the app adds around them (autosave, graph and data checks, sending the
graph to the training process and the results back, the end-of-run
diagnosis, handing the result to the GUI) but not the evaluation that starts
after the run ends. Garbage is collected in this process before each timed
span, so that neither side pays for the other's leftovers (the training
process collects its own between runs). Stalls are reported over the batches
(first batch event to the end of the run: the targets) and, for reference,
over the whole run from the click on Train.

This machine's speed can drift by 30% from one run to the next, so the
default is many alternated runs. For the same reason each span's CPU time is
also reported: this process's for the plain side, this process's and the
training process's together for the app (Linux: read from /proc). When other
programs share the machine it moves less than wall time, and it counts what
the window spends drawing while the training process trains. The training
process's garbage collection after each run (while the app waits for the
next click) falls in neither span.

Usage: python bench/ui_training.py [--runs 15] [--epochs 10] [--graph FILE]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from graph.files import load_graph
from gui.background import stop_all_jobs

RATIO_TARGET = 1.05
STALL_TARGET_MS = 50.0
P99_TARGET_MS = 20.0
PROBE_MS = 5
DEFAULT_GRAPH = Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.yaml"


class StallProbe:
    """A precise timer on the main thread; records how late each tick arrives."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.late_ms: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.late_ms = []
        self.batches_from = None
        self.clock.start()
        self._last = 0.0
        self.timer.start()

    def mark_batches(self, _events: object = None) -> None:
        """Notes the first tick index of the batch phase (first batch event)."""
        if self.batches_from is None:
            self.batches_from = len(self.late_ms)

    def batch_phase_ms(self) -> list[float]:
        return self.late_ms[self.batches_from or 0 :]

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self.late_ms.append(max(0.0, now - self._last - PROBE_MS))
        self._last = now


def both_processes_cpu() -> float | None:
    """CPU seconds used so far by this process and the training process (None off Linux)."""
    from runtime.training_process import shared_training_process

    pid = shared_training_process().pid
    if pid is None:
        return time.process_time()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, the 14th and 15th fields, in clock ticks.
    child = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return time.process_time() + child


def cpu_since(start: float | None) -> float | None:
    end = both_processes_cpu()
    return None if start is None or end is None else end - start


def plain_fit(graph, epochs: int, base_dir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds for load + seed + build + compile + `model.fit`, as a script does."""
    # The same plain run as bench/training_overhead.py, plus loading the data.
    from training_overhead import plain_fit as seeded_fit

    from runtime.data import load_dataset

    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    seeded_fit(graph, load_dataset(graph.dataset, base_dir), epochs)
    return time.perf_counter() - start, time.process_time() - cpu


def app_fit(window, panels, probe: StallProbe | None) -> tuple[float, float | None]:
    """(wall, CPU) seconds from clicking Train to the run's end, the event loop running."""
    loop = QEventLoop()
    panels.training.training_ended.connect(loop.quit)
    gc.collect()
    if probe is not None:
        probe.start()
    cpu = both_processes_cpu()
    start = time.perf_counter()
    if not panels.training.train():
        raise SystemExit(f"Cannot train: {panels.training.result_label.text()}")
    if probe is not None:
        panels.training.job.batches_ended.connect(probe.mark_batches)
    loop.exec()
    elapsed = time.perf_counter() - start
    cpu = cpu_since(cpu)
    if probe is not None:
        probe.stop()
    panels.training.training_ended.disconnect(loop.quit)
    # The evaluation panel scores each run in the background; let it finish,
    # and show its results, so that it does not compete with the next measurement.
    stop_all_jobs()
    QApplication.processEvents()
    run = panels.runs.runs[-1]
    if not run.succeeded:
        raise SystemExit(f"Training failed in the app: {run.message}")
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--graph", type=Path, default=DEFAULT_GRAPH)
    args = parser.parse_args()

    import tempfile

    from graph.model import SetSettings
    from gui.main_window import MainWindow
    from gui.recovery import RecoveryStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    scratch = Path(tempfile.mkdtemp(prefix="deepwire-bench-"))
    window = MainWindow(
        recovery=RecoveryStore(scratch / "recovery"),
        settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat),
    )
    panels = window.panels
    window.open_path(args.graph, as_template=True, ask=False)
    window.session.execute(SetSettings("training", {"epochs": args.epochs}))
    window.resize(1440, 900)
    window.show()
    panels.docks["training"].raise_()
    app.processEvents()
    graph = load_graph(args.graph)
    graph.apply(SetSettings("training", {"epochs": args.epochs}))

    # Warm-up: the first fit in a process pays for importing and tracing.
    plain_fit(graph, 1, args.graph.parent)
    app_fit(window, panels, None)
    plain, in_app, plain_cpu, app_cpu, late, late_all = [], [], [], [], [], []
    probe = StallProbe()
    for _ in range(args.runs):
        wall, cpu = plain_fit(graph, args.epochs, args.graph.parent)
        plain.append(wall)
        plain_cpu.append(cpu)
        wall, cpu = app_fit(window, panels, None)
        in_app.append(wall)
        app_cpu.append(cpu)
        app_fit(window, panels, probe)
        late += probe.batch_phase_ms()
        late_all += probe.late_ms
    charts = panels.training.charts
    plain_median, app_median = statistics.median(plain), statistics.median(in_app)
    ratio = app_median / plain_median
    worst, p99 = max(late), float(np.percentile(late, 99))
    worst_all, p99_all = max(late_all), float(np.percentile(late_all, 99))
    dataset = panels.runs.runs[-1].dataset
    print(f"graph: {args.graph.name}, {dataset.describe()}")
    print(
        f"epochs: {args.epochs}, batch_size: {graph.training['batch_size']}, runs: {args.runs}, "
        f"charts: {', '.join(charts.metric_names())} ({charts.redraws} redraws)"
    )
    print(
        f"plain model.fit  median: {plain_median:.3f} s  ({', '.join(f'{t:.3f}' for t in plain)})"
    )
    print(
        f"app (live charts) median: {app_median:.3f} s  ({', '.join(f'{t:.3f}' for t in in_app)})"
    )
    print(
        f"ratio app / plain: {ratio:.3f} (target <= {RATIO_TARGET}) "
        f"{'OK' if ratio <= RATIO_TARGET else 'OVER TARGET'}"
    )
    if None not in plain_cpu + app_cpu:
        plain_cpu_median, app_cpu_median = statistics.median(plain_cpu), statistics.median(app_cpu)
        print(
            f"CPU median (app: with the training process's): plain {plain_cpu_median:.3f} s, "
            f"app {app_cpu_median:.3f} s, ratio {app_cpu_median / plain_cpu_median:.3f} "
            "(for reference: steadier than wall time on a shared machine)"
        )
    print(
        "timed: load data + seed + build + compile + fit (tracing, all epochs) on both "
        "sides; app adds autosave, checks, hand-over to and from the training process, "
        "diagnosis; GC collected before each"
    )
    print(
        f"main-thread probe while batches run: {len(late)} ticks of {PROBE_MS} ms "
        f"(first batch event to end of run, over {args.runs} more app runs, not timed)"
    )
    print(
        f"longest stall: {worst:.1f} ms (target <= {STALL_TARGET_MS:g}) "
        f"{'OK' if worst <= STALL_TARGET_MS else 'OVER TARGET'}"
    )
    print(
        f"99th percentile: {p99:.1f} ms (target <= {P99_TARGET_MS:g}) "
        f"{'OK' if p99 <= P99_TARGET_MS else 'OVER TARGET'}"
    )
    print(
        f"whole run from the click (for reference): longest stall {worst_all:.1f} ms, "
        f"99th percentile {p99_all:.1f} ms over {len(late_all)} ticks"
    )
    window.session.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
