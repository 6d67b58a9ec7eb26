"""The Runs panel lists the document's stored runs and edits them in the store."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from graph.model import NetworkGraph
from gui.document import EditorSession
from gui.panels.run_history_panel import NAME_COLUMN, RunHistoryPanel
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


def _select_row(panel, row):
    index = panel.table.model().index(row, 0)
    flags = (
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    panel.table.selectionModel().select(index, flags)


def test_lists_this_graphs_runs_and_follows_the_document(qtbot, tmp_path):
    folder, mine, other = _store_with_runs(tmp_path)
    session = EditorSession()
    panel = RunHistoryPanel(session, folder)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == 0 and "Save the graph" in panel.message.text()
    session.replace_graph(NetworkGraph(), mine)
    assert panel.table.rowCount() == 2
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers[-1] == "accuracy"
    values = {panel.table.item(row, len(headers) - 1).text() for row in range(2)}
    assert values == {"0.5000", "0.9000"}
    session.replace_graph(NetworkGraph(), other)
    assert panel.table.rowCount() == 1 and panel.table.item(0, 4).text() == "running"


def test_rename_star_delete_reach_the_store(qtbot, tmp_path):
    folder, mine, _other = _store_with_runs(tmp_path)
    session = EditorSession()
    session.replace_graph(NetworkGraph(), mine)
    panel = RunHistoryPanel(session, folder)
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
    panel = RunHistoryPanel(session, folder)
    qtbot.addWidget(panel)
    assert "Run history unavailable" in panel.message.text() and "corrupt" in panel.message.text()
    assert panel.table.rowCount() == 0
    panel.delete_selected()  # nothing selected, nothing breaks
