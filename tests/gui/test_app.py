"""Start-up: `main.py --screenshot` renders offscreen without loading TensorFlow;
the warm-up hook loads it in the background afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def _run_main(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if "import time:" in line}


def test_screenshot_renders_the_default_example_without_tensorflow(tmp_path):
    out = tmp_path / "window.png"
    result = _run_main("--screenshot", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1440, 900)
    modules = _imported(result.stderr)
    assert "gui.main_window" in modules
    assert not {"tensorflow", "keras", "runtime.builder"} & modules


def test_screenshot_of_a_bad_file_exits_with_its_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: nonsense\n", encoding="utf-8")
    result = _run_main(str(bad), "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "bad.yaml" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_warm_up_hook_loads_the_runtime_in_the_background(qtbot, window):
    with qtbot.waitSignal(window.runtime_loaded, timeout=120_000) as blocker:
        window.start_runtime_warmup()
        assert window.runtime_label.text() == "TensorFlow loading…"
    assert blocker.args == [""]
    assert window.runtime_label.text() == "TensorFlow ready"
    window.warmup.wait()
    assert "keras" in sys.modules


def test_importing_a_keras_model_gives_a_laid_out_unsaved_graph(qtbot, window, tmp_path):
    import keras

    inputs = keras.Input((8,), name="features")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="scores")(hidden)
    path = tmp_path / "small.keras"
    keras.Model(inputs, outputs).save(path)
    assert window.import_keras_model(path)
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
    assert not window.import_keras_model(path)
    assert len(prompts.errors) == 1 and "broken.keras" in prompts.errors[0]
    assert len(window.session.graph) == 0
