"""The Federated panel: its settings form edits the graph, a real run draws rounds and the split."""

from __future__ import annotations

import numpy as np
import pytest

from graph.model import SetSettings
from graph.settings import FEDERATED_PARAMS
from gui.collection import collect_on_gui_thread
from gui.document import EditorSession
from gui.panels.federated_panel import PLACEHOLDER_IDLE, PLACEHOLDER_WAITING, FederatedPanel
from gui.panels.runs import RunHistory
from tests.gui.panel_helpers import EXAMPLES, example

TIMEOUT_MS = 300_000


def make_panel(qtbot, **federated) -> FederatedPanel:
    # As the app does: the run's thread must never free Qt objects (the fixture restores it).
    collect_on_gui_thread()
    graph = example()
    graph.apply(SetSettings("federated", federated))
    session = EditorSession()
    session.replace_graph(graph)
    session.path = EXAMPLES / "mlp_digits.yaml"
    panel = FederatedPanel(session, RunHistory(), heavy=False)
    qtbot.addWidget(panel)
    return panel


def test_the_form_edits_the_federated_settings_undoably(qtbot):
    panel = make_panel(qtbot)
    assert set(panel.form.editors) == {p.name for p in FEDERATED_PARAMS}
    # no privacy figures before a run: their explanations do not crowd the form
    assert panel.privacy_label.isHidden() and panel.membership_label.isHidden()
    assert "lower is more private" in panel.privacy_label.toolTip()
    assert panel.form.apply("clients", 4) is None
    assert panel.session.graph.settings["federated"]["clients"] == 4
    panel.session.undo_stack.undo()
    assert panel.session.graph.settings["federated"]["clients"] == 10


def test_a_run_draws_rounds_baseline_class_counts_and_epsilon(qtbot):
    panel = make_panel(
        qtbot,
        clients=3,
        rounds=2,
        partition="dirichlet",
        alpha=0.2,
        clip_norm=1.0,
        noise_multiplier=0.5,
    )
    with qtbot.waitSignal(panel.federated_ended, timeout=TIMEOUT_MS) as ended:
        assert panel.start()
        assert panel.stop_button.isEnabled() and not panel.form.isEnabled()
    outcome = ended.args[0]
    assert outcome is not None and outcome.federated.rounds_done == 2
    assert panel.rounds == [1, 2] and panel.showing_charts
    x, y = panel.charts.curves["val_accuracy"].getData()
    assert list(x) == [1.0, 2.0] and np.allclose(y, outcome.result.history["val_accuracy"])
    assert panel.history["epsilon"][0] < panel.history["epsilon"][1]
    bx, _ = panel.charts.baseline_curves["val_loss"].getData()
    assert list(bx) == [1.0, 2.0]
    assert len(panel.class_counts) == 3 and len(panel.charts.bars) == 10
    assert "epsilon =" in panel.privacy_label.text() and not panel.privacy_label.isHidden()
    assert "AUC" in panel.membership_label.text() and not panel.membership_label.isHidden()
    assert panel.start_button.isEnabled() and panel.form.isEnabled()
    # The global model joins the run history as a trained model, for evaluation and export.
    run = panel.runs.latest_trained()
    assert run.weights is outcome.weights and run.history == outcome.result.history
    # Recorded with the global model's test scores; the app's evaluation adds its own.
    from runtime.run_store import TEST_SPLIT

    (recorded,) = panel.runs.journal.runs()
    assert recorded.metrics_split == TEST_SPLIT
    assert recorded.final_metrics == pytest.approx(outcome.federated.test_logs)
    panel.runs.record_evaluation(run, {"precision_macro": 0.25})
    (recorded,) = panel.runs.journal.runs()
    assert recorded.final_metrics == pytest.approx(
        {**outcome.federated.test_logs, "precision_macro": 0.25}
    )


def test_the_chart_area_says_what_will_appear_until_the_first_round(qtbot):
    from runtime.events import RoundEnd
    from runtime.federated.events import FederationPlanned

    panel = make_panel(qtbot, clients=2, rounds=2)
    assert panel.charts is None and not panel.showing_charts  # pyqtgraph not loaded yet
    assert panel.placeholder.text() == PLACEHOLDER_IDLE and "press Start" in PLACEHOLDER_IDLE
    panel._clear()  # as a run starts
    assert panel.placeholder.text() == PLACEHOLDER_WAITING
    panel.on_event(FederationPlanned([[5, 3], [2, 6]], ("a", "b"), 2))
    assert panel.charts is not None and not panel.showing_charts
    panel.on_event(RoundEnd(1, 2, {"val_accuracy": 0.5, "val_loss": 1.0}))
    assert panel.showing_charts and panel.chart_area.currentWidget().isAncestorOf(panel.charts)


def test_the_window_docks_the_panel_with_a_run_menu_entry(make_window):
    window = make_window(example())
    assert isinstance(window.panels.federated, FederatedPanel)
    assert "federated" in window.panels.docks
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    assert "&Federated Training…" in [a.text() for a in run_menu.actions()]


def test_bad_settings_show_their_message(qtbot):
    panel = make_panel(qtbot, noise_multiplier=1.0)
    with qtbot.waitSignal(panel.federated_ended, timeout=TIMEOUT_MS) as ended:
        panel.start()
    assert ended.args[0] is None
    assert "clip_norm is not set" in panel.status.text()
    assert not panel.showing_charts and panel.placeholder.text() == PLACEHOLDER_IDLE


def test_a_csv_is_partitioned_by_its_hospital_column(qtbot, tmp_path):
    from graph.files import graph_to_yaml, load_graph
    from tests.runtime.runtime_helpers import mlp, write_patients_csv

    collect_on_gui_thread()
    write_patients_csv(tmp_path / "patients.csv")
    dataset = {"source": "csv", "path": "patients.csv", "target_column": "outcome"}
    graph = mlp(input_shape=(6,), units=2, hidden=8, dataset=dataset, epochs=1)
    settings = {"clients": 3, "rounds": 1, "partition": "column", "partition_column": "hospital"}
    graph.apply(SetSettings("federated", {**settings, "centralized_baseline": False}))
    (tmp_path / "patients.yaml").write_text(graph_to_yaml(graph))
    session = EditorSession()
    session.replace_graph(load_graph(tmp_path / "patients.yaml"))
    session.path = tmp_path / "patients.yaml"  # relative data paths start here
    panel = FederatedPanel(session, RunHistory(), heavy=False)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.federated_ended, timeout=TIMEOUT_MS) as ended:
        assert panel.start()
    assert ended.args[0] is not None, panel.status.text()
    # Three hospitals, three clients: the bars show each client's own patients.
    assert len(panel.class_counts) == 3 and sum(map(sum, panel.class_counts)) == len(
        ended.args[0].dataset.y_train
    )
    assert panel.status.text().startswith("Done: 1 rounds")


def test_the_four_charts_stand_in_one_row_in_a_short_wide_dock_and_say_when_privacy_is_off(
    qtbot,
):
    from gui.panels.federated_charts import FederatedCharts

    charts = FederatedCharts("Privacy budget epsilon")
    qtbot.addWidget(charts)
    charts.show()

    def tops():
        return {round(plot.mapRectToScene(plot.boundingRect()).top()) for plot in charts.plots}

    charts.resize(940, 190)  # the bottom dock's room at 1280x720
    qtbot.waitUntil(lambda: charts.columns == 4 and len(tops()) == 1, timeout=3_000)
    charts.resize(700, 500)  # a tall dock: two rows of two
    qtbot.waitUntil(lambda: charts.columns == 2 and len(tops()) == 2, timeout=3_000)
    assert charts.plots[2].getAxis("bottom").labelText == "client"
    charts.draw_rounds([1], {"val_accuracy": [0.5]})  # no noise: no privacy budget
    assert "off: no noise added" in charts.epsilon_plot.titleLabel.text
    charts.draw_rounds([1], {"val_accuracy": [0.5], "epsilon": [2.0]})
    assert charts.epsilon_plot.titleLabel.text == "Privacy budget epsilon"
