"""The explain panel, standalone: explanations drawn, node outputs, saving and batch export."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PySide6.QtCore import Qt

from graph.files import load_graph
from gui.panels import bottom_dock_height
from gui.panels.explain_panel import ExplainPanel
from gui.panels.runs import RunHistory
from gui.theme import ERROR_COLOR
from runtime.builder import build_model
from runtime.data import load_dataset
from runtime.explain.methods import METHODS
from runtime.explain.png import png_bytes
from tests.gui.frame_probe import SCHEDSTAT, FrameProbe
from tests.gui.panel_helpers import example, train

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def trained_run(name: str):
    """A finished run of an example, with seeded weights (the panel needs no accuracy)."""
    graph = load_graph(EXAMPLES / f"{name}.yaml")
    keras.utils.set_random_seed(0)
    runs = RunHistory()
    run = runs.start(graph)
    run.dataset = load_dataset(graph.dataset, EXAMPLES)
    run.weights = build_model(graph).get_weights()
    return runs, run


def make_panel(qtbot, name: str) -> ExplainPanel:
    runs, run = trained_run(name)
    panel = ExplainPanel(runs, EXAMPLES, heavy=False)
    qtbot.addWidget(panel)
    runs.finish(run)
    return panel


# Panels are made in fixtures: Keras objects built inside a test's body and freed
# while pytest-qt processes events after it crashed the process (seen here).
@pytest.fixture
def cnn_panel(qtbot):
    return make_panel(qtbot, "cnn_digits")


@pytest.fixture
def mlp_panel(qtbot):
    return make_panel(qtbot, "mlp_digits")


def choose(panel: ExplainPanel, method: str) -> None:
    panel.method_combo.setCurrentIndex(panel.method_combo.findData(method))


def test_an_image_explanation_is_drawn_with_its_reading_line(qtbot, cnn_panel):
    panel = cnn_panel
    panel.sample_spin.setValue(4)
    assert panel.truth_label.text().startswith("true: ")
    assert not panel.opacity_slider.isHidden()  # a picture's heatmap is coming
    choose(panel, "gradcam")
    assert panel.reading.text() == METHODS["gradcam"].reading
    with qtbot.waitSignal(panel.explained, timeout=60_000) as blocker:
        panel.explain_button.click()
    result = blocker.args[0]
    assert result.sample_index == 4 and result.explanation.node == "conv2d_1"
    assert panel.picture.source.width() == 256 and not panel.picture.pixmap().isNull()
    assert len(panel.prediction_plot.getPlotItem().items) == 1
    before = panel.picture.pixmap().toImage()
    panel.opacity_slider.setValue(100)
    assert panel.picture.pixmap().toImage() != before
    assert "explaining class" in panel.status.text()


def test_inside_the_network_follows_the_selected_node(qtbot, cnn_panel):
    panel = cnn_panel
    panel.show_node("n2")  # remembered: no sample explained yet
    with qtbot.waitSignal(panel.node_shown, timeout=60_000):
        panel.explain()
    assert "conv2d_1: shape (6, 6, 16)" in panel.node_stats.text()
    explained = panel.status.text()
    assert "min" in panel.node_stats.text() and not panel.node_picture.pixmap().isNull()
    with qtbot.waitSignal(panel.node_shown, timeout=60_000) as blocker:
        panel.show_node("n4")
    assert blocker.args[0].values.shape == (144,)
    assert "flatten_1: shape (144,)" in panel.node_stats.text()
    assert panel.status.text() == explained  # not left at "Computing…"


def test_a_failure_is_shown_not_raised(qtbot, cnn_panel):
    panel = cnn_panel
    choose(panel, "gradcam")
    panel.node_combo.setCurrentIndex(panel.node_combo.findData("n5"))
    with qtbot.waitSignal(panel.failed, timeout=60_000) as blocker:
        panel.explain()
    assert "spatial output" in blocker.args[0] and "spatial output" in panel.status.text()
    assert panel.status.styleSheet() == f"color: {ERROR_COLOR.name()};"  # in red


def test_save_png_and_batch_export(qtbot, cnn_panel, tmp_path):
    panel = cnn_panel
    choose(panel, "occlusion")
    with qtbot.waitSignal(panel.explained, timeout=60_000):
        panel.explain()
    panel.save_png(tmp_path / "one.png")
    decoded = tf.io.decode_png((tmp_path / "one.png").read_bytes()).numpy()
    assert decoded.shape == (256, 256, 3)
    with qtbot.waitSignal(panel.exported, timeout=60_000):
        panel.export_batch(tmp_path / "batch", per_class=1)
    pictures = sorted((tmp_path / "batch").glob("*.png"))
    rows = (tmp_path / "batch" / "attributions.csv").read_text().splitlines()
    assert len(pictures) == 10 and len(rows) == 11
    assert rows[0].startswith("sample,true,explained,pixel_0_0")


def test_tabular_attributions_are_signed_bars_with_feature_names(qtbot, mlp_panel):
    panel = mlp_panel
    run = panel.run
    # Grad-CAM, the first method, would be refused for a model without convolutions
    assert panel.method_combo.currentData() == "ig"
    assert panel.opacity_slider.isHidden()  # no heatmap over a table's row, even before
    choose(panel, "ig")
    panel.resize(1270, 600)
    panel.show()
    with qtbot.waitSignal(panel.explained, timeout=60_000) as blocker:
        panel.explain()
    assert panel.stack.currentWidget() is panel.bars_plot
    assert panel.opacity_slider.isHidden()  # bars have no heatmap
    values = blocker.args[0].explanation.attributions
    strongest = run.dataset.feature_names[int(np.argmax(np.abs(values)))]

    def ticks():
        return panel.bars_plot.getAxis("left")._tickLevels[0]

    qtbot.waitUntil(lambda: len(ticks()) == 15, timeout=3_000)  # TOP_FEATURES
    assert ticks()[-1][1] == strongest
    panel.resize(1270, 220)  # a short dock: only as many bars as their names have room
    view = panel.bars_plot.getPlotItem().vb
    qtbot.waitUntil(lambda: 3 <= len(ticks()) <= view.height() // 16, timeout=3_000)
    assert ticks()[-1][1] == strongest


def test_in_the_app_a_trained_run_is_explained_and_the_canvas_selection_followed(
    qtbot, make_window
):
    window = make_window(example("cnn_digits", epochs=1))
    panel = window.panels.explain
    run = train(qtbot, window)
    assert run.succeeded and panel.run is run
    window.panels.docks["explain"].show()
    window.panels.docks["explain"].raise_()
    with qtbot.waitSignal(panel.explained, timeout=120_000) as blocker:
        panel.explain_button.click()  # a heavy kind: computed in the training process
    assert blocker.args[0].explanation.node == "conv2d_1"
    with qtbot.waitSignal(panel.node_shown, timeout=120_000) as blocker:
        window.scene.select_nodes(["n2"])
    assert blocker.args[0].values.shape == (6, 6, 16)


def test_a_loaded_file_is_explained_and_a_bad_one_reported(qtbot, cnn_panel, tmp_path):
    panel = cnn_panel
    image = tmp_path / "digit.png"
    picture = np.zeros((8, 8, 3), np.uint8)
    picture[2:6, 3:5] = 255
    image.write_bytes(png_bytes(picture))
    choose(panel, "ig")
    with qtbot.waitSignal(panel.explained, timeout=60_000) as blocker:
        panel.load_sample(image)
    assert blocker.args[0].sample_index is None and panel.truth_label.text() == "loaded: digit.png"
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    with qtbot.waitSignal(panel.failed, timeout=60_000) as blocker:
        panel.load_sample(not_an_image)
    assert "not a readable image" in blocker.args[0]
    panel.sample_spin.setValue(panel.sample_spin.value() + 1)
    assert panel.loaded_path is None


def test_a_new_document_clears_the_panel(qtbot, cnn_panel):
    panel = cnn_panel
    with qtbot.waitSignal(panel.explained, timeout=60_000):
        panel.explain()
    panel.clear()
    assert panel.run is None and panel.result is None and not panel.explain_button.isEnabled()
    assert panel.opacity_slider.isHidden()


def test_health_check_lists_badges_or_says_all_is_well(qtbot, cnn_panel):
    panel = cnn_panel
    with qtbot.waitSignal(panel.health_checked, timeout=60_000) as blocker:
        panel.health_button.click()
    result = blocker.args[0]
    assert set(result.health) == {"n2", "n3", "n4", "n5"}
    text = panel.health_text.text()
    if result.badges:
        assert "Try:" in text
    else:
        assert text.startswith("Every layer looks healthy")


@pytest.fixture
def cnn_panel_in_process(qtbot):
    """As in the app: explanations computed in the training process."""
    runs, run = trained_run("cnn_digits")
    panel = ExplainPanel(runs, EXAMPLES)
    qtbot.addWidget(panel)
    runs.finish(run)
    panel.resize(1200, 500)
    panel.show()
    return panel


@pytest.mark.skipif(not SCHEDSTAT.exists(), reason="needs Linux's per-thread scheduler times")
def test_the_gui_thread_is_never_blocked_a_frame_while_an_explanation_computes(
    qtbot, cnn_panel_in_process
):
    panel = cnn_panel_in_process
    with qtbot.waitSignal(panel.explained, timeout=120_000):
        panel.explain()  # the first: the process loads TensorFlow and traces the model
    probe = FrameProbe()
    panel.explained.connect(probe.stop)  # from the click to the result drawn, no further

    def longest_block_ms():
        qtbot.wait(300)  # the last result's plots repaint: drawing, not computing
        panel.sample_spin.setValue(panel.sample_spin.value() + 1)
        probe.start()
        with qtbot.waitSignal(panel.explained, timeout=60_000):
            panel.explain_button.click()
        assert len(probe.blocked_ms) > 3, "the explanation came back before the probe could tick"
        return probe.longest_ms()

    for method in ("gradcam", "ig", "occlusion"):
        choose(panel, method)
        # Twice at most: work of ours blocks every time; a one-off hiccup of a shared
        # CI machine (a page fault, the other test worker's burst) does not come back.
        blocks = [longest_block_ms()]
        if blocks[0] > 16.0:
            blocks.append(longest_block_ms())
        measured = " ms, then ".join(f"{block:.1f}" for block in blocks)
        assert min(blocks) <= 16.0, f"{method}: the GUI thread was blocked {measured} ms"


@pytest.fixture
def text_panel(qtbot):
    """The panel on the text example: seeded weights, vocabulary adapted to 200 reviews."""
    from graph.model import SetSettings
    from runtime.learned_state import trained_weights
    from runtime.trainer import adapt_normalization

    graph = load_graph(EXAMPLES / "text_sentiment.yaml")
    graph.apply(SetSettings("dataset", {"samples": 200}))
    keras.utils.set_random_seed(0)
    runs = RunHistory()
    run = runs.start(graph)
    run.dataset = load_dataset(graph.dataset, EXAMPLES)
    model = build_model(graph)
    adapt_normalization(model, run.dataset.x_train)
    run.weights = trained_weights(model)
    panel = ExplainPanel(runs, EXAMPLES, heavy=False)
    qtbot.addWidget(panel)
    runs.finish(run)
    return panel


def test_a_text_is_shown_with_its_words_shaded_and_markup_escaped(qtbot, text_panel):
    panel = text_panel
    assert panel.method_combo.currentData() == "occlusion"  # methods for numbers would refuse
    assert panel.reading.text() == METHODS["occlusion"].text_reading
    assert not panel.text_input.isHidden()
    assert panel.opacity_slider.isHidden() and panel.opacity_label.isHidden()  # words, no heatmap
    panel.resize(1270, 220)  # as docked in a 1280x720 window
    panel.show()
    with qtbot.waitSignal(panel.explained, timeout=60_000) as blocker:
        panel.explain_button.click()
    test_text = str(blocker.args[0].sample[0])
    assert panel.stack.currentWidget() is panel.words_view
    qtbot.wait(50)  # the reading beside the words keeps its share of the width, whole
    reading = panel.reading
    assert reading.width() >= 200 and reading.height() >= reading.heightForWidth(reading.width())
    assert panel.words_view.toPlainText().split() == test_text.split()
    assert len(panel.prediction_plot.getPlotItem().items) == 1
    panel.text_input.setText("a <b>dull</b> film & more")
    with qtbot.waitSignal(panel.explained, timeout=60_000) as blocker:
        panel.text_input.returnPressed.emit()
    assert blocker.args[0].explanation.words == ("a", "<b>dull</b>", "film", "&", "more")
    assert panel.words_view.toPlainText().split() == ["a", "<b>dull</b>", "film", "&", "more"]
    assert "background-color" in panel.words_view.toHtml()
    assert panel.explanation_box.title() == "Explanation: Occlusion sensitivity"
    choose(panel, "shap")  # the reading now describes SHAP: the status says what is shown
    assert panel.status.text() == (
        "Showing Occlusion sensitivity; press Explain to see SHAP (permutation)."
    )


def test_methods_a_model_would_refuse_are_greyed_out_with_the_reason(qtbot, text_panel, mlp_panel):
    items = text_panel.method_combo.model()
    for index in range(items.rowCount()):
        method = METHODS[text_panel.method_combo.itemData(index)]
        tip = text_panel.method_combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
        if method.text_reading is None:  # gradients and shuffles: numbers only
            assert not items.item(index).isEnabled()
            assert tip.startswith(f"{method.title} works on numbers (")
            assert tip.endswith("for text, use occlusion (or SHAP for short texts).")
        else:
            assert items.item(index).isEnabled() and tip is None
    mlp_items = mlp_panel.method_combo.model()
    gradcam = mlp_panel.method_combo.findData("gradcam")
    assert not mlp_items.item(gradcam).isEnabled()  # no convolution in an MLP
    assert "needs a convolution node" in mlp_panel.method_combo.itemData(
        gradcam, Qt.ItemDataRole.ToolTipRole
    )
    assert all(mlp_items.item(i).isEnabled() for i in range(mlp_items.rowCount()) if i != gradcam)
    assert not mlp_panel.node_combo.isEnabled()  # only Grad-CAM reads the chosen node


def test_a_new_run_clears_the_explanation_of_the_old_one(qtbot, cnn_panel):
    panel = cnn_panel
    with qtbot.waitSignal(panel.explained, timeout=60_000):
        panel.explain()
    assert panel.explanation_box.title().startswith("Explanation: Grad-CAM")
    assert panel.prediction_text.text()
    panel.set_run(panel.run)  # as when the next training run finishes
    assert panel.result is None and panel.picture.pixmap().isNull()
    assert panel.explanation_box.title() == "Explanation" and not panel.prediction_text.text()


@pytest.fixture
def cnn_run():
    return trained_run("cnn_digits")


def test_at_1280x720_an_explained_image_fits_the_panel_without_scrolling(
    qtbot, make_window, cnn_run
):
    """The heatmap and the node's picture shrink with the dock rather than scroll away."""
    _runs, run = cnn_run
    window = make_window(example("cnn_digits"))
    window.resize(1280, 720)
    window.panels.context.show("explain")
    panel = window.panels.explain
    dock = window.panels.docks["explain"]
    # the bottom docks' height on a first start at 1280x720
    window.resizeDocks([dock], [bottom_dock_height(window)], Qt.Orientation.Vertical)
    area = dock.widget()
    qtbot.waitUntil(lambda: area.viewport().width() > 1000, timeout=3_000)
    panel.set_run(run)
    panel.show_node("n2")
    with qtbot.waitSignal(panel.node_shown, timeout=60_000):
        panel.explain()
    qtbot.waitUntil(lambda: panel.picture.source is not None, timeout=5_000)
    qtbot.wait(50)
    assert area.widget().height() == area.viewport().height()
    assert not area.verticalScrollBar().isVisible()
    for picture in (panel.picture, panel.node_picture):  # drawn whole, in the room it has
        shown = picture.pixmap().size()
        assert picture.source is not None and not shown.isEmpty()
        assert shown.width() <= picture.width() and shown.height() <= picture.height()
