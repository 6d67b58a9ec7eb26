"""The model summary and the code export preview."""

from __future__ import annotations

from PySide6.QtGui import QColor

from graph.model import NetworkGraph
from graph.summary import summary_rows, summary_totals
from gui.code_view import code_editor
from gui.summary_view import SummaryView
from tests.gui.conftest import mlp_graph


def test_summary_view_shows_every_layer_and_the_totals(qtbot, make_window):
    window = make_window(mlp_graph())
    view = SummaryView(window.session, window)
    qtbot.addWidget(view)
    rows = summary_rows(window.session.graph, window.session.analysis)
    assert view.table.rowCount() == len(rows) == 4
    cells = [view.table.item(1, column).text() for column in range(8)]
    assert cells == [
        "dense_1",
        "Dense",
        "(None, 64)",
        "4,160",
        "4,096",
        "16.6 KB",
        "256 B",
        "input_1",
    ]
    totals = summary_totals(window.session.graph, window.session.analysis)
    assert f"Total params: {totals.total:,}" in view.totals.text()
    assert "4,810" in view.totals.text()
    assert "MACs per sample: 4,736" in view.totals.text()
    assert "Weights: 19.2 KB float32, 9.6 KB float16, 4.8 KB int8" in view.totals.text()
    assert "dense_1" in view.text() and "Total params: 4,810" in view.text()


def test_export_code_opens_the_one_export_dialog_with_code_and_model_formats(qtbot, make_window):
    window = make_window(mlp_graph())
    dialog = window.export_code()
    qtbot.addWidget(dialog)
    assert dialog.format_checks and dialog.export_button.isEnabled()
    model_code = dialog.code.toPlainText()
    assert "def build_model" in model_code and "import keras" in model_code
    compile(model_code, "model.py", "exec")
    dialog.script_radio.setChecked(True)
    compile(dialog.code.toPlainText(), "train.py", "exec")
    run_menu = [a.text() for a in window.menuBar().actions() if a.text() == "&Run"]
    assert run_menu  # Run > Export Model opens the same dialog
    dialog.close()


def test_an_invalid_graph_is_not_exported_and_says_why(qtbot, make_window):
    graph = NetworkGraph()
    graph.add_node("Dense")
    window = make_window(graph)
    dialog = window.export_code()
    qtbot.addWidget(dialog)
    assert "cannot be exported yet" in dialog.code.toPlainText()
    assert not dialog.save_code_button.isEnabled()
    dialog.close()


def test_the_highlighter_colours_keywords_strings_and_comments(qtbot):
    editor = code_editor('def f():\n    return "text"  # note\n')
    qtbot.addWidget(editor)
    document = editor.document()
    first = document.findBlockByNumber(0).layout().formats()
    second = document.findBlockByNumber(1).layout().formats()
    keyword = next(f for f in first if f.start == 0)
    assert keyword.length == 3 and keyword.format.fontWeight() > 400
    colours = {f.format.foreground().color().name() for f in second}
    assert QColor("#718c00").name() in colours  # the string
    assert QColor("#8e908c").name() in colours  # the comment


def test_a_settled_graph_is_not_settled_again_when_a_run_checks_it(qtbot):
    # Train checks build_errors(): with no edit waiting, the views (status
    # bar, summary, probe-cache look-up) must not redo their work as the run starts.
    from graph.model import RemoveEdge
    from gui.document import EditorSession

    session = EditorSession(mlp_graph())
    changed, problems, settled = [], [], []
    session.graph_changed.connect(changed.append)
    session.problems_changed.connect(problems.append)
    session.edits_settled.connect(lambda: settled.append(True))
    assert session.build_errors() == []
    assert (changed, problems, settled) == ([], [], [])
    assert session.execute(RemoveEdge(session.graph.edges[0])) is None
    # An edit still waiting is settled at once: its errors stop the run.
    assert [p.node_id for p in session.build_errors()] == ["n1", "n2"]
    assert (len(changed), len(problems), len(settled)) == (1, 1, 1)
    assert session.build_errors() and (len(changed), len(settled)) == (1, 1)
