"""TensorFlow warm-up: import the runtime in the background once the window shows.

Importing TensorFlow takes seconds; doing it on a worker thread right after
start-up means training or import is instant by the time the user asks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from PySide6.QtCore import QObject

from gui.background import Job, call_on_gui, start_job

# The modules whose import pulls in TensorFlow and Keras.
WARM_MODULES = ("runtime.builder",)


def start_runtime_warmup(receiver: QObject, on_loaded: Callable[[str], None]) -> Job:
    """Imports WARM_MODULES on a worker thread.

    Args:
        receiver: The object `on_loaded` belongs to (the main window).
        on_loaded: Called on the GUI thread with "" on success, else why the
            runtime could not load.

    Returns:
        The job (join it before the process ends).
    """

    def load() -> None:
        try:
            for name in WARM_MODULES:
                importlib.import_module(name)
        except Exception as error:  # any failure is reported, not raised
            call_on_gui(receiver, on_loaded, f"{type(error).__name__}: {error}")
            return
        call_on_gui(receiver, on_loaded, "")

    # On the runtime thread, which then runs every TensorFlow job.
    return start_job(load, "runtime warm-up", uses_runtime=True)
