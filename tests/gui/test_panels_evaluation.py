"""The evaluation panel: metrics, confusion matrix, ROC curves and misclassified images."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from graph.model import SetSettings
from runtime.evaluation_views import roc_curves, to_display_image
from tests.gui.panel_helpers import example, train


def _evaluated(qtbot, window):
    """Trains, waits for the evaluation, and brings the panel up to show it."""
    panel = window.panels.evaluation
    with qtbot.waitSignal(panel.evaluated, timeout=120_000) as blocker:
        run = train(qtbot, window)
    assert run.succeeded
    window.panels.docks["evaluation"].raise_()
    qtbot.waitUntil(lambda: panel.metrics_table.rowCount() > 0, timeout=5_000)
    return run, blocker.args[0]


def test_confusion_matrix_counts_sum_to_the_test_size(qtbot, make_window):
    window = make_window(example(epochs=2))
    run, evaluation = _evaluated(qtbot, window)
    panel = window.panels.evaluation
    report = evaluation.report
    assert report.confusion.shape == (10, 10)
    assert report.confusion.sum() == len(run.dataset.x_test) == evaluation.test_size == 360
    metrics = {
        panel.metrics_table.item(row, 0).text(): panel.metrics_table.item(row, 1).text()
        for row in range(panel.metrics_table.rowCount())
    }
    for name in ("accuracy", "precision_macro", "recall_weighted", "f1_macro", "roc_auc"):
        assert name in metrics
    assert float(metrics["accuracy"]) == round(report.metrics["accuracy"], 4)
    assert panel.class_table.rowCount() == 10
    assert "360 samples" in panel.status.text()
    assert len(evaluation.roc) == 10
    assert not panel.tabs.isTabVisible(2)  # no gallery for tabular data
    window.resize(1280, 720)  # the smallest screen the app is laid out for
    qtbot.waitUntil(lambda: window.width() == 1280)
    for table in (panel.metrics_table, panel.class_table):
        header = table.horizontalHeader()
        for column in range(1, table.columnCount()):  # figures are never cut
            label = table.horizontalHeaderItem(column).text()
            assert header.sectionSize(column) > header.fontMetrics().horizontalAdvance(label)


def test_image_data_shows_misclassified_samples(qtbot, make_window):
    window = make_window(example("cnn_digits", epochs=1))
    run, evaluation = _evaluated(qtbot, window)
    panel = window.panels.evaluation
    wrong = len(evaluation.report.misclassified)
    assert run.dataset.images
    assert len(evaluation.gallery) == min(wrong, 48)
    assert panel.gallery_cells == len(evaluation.gallery)
    if wrong:
        assert panel.tabs.isTabVisible(2)
        image, caption = evaluation.gallery[0]
        assert image.shape == (8, 8) and image.dtype == np.uint8
        assert "→" in caption


def test_regression_shows_regression_metrics(qtbot, make_window):
    graph = example("lstm_sequences", epochs=1)
    graph.apply(SetSettings("dataset", {"name": "sine", "samples": 200}))
    graph.set_params(graph.find("dense_1").id, activation="linear")
    window = make_window(graph)
    _run, evaluation = _evaluated(qtbot, window)
    assert set(evaluation.report.metrics) == {"mse", "mae", "r2"}
    assert not window.panels.evaluation.tabs.isTabVisible(1)


def test_a_hidden_panel_draws_the_evaluation_when_shown(qtbot, make_window):
    window = make_window(example(epochs=1))
    window.panels.docks["training"].raise_()
    panel = window.panels.evaluation
    with qtbot.waitSignal(panel.evaluated, timeout=120_000):
        train(qtbot, window)
    assert panel.visibleRegion().isEmpty()  # behind the training tab
    assert "360 samples" in panel.status.text()
    assert panel.metrics_table.rowCount() == 0  # nothing drawn off screen
    window.panels.docks["evaluation"].raise_()
    qtbot.waitUntil(lambda: panel.metrics_table.rowCount() > 0, timeout=5_000)
    assert panel.class_table.rowCount() == 10


def test_roc_curves_skip_absent_classes_and_handle_binary():
    y = np.array([0, 1, 1, 0])
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    curves = roc_curves(y, probabilities, ("no", "yes"))
    assert [c.name for c in curves] == ["yes"] and curves[0].auc == 1.0
    three = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    assert [c.name for c in roc_curves(np.array([0, 1]), three, ("a", "b", "c"))] == ["a", "b"]


def test_display_images_are_stretched_to_bytes():
    image = to_display_image(np.array([[[-1.0], [1.0]], [[0.0], [1.0]]]))
    assert image.tolist() == [[0, 255], [127, 255]]


@pytest.fixture
def picking(qtbot):
    """An Evaluation and an Explain panel on one run of the digits CNN (seeded weights), wired
    as the app wires them, with the evaluation drawn."""
    from gui.panels.evaluation_panel import EvaluationPanel
    from gui.panels.explain_panel import ExplainPanel
    from tests.gui.test_panels_explain import EXAMPLES, trained_run

    runs, run = trained_run("cnn_digits")
    evaluation = EvaluationPanel(runs)
    explain = ExplainPanel(runs, EXAMPLES, heavy=False)
    for panel in (evaluation, explain):
        qtbot.addWidget(panel)
    evaluation.resize(1000, 500)
    evaluation.show()
    evaluation.samples_picked.connect(explain.pick_samples)
    with qtbot.waitSignal(evaluation.evaluated, timeout=60_000):
        runs.finish(run)
    qtbot.waitUntil(lambda: evaluation.metrics_table.rowCount() > 0, timeout=5_000)
    return evaluation, explain, run


def test_clicking_a_confusion_cell_picks_exactly_its_samples_for_explaining(qtbot, picking):
    from PySide6.QtCore import QPointF

    evaluation, explain, run = picking
    report = evaluation.evaluation.report
    true, predicted = np.unravel_index(np.argmax(report.confusion), report.confusion.shape)
    expected = np.flatnonzero((report.y_true == true) & (report.y_pred == predicted)).tolist()
    evaluation.tabs.setCurrentWidget(evaluation.confusion_tab)
    plot = evaluation._plots["confusion"]
    view = plot.getViewWidget()
    qtbot.waitUntil(lambda: view.isVisible(), timeout=5_000)
    scene_point = plot.vb.mapViewToScene(QPointF(predicted + 0.5, true + 0.5))
    with qtbot.waitSignal(evaluation.samples_picked, timeout=5_000) as blocker:
        qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene_point)
        )
    picked_run, indices, title = blocker.args
    assert picked_run is run and indices == expected
    assert title.startswith(f"{len(expected)} test sample")
    assert explain.sample_spin.value() == expected[0]
    picked = [explain.picked_combo.itemData(i) for i in range(explain.picked_combo.count())]
    assert picked == expected and title in explain.status.text()
    if len(expected) > 1:  # choosing another picked sample selects it
        explain.picked_combo.activated.emit(1)
        assert explain.sample_spin.value() == expected[1]
    empty = np.argwhere(report.confusion == 0)
    if len(empty):
        with qtbot.assertNotEmitted(evaluation.samples_picked):
            evaluation.pick_cell(*map(int, empty[0]))
        assert "nothing to explain" in evaluation.status.text()


def test_clicking_a_misclassified_image_selects_it_for_explaining(qtbot, picking):
    evaluation, explain, _run = picking
    report = evaluation.evaluation.report
    assert len(report.misclassified) > 2  # untrained weights: plenty of mistakes
    evaluation.tabs.setCurrentWidget(evaluation.gallery_tab)
    with qtbot.waitSignal(evaluation.samples_picked, timeout=5_000) as blocker:
        qtbot.mouseClick(evaluation.gallery_buttons[2], Qt.MouseButton.LeftButton)
    assert blocker.args[1] == [int(report.misclassified[2])]
    assert explain.sample_spin.value() == report.misclassified[2]
    assert not explain.picked_combo.isVisible()


def test_at_1280x720_class_names_show_whole_and_the_evaluation_fits_its_panel(qtbot, make_window):
    from gui.panels.evaluation_panel import Evaluation
    from gui.panels.runs import RunHistory
    from runtime.data import load_dataset
    from runtime.evaluation import evaluate_outputs
    from tests.gui.panel_helpers import EXAMPLES

    graph = example("text_sentiment")
    window = make_window(graph)
    window.resize(1280, 720)
    run = RunHistory().start(graph)
    run.dataset = load_dataset(graph.dataset, EXAMPLES)
    test_size = len(run.dataset.y_test)
    outputs = np.random.default_rng(0).dirichlet([1, 1], size=test_size)
    panel = window.panels.evaluation
    window.panels.context.show("evaluation")
    area = window.panels.docks["evaluation"].widget()
    qtbot.waitUntil(lambda: area.viewport().width() > 1000, timeout=3_000)
    panel.show_evaluation(
        Evaluation(run, evaluate_outputs(outputs, run.dataset), [], [], test_size)
    )
    qtbot.waitUntil(lambda: panel.class_table.rowCount() == 2, timeout=5_000)
    qtbot.wait(50)
    table = panel.class_table
    for row in range(table.rowCount()):  # "negative" and "positive", not "ne..."
        item = table.item(row, 0)
        assert table.columnWidth(0) >= table.sizeHintForColumn(0), item.text()
        assert item.toolTip() == item.text()
    # Tables and the confusion matrix fit the bottom dock: nothing is cut below.
    assert area.widget().height() == area.viewport().height()
    assert not area.verticalScrollBar().isVisible()
