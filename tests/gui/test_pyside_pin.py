"""PySide6 6.12.0 on Python < 3.12 aborts after a few thousand void Qt calls.

pyproject.toml pins that version away; this proves the installed one survives.
It runs in a subprocess so that an abort is a failure, not a dead test run.
"""

import subprocess
import sys

SCRIPT = """
from PySide6.QtCore import QObject
probe = QObject()
for _ in range(200_000):
    probe.setObjectName("probe")  # returns None: the call that broke 6.12.0
print("survived")
"""


def test_200k_void_qt_calls_do_not_abort():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "survived"
