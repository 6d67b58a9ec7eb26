"""Data files at the edges: bad cells, bad encodings, odd files, limits, and fuzzing."""

from __future__ import annotations

import os
import string

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from runtime import data_contract
from runtime.data import DataError, load_dataset

ROWS = "\n".join(f"{i},{i % 3},{'a' if i % 2 else 'b'}" for i in range(20))


def csv_file(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def load_csv(path, **extra):
    settings = {"source": "csv", "path": str(path), "validation_size": 0.0, **extra}
    return load_dataset({"stratify": False, **settings})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (ROWS + "\n5,inf,a\n", r"data.csv: row 22, column 'y': the value is infinite"),
        (ROWS + "\n5,-1e39,a\n", r"data.csv: row 22, column 'y': the value is infinite"),
        (ROWS + "\n5,1," + "q" * 200_000 + "\n", r"row 22, column 'z': the cell holds 200,000"),
        (ROWS.replace("7,1,a", '7,"1,a'), r"data.csv:9: column 'y': a quote opened"),
        (ROWS + '\n5,1,"a\n', r"data.csv:22: column 'z': a quote opened"),
        (ROWS.replace("7,1,a", "7,1"), r"data.csv:9: row has 2 fields, the header has 3"),
    ],
    ids=["inf", "float32-overflow", "huge-cell", "stray-quote", "last-quote", "ragged"],
)
def test_bad_cells_are_named_by_file_row_and_column(tmp_path, body, message):
    path = csv_file(tmp_path, "x,y,z\n" + body)
    with pytest.raises(DataError, match=message):
        load_csv(path, missing="mean")


def test_mixed_encodings_name_the_row_and_column(tmp_path):
    path = csv_file(tmp_path, ("x,y,z\n" + ROWS + "\n5,1,caf").encode() + b"\xe9\n")
    with pytest.raises(DataError, match=r"row 22, column 'z': not UTF-8 text .*save the file"):
        load_csv(path)


def test_text_cells_are_trimmed_and_missing_markers_any_case(tmp_path):
    body = ROWS.replace(",1,", ", 1 ,").replace(",0,", ",N/a ,").replace(",a", ", a")
    dataset = load_csv(csv_file(tmp_path, "x , y ,z\n" + body + "\n,,\n"), missing="mean")
    assert dataset.feature_names == ("x", "y")
    assert dataset.class_names == ("a", "b")
    assert len(dataset.x_train) + len(dataset.x_test) == 20
    assert not np.isnan(dataset.x_train).any()


def test_a_text_feature_with_empty_cells_is_missing_in_every_one_hot_column(tmp_path):
    rows = [f"{i},{'' if i % 4 == 0 else 'red' if i % 2 else 'blue'},{i % 2}" for i in range(40)]
    path = csv_file(tmp_path, "a,colour,y\n" + "\n".join(rows))
    dataset = load_csv(path, normalization="none", missing="most_frequent")
    assert dataset.feature_names == ("a", "colour=blue", "colour=red")
    assert not np.isnan(dataset.x_train).any()
    dropped = load_csv(path, normalization="none")
    assert len(dropped.x_train) + len(dropped.x_test) == 30


def test_too_many_categories_are_refused(tmp_path):
    rows = [f"id{i},{i % 2}" for i in range(data_contract.MAX_CATEGORIES + 1)]
    with pytest.raises(DataError, match=r"column 'name' has 1,001 distinct values"):
        load_csv(csv_file(tmp_path, "name,y\n" + "\n".join(rows)))


def test_parquet_follows_the_same_rules_as_csv(tmp_path):
    table = pa.table({"a": [1.5, 2.0, 3.0, None] * 10, "b": ["x", "y", None, "NA"] * 10})
    table = table.append_column("y", pa.array(["p", "q"] * 20))
    pq.write_table(table, tmp_path / "data.parquet")
    csv_text = "a,b,y\n" + "\n".join(
        f"{'' if a is None else a},{'' if b is None else b},{y}"
        for a, b, y in zip(*(table.column(n).to_pylist() for n in ("a", "b", "y")), strict=True)
    )
    from_parquet = load_csv(tmp_path / "data.parquet", missing="mean")
    from_csv = load_csv(csv_file(tmp_path, csv_text), missing="mean")
    assert from_parquet.feature_names == from_csv.feature_names == ("a", "b=x", "b=y")
    np.testing.assert_array_equal(from_parquet.x_train, from_csv.x_train)
    np.testing.assert_array_equal(from_parquet.y_test, from_csv.y_test)


def test_parquet_with_nested_columns_names_the_column(tmp_path):
    table = pa.table({"a": [[1, 2], [3]] * 10, "b": list(range(20)), "y": [0, 1] * 10})
    pq.write_table(table, tmp_path / "nested.parquet")
    with pytest.raises(DataError, match=r"nested.parquet: column 'a' holds list<.*only flat"):
        load_csv(tmp_path / "nested.parquet")
    # rows are counted from 1 in a Parquet file (in a CSV, the header is line 1)
    values = [1.0] * 30 + [float("inf")]
    pq.write_table(pa.table({"a": values, "y": [0, 1] * 15 + [0]}), tmp_path / "far.parquet")
    with pytest.raises(DataError, match=r"far.parquet: row 31, column 'a': the value is infinite"):
        load_csv(tmp_path / "far.parquet")
    pq.write_table(pa.table({"a": pa.array([], pa.float64()), "y": []}), tmp_path / "none.pq")
    with pytest.raises(DataError, match=r"none.pq: has no rows$"):
        load_csv(tmp_path / "none.pq")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="broken.parquet: not a readable Parquet file"):
        load_csv(tmp_path / "broken.parquet")


def test_parquet_columns_sharing_a_name_are_read_as_a_csv_header_would_be(tmp_path):
    names = ["a", "a", "y"]
    columns = [pa.array([float(i) for i in range(20)]), pa.array([i % 3 for i in range(20)])]
    table = pa.Table.from_arrays([*columns, pa.array(["p", "q"] * 10)], names=names)
    pq.write_table(table, tmp_path / "twice.parquet")
    rows = "\n".join(f"{float(i)},{i % 3},{'pq'[i % 2]}" for i in range(20))
    from_parquet = load_csv(tmp_path / "twice.parquet")
    from_csv = load_csv(csv_file(tmp_path, "a,a,y\n" + rows))
    assert from_parquet.feature_names == from_csv.feature_names == ("a", "a")
    np.testing.assert_array_equal(from_parquet.x_train, from_csv.x_train)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_target_name_shared_by_two_columns_is_refused_not_leaked(tmp_path, suffix):
    """The first of the two was taken as the target and the last one-hot encoded: a leak."""
    path = tmp_path / f"twice{suffix}"
    if suffix == ".csv":
        path.write_text(
            "a,b,label,label\n" + "".join(f"{i},{i},{i % 3},{'xy'[i % 2]}\n" for i in range(30))
        )
    else:
        labels = pa.array(["xy"[i % 2] for i in range(30)])
        table = pa.Table.from_arrays([pa.array(range(30)), labels, labels], ["a", "label", "label"])
        pq.write_table(table, path)
    with pytest.raises(
        DataError, match=rf"twice{suffix}: columns \d and \d are both named 'label'"
    ):
        load_csv(path)
    blank = csv_file(tmp_path, ",,,\n" + "".join(f"{i},{i},{i % 3},{i % 2}\n" for i in range(30)))
    with pytest.raises(DataError, match="columns 1 and 2 and 3 and 4 are both named ''"):
        load_csv(blank)


def test_large_class_labels_stay_apart_and_are_named_exactly(tmp_path):
    """Read as float32, 16777217 was 16777216: two classes merged, all named 1.67772e+07."""
    labels = [16777216, 16777217, 16777218, 16777219]
    rows = "".join(f"{i},{i % 5},{labels[i % 4]}\n" for i in range(80))
    for header in ("a,b,label", "a,b, label "):  # names are trimmed
        dataset = load_csv(csv_file(tmp_path, f"{header}\n" + rows))
        assert dataset.class_names == ("16777216", "16777217", "16777218", "16777219")
        assert dataset.num_classes == 4
    y = np.array([10**12, 10**12 + 1] * 20)
    np.savez(tmp_path / "big.npz", x=np.arange(80.0).reshape(40, 2), y=y)
    from_numpy = load_dataset({"source": "numpy", "path": str(tmp_path / "big.npz")})
    assert from_numpy.class_names == ("1000000000000", "1000000000001")
    # a regression target beyond float32's range is still refused, as a feature is
    rows = "".join(f"{i},{i * 1.5}\n" for i in range(20)) + "5,1e39\n"
    with pytest.raises(DataError, match="row 22, column 'y': the value is infinite"):
        load_csv(csv_file(tmp_path, "a,y\n" + rows, "far.csv"))


def test_parquet_integers_past_2_to_the_53_are_read_rounded_like_a_csvs(tmp_path):
    table = pa.table(
        {
            "a": pa.array(np.arange(60.0)),
            "id": pa.array([10**18 + i for i in range(60)], pa.int64()),
            "label": pa.array(["xy"[i % 2] for i in range(60)]),
        }
    )
    pq.write_table(table, tmp_path / "ids.parquet")
    dataset = load_csv(tmp_path / "ids.parquet", normalization="none")
    assert dataset.feature_names == ("a", "id")
    assert np.allclose(dataset.x_train[:, 1], 1e18)


def test_rows_ending_with_a_delimiter_and_splits_too_small_name_the_file(tmp_path):
    trailing = csv_file(tmp_path, "a,b,\n" + "".join(f"{i},{i % 2},\n" for i in range(20)))
    with pytest.raises(
        DataError, match=r"target column '' has no value in any row \(do the rows end"
    ):
        load_csv(trailing)
    few = csv_file(tmp_path, "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(4)), "few.csv")
    with pytest.raises(DataError, match=r"few.csv: Cannot split 4 samples with test_size=0.9"):
        load_csv(few, test_size=0.9)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_target_column_empty_in_every_row_is_named(tmp_path, suffix):
    path = tmp_path / f"unlabelled{suffix}"
    if suffix == ".csv":
        path.write_text("a,y\n" + "".join(f"{i},\n" for i in range(10)))
    else:
        pq.write_table(
            pa.table({"a": list(range(10)), "y": pa.array([None] * 10, pa.string())}), path
        )
    with pytest.raises(DataError, match=f"unlabelled{suffix}: target column 'y' has no value"):
        load_csv(path, missing="mean")


@pytest.mark.parametrize("source", ["csv", "numpy"])
def test_devices_pipes_and_folders_are_refused_before_reading(tmp_path, source):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    for path, message in (
        ("/dev/zero", "/dev/zero: is not a regular file"),
        (fifo, "pipe.csv: is not a regular file"),
        (tmp_path, "is a folder, expected"),
    ):
        with pytest.raises(DataError, match=message):
            load_dataset({"source": source, "path": str(path)})


def test_image_folders_leave_out_what_only_poses_as_an_image(tmp_path):
    """A pipe, a folder or a broken link named like an image is left out, listed, never opened.

    They stopped the whole load before; a pipe that was opened would wait for ever.
    """
    from tests.runtime.runtime_helpers import write_image_folder

    folder = tmp_path / "pets"
    write_image_folder(folder, ("cats", "dogs"), 6)
    os.mkfifo(folder / "cats" / "pipe.png")
    (folder / "dogs" / "folder.png").mkdir()
    (folder / "dogs" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    dataset = load_dataset({"source": "image_folder", "path": str(folder), "image_size": [8, 8]})
    assert len(dataset.skipped) == 3
    reasons = "\n".join(dataset.skipped)
    assert "dogs/folder.png (is a folder, expected an image file)" in reasons
    assert "dogs/gone.png (is a link to a missing file)" in reasons
    assert "cats/pipe.png (is not a regular file (a device, pipe or socket)" in reasons
    assert sum(len(y) for y in (dataset.y_train, dataset.y_val, dataset.y_test)) == 12


def test_a_cut_off_npy_declaring_terabytes_is_named_before_anything_is_allocated(tmp_path):
    """NumPy allocated what the header declared: a MemoryError for 2.4 TB."""
    whole = tmp_path / "whole.npy"
    np.save(whole, np.zeros((10, 3)))
    data = whole.read_bytes()
    header = data[:128].decode("latin1")
    huge = header.replace("'shape': (10, 3)", "'shape': (99999999999, 3)")
    huge = huge.replace(" " * (len(huge) - len(header) + 1) + "\n", " \n")
    (tmp_path / "huge.npy").write_bytes(huge.encode("latin1") + data[128:])
    (tmp_path / "cut.npy").write_bytes(data[:150])
    for name, shape in (("huge", r"\(99999999999, 3\), 2,399,999,999,976 bytes"), ("cut", "")):
        with pytest.raises(
            DataError, match=f"{name}.npy: not a readable NumPy file \\(cut off: .*{shape}"
        ):
            load_dataset({"source": "numpy", "path": str(tmp_path / f"{name}.npy")})


def test_an_image_folder_that_is_missing_or_a_file_is_named_as_such(tmp_path):
    settings = {"source": "image_folder", "path": str(tmp_path / "pets")}
    with pytest.raises(DataError, match=r"pets: no such folder \(expected one sub-folder"):
        load_dataset(settings)
    (tmp_path / "pets").write_text("a file")
    with pytest.raises(DataError, match=r"pets: not a folder \(expected one sub-folder"):
        load_dataset(settings)


def test_an_image_read_alone_names_what_poses_as_one(tmp_path):
    from runtime.data_contract import read_image_file

    os.mkfifo(tmp_path / "0.png")
    with pytest.raises(DataError, match=r"0.png: not a readable image \(is not a regular file"):
        read_image_file(tmp_path / "0.png", (8, 8), 3)


def test_files_over_the_size_limit_say_how_to_raise_it(tmp_path, monkeypatch):
    path = csv_file(tmp_path, "x,y,z\n" + ROWS)
    npz = tmp_path / "data.npz"
    np.savez_compressed(npz, x=np.zeros((2000, 200)), y=np.arange(2000) % 2)
    monkeypatch.setattr(data_contract, "MAX_FILE_MB", 2)
    load_csv(path)  # small files still load
    with pytest.raises(DataError, match=r"unpack to 3 MB, over the limit of 2 MB.*DEEPWIRE_MAX"):
        load_dataset({"source": "numpy", "path": str(npz)})
    monkeypatch.setattr(data_contract, "MAX_FILE_MB", 0)
    with pytest.raises(DataError, match=r"over the limit of 0 MB .*DEEPWIRE_MAX_DATA_MB"):
        load_csv(path)


def test_numpy_targets_and_values_that_cannot_train(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x=np.ones((10, 2)), y=np.array([0, 1] * 4 + [np.nan, 1]))
    with pytest.raises(DataError, match="target of sample 8 is missing or infinite"):
        load_dataset({"source": "numpy", "path": str(path)})
    np.savez(path, x=np.array([[1.0, np.inf]] * 10), y=np.arange(10) % 2)
    with pytest.raises(DataError, match="sample 0 holds an infinite value"):
        load_dataset({"source": "numpy", "path": str(path)})
    np.savez(path, x=np.ones((10, 2), dtype=complex), y=np.arange(10) % 2)
    with pytest.raises(DataError, match="must be numeric. Received: dtype complex128"):
        load_dataset({"source": "numpy", "path": str(path)})


def test_numpy_files_that_are_not_what_they_say_are_named(tmp_path):
    import zipfile

    junk = tmp_path / "junk.npz"  # a zip whose members are no .npy files
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("x.npy", "not an array")
        archive.writestr("y.npy", "not an array")
    with pytest.raises(DataError, match="junk.npz: x is not a NumPy array"):
        load_dataset({"source": "numpy", "path": str(junk)})
    scalar = tmp_path / "scalar.npz"  # len() of a 0-d target raised a TypeError
    np.savez(scalar, x=np.zeros((60, 4)), y=np.array(3))
    with pytest.raises(DataError, match=r"scalar.npz: array y must be 1-D .* shape \(\)"):
        load_dataset({"source": "numpy", "path": str(scalar)})
    objects = tmp_path / "objects.npz"  # which of the two arrays holds Python objects?
    np.savez(objects, x=np.zeros((10, 3)), y=np.array(["a", 1, None], dtype=object))
    with pytest.raises(DataError, match="objects.npz: array y: Object arrays cannot be loaded"):
        load_dataset({"source": "numpy", "path": str(objects)})
    inputs_only = {"source": "numpy", "path": str(scalar), "target": "inputs"}
    assert load_dataset(inputs_only).x_train.shape[1:] == (4,)  # y is not read at all
    text = tmp_path / "text.npy"  # NumPy said it holds pickled objects
    text.write_text("hello")
    with pytest.raises(
        DataError, match=r"text.npy: not a readable NumPy file \(no .npy or .npz header"
    ):
        load_dataset({"source": "numpy", "path": str(text)})
    table = tmp_path / "table.npy"
    np.save(table, np.c_[np.linspace(0, 1, 20), np.arange(20.0), np.arange(20) % 2])
    for column in ("3", "7", "-4"):  # it wrapped around: 7 was column 1
        with pytest.raises(
            DataError, match=f"target_column {column} is out of range: the array has 3 columns"
        ):
            load_dataset({"source": "numpy", "path": str(table), "target_column": column})
    assert (
        load_dataset({"source": "numpy", "path": str(table), "target_column": "-3"}).num_classes
        == 0
    )


# Fuzzing: whatever the bytes, a dataset or one DataError, never another exception. ------

CELL_CHARS = string.ascii_letters[:6] + string.digits + ' ,;\t"\n\r.-+eE?' + "\u00e9\u4e2d"
cells = st.one_of(
    st.text(alphabet=CELL_CHARS, max_size=8),
    st.sampled_from(["inf", "-inf", "nan", "NA", "", "1e400", "true", "2020-01-01", "0x1f"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
)
tables = st.lists(st.lists(cells, min_size=1, max_size=4), min_size=0, max_size=25)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _loads_or_refuses(settings_: dict) -> None:
    try:
        dataset = load_dataset(settings_)
    except DataError as error:
        assert str(error) and len(str(error)) < 2000
        return
    assert dataset.x_train.dtype == np.float32
    assert len(dataset.x_train) > 0


@FUZZ
@given(
    tables,
    st.sampled_from([",", ";"]),
    st.sampled_from(["drop", "mean", "median", "most_frequent"]),
    st.binary(max_size=6),
)
def test_fuzzed_csv_loads_or_gets_one_clear_error(tmp_path, rows, delimiter, missing, noise):
    content = "\n".join(delimiter.join(row) for row in rows).encode() + noise
    path = csv_file(tmp_path, content, "fuzz.csv")
    _loads_or_refuses({"source": "csv", "path": str(path), "missing": missing, "stratify": False})


dtypes = st.sampled_from(["float64", "float32", "float16", "int64", "uint64", "bool", "int8"])


@FUZZ
@given(
    hnp.arrays(dtypes, hnp.array_shapes(min_dims=1, max_dims=4, max_side=12)),
    st.one_of(st.none(), hnp.arrays(dtypes, hnp.array_shapes(max_dims=2, max_side=12))),
    st.sampled_from(["npy", "npz"]),
    st.sampled_from(["drop", "mean"]),
)
def test_fuzzed_numpy_loads_or_gets_one_clear_error(tmp_path, x, y, kind, missing):
    path = tmp_path / f"fuzz.{kind}"
    if kind == "npy":
        np.save(path, x)
    elif y is None:
        np.savez(path, x=x)
    else:
        np.savez(path, x=x, y=y)
    _loads_or_refuses({"source": "numpy", "path": str(path), "missing": missing})


def test_a_class_the_training_split_lacks_is_refused_by_name(tmp_path):
    """Unstratified, both rows of class 'c' can fall in the test split: training then ended
    in a traceback from the evaluation (its label was past the model's units)."""
    rows = [f"{i},{i % 7},{'ab'[i % 2]}" for i in range(60)] + ["5,5,c", "6,6,c"]
    path = csv_file(tmp_path, "x,z,label\n" + "\n".join(rows) + "\n", "rare.csv")
    with pytest.raises(DataError, match=r"rare.csv: class 'c' has no sample in the training split"):
        load_csv(path, seed=34)
    assert load_csv(path, seed=34, stratify=True, test_size=0.3).num_classes == 3
