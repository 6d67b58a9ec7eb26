"""Files written half-way: a killed writer or a full disk leaves the old file intact.

The writer is a real process killed with SIGKILL at random moments; the full
disk is a real tmpfs of a few hundred KB (mounted when the tests run as root)
and, everywhere, ENOSPC injected at the write call.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph import atomic

ROOT = Path(__file__).resolve().parents[2]
OLD = b"old content\n" * 10
# The child rewrites the target forever with 4 MB files of one repeated byte.
WRITER = """
import sys
from graph import atomic
target = sys.argv[1]
print("ready", flush=True)
n = 0
while True:
    n += 1
    atomic.write_bytes(target, bytes([65 + n % 26]) * (4 * 1024 * 1024))
"""


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def start_writer(target: Path) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert child.stdout.readline().strip() == b"ready"
    return child


def assert_whole(data: bytes) -> None:
    """The old content or one complete new version, never a mixture or a stub."""
    if data == OLD:
        return
    assert len(data) == 4 * 1024 * 1024
    assert data == data[:1] * len(data)


def test_a_writer_killed_at_random_moments_never_damages_the_file(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(OLD)
    rng = random.Random(19)
    for _ in range(12):
        child = start_writer(target)
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert_whole(target.read_bytes())


def test_thirty_killed_saves_then_one_good_save_leave_no_temporaries(tmp_path):
    target = tmp_path / "graph.yaml"
    target.write_bytes(OLD)
    rng = random.Random(30)
    for _ in range(30):
        child = start_writer(target)
        time.sleep(rng.uniform(0.0, 0.03))
        child.send_signal(signal.SIGKILL)
        child.wait()
    atomic.write_bytes(target, b"good\n")
    assert target.read_bytes() == b"good\n"
    assert temporaries(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["graph.yaml"]


class _FullDisk:
    """A stream whose writes fail with ENOSPC after `room` bytes, as a full disk's do."""

    def __init__(self, stream, room: int) -> None:
        self.stream, self.room = stream, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.stream.write(data[: self.room])
            self.stream.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.stream.write(data)

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()


@pytest.mark.parametrize("room", [0, 1, 100, 4096, 50_000])
def test_enospc_at_the_write_call_keeps_the_old_file(tmp_path, monkeypatch, room):
    target = tmp_path / "out.py"
    target.write_bytes(OLD)
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k), room))
    with pytest.raises(OSError) as caught:
        atomic.write_bytes(target, b"x" * 100_000)
    assert caught.value.errno == errno.ENOSPC
    assert target.read_bytes() == OLD
    assert temporaries(tmp_path) == []


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "256k"):
    """A real tmpfs of `size` mounted at `folder` (skips the test when mounting is refused)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); ENOSPC is injected instead above")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_keeps_the_old_file_and_no_temporary(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        target = disk / "out.py"
        target.write_bytes(OLD)
        (disk / "filler").write_bytes(b"f" * 150_000)
        with pytest.raises(OSError) as caught:
            atomic.write_bytes(target, b"x" * 200_000)
        assert caught.value.errno == errno.ENOSPC
        assert target.read_bytes() == OLD
        assert temporaries(disk) == []


def test_export_on_a_full_disk_reports_it_and_keeps_the_old_script(tmp_path):
    with small_disk(tmp_path / "disk", "64k") as disk:
        target = disk / "model.py"
        first = subprocess.run(
            [sys.executable, "main.py", "export", "examples/cnn_digits.yaml", "-o", str(target)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert first.returncode == 0, first.stderr
        old = target.read_bytes()
        (disk / "filler").write_bytes(b"f" * (64 * 1024 - len(old) - 4096))
        result = subprocess.run(
            [sys.executable, "main.py", "export", "examples/cnn_digits.yaml", "--script"]
            + ["-o", str(target)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2
        assert "cannot be written (No space left on device)" in result.stderr
        assert "Traceback" not in result.stderr
        assert target.read_bytes() == old
        assert temporaries(disk) == []
