"""The Problems panel offers each problem's structured fixes as buttons, and all at once."""

from __future__ import annotations

from PySide6.QtCore import Qt

from graph.model import NetworkGraph, RenameNode
from graph.validation import ERROR


def conv_on_flat_input() -> NetworkGraph:
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": (64,)}, position=(0, 0))
    conv = graph.add_node("Conv2D", params={"filters": 4}, position=(240, 0))
    flatten = graph.add_node("Flatten", position=(480, 0))
    dense = graph.add_node("Dense", params={"units": 10}, position=(720, 0))
    graph.connect(source.id, conv.id)
    graph.connect(conv.id, flatten.id)
    graph.connect(flatten.id, dense.id)
    return graph


def errors(window) -> list:
    window.session.flush()
    return [p for p in window.session.problems if p.severity == ERROR]


def test_each_fix_is_a_button_that_fixes_and_undoes(qtbot, make_window):
    window = make_window(conv_on_flat_input())
    panel = window.problems
    assert [b.text() for b in panel.fix_buttons] == [
        "Fix: Set input_1 shape to (8, 8, 1)",
        "Fix: Insert a Reshape to (8, 8, 1) before conv2d_1",
    ]
    assert not panel.fix_all_button.isVisibleTo(panel)
    qtbot.mouseClick(panel.fix_buttons[1], Qt.MouseButton.LeftButton)
    assert errors(window) == []
    assert any(node.type == "Reshape" for node in window.session.graph.nodes)
    window.session.undo_stack.undo()
    assert len(errors(window)) == 1
    assert len(window.session.graph) == 4


def test_apply_all_fixes_is_one_undo_step(qtbot, make_window):
    graph = conv_on_flat_input()
    graph.apply(RenameNode("n3", "my flatten", checked=False))
    window = make_window(graph)
    panel = window.problems
    assert len(errors(window)) == 2
    assert panel.fix_all_button.isVisibleTo(panel)
    assert panel.apply_all_fixes() is None
    assert errors(window) == []
    assert window.session.graph.node("n1").params["shape"] == (8, 8, 1)
    assert window.session.graph.node("n3").name == "my_flatten"
    window.session.undo_stack.undo()
    assert len(errors(window)) == 2
