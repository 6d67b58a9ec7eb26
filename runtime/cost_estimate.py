"""Before training: will the run fit this machine's memory, and how long will an epoch take?

The memory estimate is graph.cost's (weights, gradients, optimizer slots,
activations of a batch) plus the dataset the run holds. The time estimate
needs the machine's speed: a probe of a second or two trains three small
dense models and measures the fixed cost of a training step, the extra cost
per layer and the arithmetic throughput in MACs per second; it is cached per
machine, so later estimates are free.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from graph.atomic import write_text
from graph.block_inference import flat_layer_count
from graph.block_type import BLOCK
from graph.catalog import CATALOG
from graph.cost import MemoryVerdict, TrainingMemory, graph_cost, memory_verdict, training_memory
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis
from graph.summary import summary_totals
from runtime.data import Dataset

# A training step costs the forward pass plus a backward pass of about twice its work.
TRAINING_MAC_FACTOR = 3
CALIBRATION_VERSION = 4
PROBE_CLASSES = 4


def dataset_bytes(dataset: Dataset) -> int:
    """Bytes of every split's arrays the run keeps in memory."""
    arrays: Iterable = (
        dataset.x_train,
        dataset.y_train,
        dataset.x_val,
        dataset.y_val,
        dataset.x_test,
        dataset.y_test,
    )
    return sum(_nbytes(array) for array in arrays)


def _nbytes(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0))


def estimate_training_memory(graph: NetworkGraph, dataset: Dataset | None = None) -> TrainingMemory:
    """The estimated peak memory of training `graph` on `dataset`, by part."""
    cost = graph_cost(graph)
    trainable = summary_totals(graph).trainable
    data = dataset_bytes(dataset) if dataset is not None else 0
    return training_memory(cost, graph.training, trainable_params=trainable, data_bytes=data)


def check_training_memory(graph: NetworkGraph, dataset: Dataset | None = None) -> MemoryVerdict:
    """Whether training `graph` on `dataset` fits: an error over the machine's memory,
    a warning over half of it."""
    return memory_verdict(estimate_training_memory(graph, dataset))


@dataclass(frozen=True)
class Calibration:
    """How fast this machine trains, measured by a short probe.

    Attributes:
        macs_per_second: Training MACs (forward and backward) per second on a dense model.
        seconds_per_batch: Fixed cost of one training step of `model.fit`.
        seconds_per_layer: Extra cost per step of each layer (or recurrent time step).
        machine: What the figures were measured on (host, CPUs).
    """

    macs_per_second: float
    seconds_per_batch: float
    seconds_per_layer: float
    machine: str


def machine_key() -> str:
    return f"{platform.node()} {platform.machine()} cpus={os.cpu_count()}"


def calibration_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deepwire" / "calibration.json"


def load_calibration(path: Path | None = None) -> Calibration | None:
    """The cached calibration of this machine, or None when there is none (or it is another's)."""
    path = path or calibration_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != CALIBRATION_VERSION or data.get("machine") != machine_key():
            return None
        return Calibration(
            float(data["macs_per_second"]),
            float(data["seconds_per_batch"]),
            float(data["seconds_per_layer"]),
            data["machine"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _median_step_seconds(width: int, depth: int, batch: int, steps: int) -> float:
    """Median seconds of a `model.fit` step of `depth` Dense(width) layers and a softmax
    classifier with an accuracy metric (what a typical run computes per step), after tracing."""
    import keras

    model = keras.Sequential([keras.Input((width,))])
    for _ in range(depth):
        model.add(keras.layers.Dense(width))
    model.add(keras.layers.Dense(PROBE_CLASSES, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch * steps, width), dtype=np.float32)
    y = rng.integers(0, PROBE_CLASSES, size=batch * steps)
    times: list[float] = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[StepTimer()])
    return float(np.median(times[2:]))


def calibrate(path: Path | None = None, steps: int = 24) -> Calibration:
    """Measures this machine with a probe of a second or two, caches and returns it.

    Three small dense models train for `steps` batches each: one and eight
    narrow layers (steps that are all overhead, per step and per layer) and
    two wide layers (steps that are mostly arithmetic).
    """
    shallow = _median_step_seconds(4, 1, 4, steps)
    deep = _median_step_seconds(4, 8, 4, steps)
    per_layer = max((deep - shallow) / 7, 0.0)
    per_batch = max(shallow - 2 * per_layer, 1e-6)
    # Wide enough that arithmetic, not overhead, fills the step even on a fast machine.
    width, batch = 1024, 512
    wide = _median_step_seconds(width, 2, batch, max(steps // 3, 5))
    arithmetic = max(wide - per_batch - 3 * per_layer, wide / 10)
    macs = TRAINING_MAC_FACTOR * batch * (2 * width * width + width * PROBE_CLASSES)
    calibration = Calibration(macs / arithmetic, per_batch, per_layer, machine_key())
    target = path or calibration_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, json.dumps({"version": CALIBRATION_VERSION, **asdict(calibration)}))
    except OSError:
        pass  # A cache that cannot be written only costs another probe next time.
    return calibration


def step_layers(graph: NetworkGraph) -> int:
    """Layers a training step runs, a recurrent layer counting once per time step."""
    analysis = ShapeAnalysis(graph)
    try:
        infos = analysis.all()
        count = 0
        for node in graph.nodes:
            definition = graph.blocks.get(node.params["block"]) if node.type == BLOCK else None
            if definition is not None:
                count += flat_layer_count(definition) - len(definition.input_nodes())
                continue
            entry = CATALOG.get(node.type)
            if entry is None or entry.min_inputs == 0:
                continue
            shapes = infos[node.id].input_shapes
            steps = shapes[0][1] if entry.category == "Recurrent" and shapes and shapes[0] else None
            count += steps if isinstance(steps, int) else 1
        return count
    finally:
        analysis.close()


def epoch_seconds(
    graph: NetworkGraph, train_samples: int, calibration: Calibration
) -> float | None:
    """Estimated seconds of one training epoch over `train_samples`; None if MACs are unknown."""
    cost = graph_cost(graph)
    if cost.incomplete and cost.macs == 0:
        return None
    batch = int(graph.training["batch_size"])
    batches = -(-train_samples // batch)
    per_batch = calibration.seconds_per_batch + calibration.seconds_per_layer * step_layers(graph)
    arithmetic = TRAINING_MAC_FACTOR * cost.macs * train_samples / calibration.macs_per_second
    return arithmetic + batches * per_batch
