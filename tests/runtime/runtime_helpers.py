"""Small graphs and datasets the runtime tests train on."""

from __future__ import annotations

import numpy as np

from graph.model import NetworkGraph
from runtime.data import Dataset


def mlp(
    input_shape=(64,),
    units: int = 10,
    activation: str = "softmax",
    hidden: int = 32,
    dataset: dict | None = None,
    **training,
) -> NetworkGraph:
    """Input -> Dense(hidden, relu) -> Dense(units, activation), on digits by default."""
    graph = NetworkGraph("test mlp")
    source = graph.add_node("Input", params={"shape": list(input_shape)})
    previous = source
    if len(input_shape) > 1:
        previous = graph.add_node("Flatten")
        graph.connect(source.id, previous.id)
    dense = graph.add_node("Dense", params={"units": hidden, "activation": "relu"})
    graph.connect(previous.id, dense.id)
    out = graph.add_node("Dense", params={"units": units, "activation": activation})
    graph.connect(dense.id, out.id)
    graph.training.update({"epochs": 2, "batch_size": 32, **training})
    graph.dataset.update(dataset or {"source": "builtin", "name": "digits"})
    return graph


def tiny_dataset(x_train, y_train, task="classification", classes=2) -> Dataset:
    """A Dataset around given training arrays (test split = the training data)."""
    x_train = np.asarray(x_train, dtype="float32")
    return Dataset(
        name="tiny",
        x_train=x_train,
        y_train=np.asarray(y_train),
        x_val=None,
        y_val=None,
        x_test=x_train,
        y_test=np.asarray(y_train),
        task=task,
        class_names=tuple(str(i) for i in range(classes)) if task == "classification" else (),
        feature_names=tuple(f"f{i}" for i in range(int(np.prod(x_train.shape[1:])))),
        num_classes=classes if task == "classification" else 0,
        input_shape=tuple(x_train.shape[1:]),
    )


HOSPITALS = ("east", "north", "south")


def write_patients_csv(path, rows: int = 90):
    """A small table of patients: two measurements, a hospital name, a site number, an outcome.

    Features after one-hot encoding: age, pressure, hospital=east/north/south, site (6).
    """
    rng = np.random.default_rng(0)
    lines = ["age,pressure,hospital,site,outcome"]
    for row in range(rows):
        age, pressure = rng.normal(50, 10), rng.normal(120, 15)
        sick = age / 50 + pressure / 120 + rng.normal(0, 0.2) > 2
        hospital = HOSPITALS[row % 3]
        lines.append(
            f"{age:.1f},{pressure:.1f},{hospital},{row % 4 + 1},{'sick' if sick else 'well'}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def png_header(width, height):
    """The start of a PNG file that declares `width` x `height` (no pixels follow)."""
    import struct
    import zlib

    fields = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(fields) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + fields + crc


def write_image_folder(root, classes, per_class: int, seed: int = 0, shape=(10, 10, 3)) -> None:
    """`root`/class/i.png: `per_class` random RGB pictures of `shape` in each class folder."""
    from runtime.explain.png import png_bytes

    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, size=shape, dtype=np.uint8)
            (root / name / f"{i}.png").write_bytes(png_bytes(pixels))
