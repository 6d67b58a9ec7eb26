"""Load a graph's dataset: built-in, CSV, NumPy or images, split and scaled.

The data contract (shared with the exported training script, which mirrors it):

1. Load raw features X (float32) and targets y (int64 class ids, or float32
   for regression): runtime/datasets.py for built-ins, runtime/user_data.py
   for files.
2. Files only: rows with a missing value are dropped when `missing` is
   "drop". Any source: with `drop_duplicates`, repeated (features, target)
   rows are removed, keeping the first.
3. Split with sklearn's train_test_split: test first, then validation from
   the rest (seed, stratified for classification when `stratify`).
4. Missing features are imputed (mean / median / most_frequent) and features
   normalized (standard / minmax / none) per flattened feature, both fitted
   on the training split only. The regression target is never scaled.
5. Targets stay class ids; categorical_crossentropy gets them one-hot
   (`training_targets`).
6. With the dataset setting `target: inputs` (autoencoders) the model learns
   to reconstruct its (normalized) input: y_* are the x_* arrays and the task
   is regression.

Multiple Input nodes: each sample's features are flattened in order and cut
into consecutive pieces, one per Input node in graph order, sized by that
Input's shape, then reshaped to it (`model_inputs`). A single Input whose
shape holds as many values as a sample is fed the reshaped sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graph.params import ParamError
from graph.settings import DATASET_PARAMS, coerce_section, dataset_path
from runtime import preprocessing
from runtime.data_error import DataError
from runtime.datasets import RawData, load_builtin
from runtime.user_data import load_csv, load_image_folder, load_numpy

__all__ = ["DataError", "Dataset", "load_dataset", "model_inputs", "training_targets"]

_FILE_LOADERS = {"csv": load_csv, "numpy": load_numpy, "image_folder": load_image_folder}


@dataclass
class Dataset:
    """A split, preprocessed dataset ready for `model.fit`.

    Attributes:
        name: The built-in name or the file/folder name.
        x_train: Training features, float32, shape (n, *input_shape).
        y_train: Training targets: int64 class ids, or float32 values.
        x_val: Validation features, or None without a validation split.
        y_val: Validation targets, or None.
        x_test: Test features.
        y_test: Test targets.
        task: "classification" or "regression" (reconstruction is regression).
        class_names: Class names in id order (empty for regression).
        feature_names: Names of the flattened features.
        num_classes: Distinct classes in the training split (0 for regression).
        input_shape: Shape of one sample, without the batch dimension.
        images: True when samples are pictures (the GUI's gallery shows them).
        target: "labels", or "inputs" when the model reconstructs its input.
        target_name: What the targets are called (a CSV's target column); "" if unnamed.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    num_classes: int
    input_shape: tuple[int, ...]
    images: bool = False
    target: str = "labels"
    target_name: str = ""

    @property
    def has_validation(self) -> bool:
        return self.x_val is not None and len(self.x_val) > 0

    @property
    def target_shape(self) -> tuple[int, ...]:
        """Shape of one target: () for class ids and scalars, input_shape to reconstruct."""
        return tuple(self.y_train.shape[1:])

    def describe(self) -> str:
        """One line for logs and panels, e.g. "digits: 1293/144/360 samples, 10 classes"."""
        sizes = f"{len(self.x_train)}/{0 if self.x_val is None else len(self.x_val)}/"
        sizes += f"{len(self.x_test)} train/val/test samples"
        kind = f"{self.num_classes} classes" if self.task == "classification" else self.task
        if self.target == "inputs":
            kind = "reconstruct the input"
        return f"{self.name}: {sizes} of shape {self.input_shape}, {kind}"


def _raw(settings: dict, base_dir: Path | None) -> tuple[str, RawData]:
    if settings["source"] == "builtin":
        return settings["name"], load_builtin(settings)
    if not settings["path"]:
        raise DataError(f"dataset: source {settings['source']!r} needs a path. Received: ''")
    path = dataset_path(settings["path"], base_dir)
    return path.name, _FILE_LOADERS[settings["source"]](path, settings)


def load_dataset(settings: dict, base_dir: Path | None = None) -> Dataset:
    """Loads, cleans, splits and scales the dataset that `settings` describe.

    Args:
        settings: A graph's dataset settings (graph.dataset); missing keys take
            their defaults.
        base_dir: Folder that relative paths are relative to (the graph
            file's folder); the working directory when None.

    Raises:
        DataError: with a message naming the file, column or row at fault.
    """
    try:
        settings = coerce_section(DATASET_PARAMS, settings, "dataset")
    except ParamError as error:
        raise DataError(str(error)) from None
    name, raw = _raw(settings, base_dir)
    x, y = raw.x, raw.y
    if len(x) == 0:
        raise DataError(f"{name}: contains no samples")
    if settings["drop_duplicates"]:
        x, y = preprocessing.drop_duplicates(x, y)
    classification = raw.task == "classification"
    x_train, y_train, x_val, y_val, x_test, y_test = preprocessing.split(
        x, y, settings, classification
    )
    if settings["missing"] != "drop":
        x_train, x_val, x_test = preprocessing.impute(settings["missing"], x_train, x_val, x_test)
    x_train, x_val, x_test = preprocessing.normalize(
        settings["normalization"], x_train, x_val, x_test
    )
    task, classes, num_classes = raw.task, raw.class_names, 0
    if settings["target"] == "inputs":
        y_train, y_val, y_test = x_train, x_val, x_test
        task, classes = "regression", ()
    elif classification:
        num_classes = len(np.unique(y_train))
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        task=task,
        class_names=classes,
        feature_names=raw.feature_names,
        num_classes=num_classes,
        input_shape=tuple(int(d) for d in x_train.shape[1:]),
        images=raw.images,
        target=settings["target"],
        target_name=raw.target_name,
    )


def training_targets(y: np.ndarray | None, loss: str, num_classes: int) -> np.ndarray | None:
    """Targets as the loss wants them: one-hot for categorical_crossentropy, else as they are."""
    if y is None or loss != "categorical_crossentropy":
        return y
    return preprocessing.one_hot(y, num_classes)


def input_sizes(shapes: list[tuple[int, ...]]) -> list[int]:
    """Values per sample of each Input shape (without the batch dimension)."""
    return [math.prod(shape) for shape in shapes]


def model_inputs(x: np.ndarray, shapes: list[tuple[int, ...]]) -> np.ndarray | list[np.ndarray]:
    """Feeds `x` to Input nodes of `shapes` (see the module docstring).

    Args:
        x: Features, one sample per row.
        shapes: Each Input node's shape without the batch dimension, in graph order.

    Returns:
        One array for one Input, else a list with one array per Input.

    Raises:
        DataError: when the samples do not hold as many values as the Inputs together.
    """
    if len(shapes) == 1 and tuple(x.shape[1:]) == tuple(shapes[0]):
        return x
    sizes = input_sizes(shapes)
    flat = x.reshape(len(x), -1)
    if flat.shape[1] != sum(sizes):
        raise DataError(
            f"Samples of shape {tuple(x.shape[1:])} hold {flat.shape[1]} values but the "
            f"Input nodes take {sum(sizes)} ({' + '.join(map(str, sizes))})"
        )
    parts, start = [], 0
    for shape, size in zip(shapes, sizes, strict=True):
        parts.append(flat[:, start : start + size].reshape(len(x), *shape))
        start += size
    return parts[0] if len(parts) == 1 else parts
