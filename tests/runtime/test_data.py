"""Datasets: the built-in data contract, user files, preprocessing and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as sk
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from runtime.data import DataError, load_dataset, model_inputs, training_targets
from runtime.data_contract import BUILTINS


def contract_arrays(x, y, test_size=0.2, validation_size=0.1, seed=42, stratify=True, scale=None):
    """The data contract (data_spec.md) written out independently of runtime/."""
    strat = y if stratify else None
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=strat
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=validation_size,
        random_state=seed,
        stratify=y_rest if stratify else None,
    )
    if scale is not None:
        scaler = scale().fit(x_train.reshape(len(x_train), -1))
        x_train, x_val, x_test = (
            scaler.transform(a.reshape(len(a), -1)).reshape(a.shape).astype("float32")
            for a in (x_train, x_val, x_test)
        )
    return x_train, y_train, x_val, y_val, x_test, y_test


def assert_same(dataset, expected):
    actual = (
        dataset.x_train,
        dataset.y_train,
        dataset.x_val,
        dataset.y_val,
        dataset.x_test,
        dataset.y_test,
    )
    for got, want in zip(actual, expected, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_digits_follows_the_contract():
    bunch = sk.load_digits()
    x, y = bunch.data.astype("float32"), bunch.target.astype("int64")
    dataset = load_dataset({"name": "digits"})
    assert_same(dataset, contract_arrays(x, y, scale=StandardScaler))
    assert dataset.input_shape == (64,)
    assert dataset.num_classes == 10
    assert dataset.task == "classification"


def test_digits_images_follow_the_contract_with_minmax():
    bunch = sk.load_digits()
    x = bunch.data.astype("float32").reshape(-1, 8, 8, 1)
    y = bunch.target.astype("int64")
    dataset = load_dataset({"name": "digits_images", "normalization": "minmax"})
    assert_same(dataset, contract_arrays(x, y, scale=MinMaxScaler))
    assert dataset.images
    assert dataset.x_train.min() == 0.0 and dataset.x_train.max() == 1.0


def test_sine_follows_the_contract():
    samples, noise, seed = 120, 0.05, 7
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, 2 * np.pi, size=samples)
    t = start[:, None] + 0.25 * np.arange(21)
    wave = np.sin(t) + noise * rng.normal(size=t.shape)
    x, y = wave[:, :20, None].astype("float32"), wave[:, 20].astype("float32")
    settings = {"name": "sine", "samples": samples, "noise": noise, "seed": seed}
    dataset = load_dataset({**settings, "normalization": "none"})
    assert_same(dataset, contract_arrays(x, y, seed=seed, stratify=False))
    assert dataset.task == "regression"
    assert dataset.num_classes == 0


def test_sequence_classification_follows_the_contract():
    samples, noise, seed = 100, 0.1, 3
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=samples)
    slope = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.5, 1.5, size=samples)
    x = slope[:, None] * np.linspace(0.0, 1.0, 20) + noise * rng.normal(size=(samples, 20))
    x = x[..., None].astype("float32")
    settings = {"name": "sequence_classification", "samples": samples, "noise": noise}
    dataset = load_dataset({**settings, "seed": seed, "normalization": "none"})
    assert_same(dataset, contract_arrays(x, y.astype("int64"), seed=seed))


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("moons", lambda: sk.make_moons(n_samples=200, noise=0.1, random_state=42)),
        ("circles", lambda: sk.make_circles(n_samples=200, noise=0.1, factor=0.5, random_state=42)),
        (
            "blobs",
            lambda: sk.make_blobs(
                n_samples=200, centers=3, n_features=2, cluster_std=1.0, random_state=42
            ),
        ),
    ],
)
def test_generated_points_follow_the_contract(name, make):
    x, y = make()
    dataset = load_dataset({"name": name, "samples": 200})
    expected = contract_arrays(x.astype("float32"), y.astype("int64"), scale=StandardScaler)
    assert_same(dataset, expected)


@pytest.mark.parametrize("name", sorted(set(BUILTINS) - {"sentiment"}))  # text: test_text_data
def test_every_builtin_loads_split_and_scaled(name):
    dataset = load_dataset({"name": name, "samples": 200})
    assert dataset.x_train.dtype == np.float32
    total = len(dataset.x_train) + len(dataset.x_val) + len(dataset.x_test)
    assert total == {"digits": 1797, "digits_images": 1797, "iris": 150, "wine": 178}.get(
        name, 569 if name == "breast_cancer" else 200
    )
    # Statistics come from the training split only.
    flat = dataset.x_train.reshape(len(dataset.x_train), -1)
    assert np.allclose(flat.mean(axis=0), 0, atol=1e-4)
    if dataset.task == "classification":
        assert dataset.y_train.dtype == np.int64
        assert dataset.num_classes == len(dataset.class_names)


def test_stratified_split_keeps_class_proportions():
    dataset = load_dataset({"name": "iris"})
    for y in (dataset.y_train, dataset.y_test):
        counts = np.bincount(y)
        assert counts.max() - counts.min() <= 1


def test_no_validation_split_when_its_size_is_zero():
    dataset = load_dataset({"name": "iris", "validation_size": 0.0})
    assert dataset.x_val is None and not dataset.has_validation
    assert len(dataset.x_train) == 120


def test_autoencoder_target_is_the_normalized_input():
    dataset = load_dataset({"name": "digits", "target": "inputs"})
    assert dataset.task == "regression"
    assert dataset.y_train is dataset.x_train
    assert dataset.target_shape == (64,)


def test_one_hot_only_for_categorical_crossentropy():
    y = np.array([0, 2, 1])
    assert training_targets(y, "sparse_categorical_crossentropy", 3) is y
    np.testing.assert_array_equal(
        training_targets(y, "categorical_crossentropy", 3), np.eye(3, dtype="float32")[[0, 2, 1]]
    )


def test_model_inputs_split_features_across_inputs_in_order():
    x = np.arange(2 * 64, dtype="float32").reshape(2, 64)
    top, bottom = model_inputs(x, [(32,), (4, 8)])
    np.testing.assert_array_equal(top, x[:, :32])
    np.testing.assert_array_equal(bottom.reshape(2, 32), x[:, 32:])
    assert model_inputs(x, [(8, 8, 1)]).shape == (2, 8, 8, 1)
    with pytest.raises(DataError, match=r"hold 64 values but the Input nodes take 40 \(32 \+ 8\)"):
        model_inputs(x, [(32,), (8,)])


# CSV --------------------------------------------------------------------------------


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_settings(path, **extra):
    return {"source": "csv", "path": str(path), "test_size": 0.25, "validation_size": 0.0, **extra}


CSV_ROWS = "\n".join(
    f"{i},{i % 7 * 1.5},{'red' if i % 3 else 'blue'},{'yes' if i % 2 else 'no'}" for i in range(40)
)


def test_csv_numeric_and_categorical_features_with_a_text_target(tmp_path):
    path = write(tmp_path, "data.csv", "id,size,colour,label\n" + CSV_ROWS)
    dataset = load_dataset(csv_settings(path, normalization="none"))
    assert dataset.feature_names == ("id", "size", "colour=blue", "colour=red")
    assert dataset.class_names == ("no", "yes")
    assert dataset.task == "classification"
    assert len(dataset.x_train) + len(dataset.x_test) == 40
    row = dataset.x_train[0]
    assert row[2] + row[3] == 1.0


def test_csv_chosen_target_column_and_regression(tmp_path):
    path = write(tmp_path, "data.csv", "id,size,colour,label\n" + CSV_ROWS)
    dataset = load_dataset(csv_settings(path, target_column="id", stratify=False))
    assert dataset.task == "regression"
    assert dataset.y_train.dtype == np.float32
    assert "id" not in dataset.feature_names


def test_csv_missing_values_dropped_or_imputed_from_training_split(tmp_path):
    rows = ["a,b,y"] + [f"{i},{'' if i % 5 == 0 else i * 2},{i % 2}" for i in range(40)]
    path = write(tmp_path, "gaps.csv", "\n".join(rows))
    dropped = load_dataset(csv_settings(path, normalization="none"))
    assert len(dropped.x_train) + len(dropped.x_test) == 32
    imputed = load_dataset(csv_settings(path, normalization="none", missing="mean"))
    assert len(imputed.x_train) + len(imputed.x_test) == 40
    train = imputed.x_train
    assert not np.isnan(train).any() and not np.isnan(imputed.x_test).any()
    filled = train[:, 0] % 5 == 0
    observed = train[~filled, 1]
    np.testing.assert_allclose(train[filled, 1], observed.mean(), rtol=1e-5)


def test_csv_drop_duplicates(tmp_path):
    rows = ["a,y"] + [f"{i % 10},{i % 2}" for i in range(40)]
    path = write(tmp_path, "dupes.csv", "\n".join(rows))
    dataset = load_dataset(csv_settings(path, drop_duplicates=True, stratify=False))
    assert len(dataset.x_train) + len(dataset.x_test) == 10


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        ("", {}, "the file is empty"),
        ("a,b\n", {}, "has a header row but no data rows"),
        ("a,b\n1,2\n3\n", {}, r"data.csv:3: row has 1 fields, the header has 2"),
        ("a,b\n1,2\n", {"target_column": "c"}, "no column 'c' for target_column. Columns: a, b"),
        ("a,y\n1,x\n2,x\n3,x\n", {}, "target column 'y' has a single class \\('x'\\)"),
        ("a,y\n,1\n,2\n", {}, "no rows left after dropping rows with missing values: column 'a'"),
        (
            "a,b,c,y\n1,,,1\n2,,,2\n",
            {},
            "columns 'b', 'c' are empty in every row; remove them, or set missing to mean",
        ),
        ("a,b,y\n1,,1\n,2,2\n", {}, r"missing values; set missing to mean, median"),
        ("a,y\n1,x\n2,z\n", {}, r"2 classes \('x', 'z'\) have a single sample; a stratified"),
        (
            "x1;x2;y\n1,2,a\n3;4;b\n5,6,a\n",
            {},
            r"data.csv:2: row has 3 fields, the header has 1 \(read with the delimiter ',': do the",
        ),
    ],
)
def test_bad_csv_files_get_clear_messages(tmp_path, text, extra, message):
    path = write(tmp_path, "data.csv", text)
    with pytest.raises(DataError, match=message):
        load_dataset(csv_settings(path, **extra))


def test_unreadable_files_get_clear_messages(tmp_path):
    with pytest.raises(DataError, match="missing.csv: file not found"):
        load_dataset(csv_settings(tmp_path / "missing.csv"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        load_dataset(csv_settings(binary))
    with pytest.raises(DataError, match="source 'csv' needs a path"):
        load_dataset({"source": "csv"})
    with pytest.raises(DataError, match="dataset: normalization"):
        load_dataset({"normalization": "zscore"})


def test_relative_paths_are_relative_to_base_dir(tmp_path):
    write(tmp_path, "data.csv", "id,size,colour,label\n" + CSV_ROWS)
    dataset = load_dataset({**csv_settings("data.csv")}, base_dir=tmp_path)
    assert dataset.name == "data.csv"


def test_too_few_samples_per_class_to_stratify(tmp_path):
    rows = ["a,y"] + [f"{i},{'rare' if i == 0 else 'common'}" for i in range(20)]
    path = write(tmp_path, "rare.csv", "\n".join(rows))
    with pytest.raises(DataError, match="or set stratify to false"):
        load_dataset(csv_settings(path))


# NumPy ------------------------------------------------------------------------------


def test_npz_with_x_and_y(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "data.npz"
    np.savez(path, x=rng.normal(size=(60, 4, 4, 1)), y=np.arange(60) % 3)
    dataset = load_dataset({"source": "numpy", "path": str(path)})
    assert dataset.input_shape == (4, 4, 1)
    assert dataset.images and dataset.num_classes == 3


def test_npy_with_target_column(tmp_path):
    data = np.column_stack([np.arange(50.0), np.arange(50.0) * 2, np.arange(50) % 2])
    path = tmp_path / "data.npy"
    np.save(path, data)
    dataset = load_dataset({"source": "numpy", "path": str(path), "normalization": "none"})
    assert dataset.input_shape == (2,)
    np.testing.assert_array_equal(dataset.x_train[:, 1], dataset.x_train[:, 0] * 2)


def test_bad_numpy_files(tmp_path):
    wrong_keys = tmp_path / "keys.npz"
    np.savez(wrong_keys, a=np.zeros((5, 2)))
    with pytest.raises(DataError, match="expected arrays named x and y. Received: a"):
        load_dataset({"source": "numpy", "path": str(wrong_keys)})
    text = tmp_path / "text.npz"
    np.savez(text, x=np.array([["a", "b"], ["c", "d"]]), y=np.array([0, 1]))
    with pytest.raises(DataError, match="array x must be numeric. Received: dtype <U1"):
        load_dataset({"source": "numpy", "path": str(text)})
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not numpy at all")
    with pytest.raises(DataError, match="not a readable NumPy file"):
        load_dataset({"source": "numpy", "path": str(garbage)})
    lengths = tmp_path / "lengths.npz"
    np.savez(lengths, x=np.zeros((5, 2)), y=np.zeros(4))
    with pytest.raises(DataError, match="x has 5 samples but y has 4"):
        load_dataset({"source": "numpy", "path": str(lengths)})
    empty = tmp_path / "empty.npz"
    np.savez(empty, x=np.zeros((0, 2)), y=np.zeros(0))
    with pytest.raises(DataError, match="contains no samples"):
        load_dataset({"source": "numpy", "path": str(empty)})


# Image folders ------------------------------------------------------------------------


def write_images(root, classes=("cats", "dogs"), per_class=6, size=(10, 12)):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)
            (root / name / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())


def test_image_folder_one_subfolder_per_class(tmp_path):
    write_images(tmp_path / "pets")
    settings = {
        "source": "image_folder",
        "path": str(tmp_path / "pets"),
        "image_size": (8, 8),
        "color_mode": "rgb",
        "validation_size": 0.0,
        "test_size": 0.25,
    }
    dataset = load_dataset(settings)
    assert dataset.class_names == ("cats", "dogs")
    assert dataset.input_shape == (8, 8, 3)
    assert dataset.images
    gray = load_dataset({**settings, "color_mode": "grayscale"})
    assert gray.input_shape == (8, 8, 1)


def test_bad_image_folders(tmp_path):
    write_images(tmp_path / "pets")
    settings = {"source": "image_folder", "path": str(tmp_path / "pets")}
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="no images found"):
        load_dataset({**settings, "path": str(tmp_path / "empty")})
    write_images(tmp_path / "one", classes=("only",))
    with pytest.raises(DataError, match=r"has a single class \('only'\)"):
        load_dataset({**settings, "path": str(tmp_path / "one")})
