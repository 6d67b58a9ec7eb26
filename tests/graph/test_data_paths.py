"""Data paths as the settings store and read them: relative to the graph's folder."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from graph.settings import data_settings_at, dataset_path, path_text_for


def test_the_source_is_told_by_what_is_at_the_path_read_from_the_graph_folder(tmp_path):
    (tmp_path / "pictures" / "cats").mkdir(parents=True)
    assert data_settings_at("pictures", tmp_path) == {"source": "image_folder", "path": "pictures"}
    # Without the graph's folder the same text points elsewhere (the working folder).
    assert data_settings_at("pictures", None)["source"] == "csv"
    for name in ("more.npz", "arrays.NPY"):
        assert data_settings_at(name, tmp_path) == {"source": "numpy", "path": name}
    for name in ("rows.csv", "rows.parquet", "rows.pq", "rows.tsv", "missing-file"):
        assert data_settings_at(name, tmp_path) == {"source": "csv", "path": name}
    absolute = str(tmp_path / "pictures")
    assert data_settings_at(absolute, Path("/elsewhere"))["source"] == "image_folder"


def test_a_chosen_path_beside_the_graph_is_kept_relative(tmp_path):
    inside = tmp_path / "data" / "rows.csv"
    assert path_text_for(str(inside), tmp_path) == str(Path("data") / "rows.csv")
    assert dataset_path(path_text_for(str(inside), tmp_path), tmp_path) == inside
    outside = str(tmp_path.parent / "other.csv")
    assert path_text_for(outside, tmp_path) == outside
    assert path_text_for(str(inside), None) == str(inside)


@given(st.text(max_size=40))
def test_any_text_gives_settings_never_an_error(text):
    settings = data_settings_at(text, Path("/nonexistent-base"))
    assert settings["source"] in ("csv", "numpy", "image_folder")
