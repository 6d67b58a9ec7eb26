"""Tables at scale: text columns read once per distinct value, parts written once, same values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.model_selection import train_test_split

from graph.settings import DATASET_PARAMS, coerce_section
from runtime import data_contract
from runtime.data import DataError, load_dataset


def _settings(path, **extra):
    return coerce_section(DATASET_PARAMS, {"source": "csv", "path": str(path), **extra}, "dataset")


@pytest.fixture(scope="module")
def gappy_csv(tmp_path_factory):
    """Numbers, categories (some missing, any case), a constant column and a class target."""
    rng = np.random.default_rng(0)
    rows = ["size,colour,seven,flag,label"]
    for i in range(300):
        size = "" if rng.random() < 0.1 else f"{rng.normal() * 10:.3f}"
        colour = "" if rng.random() < 0.1 else rng.choice(["red", " green", "blue ", "n/A"])
        seven = "7" if rng.random() < 0.9 else ""
        flag = rng.choice(["x", "NA"]) if i % 2 else "x"
        rows.append(f"{size},{colour},{seven},{flag},{rng.choice(['p', 'q', 'r'])}")
    path = tmp_path_factory.mktemp("tables") / "gappy.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("missing", ["mean", "median", "most_frequent", "drop"])
@pytest.mark.parametrize("normalization", ["standard", "minmax", "none"])
def test_table_parts_hold_what_impute_and_normalize_make_of_the_whole_table(
    gappy_csv, missing, normalization
):
    options = _settings(gappy_csv, missing=missing, normalization=normalization)
    raw = data_contract.load_table(gappy_csv, options)
    assert raw.feature_names == (
        "size",
        "colour=blue",
        "colour=green",
        "colour=red",
        "seven",
        "flag=x",
    )
    got = data_contract.prepare(options, raw, "gappy")
    written = data_contract.RawData(
        np.asarray(raw.x), raw.y, raw.task, raw.class_names, raw.feature_names, rows=raw.rows
    )
    want = data_contract.prepare(options, written, "gappy")
    for part in ("x_train", "x_val", "x_test"):
        assert not np.isnan(getattr(got, part)).any()
        np.testing.assert_allclose(getattr(got, part), getattr(want, part), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(getattr(got, f"y{part[1:]}"), getattr(want, f"y{part[1:]}"))


def test_a_table_prepared_for_the_last_time_frees_its_columns_and_writes_the_same_parts(
    gappy_csv,
):
    # load_dataset's table is never read again: its number columns are freed before
    # the parts are written, so they and the parts are never in memory together.
    options = _settings(gappy_csv, missing="median", normalization="standard")
    kept = data_contract.load_table(gappy_csv, options)
    spent = data_contract.load_table(gappy_csv, options)
    want = data_contract.prepare(options, kept, "gappy")
    got = data_contract.prepare(options, spent, "gappy", last_use=True)
    for part in ("x_train", "x_val", "x_test", "y_train", "y_val", "y_test"):
        np.testing.assert_array_equal(getattr(got, part), getattr(want, part))
    numbers = [column for column in spent.x.columns if column.codes is None]
    assert numbers and all(column.numbers is None for column in numbers)
    assert all(column.numbers is not None for column in kept.x.columns if column.codes is None)


def test_table_features_index_like_the_array_they_stand_for(gappy_csv):
    x = data_contract.load_table(gappy_csv, _settings(gappy_csv)).x
    whole = np.asarray(x)
    assert whole.shape == x.shape and whole.dtype == np.float32
    picked = np.array([5, 0, 5, 299])
    np.testing.assert_array_equal(x[picked], whole[picked])
    np.testing.assert_array_equal(x[3], whole[3])
    np.testing.assert_array_equal(x[10:20], whole[10:20])


@pytest.mark.parametrize(
    ("samples", "classes", "test_size"), [(50, 2, 0.2), (997, 7, 0.33), (1500, 23, 0.25)]
)
def test_stratified_split_draws_what_train_test_split_draws(samples, classes, test_size):
    y = np.random.default_rng(samples).integers(0, classes, samples)
    positions = np.arange(samples) * 2 + 1
    for stratify in (y, None):
        want = train_test_split(positions, test_size=test_size, random_state=7, stratify=stratify)
        got = data_contract._train_test(positions, test_size, 7, stratify)
        for mine, theirs in zip(got, want, strict=True):
            np.testing.assert_array_equal(mine, theirs)
    lonely = np.array([0, 0, 0, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="only 1 member"):
        train_test_split(np.arange(7), test_size=0.3, random_state=0, stratify=lonely)
    with pytest.raises(ValueError, match=r"1 class \(2\) has a single sample"):
        data_contract._train_test(np.arange(7), 0.3, 0, lonely)


def test_columns_whose_text_starts_after_the_sampled_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(data_contract, "TYPE_SAMPLE_BYTES", 64)
    rows = [f"{i},{i % 3},{'a' if i % 2 else 'b'}" for i in range(40)]
    rows[30] = "30,many,a"  # a number column until row 32: categories after all
    path = tmp_path / "late.csv"
    path.write_text("x,y,z\n" + "\n".join(rows) + "\n")
    dataset = load_dataset({**_settings(path), "stratify": False})
    assert dataset.feature_names == ("x", "y=0", "y=1", "y=2", "y=many")
    path.write_bytes(("x,y,z\n" + "\n".join(rows[:35])).encode() + b"\n35,1,caf\xe9\n")
    with pytest.raises(DataError, match=r"late.csv: row 37, column 'z': not UTF-8 text"):
        load_dataset(_settings(path))


def test_parquet_dictionary_columns_are_categories_of_the_values_present(tmp_path):
    colours = pa.array(["red", "blue", None, "red"] * 10).dictionary_encode()
    unused = pa.DictionaryArray.from_arrays(colours.indices, ["red", "blue", "never"])
    table = pa.table({"colour": unused, "n": list(range(40)), "y": ["p", "q"] * 20})
    pq.write_table(table, tmp_path / "cats.parquet")
    dataset = load_dataset(
        {"source": "csv", "path": str(tmp_path / "cats.parquet"), "missing": "mean"}
    )
    assert dataset.feature_names == ("colour=blue", "colour=red", "n")


# Whatever the bytes, and wherever the sampled rows end: a dataset or one clear DataError.

cells = st.one_of(
    st.text(alphabet='ab19 .-e"\u00e9', max_size=6),
    st.sampled_from(["", "NA", " n/a", "1e400", "0x1f", "inf", "7", "2020-01-01"]),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=20),
    st.integers(1, 200),
    st.binary(max_size=4),
    st.sampled_from(["mean", "drop"]),
)
def test_fuzzed_tables_read_with_any_sample_load_or_get_one_clear_error(
    tmp_path, monkeypatch, rows, sample_bytes, noise, missing
):
    monkeypatch.setattr(data_contract, "TYPE_SAMPLE_BYTES", sample_bytes)
    path = tmp_path / "fuzz.csv"
    path.write_bytes(("a,b,c\n" + "\n".join(",".join(row) for row in rows)).encode() + noise)
    try:
        dataset = load_dataset({**_settings(path, missing=missing), "stratify": False})
    except DataError as error:
        assert "fuzz.csv" in str(error) or "split" in str(error)
        return
    assert dataset.x_train.dtype.kind in "fU" and len(dataset.x_train) > 0


@pytest.mark.parametrize(("samples", "test_size"), [(1, 0.2), (2, 0.9), (3, 0.5), (4, 0.05)])
def test_stratified_split_refuses_what_train_test_split_refuses(samples, test_size):
    """Sizes checked without ShuffleSplit's permutation; the messages are ours, with names."""
    y = np.arange(samples) % 2
    with pytest.raises(ValueError) as theirs:
        train_test_split(np.arange(samples), test_size=test_size, random_state=0, stratify=y)
    with pytest.raises(ValueError) as mine:
        data_contract._train_test(np.arange(samples), test_size, 0, y, ("cat", "dog"))
    if "least populated" in str(theirs.value):
        assert "has a single sample; a stratified split needs at least 2" in str(mine.value)
        assert "'dog'" in str(mine.value)
    elif "should be greater or equal to the number of classes" in str(theirs.value):
        assert "samples for 2 classes; a stratified split needs one of each" in str(mine.value)
    else:  # sizes that leave a part empty: the same words as scikit-learn's
        assert str(mine.value) == str(theirs.value)
