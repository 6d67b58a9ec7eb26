"""The user's own data: CSV files, NumPy arrays and folders of images.

Rules (mirrored by the exported script):

- CSV: the first row names the columns. The target is `target_column` (the
  last column when empty). Empty cells and NA, N/A, NaN, null, none, ? are
  missing. A column whose present values all parse as numbers is numeric;
  any other feature column is categorical and one-hot encoded (categories
  sorted, features named "column=value"; a missing category is missing in
  each of its one-hot columns, so imputation fills them like numbers). A
  non-numeric target is classification with classes sorted by name; a
  numeric target is classification when it holds whole numbers with at
  most MAX_CLASSES_FOR_NUMBERS distinct values, regression otherwise. Rows
  whose target is missing are always dropped.
- NumPy `.npz`: arrays `x` (or X, features, data) and `y` (or Y, labels,
  target, targets); `y` may be absent when the target is the input.
  `.npy`: a 2-D numeric array whose target is the last column (or column
  number `target_column`).
- Image folders: one sub-folder per class (sorted by name); PNG, JPEG, BMP
  and GIF files are decoded, resized to `image_size` and kept as float32
  values in [0, 255] with 1 (grayscale) or 3 (rgb) channels.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from runtime.data_error import DataError
from runtime.datasets import RawData

MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}
MAX_CLASSES_FOR_NUMBERS = 20
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
X_KEYS = ("x", "X", "features", "data")
Y_KEYS = ("y", "Y", "labels", "target", "targets")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a CSV file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a UTF-8 text file ({error.reason})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None


def _parse_number(text: str) -> float | None:
    """The cell as a float, NaN when missing, None when it is not a number."""
    if text.strip().lower() in MISSING:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        return None


def _column_numbers(cells: list[str]) -> np.ndarray | None:
    values = [_parse_number(cell) for cell in cells]
    if any(v is None for v in values):
        return None
    return np.array(values, dtype="float64")


def _encode_target(values: np.ndarray | None, cells: list[str], where: str):
    """Target cells -> (y, task, class names); `values` is None for text targets."""
    if values is not None:
        whole = np.all(values == np.round(values))
        distinct = np.unique(values)
        if not whole or len(distinct) > MAX_CLASSES_FOR_NUMBERS:
            return values.astype("float32"), "regression", ()
        names = tuple(f"{v:g}" for v in distinct)
        return np.searchsorted(distinct, values).astype("int64"), "classification", names
    names = tuple(sorted(set(cells)))
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup[c] for c in cells], dtype="int64"), "classification", names


def _check_classes(y: np.ndarray, task: str, names: tuple[str, ...], where: str) -> None:
    if task == "classification" and len(np.unique(y)) < 2:
        only = names[int(y[0])] if len(y) and names else "?"
        raise DataError(
            f"{where} has a single class ({only!r}): a classifier needs at least 2 classes"
        )


def load_csv(path: Path, settings: dict) -> RawData:
    """Reads a CSV file with a header row (see the module docstring for the rules)."""
    text = _read_text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(text.splitlines(), dialect) if any(c.strip() for c in row)]
    if not rows:
        raise DataError(f"{path}: the file is empty")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if not body:
        raise DataError(f"{path}: has a header row but no data rows")
    if len(header) < 2 and settings["target"] != "inputs":
        raise DataError(f"{path}: needs at least 2 columns (features and a target)")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DataError(
                f"{path}:{number}: row has {len(row)} fields, the header has {len(header)}"
            )
    target = settings["target_column"] or header[-1]
    if target not in header:
        raise DataError(
            f"{path}: no column {target!r} for target_column. Columns: {', '.join(header)}"
        )
    target_index = header.index(target)
    columns = [[row[i].strip() for row in body] for i in range(len(header))]

    target_cells = columns[target_index]
    keep = np.array([c.lower() not in MISSING for c in target_cells])
    features, names = [], []
    for index, (name, cells) in enumerate(zip(header, columns, strict=True)):
        if index == target_index:
            continue
        numbers = _column_numbers(cells)
        if numbers is not None:
            features.append(numbers[:, None])
            names.append(name)
            continue
        categories = sorted({c for c in cells if c.lower() not in MISSING})
        encoded = np.array(
            [
                [np.nan] * len(categories) if c.lower() in MISSING else [c == k for k in categories]
                for c in cells
            ],
            dtype="float64",
        )
        features.append(encoded)
        names.extend(f"{name}={k}" for k in categories)
    if not features:
        raise DataError(f"{path}: has no feature columns besides target {target!r}")
    x = np.concatenate(features, axis=1)
    if settings["missing"] == "drop":
        keep &= ~np.isnan(x).any(axis=1)
    x = x[keep]
    cells = [c for c, k in zip(target_cells, keep, strict=True) if k]
    if len(x) == 0:
        raise DataError(
            f"{path}: no rows left after dropping rows with missing values; "
            "set missing to mean, median or most_frequent"
        )
    y, task, classes = _encode_target(_column_numbers(cells), cells, f"{path}: column {target!r}")
    if settings["target"] != "inputs":
        _check_classes(y, task, classes, f"{path}: target column {target!r}")
    return RawData(x.astype("float32"), y, task, classes, tuple(names), target_name=target)


def _numeric(array: np.ndarray, what: str) -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DataError(f"{what} must be numeric. Received: dtype {array.dtype}")
    return array


def _load_array_file(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a .npy or .npz file") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a readable NumPy file ({error})") from None


def _classes_from_numbers(y: np.ndarray, where: str, target: str):
    y = _numeric(y, where)
    if y.ndim != 1:
        raise DataError(f"{where} must be 1-D (one target per sample). Received: shape {y.shape}")
    result = _encode_target(y.astype("float64"), [], where)
    if target != "inputs":
        _check_classes(result[0], result[1], result[2], where)
    return result


def load_numpy(path: Path, settings: dict) -> RawData:
    """Reads `.npz` (x and y arrays) or `.npy` (target in a column); see the module docstring."""
    loaded = _load_array_file(path)
    target = settings["target"]
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            x_key = next((k for k in X_KEYS if k in loaded.files), None)
            y_key = next((k for k in Y_KEYS if k in loaded.files), None)
            if x_key is None or (y_key is None and target != "inputs"):
                raise DataError(
                    f"{path}: expected arrays named x and y. Received: {', '.join(loaded.files)}"
                )
            try:
                x = loaded[x_key]
                y = loaded[y_key] if y_key else np.zeros(len(x))
            except ValueError as error:
                raise DataError(f"{path}: {error}") from None
        x = _numeric(x, f"{path}: array {x_key}")
        if x.ndim < 2:
            raise DataError(
                f"{path}: array {x_key} needs one sample per row (at least 2-D). "
                f"Received: shape {x.shape}"
            )
        if len(y) != len(x):
            raise DataError(f"{path}: {x_key} has {len(x)} samples but {y_key} has {len(y)}")
    else:
        data = _numeric(loaded, f"{path}: array")
        if data.ndim != 2 or data.shape[1] < 2:
            raise DataError(
                f"{path}: a .npy file must be a 2-D array with the target in a column. "
                f"Received: shape {data.shape}"
            )
        column = settings["target_column"] or "-1"
        try:
            index = int(column) % data.shape[1]
        except ValueError:
            raise DataError(
                f"{path}: target_column must be a column number for a .npy file. "
                f"Received: {column!r}"
            ) from None
        y = data[:, index]
        x = np.delete(data, index, axis=1)
    if len(x) == 0:
        raise DataError(f"{path}: contains no samples")
    y, task, classes = _classes_from_numbers(y, f"{path}: target", target)
    x = x.astype("float32")
    if settings["missing"] == "drop":
        keep = ~np.isnan(x.reshape(len(x), -1)).any(axis=1)
        x, y = x[keep], y[keep]
        if len(x) == 0:
            raise DataError(f"{path}: no samples left after dropping those with missing values")
    images = x.ndim == 4 and x.shape[-1] in (1, 3)
    names = tuple(f"f{i}" for i in range(int(np.prod(x.shape[1:]))))
    return RawData(x, y, task, classes, names, images=images)


def load_image_folder(path: Path, settings: dict) -> RawData:
    """Reads one sub-folder of images per class (see the module docstring)."""
    import tensorflow as tf

    if not path.is_dir():
        raise DataError(f"{path}: not a folder (expected one sub-folder of images per class)")
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    channels = 1 if settings["color_mode"] == "grayscale" else 3
    height, width = settings["image_size"]
    images, labels = [], []
    for label, folder in enumerate(classes):
        for file in sorted(folder.iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                decoded = tf.io.decode_image(
                    tf.io.read_file(str(file)), channels=channels, expand_animations=False
                )
            except (tf.errors.OpError, ValueError) as error:
                message = getattr(error, "message", str(error)).splitlines()[0]
                raise DataError(f"{file}: not a readable image ({message})") from None
            resized = tf.image.resize(tf.cast(decoded, "float32"), (height, width))
            images.append(resized.numpy())
            labels.append(label)
    if not images:
        raise DataError(
            f"{path}: no images found; expected one sub-folder per class holding "
            f"{', '.join(sorted(IMAGE_SUFFIXES))} files"
        )
    y = np.array(labels, dtype="int64")
    names = tuple(p.name for p in classes)
    if settings["target"] != "inputs":
        _check_classes(y, "classification", names, f"{path}: the image folder")
    x = np.stack(images).astype("float32")
    features = tuple(f"p{i}" for i in range(height * width * channels))
    return RawData(x, y, "classification", names, features, images=True)
