"""Load a graph's dataset: built-in, CSV, Parquet, NumPy or images, split and scaled.

The rules live in runtime/data_contract.py, which exported training scripts
embed; this module only checks the graph's settings and resolves the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from graph.messages import bounded_lines, printable
from graph.params import ParamError
from graph.settings import DATASET_PARAMS, coerce_section, dataset_path
from runtime import data_contract
from runtime.data_contract import (
    DataError,
    Dataset,
    ImageFiles,
    feed,
    image_pipeline,
    model_inputs,
    shape_fits,
    validation_data,
)

__all__ = [
    "DataError",
    "Dataset",
    "ImageFiles",
    "feed",
    "image_pipeline",
    "load_dataset",
    "model_inputs",
    "shape_fits",
    "skipped_images",
    "training_targets",
    "validation_data",
]


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
    if settings["source"] == "builtin":
        return data_contract.load_dataset(settings)
    if not settings["path"]:
        raise DataError(f"dataset: source {settings['source']!r} needs a path. Received: ''")
    return data_contract.load_dataset(settings, dataset_path(settings["path"], base_dir))


def training_targets(y: np.ndarray | None, loss: str, num_classes: int) -> np.ndarray | None:
    """Targets as the loss wants them: one-hot for categorical_crossentropy, else as they are."""
    if y is None or loss != "categorical_crossentropy":
        return y
    return data_contract.one_hot(y, num_classes)


def skipped_images(name: str, skipped: tuple[str, ...]) -> str:
    """What to tell the user about unreadable image files left out of `name` ("" if none)."""
    if not skipped:
        return ""
    listed = "; ".join(printable(line, 300) for line in bounded_lines(skipped))
    files, are = (
        ("1 image file", "is") if len(skipped) == 1 else (f"{len(skipped)} image files", "are")
    )
    return f"{files} of {name} {are} left out, unreadable or too large: {listed}"
