"""Start-up time: launch to main window shown, against importing Keras.

Runs `python main.py` (default example) with DEEPWIRE_QUIT_WHEN_SHOWN=1, which
prints "window shown" as soon as the window has been shown, then "every panel
made" once the panels behind other tabs are made (while the window idles), and
quits; and `python -c "import keras"`, each several times in the same run. The
app is timed from launch to the "window shown" line (what the user waits for),
and for reference to its last panel and to its exit; the others from launch to
exit. Python's own start-up (`python -c pass`) is shown for reference.

Targets (issue): window shown in under 1.5 s, and well under the time of
importing Keras (ratio app / keras much below 1).

Run: `python bench/startup.py [--repeat 3]` (offscreen unless DISPLAY is set).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.5


def launch_seconds(arguments: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds from launch to exit ("exit") and to each line the process printed, by its start."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *arguments],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = {}
    for line in process.stdout:
        seen.setdefault(" ".join(line.split()[:2]), time.perf_counter() - started)
    stderr = process.stderr.read()
    seen["exit"] = time.perf_counter() - started
    if process.wait() != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{stderr[-2000:]}")
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="launches of each")
    args = parser.parse_args()
    env = {**os.environ, "DEEPWIRE_QUIT_WHEN_SHOWN": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    runs = {
        "python -c pass": ["-c", "pass"],
        "python main.py (window shown)": [str(ROOT / "main.py")],
        'python -c "import keras"': ["-c", "import keras"],
    }
    medians = {}
    for label, arguments in runs.items():
        launches = [launch_seconds(arguments, env) for _ in range(args.repeat)]
        times = [seen.get("window shown", seen["exit"]) for seen in launches]
        medians[label] = statistics.median(times)
        shown = ", ".join(f"{t:.2f}" for t in times)
        print(f"{label:<32} median {medians[label]:5.2f} s   ({shown})")
        if "window shown" in launches[0]:
            for line in ("every panel", "exit"):
                median = statistics.median(seen.get(line, seen["exit"]) for seen in launches)
                print(f"  {'... ' + line + ' (reference)':<30} median {median:5.2f} s")
    app = medians["python main.py (window shown)"]
    keras = medians['python -c "import keras"']
    print()
    print(f"window shown: {app:.2f} s   target {TARGET_S:.1f} s   ratio {app / TARGET_S:.2f}")
    print(f"app / import keras: {app / keras:.2f}   (target: well under 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
