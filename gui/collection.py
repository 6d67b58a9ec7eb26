"""Garbage collection on the GUI thread only, and never while TensorFlow runs.

Python's automatic collector runs on whichever thread happens to allocate.
On a worker thread it may free a Qt object that died in a reference cycle:
its destructor then waits for the GIL while holding Qt's connection lock,
and the GUI thread, holding the GIL, waits for that lock, so the process
hangs (seen in the test suite). So while the app runs, automatic collection
is off and a timer on the GUI thread collects instead, generation by
generation, with Python's own thresholds (as pyqtgraph's GarbageCollector
does).

Collections also pause while TensorFlow work runs (`hold`): dead Keras
models and functions sit in reference cycles, and freeing them from the GUI
thread while another thread trains races TensorFlow ("pure virtual method
called", abort); a full collection would also stall the window for up to a
few hundred milliseconds. Reference counting frees everything else as usual.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QTimer

CHECK_INTERVAL_MS = 1000

_lock = threading.Lock()
_holds = 0
# Created on the GUI thread by the first collect_on_gui_thread, kept until the process ends.
_timer: QTimer | None = None


def collect_if_due() -> None:
    """Collects the oldest generation over its threshold, unless held (GUI thread)."""
    if collection_paused():
        return
    thresholds = gc.get_threshold()
    counts = gc.get_count()
    for generation in (2, 1, 0):
        if counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return


def collect_on_gui_thread() -> None:
    """Turns automatic collection off and collects from the GUI thread instead.

    Call on the GUI thread, before any worker thread starts; calling again does nothing.
    """
    global _timer
    if _timer is None:
        _timer = QTimer()
        _timer.setInterval(CHECK_INTERVAL_MS)
        _timer.timeout.connect(collect_if_due)
    if not _timer.isActive():
        gc.disable()
        _timer.start()


def restore_automatic_collection() -> None:
    """Collects once and turns automatic collection back on (no worker thread may run).

    For tests, which go on in the same process without a window.
    """
    if _timer is not None:
        _timer.stop()
    gc.collect()
    gc.enable()


def hold() -> None:
    """Pauses the GUI thread's collections until released (holds nest)."""
    global _holds
    with _lock:
        _holds += 1


def release() -> None:
    """Ends one hold; collections resume when none is left."""
    global _holds
    with _lock:
        _holds = max(0, _holds - 1)


def collection_paused() -> bool:
    with _lock:
        return _holds > 0
