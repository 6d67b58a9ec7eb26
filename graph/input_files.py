"""Reading files from outside safely: regular files only, and never more than a limit.

A path the user gives may be a directory, a device that never ends
(`/dev/zero`, `/dev/urandom`), a FIFO that blocks forever, a file far larger
than anything DeepWire writes, or a `.keras` archive whose members inflate to
gigabytes. Each is refused here, before anything is read, with a message that
names the limit and the environment variable that raises it.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from pathlib import Path

MAX_FILE_MB_VARIABLE = "DEEPWIRE_MAX_FILE_MB"
"""Raises the limit on graph files and model configs (text DeepWire parses)."""
DEFAULT_MAX_FILE_MB = 4.0
"""A graph of 10,000 layers is about 1.5 MB; parsing 4 MB of YAML takes seconds."""

MAX_MODEL_MB_VARIABLE = "DEEPWIRE_MAX_MODEL_MB"
"""Raises the limit on model files (.keras archives' unpacked content, .h5 files)."""
DEFAULT_MAX_MODEL_MB = 4096.0

MAX_LIMIT_MB = 1024.0 * 1024.0
"""No variable raises a limit past a terabyte."""
CHUNK_BYTES = 1024 * 1024


class InputFileError(ValueError):
    """A file that is refused before (or while) it is read; the message says why."""


def limit_bytes(variable: str, default_mb: float) -> int:
    """The limit in bytes: `variable`'s value in MB when it is a positive number.

    Falls back to `default_mb` when the variable is unset or not a positive number.
    """
    text = os.environ.get(variable, "").strip()
    try:
        megabytes = float(text) if text else default_mb
    except ValueError:
        megabytes = default_mb
    if not 0 < megabytes < math.inf:
        megabytes = default_mb
    return int(min(megabytes, MAX_LIMIT_MB) * 1024 * 1024)


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):,.1f} MB"


def _too_large(path: Path, size: int, limit: int, variable: str, what: str) -> InputFileError:
    return InputFileError(
        f"{path}: {what} is {_megabytes(size)}; the limit is {_megabytes(limit)} "
        f"(set the environment variable {variable} to a larger number of MB to raise it)"
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular_file(path: str | os.PathLike, what: str = "a file") -> os.stat_result:
    """The file's status, when `path` is a regular file (links followed).

    Raises:
        InputFileError: the path is missing, unreadable, or not a regular file.
    """
    path = Path(path)
    try:
        status = path.stat()
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read: {error.strerror or error}") from None
    if not stat.S_ISREG(status.st_mode):
        raise InputFileError(f"{path}: is {_kind(status.st_mode)}; expected {what}")
    return status


def read_limited(
    path: str | os.PathLike,
    what: str = "a file",
    variable: str = MAX_FILE_MB_VARIABLE,
    default_mb: float = DEFAULT_MAX_FILE_MB,
) -> bytes:
    """The bytes of a regular file no larger than the limit `variable` sets.

    Args:
        path: The file.
        what: What the file should be, for messages ("a graph file").
        variable: The environment variable holding the limit in MB.
        default_mb: The limit when the variable is not set.

    Raises:
        InputFileError: not a regular file, too large, or unreadable.
    """
    path = Path(path)
    limit = limit_bytes(variable, default_mb)
    status = check_regular_file(path, what)
    if status.st_size > limit:
        raise _too_large(path, status.st_size, limit, variable, "the file")
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the check, opening
        # it must not wait for a writer; the second check then refuses it.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise InputFileError(f"{path}: is not a regular file; expected {what}")
            chunks, size = [], 0
            # Chunks, not read(limit + 1): that would allocate the whole limit up front.
            while size <= limit:
                chunk = stream.read(min(CHUNK_BYTES, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read: {error.strerror or error}") from None
    if len(data) > limit:
        raise _too_large(path, len(data), limit, variable, "the file")
    return data


def check_model_file(path: str | os.PathLike) -> None:
    """Refuses a model file that is not a regular file or would unpack beyond the limits.

    A `.keras` file is a zip archive: the sizes its members declare are what
    reading them yields (Python's zipfile stops at the declared size), so
    checking them before anything is unpacked stops a zip bomb. The model's
    config must fit the text limit; all members together, the model limit.

    Raises:
        InputFileError: naming the file, the member and the limit.
    """
    path = Path(path)
    status = check_regular_file(path, "a model file")
    model_limit = limit_bytes(MAX_MODEL_MB_VARIABLE, DEFAULT_MAX_MODEL_MB)
    if status.st_size > model_limit:
        raise _too_large(path, status.st_size, model_limit, MAX_MODEL_MB_VARIABLE, "the file")
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".keras":  # Keras would say "File not found" of it
            raise InputFileError(
                f"{path}: not a readable Keras model file (a .keras model is a zip archive; "
                "this is not one)"
            )
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise InputFileError(f"{path}: not a readable model archive ({error})") from None
    text_limit = limit_bytes(MAX_FILE_MB_VARIABLE, DEFAULT_MAX_FILE_MB)
    for member in members:
        if member.filename.endswith(".json") and member.file_size > text_limit:
            raise _too_large(
                path,
                member.file_size,
                text_limit,
                MAX_FILE_MB_VARIABLE,
                f"its {member.filename[:60]} unpacked",
            )
    total = sum(member.file_size for member in members)
    if total > model_limit:
        raise _too_large(path, total, model_limit, MAX_MODEL_MB_VARIABLE, "its content unpacked")
