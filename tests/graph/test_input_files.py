"""Inputs that never end or exhaust memory are refused before they are read.

Devices (/dev/zero, /dev/urandom), FIFOs and folders given as a graph file;
files over the size limit (and the variable that raises it); a huge
flow-style YAML list; `.keras` archives whose members declare gigabytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.files import GraphFileError, load_graph
from graph.input_files import (
    MAX_FILE_MB_VARIABLE,
    MAX_MODEL_MB_VARIABLE,
    InputFileError,
    check_model_file,
    limit_bytes,
    read_limited,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mlp_digits.yaml"


def special_paths(folder: Path) -> dict[str, Path]:
    """Paths that are not regular files: devices, a FIFO, a folder, links to them."""
    fifo = folder / "pipe.yaml"
    os.mkfifo(fifo)
    directory = folder / "folder.yaml"
    directory.mkdir()
    link = folder / "zero.yaml"
    link.symlink_to("/dev/zero")
    return {
        "a device": Path("/dev/zero"),
        "a device ": Path("/dev/urandom"),
        "a named pipe (FIFO)": fifo,
        "a folder": directory,
        "a device  ": link,
    }


def test_special_files_are_refused_without_reading(tmp_path):
    for kind, path in special_paths(tmp_path).items():
        started = time.monotonic()
        with pytest.raises(GraphFileError) as caught:
            load_graph(path)
        assert f"is {kind.strip()}; expected a graph file" in str(caught.value)
        assert time.monotonic() - started < 2


def test_commands_refuse_special_files_with_one_line_and_no_hang(tmp_path):
    paths = special_paths(tmp_path)
    for command in ("validate", "summary", "export"):
        for path in paths.values():
            result = subprocess.run(
                [sys.executable, str(ROOT / "main.py"), command, str(path)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 2, (command, path, result.stderr)
            assert "Traceback" not in result.stderr
            assert "expected a graph file" in result.stderr


def test_the_size_limit_is_stated_and_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "g.yaml"
    path.write_bytes(EXAMPLE.read_bytes())
    monkeypatch.setenv(MAX_FILE_MB_VARIABLE, "0.0001")
    with pytest.raises(GraphFileError) as caught:
        load_graph(path)
    assert "the limit is 104 bytes" in str(caught.value)
    assert MAX_FILE_MB_VARIABLE in str(caught.value)
    monkeypatch.setenv(MAX_FILE_MB_VARIABLE, "1")
    assert len(load_graph(path)) > 0


def test_a_huge_flow_style_list_is_refused_by_size_quickly(tmp_path):
    path = tmp_path / "flow.yaml"
    with open(path, "w") as stream:
        stream.write("format: deepwire-graph\nversion: 1\nnodes: [")
        stream.write("1," * 3_000_000)
        stream.write("1]\n")
    started = time.monotonic()
    with pytest.raises(GraphFileError, match="the limit is 4.0 MB"):
        load_graph(path)
    assert time.monotonic() - started < 2


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["", "x", "-3", "0", "nan", "inf", "1e400", "2.5", " 7 "]))
def test_limit_variable_values_never_break_reading(value):
    os.environ[MAX_FILE_MB_VARIABLE] = value
    try:
        limit = limit_bytes(MAX_FILE_MB_VARIABLE, 4.0)
        assert limit > 0
        assert read_limited(EXAMPLE) == EXAMPLE.read_bytes() or limit < EXAMPLE.stat().st_size
    except InputFileError as error:
        assert MAX_FILE_MB_VARIABLE in str(error)
    finally:
        del os.environ[MAX_FILE_MB_VARIABLE]


def zip_bomb(path: Path, member: str, megabytes: int) -> None:
    """A small archive whose `member` inflates to `megabytes` MB of zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(member, "w", force_zip64=True) as stream:
            block = b"\0" * (1024 * 1024)
            for _ in range(megabytes):
                stream.write(block)


def test_archive_members_are_checked_before_unpacking(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.keras"
    zip_bomb(bomb, "config.json", 64)
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(
        InputFileError, match=f"config.json unpacked is 64.0 MB.*{MAX_FILE_MB_VARIABLE}"
    ):
        check_model_file(bomb)
    weights = tmp_path / "weights.keras"
    zip_bomb(weights, "model.weights.h5", 8)
    check_model_file(weights)
    monkeypatch.setenv(MAX_MODEL_MB_VARIABLE, "4")
    with pytest.raises(
        InputFileError, match=f"content unpacked is 8.0 MB.*{MAX_MODEL_MB_VARIABLE}"
    ):
        check_model_file(weights)


def test_model_files_must_be_regular_files(tmp_path):
    for kind, path in special_paths(tmp_path).items():
        with pytest.raises(InputFileError) as caught:
            check_model_file(path)
        assert f"is {kind.strip()}; expected a model file" in str(caught.value)
