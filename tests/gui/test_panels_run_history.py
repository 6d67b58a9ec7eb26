"""The Runs panel lists the document's stored runs and edits them in the store."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from graph.model import NetworkGraph
from gui.document import EditorSession
from gui.panels.run_history_panel import NAME_COLUMN, RunHistoryPanel
from gui.panels.runs import RunHistory
from runtime.run_store import DATABASE_NAME, FINISHED, RunStore, graph_key_for


def _store_with_runs(tmp_path):
    folder = tmp_path / "runs"
    mine, other = tmp_path / "mine.yaml", tmp_path / "other.yaml"
    with RunStore.open(folder) as store:
        for accuracy in (0.5, 0.9):
            run_id = store.start(graph_key_for(mine), "train", "yaml")
            store.finish(run_id, FINISHED, final_metrics={"accuracy": accuracy})
        store.start(graph_key_for(other), "tune", "yaml")
    return folder, mine, other


def _panel(session, folder):
    return RunHistoryPanel(session, RunHistory(session, store_folder=folder))


def _select_row(panel, row):
    index = panel.table.model().index(row, 0)
    flags = (
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    panel.table.selectionModel().select(index, flags)


def test_lists_this_graphs_runs_and_follows_the_document(qtbot, tmp_path):
    folder, mine, other = _store_with_runs(tmp_path)
    session = EditorSession()
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == 0 and "unsaved graph" in panel.message.text()
    session.replace_graph(NetworkGraph(), mine)
    assert panel.table.rowCount() == 2
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers[-1] == "accuracy"
    values = {panel.table.item(row, len(headers) - 1).text() for row in range(2)}
    assert values == {"0.5000", "0.9000"}
    session.replace_graph(NetworkGraph(), other)
    assert panel.table.rowCount() == 1 and panel.table.item(0, 5).text() == "running"


def test_rename_star_delete_reach_the_store(qtbot, tmp_path):
    folder, mine, _other = _store_with_runs(tmp_path)
    session = EditorSession()
    session.replace_graph(NetworkGraph(), mine)
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    panel.table.sortItems(NAME_COLUMN)
    run_id = panel.table.item(0, NAME_COLUMN).data(0x0100)
    panel.table.item(0, NAME_COLUMN).setText("baseline")
    _select_row(panel, [r for r in range(2) if panel.table.item(r, 0).data(0x0100) == run_id][0])
    panel.star_selected()
    with RunStore.open(folder) as store:
        run = store.get(run_id)
        assert run.name == "baseline" and run.starred
    row = [r for r in range(2) if panel.table.item(r, 0).data(0x0100) == run_id][0]
    _select_row(panel, row)
    panel.delete_selected()
    assert panel.table.rowCount() == 1
    with RunStore.open(folder) as store:
        assert [run.id for run in store.runs_of(graph_key_for(mine))] != [run_id]
        assert len(store.runs_of(graph_key_for(mine))) == 1


def test_a_corrupt_store_is_named_and_the_panel_still_works(qtbot, tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / DATABASE_NAME).write_bytes(b"not sqlite" * 50)
    session = EditorSession()
    session.replace_graph(NetworkGraph(), tmp_path / "g.yaml")
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    assert "Run history unavailable" in panel.message.text() and "corrupt" in panel.message.text()
    assert panel.table.rowCount() == 0
    panel.delete_selected()  # nothing selected, nothing breaks


def test_differing_settings_filter_and_comparison_of_two_runs(qtbot, tmp_path):
    from graph.files import graph_to_yaml
    from graph.model import SetParams, SetSettings
    from tests.gui.panel_helpers import example

    folder, path = tmp_path / "runs", tmp_path / "digits.yaml"
    slow, fast = example(epochs=2), example(epochs=2)
    fast.apply(SetSettings("training", {"learning_rate": 0.01}))
    fast.apply(SetParams("n2", {"units": 32}))
    with RunStore.open(folder) as store:
        for name, graph, loss in (("slow", slow, [1.0, 0.8]), ("fast", fast, [0.9, 0.4])):
            run_id = store.start(graph_key_for(path), "train", graph_to_yaml(graph), name)
            store.finish(run_id, FINISHED, epochs={"loss": loss}, final_metrics={"loss": loss[-1]})
    session = EditorSession()
    session.replace_graph(slow, path)
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers[6:] == ["training.learning_rate", "loss"]  # only what differs, then metrics
    panel.filter_edit.setText("FAST")
    shown = [r for r in range(2) if not panel.table.isRowHidden(r)]
    assert [panel.table.item(r, NAME_COLUMN).text() for r in shown] == ["fast"]
    panel.filter_edit.clear()
    with qtbot.waitSignal(panel.compared) as compared:
        panel.table.selectAll()
    assert [run.name for run in compared.args[0]] == ["slow", "fast"]
    text = panel.comparison.toPlainText()
    assert "dense_1 (Dense): units 64 -> 32" in text and "0.4" in text and "0.8" in text
    assert not panel.restore_button.isEnabled()  # one run at a time


def test_compared_runs_curves_are_overlaid_in_the_training_charts(qtbot):
    from gui.panels.charts import TrainingCharts

    charts = TrainingCharts()
    qtbot.addWidget(charts)
    charts.show_runs(
        [
            ("slow", {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}),
            ("fast", {"loss": [0.9, 0.4, 0.3], "val_loss": [1.0, 0.5, 0.45]}),
        ]
    )
    assert [label for label, _ in charts.previous_runs] == ["slow"]
    assert charts.run_label == "fast"
    x, y = charts.plotted("loss", "train")
    assert list(x) == [1.0, 2.0, 3.0] and list(y) == [0.9, 0.4, 0.3]
    assert len(charts.plots["loss"].previous) == 2  # slow's train and validation curves
