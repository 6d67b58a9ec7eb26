"""Data at scale: a large CSV against pandas, an image folder against Keras's pipeline.

Tables (`--part table`): generates a CSV of --rows rows (default 1,000,000)
x 20 columns (14 numeric, 5 categorical, a text class target; about 2% of
feature cells missing) in a temporary folder. Each side runs in a fresh
child process so that its peak memory is its own:

- baseline: `pandas.read_csv(path)`, nothing else;
- reference: the same read on one thread. Since pandas 3.1 a plain read_csv
  of a large file splits it across every core; before, it read on one. The
  ratio against that read is printed for reference, not as the target;
- DeepWire: `runtime.data.load_dataset` with imputation (mean) and standard
  scaling, i.e. read, type detection, one-hot, split, impute, scale.

Each side runs --repeats times (default 5), in turns; the medians are
compared. Prints both times (wall clock, what the user waits and the target's
measure, and the CPU time of the process with all its threads, steadier when
other programs share the machine) and their ratios against the target
(<= 1.5), and DeepWire's
peak memory (growth of the process's maximum resident size during the load)
against the size of the final float32 arrays (target <= 3).

Images (`--part images`): generates --images 64x64 RGB PNG files (default
2,000; the issue's figure is 20,000) in 4 class folders and trains
one epoch of the same small CNN on them, each side in a fresh process:

- baseline: `keras.utils.image_dataset_from_directory(...).prefetch(AUTOTUNE)`
  and `model.fit`, the pipeline Keras's guide recommends;
- DeepWire: `load_dataset` on the folder (one scan for unreadable files)
  and `Trainer.run`, which streams the files through the data contract's
  tf.data pipeline.

Prints images per second of fit (target >= 0.9x Keras's) and, side by side,
the training process's peak memory growth for a quarter of the images and
for all of them (5,000 and 20,000 with --images 20000) and their ratio
(target <= 1.1x): streaming keeps it independent of the number of images.

Usage: python bench/data_scale.py [--part all|table|images] [--rows 1000000]
       [--images 20000] [--repeats 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIME_TARGET = 1.5
MEMORY_TARGET = 3.0
NUMERIC, CATEGORICAL = 14, 5
# The figure is 20,000 images (--images 20000): about 15 minutes on 2 shared cores.
DEFAULT_IMAGES = 2_000


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


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    return 0


def _rss_now() -> int:
    return _status_bytes("VmRSS")


def _peak_rss() -> int:
    """This program's highest resident size since it started (VmHWM).

    Not getrusage's ru_maxrss: Linux carries the parent's resident size at fork
    across exec into it, so a child of a bench that had just written a large
    file reported the parent's peak, not its own.
    """
    return _status_bytes("VmHWM")


def child(side: str, path: Path) -> None:
    """Runs one side in this (fresh) process and prints its figures as JSON."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))
    import pandas as pd
    import pyarrow.csv  # noqa: F401  (libraries loaded before measuring: both sides alike)

    from runtime.data import load_dataset

    before = _rss_now()
    start, cpu = time.perf_counter(), time.process_time()
    if side in ("pandas", "pandas-one-thread"):
        if side == "pandas-one-thread":
            try:
                pd.set_option("mode.max_threads", 1)
            except KeyError:  # pandas before 3.1: read_csv reads on one thread anyway
                pass
        frame = pd.read_csv(path)
        arrays = frame.shape[0] * frame.shape[1] * 4
    else:
        settings = {"source": "csv", "path": str(path), "missing": "mean"}
        dataset = load_dataset(settings)
        parts = (dataset.x_train, dataset.x_val, dataset.x_test)
        parts += (dataset.y_train, dataset.y_val, dataset.y_test)
        arrays = sum(a.nbytes for a in parts if a is not None)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak_rss()
    figures = {"seconds": seconds, "cpu": cpu, "peak": max(peak - before, 0), "arrays": arrays}
    print(json.dumps(figures))


def run_child(side: str, path: Path, function=None) -> dict:
    """Runs `function` (default: the table's `child`) for `side` in a fresh process."""
    flag = "--image-child" if function is image_child else "--child"
    result = subprocess.run(
        [sys.executable, __file__, flag, side, str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"the {side} side failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# Images: streaming from files against Keras's own directory pipeline. -------------------

IMAGE_SIDE, IMAGE_CLASSES, IMAGE_BATCH = 64, 4, 64
THROUGHPUT_TARGET = 0.9
# Peak memory on all the images over that on a quarter of them: streaming keeps it flat.
MEMORY_GROWTH_TARGET = 1.1
# (layer type, params) of the small CNN both sides train; the same layers in Keras below.
CNN = (
    ("Rescaling", {"scale": 1 / 255}),
    ("Conv2D", {"filters": 16, "kernel_size": [3, 3], "activation": "relu"}),
    ("MaxPooling2D", {"pool_size": [2, 2]}),
    ("Conv2D", {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}),
    ("MaxPooling2D", {"pool_size": [2, 2]}),
    ("GlobalAveragePooling2D", {}),
    ("Dense", {"units": IMAGE_CLASSES, "activation": "softmax"}),
)


def write_images(folder: Path, count: int, seed: int = 0) -> None:
    """`count` 64x64 RGB PNG files in IMAGE_CLASSES class folders: tinted, smooth noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for index in range(count):
        label = index % IMAGE_CLASSES
        coarse = rng.integers(0, 160, size=(8, 8, 3), dtype=np.uint8)
        coarse[..., label % 3] += 90 if label < 3 else 0
        picture = Image.fromarray(coarse).resize((IMAGE_SIDE, IMAGE_SIDE), Image.BILINEAR)
        target = folder / f"class_{label}"
        target.mkdir(parents=True, exist_ok=True)
        picture.save(target / f"{index:06d}.png")


def linked_subset(folder: Path, target: Path, count: int) -> None:
    """The first `count` images of `folder` as hard links (regular files, no copies)."""
    for file in sorted(folder.glob("*/*.png"), key=lambda f: f.name)[:count]:
        (target / file.parent.name).mkdir(parents=True, exist_ok=True)
        os.link(file, target / file.parent.name / file.name)


def _cnn_graph(folder: Path):
    from graph.model import NetworkGraph

    graph = NetworkGraph("bench CNN")
    previous = graph.add_node("Input", params={"shape": [IMAGE_SIDE, IMAGE_SIDE, 3]})
    for kind, params in CNN:
        node = graph.add_node(kind, params=params)
        graph.connect(previous.id, node.id)
        previous = node
    graph.training = {**graph.training, "epochs": 1, "batch_size": IMAGE_BATCH}
    graph.dataset = {
        **graph.dataset,
        "source": "image_folder",
        "path": str(folder),
        "image_size": (IMAGE_SIDE, IMAGE_SIDE),
        "color_mode": "rgb",
        "normalization": "none",
        "validation_size": 0.0,
        "test_size": 0.05,
    }
    return graph


def _fit_timer():
    import keras

    class FitTimer(keras.callbacks.Callback):
        """Wall and CPU seconds of fit alone (both sides measured alike)."""

        def on_train_begin(self, logs=None):
            self.start, self.cpu = time.perf_counter(), time.process_time()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start
            self.cpu = time.process_time() - self.cpu

    return FitTimer()


def image_child(side: str, folder: Path) -> None:
    """One epoch on `folder` in this (fresh) process; prints its figures as JSON."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))
    import keras
    import tensorflow as tf

    from runtime.data import load_dataset
    from runtime.trainer import Trainer

    keras.utils.set_random_seed(0)
    before = _rss_now()
    timer, start = _fit_timer(), time.perf_counter()
    if side == "keras":
        data = keras.utils.image_dataset_from_directory(
            folder, image_size=(IMAGE_SIDE, IMAGE_SIDE), batch_size=IMAGE_BATCH, seed=0
        ).prefetch(tf.data.AUTOTUNE)
        layers = [keras.Input((IMAGE_SIDE, IMAGE_SIDE, 3)), keras.layers.Rescaling(1 / 255)]
        layers += [
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(IMAGE_CLASSES, activation="softmax"),
        ]
        model = keras.Sequential(layers)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        images = sum(1 for _ in folder.glob("*/*.png"))
        load = time.perf_counter() - start
        model.fit(data, epochs=1, verbose=0, callbacks=[timer])
    else:
        graph = _cnn_graph(folder)
        dataset = load_dataset(graph.dataset)
        images, load = len(dataset.x_train), time.perf_counter() - start
        result = Trainer(graph, dataset, extra_callbacks=[timer]).run()
        if not hasattr(result, "history"):
            raise SystemExit(f"training failed: {result.message}")
    peak = _peak_rss()
    figures = {
        "images": images,
        "load": load,
        "seconds": timer.seconds,
        "cpu": timer.cpu,
        "peak": max(peak - before, 0),
    }
    print(json.dumps(figures))


def image_bench(folder: Path, count: int) -> bool:
    """Throughput against Keras on `count` images; peak memory at count/4 and count."""
    whole = folder / f"images_{count}"
    if not whole.exists():
        started = time.perf_counter()
        write_images(whole, count)
        print(f"wrote {count:,} PNG files in {time.perf_counter() - started:.0f} s")
    quarter = folder / f"images_{count // 4}"
    if not quarter.exists():
        linked_subset(whole, quarter, count // 4)
    megabytes = sum(f.stat().st_size for f in whole.glob("*/*.png")) / 2**20
    print(f"images: {count:,} PNG files of {IMAGE_SIDE}x{IMAGE_SIDE} RGB, {megabytes:.0f} MiB")
    keras_side = run_child("keras", whole, image_child)
    ours = run_child("deepwire", whole, image_child)
    small = run_child("deepwire", quarter, image_child)
    rate_keras = keras_side["images"] / keras_side["seconds"]
    rate_ours = ours["images"] / ours["seconds"]
    cpu_ratio = (ours["images"] / ours["cpu"]) / (keras_side["images"] / keras_side["cpu"])
    ratio = rate_ours / rate_keras
    print(
        f"keras image_dataset_from_directory: {rate_keras:.0f} images/s "
        f"({keras_side['images']:,} images, {keras_side['seconds']:.1f} s, "
        f"{keras_side['cpu']:.1f} s CPU)"
    )
    print(
        f"DeepWire streaming:                 {rate_ours:.0f} images/s "
        f"({ours['images']:,} images, {ours['seconds']:.1f} s, {ours['cpu']:.1f} s CPU; "
        f"the load's one scan of the folder: {ours['load']:.1f} s)"
    )
    print(f"throughput ratio: {ratio:.2f}x wall (target >= {THROUGHPUT_TARGET}x)")
    print(f"                  {cpu_ratio:.2f}x per CPU second (steadier on a shared machine)")
    mib = 2**20
    growth = ours["peak"] / max(small["peak"], 1)
    print("training process peak memory (growth over the loaded libraries: load and one epoch):")
    print(f"  {'folder':<10}{count // 4:>10,}{count:>10,}  files")
    print(
        f"  {'trained':<10}{small['images']:>10,}{ours['images']:>10,}  images (the rest is test)"
    )
    print(
        f"  {'DeepWire':<10}{small['peak'] / mib:>6.0f} MiB{ours['peak'] / mib:>6.0f} MiB  "
        f"{growth:.2f}x for {ours['images'] / small['images']:.1f}x the images "
        f"(target <= {MEMORY_GROWTH_TARGET:.2f}x)"
    )
    print(
        f"  (decoded whole, the {ours['images']:,} images alone would take "
        f"{ours['images'] * IMAGE_SIDE**2 * 3 * 4 / mib:.0f} MiB; Keras's pipeline on "
        f"{keras_side['images']:,}: {keras_side['peak'] / mib:.0f} MiB)"
    )
    return ratio >= THROUGHPUT_TARGET and growth <= MEMORY_GROWTH_TARGET


def _median(runs: list[dict], key: str) -> float:
    import statistics

    return statistics.median(run[key] for run in runs)


def machine_load() -> str:
    """Cores and the load average: how far wall-clock figures can be trusted."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores, load average {os.getloadavg()[0]:.1f}"


def table_bench(folder: Path, rows: int, repeats: int) -> bool:
    """Medians of `repeats` fresh runs of each side, taken in turns (load shifts hit both)."""
    path = folder / f"table_{rows}.csv"
    if not path.exists():
        write_csv(path, rows)
    size = path.stat().st_size / 2**20
    print(f"CSV: {rows:,} rows x {NUMERIC + CATEGORICAL + 1} columns, {size:.0f} MiB")
    print(f"machine at the start: {machine_load()}")
    pandas, ours, one_thread = [], [], []
    for _ in range(repeats):
        pandas.append(run_child("pandas", path))
        ours.append(run_child("deepwire", path))
        one_thread.append(run_child("pandas-one-thread", path))
    wall = _median(ours, "seconds") / _median(pandas, "seconds")
    cpu = _median(ours, "cpu") / _median(pandas, "cpu")
    memory = _median(ours, "peak") / ours[0]["arrays"]
    mib = 2**20
    print(f"medians of {repeats} runs per side, each in a fresh process")
    print(f"machine at the end: {machine_load()} (above the cores, trust the CPU ratio)")
    sides = (
        ("pandas.read_csv (baseline)", pandas),
        ("DeepWire load+prepare", ours),
        ("pandas.read_csv, 1 thread", one_thread),
    )
    for label, side in sides:
        walls = ", ".join(f"{run['seconds']:.2f}" for run in side)
        print(
            f"{label:27s} {_median(side, 'seconds'):6.2f} s wall ({walls}), "
            f"{_median(side, 'cpu'):6.2f} s CPU"
        )
    print(f"time ratio: {wall:.2f}x wall, what the user waits (target <= {TIME_TARGET}x)")
    print(f"            {cpu:.2f}x CPU, all threads (target <= {TIME_TARGET}x)")
    serial = _median(ours, "seconds") / _median(one_thread, "seconds")
    print(
        f"            {serial:.2f}x wall against the read on one thread (reference: "
        "read_csv's only way before pandas 3.1)"
    )
    print(
        f"peak memory: {_median(ours, 'peak') / mib:.0f} MiB for {ours[0]['arrays'] / mib:.0f} "
        f"MiB of float32 arrays = {memory:.2f}x (target <= {MEMORY_TARGET}x)"
    )
    return wall <= TIME_TARGET and memory <= MEMORY_TARGET


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "table", "images"), default="all")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=DEFAULT_IMAGES)
    parser.add_argument("--repeats", type=int, default=5, help="runs per side (medians)")
    parser.add_argument("--keep", type=Path, help="write the generated data here and keep it")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--image-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    if args.image_child:
        image_child(args.image_child[0], Path(args.image_child[1]))
        return 0
    passed = True
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        if args.part in ("all", "table"):
            passed &= table_bench(folder, args.rows, args.repeats)
        if args.part in ("all", "images"):
            passed &= image_bench(folder, args.images)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
