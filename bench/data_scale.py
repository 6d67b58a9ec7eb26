"""Data at scale: loading and preparing a large CSV against a plain pandas read.

Generates a CSV of --rows rows (default 1,000,000) x 20 columns (14 numeric,
5 categorical, a text class target; about 2% of feature cells missing) in a
temporary folder. Each side runs in a fresh child process so that its peak
memory is its own:

- baseline: `pandas.read_csv(path)`, nothing else;
- DeepWire: `runtime.data.load_dataset` with imputation (mean) and standard
  scaling, i.e. read, type detection, one-hot, split, impute, scale.

Prints both times (wall clock, the target, and the CPU time of the process
with all its threads, steadier when other programs share the machine) and
the ratio against the target (<= 1.5), and DeepWire's
peak memory (growth of the process's maximum resident size during the load)
against the size of the final float32 arrays (target <= 3).

Usage: python bench/data_scale.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIME_TARGET = 1.5
MEMORY_TARGET = 3.0
NUMERIC, CATEGORICAL = 14, 5


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Writes the generated table in chunks (the generator itself stays small)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    header = [f"n{i}" for i in range(NUMERIC)] + [f"c{i}" for i in range(CATEGORICAL)] + ["label"]
    words = np.array(["red", "green", "blue", "amber", "violet", "teal"])
    labels = np.array(["low", "mid", "high"])
    with path.open("w", encoding="utf-8") as out:
        out.write(",".join(header) + "\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            numbers = np.round(rng.normal(size=(n, NUMERIC)) * 100, 3).astype(str)
            numbers[rng.random(numbers.shape) < 0.02] = ""
            categories = words[rng.integers(0, len(words), size=(n, CATEGORICAL))]
            categories[rng.random(categories.shape) < 0.02] = "NA"
            target = labels[rng.integers(0, len(labels), size=n)]
            table = np.concatenate([numbers, categories, target[:, None]], axis=1)
            out.write("\n".join(",".join(row) for row in table) + "\n")


def _rss_now() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def child(side: str, path: Path) -> None:
    """Runs one side in this (fresh) process and prints its figures as JSON."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))
    import pandas as pd
    import pyarrow.csv  # noqa: F401  (libraries loaded before measuring: both sides alike)

    from runtime.data import load_dataset

    before = _rss_now()
    start, cpu = time.perf_counter(), time.process_time()
    if side == "pandas":
        frame = pd.read_csv(path)
        arrays = frame.shape[0] * frame.shape[1] * 4
    else:
        settings = {"source": "csv", "path": str(path), "missing": "mean"}
        dataset = load_dataset(settings)
        parts = (dataset.x_train, dataset.x_val, dataset.x_test)
        parts += (dataset.y_train, dataset.y_val, dataset.y_test)
        arrays = sum(a.nbytes for a in parts if a is not None)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    figures = {"seconds": seconds, "cpu": cpu, "peak": max(peak - before, 0), "arrays": arrays}
    print(json.dumps(figures))


def run_child(side: str, path: Path) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", side, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the CSV here and keep it")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        path = folder / f"table_{args.rows}.csv"
        if not path.exists():
            write_csv(path, args.rows)
        size = path.stat().st_size / 2**20
        print(f"CSV: {args.rows:,} rows x {NUMERIC + CATEGORICAL + 1} columns, {size:.0f} MiB")
        pandas = run_child("pandas", path)
        ours = run_child("deepwire", path)
    ratio = ours["seconds"] / pandas["seconds"]
    memory = ours["peak"] / ours["arrays"]
    mib = 2**20
    print(f"pandas.read_csv:        {pandas['seconds']:.2f} s wall, {pandas['cpu']:.2f} s CPU")
    print(f"DeepWire load+prepare:  {ours['seconds']:.2f} s wall, {ours['cpu']:.2f} s CPU")
    print(f"time ratio: {ratio:.2f}x wall (target <= {TIME_TARGET}x)")
    print(f"            {ours['cpu'] / pandas['cpu']:.2f}x CPU (steadier on a shared machine)")
    print(
        f"peak memory: {ours['peak'] / mib:.0f} MiB for {ours['arrays'] / mib:.0f} MiB of "
        f"float32 arrays = {memory:.2f}x (target <= {MEMORY_TARGET}x)"
    )
    return 0 if ratio <= TIME_TARGET and memory <= MEMORY_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
