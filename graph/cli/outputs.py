"""What every command with `-o` checks before writing: never over its input or a stranger.

`deepwire export g.yaml -o g.yaml` would replace the user's graph with Python
code. A command therefore refuses, unless `--force` is given, to write over
one of its input files, or over an existing file that is not the kind of file
it writes itself (recognised by its first bytes). Rewriting its own earlier
output (a script exported before, a graph tuned before) needs no `--force`.
"""

from __future__ import annotations

import argparse
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

FORCE_HELP = "write even over an input file or a file this command did not write"

Recogniser = Callable[[Path], bool]


class OutputRefusedError(Exception):
    """An output path the command will not write without `--force`; the message says why."""


def add_force_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help=FORCE_HELP)


def _head(path: Path, size: int = 4096) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read(size)
    except OSError:
        return b""


def python_export(path: Path) -> bool:
    """Whether `path` holds code DeepWire exported (its docstring says so)."""
    head = _head(path, 200)
    return head.startswith(b'"""') and b"exported from DeepWire" in head.split(b"\n", 1)[0]


def graph_file(path: Path) -> bool:
    """Whether `path` holds a DeepWire graph file."""
    return b"deepwire-graph" in _head(path)


def keras_file(path: Path) -> bool:
    """Whether `path` holds a `.keras` model archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def json_file(path: Path) -> bool:
    """Whether `path` holds a JSON object (metrics written by a command)."""
    return _head(path, 64).lstrip().startswith(b"{")


def html_page(path: Path) -> bool:
    """Whether `path` holds an HTML page (a report written by a command)."""
    return _head(path, 64).lstrip().lower().startswith((b"<!doctype html", b"<html"))


def tflite_file(path: Path) -> bool:
    """Whether `path` holds a TFLite flatbuffer (its identifier is TFL3)."""
    return _head(path, 8)[4:8] == b"TFL3"


def onnx_file(path: Path) -> bool:
    """Whether `path` may hold an ONNX model (a protobuf: field 1, ir_version, first)."""
    return _head(path, 1) == b"\x08"


def saved_model_folder(path: Path) -> bool:
    """Whether `path` is a SavedModel folder."""
    return path.is_dir() and (path / "saved_model.pb").is_file()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output(
    output: Path, inputs: Iterable[Path], ours: Recogniser, what: str, force: bool
) -> None:
    """Refuses `output` when it is an input or an existing file that `ours` does not recognise.

    Args:
        output: The path the command is about to write.
        inputs: The files the command reads (a graph, a model).
        ours: Whether an existing file at `output` is the kind the command writes.
        what: What the command writes there, for the message ("Python code").
        force: `--force` was given: nothing is refused.

    Raises:
        OutputRefusedError: naming the path, why, and `--force`.
    """
    if force:
        return
    for source in inputs:
        if source is not None and _same_file(output, Path(source)):
            raise OutputRefusedError(
                f"{output}: is the input file; writing {what} there would replace it. "
                "Choose another output, or add --force to overwrite it"
            )
    if output.exists() and not ours(output):
        kind = "a folder" if output.is_dir() else "a file"
        raise OutputRefusedError(
            f"{output}: is {kind} this command did not write; writing {what} there would "
            "replace it. Choose another output, or add --force to overwrite it"
        )


def check_output_folder(
    folder: Path, inputs: Iterable[Path], files: dict[str, Recogniser], force: bool
) -> None:
    """`check_output` for a folder the command writes named files into.

    Args:
        folder: The output folder (it may not exist yet).
        inputs: The files the command reads.
        files: The names the command writes in the folder, each with its recogniser.
        force: `--force` was given.

    Raises:
        OutputRefusedError: the folder is a file, or one of the names is taken by
            a stranger or an input.
    """
    if folder.exists() and not folder.is_dir():
        raise OutputRefusedError(f"{folder}: is a file, not a folder; choose a folder for -o")
    inputs = list(inputs)
    for name, ours in files.items():
        check_output(folder / name, inputs, ours, name, force)
