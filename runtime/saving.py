"""Saving Keras models atomically, with the file name suffix Keras insists on.

`model.save` accepts only paths ending in `.keras`, while `graph.atomic`
writes to a hidden `.NAME.<hex>.tmp` sibling. The model is therefore saved in
a private temporary folder first and copied into the sibling, which
`graph.atomic` then renames over the target: a kill or a full disk at any
moment leaves the previous model intact.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import keras

from graph import atomic


def save_keras_model(model: keras.Model, path: str | os.PathLike) -> None:
    """Saves `model` as a `.keras` file at `path` atomically.

    Raises:
        OSError: the file cannot be written; `path` is then unchanged.
    """

    def write(temporary: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="deepwire-save-") as folder:
            staged = Path(folder) / "model.keras"
            model.save(staged)
            shutil.copyfile(staged, temporary)
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())

    atomic.write_with(path, write)
