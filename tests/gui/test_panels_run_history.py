"""The Runs panel lists the document's stored runs and edits them in the store."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt

from graph.model import NetworkGraph
from gui.document import EditorSession
from gui.panels.run_history_panel import NAME_COLUMN, RunHistoryPanel
from gui.panels.runs import RunHistory
from runtime.run_store import (
    DATABASE_NAME,
    FINISHED,
    LAST_EPOCH,
    METRICS_SPLITS,
    TEST_SPLIT,
    RunStore,
    graph_key_for,
)


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
    index = panel.model.index(row, 0)
    flags = (
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    panel.table.selectionModel().select(index, flags)


def test_lists_this_graphs_runs_and_follows_the_document(qtbot, tmp_path):
    folder, mine, other = _store_with_runs(tmp_path)
    session = EditorSession()
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    assert panel.row_count() == 0 and "unsaved graph" in panel.message.text()
    session.replace_graph(NetworkGraph(), mine)
    assert panel.row_count() == 2
    headers = panel.headers()
    assert headers[-1] == "test accuracy"
    tooltip = panel.model.headerData(len(headers) - 1, Qt.Orientation.Horizontal, Qt.ToolTipRole)
    assert tooltip == METRICS_SPLITS[TEST_SPLIT]
    values = {panel.cell(row, len(headers) - 1) for row in range(2)}
    assert values == {"0.5000", "0.9000"}
    session.replace_graph(NetworkGraph(), other)
    assert panel.row_count() == 1 and panel.cell(0, 5) == "running"


def test_rename_star_delete_reach_the_store(qtbot, tmp_path):
    folder, mine, _other = _store_with_runs(tmp_path)
    session = EditorSession()
    session.replace_graph(NetworkGraph(), mine)
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    panel.table.sortByColumn(NAME_COLUMN, Qt.SortOrder.AscendingOrder)
    run_id = panel.run_id_at(0)
    with qtbot.waitSignal(panel.model.renamed):
        assert panel.model.setData(panel.model.index(0, NAME_COLUMN), "baseline")
    _select_row(panel, [r for r in range(2) if panel.run_id_at(r) == run_id][0])
    panel.star_selected()
    with RunStore.open(folder) as store:
        run = store.get(run_id)
        assert run.name == "baseline" and run.starred
    row = [r for r in range(2) if panel.run_id_at(r) == run_id][0]
    _select_row(panel, row)
    panel.delete_selected()
    assert panel.row_count() == 1
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
    assert panel.row_count() == 0
    panel.delete_selected()  # nothing selected, nothing breaks


def test_a_damaged_run_is_left_out_and_named_while_the_others_stay_listed(qtbot, tmp_path):
    import sqlite3

    folder, mine, _other = _store_with_runs(tmp_path)
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        (damaged,) = connection.execute(
            "SELECT id FROM runs WHERE final_metrics LIKE '%0.9%'"
        ).fetchone()
        connection.execute("UPDATE runs SET final_metrics = '{x' WHERE id = ?", (damaged,))
    connection.close()
    session = EditorSession()
    session.replace_graph(NetworkGraph(), mine)
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    assert panel.row_count() == 1 and panel.run_id_at(0) != damaged
    text = panel.message.text()
    assert text.startswith("1 run listed; left out: ") and damaged in text
    assert "unavailable" not in text and "in memory" not in text  # the store still works


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
            store.finish(
                run_id,
                FINISHED,
                epochs={"loss": loss},
                final_metrics={"loss": loss[-1]},
                metrics_split=LAST_EPOCH if name == "slow" else TEST_SPLIT,
            )
    session = EditorSession()
    session.replace_graph(slow, path)
    panel = _panel(session, folder)
    qtbot.addWidget(panel)
    # What differs, then the metrics: a test score is never shown as a last epoch's figure.
    assert panel.headers()[6:] == ["training.learning_rate", "test loss", "last epoch loss"]
    panel.filter_edit.setText("FAST")
    assert [panel.cell(r, NAME_COLUMN) for r in range(panel.row_count())] == ["fast"]
    panel.filter_edit.clear()
    panel.table.sortByColumn(6, Qt.SortOrder.AscendingOrder)  # by learning rate, as numbers
    assert [panel.cell(r, 6) for r in range(2)] == ["0.001", "0.01"]
    with qtbot.waitSignal(panel.compared) as compared:
        panel.table.selectAll()
    assert [run.name for run in compared.args[0]] == ["slow", "fast"]
    text = panel.comparison.toPlainText()
    assert "dense_1 (Dense): units 64 -> 32" in text and "0.4" in text and "0.8" in text
    assert "test loss\n-\n0.4\nlast epoch loss\n0.8\n-" in text
    assert not panel.restore_button.isEnabled()  # one run at a time
    assert panel.differing_ids == ["n2"]  # where the graphs differ, shown on the canvas
    with qtbot.waitSignal(panel.differences_shown) as shown:
        panel.show_differences_button.click()
    assert shown.args[0] == ["n2"]


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


def test_a_locked_store_is_named_and_runs_stay_listed_in_memory(qtbot, tmp_path):
    import sqlite3

    from runtime.events import RunFinished, TrainingFinished
    from runtime.runs.base import RunRequest
    from runtime.runs.kinds.train import TrainingOutcome

    folder, mine, _other = _store_with_runs(tmp_path)
    holder = sqlite3.connect(folder / DATABASE_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing
    try:
        session = EditorSession()
        session.replace_graph(NetworkGraph(), mine)
        runs = RunHistory(session, store_folder=folder)
        runs.journal.timeout = 0.05  # the app waits half a second; the test need not
        panel = RunHistoryPanel(session, runs)
        qtbot.addWidget(panel)
        assert "locked by another program" in panel.message.text()
        assert "kept in memory" in panel.message.text()
        recording = runs.journal.begin(RunRequest("train", "yaml"))
        history = {"loss": [0.5], "val_loss": [0.7]}
        outcome = TrainingOutcome(TrainingFinished(history, False, None, 1, False), None, "", [])
        runs.journal.end(recording, RunFinished("train", outcome))
        assert panel.row_count() == 1 and panel.cell(0, 5) == FINISHED
        assert panel.headers()[-2:] == ["last epoch loss", "last epoch val_loss"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
