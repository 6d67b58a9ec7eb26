"""The data section of an exported training script, following the data contract.

The script's `load_data()` produces the arrays runtime/data.py produces for
the same dataset settings (a test compares them): built-in datasets, CSV and
NumPy files and image folders, then duplicates, split, imputation,
normalization and the reconstruction target, in the app's order.
"""

from __future__ import annotations

from pathlib import Path

from codegen.layout_code import Call, Code, Value, statement
from graph.settings import dataset_path
from graph.task import REGRESSION_DATASETS

BUNDLED = {
    "digits": "load_digits",
    "digits_images": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
}

GENERATED = {
    "moons": """\
    x, y = datasets.make_moons(n_samples=SAMPLES, noise=NOISE, random_state=SEED)""",
    "circles": """\
    x, y = datasets.make_circles(n_samples=SAMPLES, noise=NOISE, factor=0.5, random_state=SEED)""",
    "blobs": """\
    x, y = datasets.make_blobs(
        n_samples=SAMPLES, centers=3, n_features=2, cluster_std=1.0, random_state=SEED
    )""",
    "sine": """\
    rng = np.random.default_rng(SEED)
    steps = 20
    start = rng.uniform(0, 2 * np.pi, size=SAMPLES)
    t = start[:, None] + 0.25 * np.arange(steps + 1)
    wave = np.sin(t) + NOISE * rng.normal(size=t.shape)
    x = wave[:, :steps, None]
    y = wave[:, steps]""",
    "sequence_classification": """\
    rng = np.random.default_rng(SEED)
    steps = 20
    y = rng.integers(0, 2, size=SAMPLES)
    slope = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.5, 1.5, size=SAMPLES)
    noise = NOISE * rng.normal(size=(SAMPLES, steps))
    x = (slope[:, None] * np.linspace(0.0, 1.0, steps) + noise)[..., None]""",
}

CSV_LOADER = '''

MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}


def parse_number(text):
    """The cell as a float, NaN when missing, None when it is not a number."""
    if text.strip().lower() in MISSING:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        return None


def column_numbers(cells):
    values = [parse_number(cell) for cell in cells]
    if any(value is None for value in values):
        return None
    return np.array(values, dtype="float64")


def load_raw():
    """Reads the CSV file: numeric columns as they are, text columns one-hot encoded."""
    text = DATA_PATH.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(text.splitlines(), dialect) if any(c.strip() for c in row)]
    header, body = [h.strip() for h in rows[0]], rows[1:]
    target_index = header.index(TARGET_COLUMN or header[-1])
    columns = [[row[i].strip() for row in body] for i in range(len(header))]
    target_cells = columns[target_index]
    keep = np.array([cell.lower() not in MISSING for cell in target_cells])
    features = []
    for index, cells in enumerate(columns):
        if index == target_index:
            continue
        numbers = column_numbers(cells)
        if numbers is not None:
            features.append(numbers[:, None])
            continue
        categories = sorted({c for c in cells if c.lower() not in MISSING})
        encoded = [
            [np.nan] * len(categories) if c.lower() in MISSING else [c == k for k in categories]
            for c in cells
        ]
        features.append(np.array(encoded, dtype="float64"))
    x = np.concatenate(features, axis=1)
    if DROP_MISSING:
        keep &= ~np.isnan(x).any(axis=1)
    cells = [cell for cell, kept in zip(target_cells, keep, strict=True) if kept]
    y, task = encode_target(column_numbers(cells), cells)
    return x[keep].astype("float32"), y, task
'''

NUMPY_LOADER = '''

def load_raw():
    """Reads x and y from a .npz file, or a .npy array with the target in a column."""
    loaded = np.load(DATA_PATH, allow_pickle=False)
    if isinstance(loaded, np.lib.npyio.NpzFile):
        x_key = next(k for k in ("x", "X", "features", "data") if k in loaded.files)
        y_names = ("y", "Y", "labels", "target", "targets")
        y_key = next((k for k in y_names if k in loaded.files), None)
        x = loaded[x_key]
        y = loaded[y_key] if y_key else np.zeros(len(x))
    else:
        index = int(TARGET_COLUMN or "-1") % loaded.shape[1]
        y = loaded[:, index]
        x = np.delete(loaded, index, axis=1)
    y, task = encode_target(y.astype("float64"), [])
    x = x.astype("float32")
    if DROP_MISSING:
        keep = ~np.isnan(x.reshape(len(x), -1)).any(axis=1)
        x, y = x[keep], y[keep]
    return x, y, task
'''

ENCODE_TARGET = '''

def encode_target(values, cells):
    """Class ids for text or few whole-number targets, else float32 values (regression)."""
    if values is not None:
        distinct = np.unique(values)
        if not np.all(values == np.round(values)) or len(distinct) > 20:
            return values.astype("float32"), "regression"
        return np.searchsorted(distinct, values).astype("int64"), "classification"
    names = sorted(set(cells))
    return np.array([names.index(c) for c in cells], dtype="int64"), "classification"
'''

IMAGE_LOADER = '''

def load_raw():
    """Reads one sub-folder of images per class, resized, values in [0, 255]."""
    suffixes = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
    folders = sorted(p for p in DATA_PATH.iterdir() if p.is_dir() and not p.name.startswith("."))
    images, labels = [], []
    for label, folder in enumerate(folders):
        for file in sorted(folder.iterdir()):
            if file.suffix.lower() not in suffixes:
                continue
            data = tf.io.read_file(str(file))
            decoded = tf.io.decode_image(data, channels=CHANNELS, expand_animations=False)
            images.append(tf.image.resize(tf.cast(decoded, "float32"), IMAGE_SIZE).numpy())
            labels.append(label)
    return np.stack(images).astype("float32"), np.array(labels, dtype="int64"), "classification"
'''

DROP_DUPLICATES = '''

def drop_duplicates(x, y):
    """Keeps the first occurrence of every distinct (features, target) row, in order."""
    rows = np.concatenate(
        [x.reshape(len(x), -1).astype("float64"), y.reshape(len(y), -1).astype("float64")], axis=1
    )
    _, first = np.unique(rows, axis=0, return_index=True)
    keep = np.sort(first)
    return x[keep], y[keep]
'''

SPLIT = '''

def split(x, y, stratify):
    """Test split first, then validation from the rest, as DeepWire splits."""
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SEED, stratify=y if stratify else None
    )
    if VALIDATION_SIZE <= 0:
        return x_rest, y_rest, None, None, x_test, y_test
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=VALIDATION_SIZE,
        random_state=SEED,
        stratify=y_rest if stratify else None,
    )
    return x_train, y_train, x_val, y_val, x_test, y_test


def fitted_on_train(transformer, train, *others):
    """Fits `transformer` per flattened feature on `train`; transforms every array."""
    transformer.fit(train.reshape(len(train), -1))
    return [
        None if a is None else transformer.transform(a.reshape(len(a), -1)).reshape(a.shape)
        for a in (train, *others)
    ]
'''

IMPUTE_STEP = """\
    if any(a is not None and np.isnan(a).any() for a in (x_train, x_val, x_test)):
        imputer = SimpleImputer(strategy=MISSING_STRATEGY, keep_empty_features=True)
        x_train, x_val, x_test = (
            None if a is None else a.astype("float32")
            for a in fitted_on_train(imputer, x_train, x_val, x_test)
        )"""

NORMALIZE_STEP = """\
    x_train, x_val, x_test = (
        None if a is None else a.astype("float32")
        for a in fitted_on_train({scaler}(), x_train, x_val, x_test)
    )"""

# Generated with numpy alone; the others come from sklearn.datasets.
NUMPY_GENERATED = frozenset({"sine", "sequence_classification"})
SCALERS = {"standard": "StandardScaler", "minmax": "MinMaxScaler"}


def data_imports(dataset: dict) -> tuple[list[str], list[str]]:
    """(standard-library imports, third-party imports) the data section needs."""
    standard, third = [], ["import numpy as np"]
    source = dataset["source"]
    if source == "builtin" and dataset["name"] not in NUMPY_GENERATED:
        third.append("from sklearn import datasets")
    if source != "builtin":
        standard.append("from pathlib import Path")
    if source == "csv":
        standard.insert(0, "import csv")
    if source == "image_folder":
        third.insert(0, "import tensorflow as tf")
    if source != "builtin" and dataset["missing"] != "drop":
        third.append("from sklearn.impute import SimpleImputer")
    third.append("from sklearn.model_selection import train_test_split")
    if dataset["normalization"] in SCALERS:
        third.append(f"from sklearn.preprocessing import {SCALERS[dataset['normalization']]}")
    return standard, third


def data_constants(dataset: dict, data_dir: Path | None) -> list[str]:
    """Module constants: the dataset settings the data section reads."""
    constants: list[tuple[str, object]] = [("SEED", dataset["seed"])]
    source = dataset["source"]
    if source == "builtin" and dataset["name"] not in BUNDLED:
        constants += [("SAMPLES", dataset["samples"]), ("NOISE", dataset["noise"])]
    if source != "builtin":
        constants.append(("DATA_PATH", dataset_path(dataset["path"], data_dir)))
    if source in ("csv", "numpy"):
        constants += [
            ("TARGET_COLUMN", dataset["target_column"]),
            ("DROP_MISSING", dataset["missing"] == "drop"),
        ]
    if source == "image_folder":
        constants += [
            ("IMAGE_SIZE", tuple(dataset["image_size"])),
            ("CHANNELS", 1 if dataset["color_mode"] == "grayscale" else 3),
        ]
    if source != "builtin" and dataset["missing"] != "drop":
        constants.append(("MISSING_STRATEGY", dataset["missing"]))
    constants += [
        ("TEST_SIZE", dataset["test_size"]),
        ("VALIDATION_SIZE", dataset["validation_size"]),
    ]
    lines = []
    for name, value in constants:
        if isinstance(value, Path):
            lines += statement(Call(Code("Path"), (Value(str(value)),)), 0, f"{name} = ")
        else:
            lines += statement(Value(value), 0, f"{name} = ")
    return lines


def loader_source(dataset: dict) -> str:
    """The `load_raw()` function (and its helpers) for the dataset's source."""
    source = dataset["source"]
    if source == "csv":
        return ENCODE_TARGET + CSV_LOADER
    if source == "numpy":
        return ENCODE_TARGET + NUMPY_LOADER
    if source == "image_folder":
        return IMAGE_LOADER
    name = dataset["name"]
    task = "regression" if name in REGRESSION_DATASETS else "classification"
    target = "float32" if task == "regression" else "int64"
    if name in BUNDLED:
        reshape = ".reshape(-1, 8, 8, 1)" if name == "digits_images" else ""
        body = (
            f"    bunch = datasets.{BUNDLED[name]}()\n"
            f"    x, y = bunch.data{reshape}, bunch.target\n"
        )
        what = f"scikit-learn's bundled {name} dataset"
    else:
        body = GENERATED[name] + "\n"
        what = f"the generated {name} dataset"
    return (
        "\n\ndef load_raw():\n"
        f'    """Features, targets and task of {what}."""\n'
        + body
        + f'    return x.astype("float32"), y.astype("{target}"), "{task}"\n'
    )


def load_data_source(dataset: dict) -> str:
    """`load_data()`: raw data -> duplicates -> split -> impute -> normalize -> target."""
    lines = [
        "",
        "",
        "def load_data():",
        '    """Loads, splits and scales the data as DeepWire does (statistics: train only)."""',
        "    x, y, task = load_raw()",
    ]
    if dataset["drop_duplicates"]:
        lines.append("    x, y = drop_duplicates(x, y)")
    stratify = 'task == "classification"' if dataset["stratify"] else "False"
    lines.append(f"    x_train, y_train, x_val, y_val, x_test, y_test = split(x, y, {stratify})")
    if dataset["source"] != "builtin" and dataset["missing"] != "drop":
        lines.append(IMPUTE_STEP)
    if dataset["normalization"] in SCALERS:
        lines.append(NORMALIZE_STEP.format(scaler=SCALERS[dataset["normalization"]]))
    if dataset["target"] == "inputs":
        lines += [
            "    # The model learns to reconstruct its (normalized) input.",
            "    y_train, y_val, y_test = x_train, x_val, x_test",
            '    task = "regression"',
        ]
    lines.append("    return (x_train, y_train), (x_val, y_val), (x_test, y_test), task")
    source = loader_source(dataset)
    if dataset["drop_duplicates"]:
        source += DROP_DUPLICATES
    return source + SPLIT + "\n".join(lines) + "\n"
