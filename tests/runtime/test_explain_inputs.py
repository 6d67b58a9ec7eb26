"""Reading a user's sample file: any bytes give a sample or one clear ExplainError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.explain.errors import ExplainError
from runtime.explain.inputs import read_sample
from runtime.explain.png import png_bytes


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([".png", ".csv", ".npy", ".jpg", ".txt"]))
def test_any_bytes_give_a_sample_or_a_clear_error(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sample{suffix}"
        path.write_bytes(data)
        shape = (8, 8, 1) if suffix in (".png", ".jpg") else (4,)
        try:
            sample = read_sample(path, shape)
        except ExplainError as error:
            assert str(path) in error.message
        else:
            assert sample.shape == shape and sample.dtype == np.float32


def test_csv_rows_skip_a_header_and_images_are_resized(tmp_path):
    table = tmp_path / "row.csv"
    table.write_text("a,b,c\n1,2.5,\n")
    np.testing.assert_array_equal(read_sample(table, (3,)), [1, 2.5, np.nan])
    image = tmp_path / "big.png"
    image.write_bytes(png_bytes(np.full((32, 16, 3), 200, np.uint8)))
    np.testing.assert_allclose(read_sample(image, (8, 8, 1)), 200, atol=1)
    with pytest.raises(ExplainError, match=r"not images"):
        read_sample(image, (64,))
    with pytest.raises(ExplainError, match="unknown kind of file '.bin'"):
        (tmp_path / "x.bin").write_bytes(b"1")
        read_sample(tmp_path / "x.bin", (1,))


def test_csv_rows_read_with_the_tables_delimiters_and_one_row_only(tmp_path):
    table = tmp_path / "row.csv"
    table.write_text("a;b;c\n1;2.5;\n")
    np.testing.assert_array_equal(read_sample(table, (3,)), [1, 2.5, np.nan])
    table.write_text("a\tb\tc\n1\t2.5\t3\n")
    np.testing.assert_array_equal(read_sample(table, (3,)), [1, 2.5, 3])
    table.write_text('"a","b"\n"1","2"\n')
    np.testing.assert_array_equal(read_sample(table, (2,)), [1, 2])
    table.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(ExplainError, match="row.csv: holds 2 rows of numbers; give one sample"):
        read_sample(table, (2,))
    table.write_text("a,b,label\n1,2,0\n")
    with pytest.raises(ExplainError, match=r"holds 3 values .* leave out the target column"):
        read_sample(table, (2,))


def test_an_image_is_scaled_as_its_folder_was_though_the_folder_holds_a_broken_file(tmp_path):
    """Every training file was decoded again here: the broken one failed the explanation."""
    from runtime.data import load_dataset
    from runtime.explain.inputs import preprocess_like_training
    from tests.runtime.runtime_helpers import write_image_folder

    write_image_folder(tmp_path / "pictures", ("dots", "lines"), per_class=8)
    (tmp_path / "pictures" / "dots" / "broken.png").write_bytes(b"not a png")
    settings = {
        "source": "image_folder",
        "path": str(tmp_path / "pictures"),
        "image_size": (8, 8),
        "color_mode": "rgb",
        "normalization": "standard",
    }
    dataset = load_dataset(settings)
    assert len(dataset.skipped) == 1
    raw = read_sample(dataset.x_test.files[0], dataset.input_shape)
    prepared = preprocess_like_training(raw, settings, None)
    np.testing.assert_allclose(prepared, dataset.x_test[0], atol=1e-4)
