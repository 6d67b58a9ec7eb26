"""Start-up: `main.py --screenshot` renders offscreen without loading TensorFlow;
the warm-up hook loads it in the background afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def _isolated_env(home: Path) -> dict[str, str]:
    """Offscreen, with settings and recovery files kept out of the user's folders."""
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
    }


def _run_main(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=_isolated_env(home) if env is None else env,
        cwd=ROOT,
    )


def _saved_settings(home: Path) -> str:
    """What the app saved to its settings files under `home`."""
    return "".join(p.read_text() for p in (home / "config").rglob("*.conf"))


def _run_script(home: Path, script: str, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_isolated_env(home),
        cwd=ROOT,
    )


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if "import time:" in line}


def test_screenshot_renders_the_default_example_without_tensorflow(tmp_path):
    out = tmp_path / "window.png"
    result = _run_main(tmp_path, "--screenshot", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1440, 900)
    modules = _imported(result.stderr)
    assert "gui.main_window" in modules
    assert not {"tensorflow", "keras", "runtime.builder"} & modules
    # a one-off run leaves the user's next start at its own size
    assert "geometry" not in _saved_settings(tmp_path)


def test_a_start_up_smoke_run_leaves_the_window_layout_alone(tmp_path):
    env = {**_isolated_env(tmp_path), "DEEPWIRE_QUIT_WHEN_SHOWN": "1"}
    result = _run_main(tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "window shown" in result.stdout
    assert "geometry" not in _saved_settings(tmp_path)


SHOWN_SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.app import DEFAULT_EXAMPLE
from gui.main_window import MainWindow
window = MainWindow()
window.open_path(DEFAULT_EXAMPLE, as_template=True, ask=False)
window.show()
print(sorted(name for name in ("numpy", "pyqtgraph", "keras") if name in sys.modules))
window.panels.build_all()
print(window.panels.all_made())
"""


def test_the_window_shows_before_numpy_loads_and_its_panels_follow(tmp_path):
    # numpy alone costs start-up about 0.12 s; the panels that draw arrays load it when they do.
    result = _run_script(tmp_path, SHOWN_SCRIPT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["[]", "True"]


def test_screenshot_of_a_bad_file_exits_with_its_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: nonsense\n", encoding="utf-8")
    result = _run_main(tmp_path, str(bad), "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "bad.yaml" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_screenshot_that_cannot_be_written_says_why_without_a_traceback(tmp_path):
    # A parent that is a file once raised FileExistsError out of mkdir.
    parent = tmp_path / "notes.txt"
    parent.write_text("mine", encoding="utf-8")
    result = _run_main(tmp_path, "--screenshot", str(parent / "x.png"))
    assert result.returncode == 1
    assert f"Cannot write screenshot {parent / 'x.png'}: {parent} is a file, not a folder" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    result = _run_main(tmp_path, "--screenshot", str(tmp_path / "x.yaml"))
    assert result.returncode == 1
    assert ".yaml is not an image format Qt writes; use .png" in result.stderr


class _HalfWrittenPicture:
    """A grab whose save writes part of the file, then fails (a full disk)."""

    def save(self, name: str, _format: str | None = None) -> bool:
        Path(name).write_bytes(b"half")
        return False


class _Window:
    def __init__(self) -> None:
        self.view = SimpleNamespace(fit_to_view=lambda: None)

    def resize(self, *_size: int) -> None:
        pass

    def grab(self) -> _HalfWrittenPicture:
        return _HalfWrittenPicture()


def test_a_failed_screenshot_leaves_the_previous_one_whole(tmp_path):
    from gui.app import _screenshot

    path = tmp_path / "window.png"
    path.write_bytes(b"the previous screenshot")
    app = SimpleNamespace(processEvents=lambda: None)
    assert _screenshot(app, _Window(), path) == 1
    assert path.read_bytes() == b"the previous screenshot"
    assert [p.name for p in tmp_path.iterdir()] == ["window.png"]


def test_without_a_display_the_editor_says_so_instead_of_aborting(tmp_path):
    """Qt aborts the process with a core dump (exit 134) when it finds no display."""
    env = {
        k: v
        for k, v in _isolated_env(tmp_path).items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    result = _run_main(tmp_path, env=env)
    assert result.returncode == 2
    assert "no display to open the editor on" in result.stderr
    assert "deepwire train FILE" in result.stderr


def test_a_mistyped_command_is_named_with_the_closest_one(tmp_path):
    result = _run_main(tmp_path, "trian")
    assert result.returncode == 2
    assert "'trian' is neither a command nor a graph file; did you mean 'train'?" in result.stderr
    assert "Traceback" not in result.stderr


WARM_UP_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
from runtime.training_process import shared_training_process
window = MainWindow()
seen = []
def loaded(error):
    seen.append(error)
    seen.append(shared_training_process().alive)
    app.quit()
window.runtime_loaded.connect(loaded)
window.show()
print("before:", "keras" in sys.modules)
window.start_runtime_warmup()
print("label:", window.runtime_label.text())
QTimer.singleShot(120_000, app.quit)
app.exec()
window.warmup.join()
print("loaded:", seen[0] == "", window.runtime_label.text(), "keras" in sys.modules)
closed = not shared_training_process().alive
print("training process started:", seen[1], "and closed at quit:", closed)
"""


def test_the_warm_up_hook_loads_the_runtime_and_starts_the_training_process(tmp_path):
    # A process of its own: TensorFlow importing on a thread must not share
    # a process with the other tests' windows.
    result = _run_script(tmp_path, WARM_UP_SCRIPT, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "before: False"
    assert lines[1] == "label: TensorFlow loading…"
    assert lines[2] == "loaded: True TensorFlow ready True"
    # The training process starts with the warm-up, so both imports overlap.
    assert lines[3] == "training process started: True and closed at quit: True"


def test_importing_a_keras_model_gives_a_laid_out_unsaved_graph(qtbot, window, tmp_path):
    import keras

    inputs = keras.Input((8,), name="features")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="scores")(hidden)
    path = tmp_path / "small.keras"
    keras.Model(inputs, outputs).save(path)
    with qtbot.waitSignal(window.model_imported, timeout=60_000) as imported:
        assert window.import_keras_model(path)
    assert imported.args == [True]
    graph = window.session.graph
    by_name = {node.name: node for node in graph.nodes}
    assert set(by_name) == {"features", "hidden", "scores"}
    xs = [by_name[name].position[0] for name in ("features", "hidden", "scores")]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert window.session.is_dirty and window.session.path is None
    assert window.params_label.text() == "Total params: 46"


def test_importing_a_damaged_model_file_reports_it(qtbot, window, prompts, tmp_path):
    path = tmp_path / "broken.keras"
    path.write_text("not a model", encoding="utf-8")
    with qtbot.waitSignal(window.model_imported, timeout=60_000) as imported:
        assert window.import_keras_model(path)
    assert imported.args == [False]
    assert len(prompts.errors) == 1 and "broken.keras" in prompts.errors[0]
    assert len(window.session.graph) == 0
