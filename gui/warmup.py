"""TensorFlow warm-up: import the runtime in the background once the window shows.

Importing TensorFlow takes seconds; doing it on a worker thread right after
start-up means training or import is instant by the time the user asks.
"""

from __future__ import annotations

import importlib

from PySide6.QtCore import QThread, Signal

from gui.panels.background import hold_garbage_collection, release_garbage_collection

# The modules whose import pulls in TensorFlow and Keras.
WARM_MODULES = ("runtime.builder",)


class RuntimeWarmup(QThread):
    """Imports WARM_MODULES on a worker thread.

    Signals:
        loaded: Empty on success, else why the runtime could not load.
    """

    loaded = Signal(str)

    def run(self) -> None:
        # A collection on the GUI thread during TensorFlow's import races it,
        # as it races training (see hold_garbage_collection).
        hold_garbage_collection()
        try:
            for name in WARM_MODULES:
                importlib.import_module(name)
        except Exception as error:  # any failure is reported, not raised
            self.loaded.emit(f"{type(error).__name__}: {error}")
            return
        finally:
            release_garbage_collection()
        self.loaded.emit("")
