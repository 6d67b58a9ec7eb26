"""Start-up: the QApplication, the main window, and the `--screenshot` mode.

Only Qt and the pure-Python graph package load before the window shows;
TensorFlow is imported on a worker thread afterwards (gui.warmup).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# When this module was loaded, just after Python started: perf_counter's zero is
# arbitrary (the machine's uptime on Linux), so start-up is measured from here.
LOADED_AT = time.perf_counter()
DEFAULT_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mlp_digits.yaml"
SCREENSHOT_SIZE = (1440, 900)
# Set to 1 to quit as soon as the window has been shown, printing the time
# (bench/startup.py); set DEEPWIRE_NO_WARMUP=1 to skip the TensorFlow warm-up.
QUIT_WHEN_SHOWN = "DEEPWIRE_QUIT_WHEN_SHOWN"
NO_WARMUP = "DEEPWIRE_NO_WARMUP"


def _display_available() -> bool:
    """False only on Linux with no X or Wayland display and no Qt platform chosen."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_app(file: Path | None, screenshot: Path | None) -> int:
    """Opens the editor with `file` (the default example when None).

    Args:
        file: A graph file to open.
        screenshot: When given, render the window to this PNG and exit.

    Returns:
        The process exit code.
    """
    if screenshot is not None and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not _display_available():  # Qt would abort the process with a core dump
        print(
            "deepwire: no display to open the editor on (DISPLAY and WAYLAND_DISPLAY are "
            "not set). Without one, run a command instead, e.g. `deepwire train FILE` "
            "(see deepwire --help), or set QT_QPA_PLATFORM=offscreen.",
            file=sys.stderr,
        )
        return 2
    # TensorFlow's C++ start-up chatter means nothing to a user of the window.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The graph package (networkx, PyYAML) before Qt: once PySide6 is imported,
    # its import hook reads the source of every module imported after it,
    # which costs start-up 0.1-0.2 s of CPU for networkx's hundreds of modules.
    from graph.files import GraphFileError, load_graph

    # isort: split
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("DeepWire")
    app.setApplicationName("DeepWire")
    window = MainWindow()
    window.remembers_layout = screenshot is None and not os.environ.get(QUIT_WHEN_SHOWN)
    if file is not None and screenshot is not None:
        # No one is there to read a dialog: report a bad file and stop.
        try:
            load_graph(file)
        except GraphFileError as error:
            print(error, file=sys.stderr)
            return 2
    last = window.last_file() if screenshot is None else None
    if file is not None:
        window.open_path(Path(file), ask=False)
    elif last is not None:
        window.open_path(last, ask=False)
    elif DEFAULT_EXAMPLE.is_file():
        window.open_path(DEFAULT_EXAMPLE, as_template=True, ask=False)
    window.show()

    if screenshot is not None:
        code = _screenshot(app, window, Path(screenshot))
        return _quit(app, code)
    if os.environ.get(QUIT_WHEN_SHOWN):
        app.processEvents()
        shown = time.perf_counter() - LOADED_AT
        print(f"window shown {shown:.3f} s after the app started loading", flush=True)
        # The panels behind other tabs are made while the window idles.
        while not window.panels.all_made():
            app.processEvents()
        made = time.perf_counter() - LOADED_AT
        print(f"every panel made {made:.3f} s after the app started loading", flush=True)
        return _quit(app, 0)
    QTimer.singleShot(0, window.offer_recovery)
    if not os.environ.get(NO_WARMUP):
        QTimer.singleShot(300, window.start_runtime_warmup)
    code = app.exec()
    if window.warmup is not None:
        window.warmup.join()
    return code


def _quit(app, code: int) -> int:
    """Leaves through the event loop, so aboutToQuit handlers (panels' threads) run."""
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, app.quit)
    app.exec()
    return code


def _screenshot(app, window, path: Path) -> int:
    window.resize(*SCREENSHOT_SIZE)
    app.processEvents()
    window.view.fit_to_view()
    app.processEvents()
    from PySide6.QtGui import QImageWriter

    from graph import atomic

    picture = window.grab()
    # The temporary file's name says no format: Qt takes it from the screenshot's suffix.
    image_format = path.suffix.lstrip(".").lower() or "png"
    writable = {bytes(name).decode().lower() for name in QImageWriter.supportedImageFormats()}

    def write(temporary: Path) -> None:
        if not picture.save(str(temporary), image_format.upper()):
            raise OSError(f"Qt cannot write a {image_format.upper()} image there")

    if path.is_dir():
        problem = "it is a folder; give a file name such as window.png"
    elif image_format not in writable:
        problem = f".{image_format} is not an image format Qt writes; use .png"
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_with(path, write)
            problem = None
        except FileExistsError as error:  # mkdir: a parent is a file
            problem = f"{error.filename} is a file, not a folder"
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            problem = where + (error.strerror or str(error))
    if problem:
        print(f"Cannot write screenshot {path}: {problem}", file=sys.stderr)
        return 1
    print(f"Saved screenshot {path}")
    return 0
