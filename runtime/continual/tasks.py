"""Sequences of tasks (experiences) for continual learning, from a graph's data.

Three ways to cut data into tasks, as the `continual` settings' `split` says:

- "classes": the graph's dataset split by class, `classes_per_task` classes per
  task in class order (digits 0-1, 2-3, ... 8-9: the classic split benchmark).
  The dataset is loaded, split and scaled as for training (runtime.data); a
  task's test samples are the test split's samples of its classes.
- "column": the graph's CSV file cut by the values of one column (e.g. a month),
  in sorted order (numeric order when every value is a number); that column is
  not a feature.
- "files": a list of data files (CSV, .npz/.npy, or image folders), one task
  each, in order, read with the graph's dataset settings. Classes are matched
  by name across files.

For "column" and "files" each task is split into train and test with the
dataset's test_size and seed, and imputation and scaling are fitted on the
first task's training data only: what a deployed model knew when it was made.

Image folders stay files (ImageFiles): tasks hold file names and class ids, the
learner decodes a batch at a time, and unreadable files are left out and listed
in `TaskSequence.skipped`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from graph.params import ParamError
from graph.settings import (
    CONTINUAL_PARAMS,
    DATASET_PARAMS,
    coerce_section,
    continual_files,
    dataset_path,
)
from runtime.continual.errors import ContinualError
from runtime.data import DataError, load_dataset
from runtime.data_contract import (
    BUILTINS,
    ImageFiles,
    RawData,
    impute,
    load_image_folder,
    load_numpy,
    load_table,
    normalize,
    scan_images,
    split_positions,
)


@dataclass(frozen=True)
class Task:
    """One experience of the sequence.

    Attributes:
        name: How the user sees it ("0-1", "2024-02", "feb.csv").
        classes: The class ids it holds, sorted.
        x_train: Its training features.
        y_train: Its training class ids.
        x_test: Its test features.
        y_test: Its test class ids.
    """

    name: str
    classes: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class TaskSequence:
    """The tasks in the order the network meets them.

    Attributes:
        tasks: The tasks.
        class_names: Every class's name, by class id, over the whole sequence.
        input_shape: One sample's shape.
        source: Where the tasks come from, for logs ("digits by 2 classes").
        skipped: Image files left out because they could not be read, as "file (reason)".
    """

    tasks: tuple[Task, ...]
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    source: str
    skipped: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def names(self) -> list[str]:
        return [task.name for task in self.tasks]

    def training_samples(self) -> int:
        return sum(len(task.x_train) for task in self.tasks)


def join_samples(arrays: list) -> np.ndarray | ImageFiles:
    """The samples of `arrays` one after another; image files stay undecoded."""
    if isinstance(arrays[0], ImageFiles):
        joined = arrays[0]
        for more in arrays[1:]:
            joined = joined.joined(more)
        return joined
    return np.concatenate(arrays)


def _rows(x, mask: np.ndarray):
    """The samples of `x` where `mask` is true; image files stay undecoded."""
    return x.take(np.flatnonzero(mask)) if isinstance(x, ImageFiles) else x[mask]


def continual_settings(values: dict) -> dict:
    """The continual section complete and checked (missing keys take their defaults).

    Raises:
        ContinualError: naming the bad setting.
    """
    try:
        return coerce_section(CONTINUAL_PARAMS, values, "continual")
    except ParamError as error:
        raise ContinualError(str(error)) from None


def build_sequence(
    dataset_settings: dict, continual: dict, base_dir: Path | None = None
) -> TaskSequence:
    """The task sequence that a graph's dataset and continual settings describe.

    Args:
        dataset_settings: The graph's dataset section.
        continual: The graph's continual section (missing keys take defaults).
        base_dir: The folder relative paths start from (the graph file's folder).

    Raises:
        ContinualError: for a split that leaves a task empty or with one class, a
            missing column, files that do not match, or data that cannot be read.
    """
    continual = continual_settings(continual)
    try:
        dataset_settings = coerce_section(DATASET_PARAMS, dataset_settings, "dataset")
        split = continual["split"]
        if split == "classes":
            return split_by_classes(dataset_settings, continual["classes_per_task"], base_dir)
        if split == "column":
            return split_by_column(dataset_settings, continual["column"], base_dir)
        return split_by_files(dataset_settings, continual_files(continual["files"]), base_dir)
    except (DataError, ParamError) as error:
        raise ContinualError(str(error)) from None


def split_by_classes(
    dataset_settings: dict, classes_per_task: int, base_dir: Path | None = None
) -> TaskSequence:
    """The dataset cut into tasks of `classes_per_task` consecutive classes."""
    dataset = load_dataset(dataset_settings, base_dir)
    if dataset.task != "classification" or dataset.target == "inputs":
        raise ContinualError(
            f"continual learning splits classes, but {dataset.name} is a {dataset.task} task: "
            "choose a classification dataset"
        )
    x_train, y_train = dataset.x_train, dataset.y_train
    if dataset.has_validation:  # no early stopping here: validation samples train too
        x_train = join_samples([x_train, dataset.x_val])
        y_train = np.concatenate([y_train, dataset.y_val])
    classes = sorted(int(c) for c in np.unique(y_train))
    if classes_per_task > len(classes):
        raise ContinualError(
            f"classes_per_task is {classes_per_task} but {dataset.name} has only "
            f"{len(classes)} classes: a sequence needs at least 2 tasks"
        )
    names = dataset.class_names or tuple(str(c) for c in range(max(classes) + 1))
    tasks = []
    for start in range(0, len(classes), classes_per_task):
        group = tuple(classes[start : start + classes_per_task])
        label = _class_range(names, group)
        if len(group) == 1:
            raise ContinualError(
                f"splitting {len(classes)} classes by {classes_per_task} leaves task "
                f"{len(tasks) + 1} ({label}) with one class; a task needs 2 classes or more: "
                + _class_split_advice(len(classes))
            )
        train, test = np.isin(y_train, group), np.isin(dataset.y_test, group)
        _check_task(label, y_train[train], names, dataset.y_test[test])
        tasks.append(
            Task(
                label,
                group,
                _rows(x_train, train),
                y_train[train],
                _rows(dataset.x_test, test),
                dataset.y_test[test],
            )
        )
    source = f"{dataset.name} split by {classes_per_task} classes"
    return TaskSequence(
        tuple(tasks), tuple(names), dataset.input_shape, source, tuple(dataset.skipped)
    )


def _class_split_advice(count: int) -> str:
    """Which classes_per_task give at least 2 tasks of at least 2 classes each, if any."""
    fits = [k for k in range(2, count // 2 + 1) if count % k != 1]
    if not fits:
        return (
            f"{count} classes are too few for 2 such tasks; use data with at least 4 "
            "classes, or split the tasks by a column or by files"
        )
    return f"choose classes_per_task {' or '.join(str(k) for k in fits[:6])}"


def _class_range(names: tuple[str, ...], group: tuple[int, ...]) -> str:
    """A task's name from its classes: "0-1", "3-5" for a run of ids, else "a, c"."""
    if len(group) > 1 and list(group) == list(range(group[0], group[-1] + 1)):
        return f"{names[group[0]]}-{names[group[-1]]}"
    return ", ".join(names[c] for c in group)


def _check_task(label: str, y_train: np.ndarray, names, y_test: np.ndarray) -> None:
    if len(y_train) == 0:
        raise ContinualError(f"task {label!r} has no training samples")
    present = np.unique(y_train)
    if len(present) < 2:
        raise ContinualError(
            f"task {label!r} holds one class ({names[int(present[0])]!r}); "
            "a task needs samples of 2 classes or more"
        )
    if len(y_test) == 0:
        raise ContinualError(
            f"task {label!r} has no test samples: add data or raise the dataset's test_size"
        )


def split_by_column(dataset_settings: dict, column: str, base_dir: Path | None) -> TaskSequence:
    """The graph's CSV file cut into tasks by the values of `column`."""
    if dataset_settings["source"] != "csv":
        raise ContinualError(
            f"split by column needs a CSV dataset. Received: source {dataset_settings['source']!r}"
        )
    if not column:
        raise ContinualError("split by column needs the column's name: set continual.column")
    if not dataset_settings["path"]:
        raise ContinualError("dataset: source 'csv' needs a path. Received: ''")
    path = dataset_path(dataset_settings["path"], base_dir)
    raw = _whole(load_table(path, dataset_settings))
    if raw.task != "classification":
        raise ContinualError(f"{path.name}: continual learning needs class labels, not values")
    names = list(raw.feature_names)
    if column in names:
        index = names.index(column)
        values = raw.x[:, index]
        keep = ~np.isnan(values)
        labels = [f"{v:g}" for v in values[keep]]
        order = sorted(set(labels), key=float)
        drop = [index]
    else:
        drop = [i for i, name in enumerate(names) if name.startswith(f"{column}=")]
        if not drop:
            target = dataset_settings["target_column"] or "the target"
            shown = sorted({name.split("=")[0] for name in names})
            raise ContinualError(
                f"{path.name}: no column {column!r} to split by (it cannot be {target}). "
                f"Columns: {', '.join(shown)}"
            )
        onehot = raw.x[:, drop]
        keep = ~np.isnan(onehot).any(axis=1) & (onehot.sum(axis=1) == 1)
        categories = [names[i].split("=", 1)[1] for i in drop]
        labels = [categories[i] for i in np.argmax(onehot[keep], axis=1)]
        order = sorted(set(labels))
    features = [i for i in range(raw.x.shape[1]) if i not in drop]
    x, y = raw.x[keep][:, features], raw.y[keep]
    labels = np.array(labels)
    parts = [(str(value), x[labels == value], y[labels == value]) for value in order]
    if len(parts) < 2:
        raise ContinualError(
            f"{path.name}: column {column!r} has a single value ({order[0]!r}); "
            "a sequence needs at least 2 tasks"
            if order
            else f"{path.name}: column {column!r} has no values"
        )
    return _split_parts(parts, raw.class_names, dataset_settings, path.name)


def split_by_files(dataset_settings: dict, files: list[str], base_dir: Path | None) -> TaskSequence:
    """One task per data file, in order; classes matched by name across files."""
    if len(files) < 2:
        raise ContinualError(
            f"split by files needs at least 2 data files in continual.files. Received: {files}"
        )
    paths = [dataset_path(text, base_dir) for text in files]
    loaded = [(path.name, load_file(path, dataset_settings)) for path in paths]
    return sequence_from_raw(loaded, dataset_settings, "files")


def sequence_from_raw(
    parts: list[tuple[str, RawData]],
    dataset_settings: dict,
    source: str,
) -> TaskSequence:
    """One task per (name, raw data), in order; classes matched by name.

    Class ids follow the first part's classes, then each new name as it
    appears, so the first data keeps the ids a model trained on it learned.
    """
    for name, raw in parts:
        if raw.task != "classification":
            raise ContinualError(f"{name}: continual learning needs class labels, not values")
        if raw is not parts[0][1]:
            if isinstance(raw.x, ImageFiles) != isinstance(parts[0][1].x, ImageFiles):
                raise ContinualError(
                    f"{name}: a sequence is all image folders or all data files; "
                    f"{parts[0][0]} is not the same kind"
                )
            _check_same_features(parts[0], (name, raw))
    class_names = list(parts[0][1].class_names)
    for _, raw in parts[1:]:
        class_names += [n for n in raw.class_names if n not in class_names]
    lookup = {name: index for index, name in enumerate(class_names)}
    labelled = []
    for name, raw in parts:
        ids = np.array([lookup[n] for n in raw.class_names], dtype="int64")
        labelled.append((name, raw.x, ids[raw.y]))
    return _split_parts(labelled, tuple(class_names), dataset_settings, source)


def raw_data(dataset_settings: dict, base_dir: Path | None) -> tuple[str, RawData]:
    """The unsplit, unscaled data the dataset settings name, with its name."""
    if dataset_settings["source"] == "builtin":
        return dataset_settings["name"], _whole(
            BUILTINS[dataset_settings["name"]](dataset_settings)
        )
    if not dataset_settings["path"]:
        raise ContinualError(
            f"dataset: source {dataset_settings['source']!r} needs a path. Received: ''"
        )
    path = dataset_path(dataset_settings["path"], base_dir)
    return path.name, load_file(path, dataset_settings)


def _whole(raw: RawData) -> RawData:
    """`raw` with only the rows it keeps (the contract may mark rows to leave out)."""
    if raw.rows is None:
        return raw
    return replace(raw, x=raw.x[raw.rows], y=raw.y[raw.rows], rows=None)


def load_file(path: Path, settings: dict) -> RawData:
    if path.is_dir():
        return load_image_folder(path, settings)  # files, read when the learner needs them
    if path.suffix.lower() in (".npz", ".npy"):
        return _whole(load_numpy(path, settings))
    if path.suffix.lower() in (".csv", ".parquet", ".pq") or not path.exists():
        return _whole(load_table(path, settings))
    raise ContinualError(
        f"{path}: not a data file this app reads (.csv, .npz, .npy, or a folder of images)"
    )


def _check_same_features(first: tuple[str, RawData], other: tuple[str, RawData]) -> None:
    (first_name, a), (name, b) = first, other
    if a.x.shape[1:] != b.x.shape[1:]:
        raise ContinualError(
            f"{name}: samples of shape {b.x.shape[1:]} do not match {first_name}'s "
            f"{a.x.shape[1:]}; every file of the sequence needs the same features"
        )
    # NumPy files name their features f0, f1, ...: only named columns can be compared.
    if a.feature_names != b.feature_names and not (
        _unnamed(a.feature_names) or _unnamed(b.feature_names)
    ):
        missing = [f for f in a.feature_names if f not in b.feature_names]
        extra = [f for f in b.feature_names if f not in a.feature_names]
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing[:5])}" if missing else "",
                f"extra {', '.join(extra[:5])}" if extra else "",
            )
            if part
        )
        raise ContinualError(
            f"{name}: its features do not match {first_name}'s "
            f"({detail or 'same names in another order'}); every file of the sequence "
            "needs the same columns"
        )


def _unnamed(names: tuple[str, ...]) -> bool:
    return names == tuple(f"f{i}" for i in range(len(names)))


def _split_parts(
    parts: list[tuple[str, np.ndarray, np.ndarray]],
    class_names: tuple[str, ...],
    settings: dict,
    source: str,
) -> TaskSequence:
    """Train/test splits per part; imputation and scaling fitted on the first task."""
    no_validation = {**settings, "validation_size": 0.0}
    splits, skipped, scaling = [], [], None
    for name, x, y in parts:
        if len(x) == 0:
            raise ContinualError(f"task {name!r} has no samples")
        present = np.unique(y)
        if len(present) < 2:
            raise ContinualError(
                f"task {name!r} holds one class ({class_names[int(present[0])]!r}); "
                "a task needs samples of 2 classes or more"
            )
        try:
            train, _, test = split_positions(y, no_validation, True)
        except DataError as error:
            raise ContinualError(f"task {name!r}: {error}") from None
        if isinstance(x, ImageFiles):
            # Scaling is fitted on the first task's training images only.
            fit = settings["normalization"] if not splits else "none"
            bad, reasons, fitted = scan_images(x, train, fit)
            skipped += reasons
            scaling = fitted if not splits else scaling
            train, test = train[~np.isin(train, bad)], test[~np.isin(test, bad)]
            splits.append([name, x.take(train), y[train], x.take(test), y[test]])
            continue
        x_train = np.array(x[train], dtype="float32")
        x_test = np.array(x[test], dtype="float32")
        splits.append([name, x_train, y[train], x_test, y[test]])
    if isinstance(splits[0][1], ImageFiles):
        if scaling is not None:
            for split in splits:
                split[1], split[3] = split[1].scaled(scaling), split[3].scaled(scaling)
    else:
        _impute_and_scale(splits, settings)
    tasks = []
    for name, x_train, y_train, x_test, y_test in splits:
        classes = tuple(int(c) for c in np.unique(y_train))
        _check_task(name, y_train, class_names, y_test)
        tasks.append(Task(name, classes, x_train, y_train, x_test, y_test))
    input_shape = tuple(int(d) for d in tasks[0].x_train.shape[1:])
    name = f"{source} ({len(tasks)} tasks)"
    return TaskSequence(tuple(tasks), class_names, input_shape, name, tuple(skipped))


def _impute_and_scale(splits: list, settings: dict) -> None:
    """Imputes and scales every task's arrays in place, fitted on the first task's training split.

    The contract's impute and normalize fit on their first array and change every
    array in place: each task is fitted on a fresh copy of the first task's training split.
    """
    if settings["missing"] != "drop":
        reference = splits[0][1].copy()
        for split in splits:
            impute(settings["missing"], reference.copy(), split[1], split[3])
    reference = splits[0][1].copy()
    for _, x_train, _, x_test, _ in splits:
        normalize(settings["normalization"], reference.copy(), x_train, x_test)
