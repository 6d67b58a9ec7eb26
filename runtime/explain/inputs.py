"""A sample the user brings (an image file, a CSV row, a .npy array), made ready to explain.

A loaded sample is raw, as the dataset's files hold it. It goes through the
same preprocessing as the training data (runtime.data's contract): missing
values imputed and features normalized with statistics of the training
split, which is recomputed here from the dataset settings.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from graph.settings import DATASET_PARAMS, coerce_section, dataset_path
from runtime import data_contract
from runtime.data_contract import IMAGE_SUFFIXES
from runtime.explain.errors import ExplainError


def _read_image(path: Path, shape: tuple[int, ...]) -> np.ndarray:

    if len(shape) != 3 or shape[-1] not in (1, 3):
        raise ExplainError(
            f"{path}: an image was given but the model takes samples of shape {shape}, "
            "not images (height, width, 1 or 3 channels)."
        )
    try:  # as the data contract reads an image
        return data_contract.read_image_file(path, shape[:2], shape[-1])
    except data_contract.DataError as error:
        raise ExplainError(str(error)) from None


def _read_csv_row(path: Path) -> np.ndarray:
    """The one row of numbers of a CSV file (delimiter `,` `;` or tab, as the data contract's).

    A header row is skipped; several rows of numbers are refused, not cut to the first.
    """
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    numbers = []
    for cells in csv.reader(io.StringIO(text), dialect):
        if not any(cell.strip() for cell in cells):
            continue
        try:
            numbers.append([float(cell) if cell.strip() else np.nan for cell in cells])
        except ValueError:
            continue  # a header row
    if not numbers:
        raise ExplainError(f"{path}: no row of numbers found (expected one CSV row of features)")
    if len(numbers) > 1:
        raise ExplainError(
            f"{path}: holds {len(numbers)} rows of numbers; give one sample, one row of features"
        )
    return np.array(numbers[0], "float32")


def read_sample(path: str | Path, shape: tuple[int, ...]) -> np.ndarray:
    """Reads one raw sample of `shape` from an image, a CSV row or a .npy file.

    Raises:
        ExplainError: for a missing or unreadable file, or one whose values do not fit `shape`.
    """
    path = Path(path)
    if path.is_dir():
        raise ExplainError(f"{path}: is a folder; give one sample file")
    if not path.is_file():
        raise ExplainError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in IMAGE_SUFFIXES:
            return _read_image(path, shape)
        if suffix == ".npy":
            values = np.load(path, allow_pickle=False).astype("float32")
        elif suffix in (".csv", ".txt"):
            values = _read_csv_row(path)
        else:
            raise ExplainError(
                f"{path}: unknown kind of file {suffix!r}; give an image "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}), a .csv row or a .npy array"
            )
    except (OSError, ValueError, EOFError, TypeError) as error:
        raise ExplainError(f"{path}: cannot read it ({error or type(error).__name__})") from None
    if values.size != math.prod(shape):
        # a row copied whole from the training table still holds its target
        hint = "; leave out the target column" if values.size == math.prod(shape) + 1 else ""
        raise ExplainError(
            f"{path}: holds {values.size} values but a sample has shape {shape} "
            f"({math.prod(shape)} values){hint}"
        )
    return values.reshape(shape)


def preprocess_like_training(raw: np.ndarray, settings: dict, base_dir: Path | None) -> np.ndarray:
    """`raw` (one sample) imputed and normalized as the training split was.

    Args:
        raw: One sample as the dataset's files hold it.
        settings: The graph's dataset settings.
        base_dir: The folder relative data paths start from.
    """
    settings = coerce_section(DATASET_PARAMS, settings, "dataset")
    path = None if settings["source"] == "builtin" else dataset_path(settings["path"], base_dir)
    data = data_contract.load_raw(settings, path)
    # The training split exactly as runtime.data_contract.prepare makes it.
    rows = np.arange(len(data.x)) if data.rows is None else data.rows
    if settings["drop_duplicates"]:
        rows = rows[data_contract.unique_rows(data.x[rows], data.y[rows])]
    train = data_contract.split_positions(data.y[rows], settings, data.task == "classification")[0]
    if isinstance(data.x, data_contract.ImageFiles):  # scaled per pixel, unreadable files left out
        _, _, scaling = data_contract.scan_images(data.x, rows[train], settings["normalization"])
        sample = np.array(raw, dtype="float32")
        return sample if scaling is None else sample * scaling[0] + scaling[1]
    x_train = np.array(data.x[rows[train]], dtype="float32")
    sample = np.array(raw, dtype="float32")[None]
    if np.isnan(sample).any() and settings["missing"] == "drop":
        raise ExplainError(
            "The sample has missing values and the dataset drops such rows (missing: drop); "
            "fill them in, or choose an imputing strategy in the dataset settings."
        )
    if settings["missing"] != "drop":
        data_contract.impute(settings["missing"], x_train, sample)
    data_contract.normalize(settings["normalization"], x_train, sample)
    return sample[0]
