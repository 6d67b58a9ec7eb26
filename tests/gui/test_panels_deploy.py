"""The Deploy panel: one click compresses (a real run), one writes the report, one attacks."""

from __future__ import annotations

import pytest

from graph.model import RemoveEdge, SetSettings
from graph.settings import PRIVACY_MEASURES
from gui.document import EditorSession
from gui.panels.deploy_panel import VARIANTS, DeployPanel
from gui.panels.runs import RunHistory
from tests.gui.panel_helpers import example


def make_panel(qtbot, tmp_path) -> DeployPanel:
    session = EditorSession()
    session.replace_graph(example(epochs=1))
    panel = DeployPanel(session, output_dir=tmp_path / "compressed")
    qtbot.addWidget(panel)
    return panel


def test_one_click_compresses_and_the_report_reuses_the_table(qtbot, tmp_path):
    panel = make_panel(qtbot, tmp_path)
    assert panel.table.rowCount() == len(VARIANTS) + 1
    panel.run_buttons["tflite_float16"].click()
    assert panel.is_running and not panel.all_button.isEnabled()
    assert "No trained run yet: training the graph first" in panel.status.text()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=300_000)
    assert panel.error_label.isHidden(), panel.error_label.text()
    row = panel._row_of["tflite_float16"]
    assert panel.table.item(row, 2).text().startswith("accuracy ")
    assert panel.table.item(row, 3).text().endswith(" pt")
    assert panel.table.item(0, 2).text().startswith("accuracy ")
    assert (tmp_path / "compressed" / "model_tflite_float16.tflite").is_file()
    assert panel.run_buttons["pruned"].isEnabled()

    report = tmp_path / "report.html"
    assert panel.write_report(report)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=300_000)
    assert panel.error_label.isHidden(), panel.error_label.text()
    assert "TFLite float16" in report.read_text()
    assert str(report) in panel.status.text()


def test_a_lossy_variant_is_highlighted_and_a_failure_named(qtbot, tmp_path):
    panel = make_panel(qtbot, tmp_path)
    row = {
        "name": "pruned",
        "title": "Magnitude pruning",
        "metric_name": "accuracy",
        "metric": 0.5,
        "metric_change": -0.3,
        "size_bytes": 1000,
        "p50_ms": 1.0,
        "p95_ms": 2.0,
        "note": "",
        "worse_than_tolerance": True,
    }
    failure = {"tflite_int8": "tflite_int8: TFLite cannot convert layer lstm_1 (LSTM)"}
    panel.show_compression({"variants": [row], "failures": failure})
    cell = panel.table.item(panel._row_of["pruned"], 3)
    assert cell.text() == "-30.00 pt" and cell.background().color().name() == "#fce8e6"
    assert "lstm_1 (LSTM)" in panel.table.item(panel._row_of["tflite_int8"], 7).text()


def test_an_invalid_graph_is_refused_with_its_problem(qtbot, tmp_path):
    panel = make_panel(qtbot, tmp_path)
    graph = panel.session.graph
    graph.apply(RemoveEdge(graph.in_edges(graph.find("dense_2").id)[0]))
    panel.session.flush()
    assert not panel.compress(["tflite_dynamic"])
    assert "The graph does not build yet" in panel.error_label.text()


def test_the_window_docks_the_panel_and_the_run_menu_opens_it(window):
    assert isinstance(window.panels.deploy, DeployPanel)
    assert "deploy" in window.panels.docks


@pytest.fixture(scope="module")
def memorised():
    """The digits MLP trained on a small training split, and the attack's own AUC on it."""
    import keras

    from runtime.builder import build_model
    from runtime.data import load_dataset
    from runtime.privacy.membership import membership_inference_auc

    graph = example(epochs=1)
    graph.apply(SetSettings("dataset", {"test_size": 0.9, "validation_size": 0.0}))
    dataset = load_dataset(graph.dataset)
    keras.utils.set_random_seed(0)
    model = build_model(graph)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(dataset.x_train, dataset.y_train, epochs=20, batch_size=64, verbose=0)
    expected = membership_inference_auc(
        model, dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test, seed=42
    )
    return graph, dataset, model.get_weights(), expected


def test_the_membership_check_attacks_the_newest_trained_run(qtbot, tmp_path, memorised):
    graph, dataset, weights, expected = memorised
    runs = RunHistory()
    panel = DeployPanel(EditorSession(), output_dir=tmp_path, runs=runs, heavy=False)
    qtbot.addWidget(panel)
    assert not panel.check_membership()
    assert "No trained model to check: train the graph first" in panel.error_label.text()
    assert panel.membership_label.isHidden()  # until there is a figure to explain

    run = runs.start(graph)
    run.dataset, run.weights = dataset, weights
    runs.finish(run)
    panel.membership_button.click()
    assert panel.is_running and not panel.membership_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=60_000)
    assert panel.error_label.isHidden(), panel.error_label.text()
    assert panel.membership == (None, pytest.approx(expected))
    explanation = PRIVACY_MEASURES["membership_auc"][1]
    assert not panel.membership_label.isHidden()
    assert panel.membership_label.text() == (
        f"Membership inference AUC {expected:.3f} ({len(dataset.y_train)} training and as many "
        "unseen samples): " + explanation
    )


def test_a_model_file_is_attacked_and_its_auc_goes_into_the_report(qtbot, tmp_path, memorised):
    from runtime.builder import build_model
    from runtime.saving import save_keras_model

    graph, _dataset, weights, expected = memorised
    model = build_model(graph)
    model.set_weights(weights)
    save_keras_model(model, tmp_path / "model.keras")
    session = EditorSession()
    session.replace_graph(graph)
    panel = DeployPanel(session, output_dir=tmp_path / "out", heavy=False)
    qtbot.addWidget(panel)
    panel.model_edit.setText(str(tmp_path / "model.keras"))
    assert panel.check_membership()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=60_000)
    assert panel.membership == (str(tmp_path / "model.keras"), pytest.approx(expected))

    assert panel.write_report(tmp_path / "report.html")
    assert panel.job.request.options["privacy"] == {"membership_auc": panel.membership[1]}
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)


def test_compression_takes_the_newest_trained_run_instead_of_training(qtbot, tmp_path, memorised):
    import numpy as np

    from runtime.builder import build_model

    graph, dataset, weights, _expected = memorised
    runs = RunHistory()
    for run_weights in ([w * 0 for w in weights], weights):  # the newest holds `weights`
        run = runs.start(graph)
        run.dataset, run.weights = dataset, run_weights
        runs.finish(run)
    session = EditorSession()
    session.replace_graph(example(epochs=1))
    panel = DeployPanel(session, output_dir=tmp_path / "c", runs=runs, heavy=False)
    qtbot.addWidget(panel)
    assert panel.compress(["keras_int8"])
    assert panel.status.text() == "Compressing: keras_int8: the model of run 2…"
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert panel.error_label.isHidden(), panel.error_label.text()
    model = build_model(graph)
    model.set_weights(weights)
    predicted = np.argmax(model.predict(dataset.x_test, verbose=0), axis=1)
    accuracy = float(np.mean(predicted == dataset.y_test))
    assert panel.table.item(0, 2).text() == f"accuracy {accuracy:.4f}"
