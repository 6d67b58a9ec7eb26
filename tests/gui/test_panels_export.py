"""The export dialog: code preview and save, and every model format written and loaded back."""

from __future__ import annotations

import ast

import keras
import numpy as np

from gui.panels.export_dialog import FORMATS, ExportDialog
from runtime.training_process import rebuild_model
from tests.gui.panel_helpers import example, train


def test_code_preview_switches_between_build_function_and_script(qtbot, make_window, tmp_path):
    window = make_window(example())
    dialog = ExportDialog(window.session, window.panels.runs, window)
    qtbot.addWidget(dialog)
    assert "def build_model" in dialog.code.toPlainText()
    dialog.script_radio.setChecked(True)
    script = dialog.code.toPlainText()
    assert "model.fit(" in script and "load_digits" in script
    ast.parse(script)
    dialog.save_code(tmp_path / "train.py")
    assert (tmp_path / "train.py").read_text(encoding="utf-8") == script


def test_invalid_graph_explains_instead_of_code(qtbot, make_window):
    graph = example()
    graph.add_node("Dense", params={"units": 3}, position=(0, 300))
    window = make_window(graph)
    dialog = ExportDialog(window.session, window.panels.runs, window)
    qtbot.addWidget(dialog)
    assert "cannot be exported yet" in dialog.code.toPlainText()
    assert not dialog.save_code_button.isEnabled()


def test_every_format_is_written_measured_and_loads_back(qtbot, make_window, tmp_path):
    window = make_window(example(epochs=1))
    run = train(qtbot, window)
    dialog = ExportDialog(window.session, window.panels.runs, window)
    qtbot.addWidget(dialog)
    assert "run 1" in dialog.model_label.text()
    dialog.folder_edit.setText(str(tmp_path))
    with qtbot.waitSignal(dialog.all_done, timeout=300_000):
        dialog.export_models()
    assert set(dialog.reports) == set(FORMATS)
    for fmt, report in dialog.reports.items():
        assert not isinstance(report, str), f"{fmt}: {report}"
        assert report.path.exists() and report.size_bytes > 0
        assert report.p50_ms > 0 and report.max_abs_diff < 1e-3
    assert dialog.table.rowCount() == len(FORMATS)
    # The .keras file holds the trained weights.
    loaded = keras.saving.load_model(dialog.reports["keras"].path)
    sample = run.dataset.x_test[:4]
    model = rebuild_model(run.graph, run.dataset, run.trained_weights())
    expected = model.predict(sample, verbose=0)
    assert np.allclose(loaded.predict(sample, verbose=0), expected)


def test_untrained_model_is_exported_when_nothing_was_trained(qtbot, make_window, tmp_path):
    window = make_window(example())
    dialog = ExportDialog(window.session, window.panels.runs, window)
    qtbot.addWidget(dialog)
    assert "No trained model yet" in dialog.model_label.text()
    for fmt, check in dialog.format_checks.items():
        check.setChecked(fmt == "keras")
    dialog.folder_edit.setText(str(tmp_path))
    with qtbot.waitSignal(dialog.all_done, timeout=120_000):
        dialog.export_models()
    assert dialog.reports["keras"].path == tmp_path / "MLP_on_digits.keras"
    assert dialog.reports["keras"].path.exists()


def test_an_export_that_cannot_build_says_why_in_the_dialog(qtbot, make_window, tmp_path):
    graph = example()
    graph.add_node("Dense", params={"units": 3}, position=(0, 300))
    window = make_window(graph)
    dialog = ExportDialog(window.session, window.panels.runs, window)
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path))
    with qtbot.waitSignal(dialog.all_done, timeout=120_000):
        assert dialog.export_models()
        assert not dialog.export_models()  # one export at a time
    assert dialog.job is None and dialog.export_button.isEnabled()
    assert "dense" in dialog.status.text().lower() and "input" in dialog.status.text().lower()
    assert dialog.reports == {} and not any(tmp_path.iterdir())
