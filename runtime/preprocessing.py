"""Cleaning, splitting and scaling, with every statistic fitted on the training split.

The order is fixed (and mirrored by the exported script): rows with missing
values are dropped (or kept for imputation), duplicates removed, then the
data is split into train / validation / test, then missing features are
imputed and features scaled with statistics of the training split only.
"""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from runtime.data_error import DataError

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


def rows_with_missing(x: np.ndarray) -> np.ndarray:
    """A boolean mask of the samples that contain a NaN anywhere."""
    return np.isnan(x.reshape(len(x), -1)).any(axis=1)


def drop_duplicates(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keeps the first occurrence of every distinct (features, target) row, in order."""
    rows = np.concatenate(
        [x.reshape(len(x), -1).astype("float64"), y.reshape(len(y), -1).astype("float64")], axis=1
    )
    _, first = np.unique(rows, axis=0, return_index=True)
    keep = np.sort(first)
    return x[keep], y[keep]


def split(
    x: np.ndarray, y: np.ndarray, settings: dict, classification: bool
) -> tuple[np.ndarray, ...]:
    """Train / validation / test split as the data contract defines it.

    Args:
        x: Features, one sample per row.
        y: Targets (class ids when `classification`).
        settings: Dataset settings (test_size, validation_size, stratify, seed).
        classification: Whether stratification may apply.

    Returns:
        (x_train, y_train, x_val, y_val, x_test, y_test); the validation arrays
        are None when validation_size is 0.
    """
    seed, stratify = settings["seed"], settings["stratify"] and classification
    try:
        x_rest, x_test, y_rest, y_test = train_test_split(
            x,
            y,
            test_size=settings["test_size"],
            random_state=seed,
            stratify=y if stratify else None,
        )
        if settings["validation_size"] <= 0:
            return x_rest, y_rest, None, None, x_test, y_test
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest,
            y_rest,
            test_size=settings["validation_size"],
            random_state=seed,
            stratify=y_rest if stratify else None,
        )
    except ValueError as error:
        hint = " or set stratify to false" if stratify else ""
        raise DataError(
            f"Cannot split {len(x)} samples with test_size={settings['test_size']} and "
            f"validation_size={settings['validation_size']}: {error}. "
            f"Use more samples, smaller split sizes{hint}."
        ) from None
    return x_train, y_train, x_val, y_val, x_test, y_test


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def impute(strategy: str, train: np.ndarray, *others: np.ndarray | None) -> list:
    """Fills NaN features with the training split's mean, median or most frequent value.

    Args:
        strategy: "mean", "median" or "most_frequent".
        train: The training features (fit here).
        *others: Validation/test features (or None), transformed only.

    Returns:
        The transformed arrays, train first.
    """
    if not any(a is not None and np.isnan(a).any() for a in (train, *others)):
        return [train, *others]
    imputer = SimpleImputer(strategy=strategy, keep_empty_features=True).fit(_flat(train))
    return [
        None if a is None else imputer.transform(_flat(a)).reshape(a.shape).astype("float32")
        for a in (train, *others)
    ]


def normalize(method: str, train: np.ndarray, *others: np.ndarray | None) -> list:
    """Scales features per flattened feature with statistics of `train` only.

    Args:
        method: "standard" (StandardScaler), "minmax" (MinMaxScaler to [0, 1]) or "none".
        train: The training features (fit here).
        *others: Validation/test features (or None), transformed only.

    Returns:
        The scaled float32 arrays, train first, in their original shapes.
    """
    if method == "none":
        return [train, *others]
    try:
        scaler = SCALERS[method]().fit(_flat(train))
        return [
            None if a is None else scaler.transform(_flat(a)).reshape(a.shape).astype("float32")
            for a in (train, *others)
        ]
    except ValueError as error:
        raise DataError(f"Cannot apply normalization={method!r}: {error}") from None


def one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids -> one-hot float32 rows (for categorical_crossentropy)."""
    return np.eye(num_classes, dtype="float32")[y.astype("int64")]
