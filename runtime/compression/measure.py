"""What every compressed variant is compared on: the test metric, size and latency.

A variant is any callable from model inputs to outputs (a Keras model, a
TFLite interpreter); it is scored on the test split exactly like the float
model (runtime.evaluation), so the change in the metric is the cost of
compression.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from runtime.data import Dataset, model_inputs
from runtime.data_contract import ImageFiles, image_pipeline
from runtime.deploy import Runner, latency
from runtime.evaluation import evaluate_outputs
from runtime.learned_state import clone_trained
from runtime.saving import save_keras_model

# A variant's metric is flagged when it loses more than this: 1 accuracy
# point, or 1% of the float model's error for regression.
ACCURACY_TOLERANCE = 0.01
ERROR_TOLERANCE = 0.01
BATCH = 256


class CompressionError(ValueError):
    """Compression that cannot be done as asked; the message says what and where."""


@dataclass(frozen=True)
class VariantResult:
    """One model variant measured against the float model.

    Attributes:
        name: The variant's key: "float", "tflite_dynamic", "pruned", ...
        title: What it is, for a table.
        metric_name: "accuracy" (classification) or "mse" (regression).
        metric: The metric on the test split.
        metric_change: metric minus the float model's (positive accuracy is
            better; positive mse is worse).
        size_bytes: Size of the file a deployment would ship.
        p50_ms: Median single-sample latency in milliseconds.
        p95_ms: 95th percentile single-sample latency in milliseconds.
        path: The file written.
        note: Extra facts (sparsity reached, what was quantized).
    """

    name: str
    title: str
    metric_name: str
    metric: float
    metric_change: float
    size_bytes: int
    p50_ms: float
    p95_ms: float
    path: str
    note: str = ""

    @property
    def worse_than_tolerance(self) -> bool:
        """Whether compression cost more than 1 accuracy point (or 1% more error)."""
        if self.metric_name == "accuracy":
            return self.metric_change < -ACCURACY_TOLERANCE
        base = self.metric - self.metric_change
        return self.metric_change > ERROR_TOLERANCE * max(abs(base), 1e-12)

    def change_text(self) -> str:
        if self.name == "float":
            return "-"
        if self.metric_name == "accuracy":
            return f"{100 * self.metric_change:+.2f} pt"
        return f"{self.metric_change:+.4g}"


def save_keras(model: keras.Model, path: Path) -> None:
    """Saves `model` to `path` atomically, without optimizer state (a deployment needs none).

    Keras stages its file outside the target's folder (save_keras_model): one staged
    beside it, as `.NAME.<hex>.keras`, stayed there for good when the save was killed.
    """
    if getattr(model, "optimizer", None) is not None:
        model = clone_trained(model)
    save_keras_model(model, path)


def headline(dataset: Dataset) -> str:
    return "accuracy" if dataset.task == "classification" else "mse"


def _fed(array):
    """`array` as a model takes it: numbers as float32; texts stay the string tensor
    that model_inputs made of them, as Keras takes strings."""
    return array if tf.is_tensor(array) else np.asarray(array, dtype="float32")


def input_list(model: keras.Model, x) -> list:
    """`x` split into one array per model input (float32, or texts), as the trainer feeds it.

    Image files stay files (ImageFiles, decoded when read): an image folder is
    never decoded whole here; `input_batches` and `feed` stream it.
    """
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
    fed = model_inputs(x, shapes)
    arrays = fed if isinstance(fed, list) else [fed]
    return [a if isinstance(a, ImageFiles) else _fed(a) for a in arrays]


def input_batches(inputs: list, size: int = BATCH) -> Iterator[list[np.ndarray]]:
    """`inputs` (from input_list) `size` samples at a time, one array per input.

    Image files are decoded a batch at a time by the data contract's pipeline
    (parallel reads, prefetch), so memory holds a few batches, not the split.
    """
    if len(inputs) == 1 and isinstance(inputs[0], ImageFiles):
        for images in image_pipeline(inputs[0], batch_size=size).as_numpy_iterator():
            yield [images]
        return
    for start in range(0, len(inputs[0]), size):
        yield [_fed(a[start : start + size]) for a in inputs]


def keras_runner(model: keras.Model) -> Runner:
    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)
        if isinstance(outputs, dict):
            outputs = list(outputs.values())
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [np.asarray(o) for o in outputs]

    return run


def test_metric(run: Runner, model: keras.Model, dataset: Dataset) -> float:
    """The headline metric of `run` on the test split (its first output)."""
    inputs = input_list(model, dataset.x_test)
    parts = [np.asarray(run(batch)[0]) for batch in input_batches(inputs)]
    outputs = np.concatenate(parts)
    return float(evaluate_outputs(outputs, dataset).metrics[headline(dataset)])


def measure_variant(
    name: str,
    title: str,
    run: Runner,
    model: keras.Model,
    dataset: Dataset,
    baseline: float | None,
    size_bytes: int,
    path: str,
    note: str = "",
) -> VariantResult:
    """Scores and times one variant.

    Args:
        name: The variant's key.
        title: What it is, for a table.
        run: Calls the variant on a list of input arrays.
        model: The float Keras model (for its input shapes).
        dataset: The dataset with the test split.
        baseline: The float model's metric; None when this is the float model.
        size_bytes: Size of the variant's file.
        path: The variant's file.
        note: Extra facts for the table.
    """
    metric = test_metric(run, model, dataset)
    single = [_fed(a[:1]) for a in input_list(model, dataset.x_test[:1])]
    p50, p95 = latency(run, single)
    change = 0.0 if baseline is None else metric - baseline
    return VariantResult(
        name, title, headline(dataset), metric, change, size_bytes, p50, p95, path, note
    )
