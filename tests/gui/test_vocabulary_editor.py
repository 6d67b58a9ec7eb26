"""A vocabulary is typed in the inspector one token per line or comma separated."""

from __future__ import annotations

from graph.catalog import CATALOG
from graph.model import NetworkGraph
from gui.param_editors import ItemListEditor, ParamForm


def lookup_graph() -> NetworkGraph:
    graph = NetworkGraph("lookup")
    source = graph.add_node("Input", "colour_in", {"shape": [1], "dtype": "string"})
    node = graph.add_node("StringLookup", "colour")
    graph.connect(source.id, node.id)
    codes = graph.add_node("Input", "code_in", {"shape": [1], "dtype": "int64"})
    lookup = graph.add_node("IntegerLookup", "code")
    graph.connect(codes.id, lookup.id)
    return graph


def _type(editor: ItemListEditor, text: str) -> None:
    editor.text.setPlainText(text)
    editor.text.editing_finished.emit()


def test_a_vocabulary_is_edited_as_lines_and_refused_with_the_reason(qtbot, make_window):
    window = make_window(lookup_graph())
    node = window.session.graph.find("colour")
    window.scene.select_nodes([node.id])
    editor = window.inspector.form.editors["vocabulary"]
    assert isinstance(editor, ItemListEditor)
    error = window.inspector.form.refusals["vocabulary"]
    _type(editor, "red\nblue\nred\n")
    assert not error.isHidden()
    assert error.text().startswith(
        "colour (StringLookup): vocabulary lists 'red' more than once; each item may appear once"
    )
    assert editor.text.toPlainText() == "red\nblue\nred\n"  # the typed text stays
    assert window.session.graph.node(node.id).params["vocabulary"] is None
    _type(editor, "red, , blue")
    assert "vocabulary: item 2 is empty" in error.text()
    _type(editor, "red\n\nlight, blue\n")
    assert error.isHidden()
    assert window.session.graph.node(node.id).params["vocabulary"] == ("red", "light, blue")
    window.session.undo_stack.undo()
    assert window.session.graph.node(node.id).params["vocabulary"] is None


def test_codes_must_be_whole_numbers(qtbot, make_window):
    window = make_window(lookup_graph())
    node = window.session.graph.find("code")
    window.scene.select_nodes([node.id])
    editor = window.inspector.form.editors["vocabulary"]
    _type(editor, "7, 8, nine")
    assert "vocabulary must contain integers" in window.inspector.form.refusals["vocabulary"].text()
    _type(editor, "7, 8, 90")
    assert window.session.graph.node(node.id).params["vocabulary"] == (7, 8, 90)


def test_a_shown_vocabulary_reads_back_unchanged(qtbot):
    form = ParamForm(CATALOG["TextVectorization"].params)
    qtbot.addWidget(form)
    for vocabulary in (("lone, token",), ("good", "bad film")):
        form.set_values({**CATALOG["TextVectorization"].default_params(), "vocabulary": vocabulary})
        assert tuple(form.values()["vocabulary"]) == vocabulary
