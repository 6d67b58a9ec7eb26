"""Atomic file writes: a crash, a kill or a full disk leaves the old file intact.

Everything the app and the command line write (graphs, models, scripts,
reports, run records, SavedModel folders) goes through here. The new content
is written to a hidden temporary sibling (`.NAME.<hex>.tmp`), flushed to disk,
and renamed over the target in one step. Stale temporaries of our own naming,
left by an earlier writer that was killed, are removed once a write of the same
target succeeds.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

_SUFFIX = ".tmp"


def temporary_sibling(path: Path) -> Path:
    """A fresh hidden name beside `path` that our clean-up recognises as ours."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{_SUFFIX}")


def _stale_temporaries(path: Path) -> Iterator[Path]:
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[0-9a-f]{{8}}{re.escape(_SUFFIX)}$")
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            if pattern.match(entry.name):
                yield entry


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically.

    Raises:
        OSError: the file cannot be written; `path` is then unchanged.
    """

    def write(temporary: Path) -> None:
        # os.open honours the umask, unlike tempfile's private 0600 files.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())

    write_with(path, write)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` as UTF-8 to `path` atomically (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Lets `writer` write a file or folder at a temporary path, then moves it to `path`.

    For libraries that only write to a path they are given (`model.save`,
    TFLite and ONNX exporters, SavedModel folders). A folder replaces an old
    folder as nearly atomically as the file system allows: the old one is
    renamed aside, the new one renamed in, and only then is the old one removed.

    Raises:
        OSError: the target cannot be written; it is then unchanged.
        Whatever `writer` raises; the target is then unchanged too.
    """
    path = Path(path)
    temporary = temporary_sibling(path)
    try:
        writer(temporary)
        if path.exists() and not temporary.is_dir():
            with contextlib.suppress(OSError):
                shutil.copymode(path, temporary)
        if temporary.is_dir() and path.is_dir():
            aside = temporary_sibling(path)
            os.replace(path, aside)
            os.replace(temporary, path)
            _remove(aside)
        else:
            os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise
    for stale in _stale_temporaries(path):
        _remove(stale)
