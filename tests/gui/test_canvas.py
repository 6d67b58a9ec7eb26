"""The canvas: drops from the palette, wiring by dragging, moving, deleting, undo."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from graph.files import graph_to_yaml
from graph.model import NetworkGraph
from gui.clipboard import NODES_MIME_TYPE
from tests.gui.conftest import mlp_graph


def _viewport_point(window, scene_point: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_point)


def _drag(qtbot, window, start: QPointF, end: QPointF) -> None:
    viewport = window.view.viewport()
    begin, finish = _viewport_point(window, start), _viewport_point(window, end)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=begin)
    middle = (begin + finish) / 2
    qtbot.mouseMove(viewport, middle)
    qtbot.mouseMove(viewport, finish)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=finish)


def _drop_layer(window, type_name: str, viewport_pos: QPoint) -> None:
    palette_item = window.palette.items[type_name]
    data = window.palette.tree.mimeData([palette_item])
    viewport = window.view.viewport()
    actions = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    position = QPointF(viewport_pos)
    for event in (
        QDragEnterEvent(viewport_pos, actions, data, buttons, modifiers),
        QDragMoveEvent(viewport_pos, actions, data, buttons, modifiers),
        QDropEvent(position, actions, data, buttons, modifiers),
    ):
        QApplication.sendEvent(viewport, event)


def test_dropping_a_palette_layer_adds_a_node_where_it_lands(qtbot, window):
    drop_at = window.view.viewport().rect().center()
    _drop_layer(window, "Conv2D", drop_at)
    graph = window.session.graph
    assert [node.type for node in graph.nodes] == ["Conv2D"]
    node = graph.nodes[0]
    assert node.name == "conv2d_1"
    item = window.scene.node_items[node.id]
    assert item.sceneBoundingRect().contains(window.view.mapToScene(drop_at))
    assert window.scene.selected_node_ids() == [node.id]
    window.session.undo_stack.undo()
    assert len(graph) == 0 and not window.scene.node_items


def test_double_clicking_a_palette_layer_appends_and_wires_it(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    last = graph.find("dense_2")
    window.scene.select_nodes([last.id])
    new_id = window.add_layer("Dense")
    window.session.flush()
    assert [edge.source for edge in graph.in_edges(new_id)] == [last.id]
    assert window.session.analysis.info(new_id).output_shape == (None, 32)


def test_dragging_from_an_output_port_to_an_input_port_connects_them(qtbot, make_window):
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": [8]}, position=(0, 0))
    target = graph.add_node("Dense", params={"units": 4}, position=(300, 0))
    window = make_window(graph)
    scene = window.scene
    start = scene.node_items[source.id].output_anchor()
    end = scene.node_items[target.id].input_anchor(0)
    _drag(qtbot, window, start, end)
    assert window.session.graph.in_edges(target.id)[0].source == source.id
    window.session.flush()
    edge_item = next(iter(scene.edge_items.values()))
    assert edge_item.label == "(None, 8)"
    assert scene.node_items[target.id].face.shape == "(None, 4)"


def test_compatible_ports_are_highlighted_while_dragging(qtbot, make_window):
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": [8]}, position=(0, 0))
    dense = graph.add_node("Dense", params={"units": 4}, position=(300, 0))
    conv = graph.add_node("Conv2D", params={"filters": 4}, position=(300, 200))
    window = make_window(graph)
    scene = window.scene
    viewport = window.view.viewport()
    start = _viewport_point(window, scene.node_items[source.id].output_anchor())
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(40, 40))
    dense_port = scene.node_items[dense.id].input_ports[0]
    conv_port = scene.node_items[conv.id].input_ports[0]
    assert dense_port.brush().color() != conv_port.brush().color()
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 40))
    assert dense_port.brush().color() == conv_port.brush().color()
    assert not graph.edges


def test_an_incompatible_drop_is_refused_with_a_message(qtbot, make_window):
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": [8]}, position=(0, 0))
    conv = graph.add_node("Conv2D", params={"filters": 4}, position=(300, 0))
    window = make_window(graph)
    scene = window.scene
    start = scene.node_items[source.id].output_anchor()
    end = scene.node_items[conv.id].input_anchor(0)
    with qtbot.waitSignal(scene.message) as blocker:
        _drag(qtbot, window, start, end)
    message = blocker.args[0]
    assert message.startswith("Cannot connect input_1 to conv2d_1 (Conv2D): ")
    assert "(None, 8)" in message
    assert not graph.edges
    assert message in window.statusBar().currentMessage()


def test_connecting_into_an_input_or_making_a_cycle_is_refused(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    first, last = graph.find("input_1"), graph.find("dense_2")
    refused = window.scene.connect_ports(last.id, first.id)
    assert refused == "Cannot connect dense_2 to input_1 (Input): an Input layer takes no inputs"
    dense_1 = graph.find("dense_1")
    refused = window.scene.connect_ports(last.id, dense_1.id, 0)
    assert refused == "Cannot connect dense_2 to dense_1 (Dense): it would create a cycle"
    assert len(graph.edges) == 3


def test_delete_undo_and_redo_restore_the_graph_exactly(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    before = graph_to_yaml(graph)
    dense = graph.find("dense_1")
    window.scene.select_nodes([dense.id])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert dense.id not in graph and len(graph.edges) == 1
    assert dense.id not in window.scene.node_items and len(window.scene.edge_items) == 1
    after = graph_to_yaml(graph)
    window.session.undo_stack.undo()
    assert graph_to_yaml(graph) == before
    assert len(window.scene.edge_items) == 3
    window.session.undo_stack.redo()
    assert graph_to_yaml(graph) == after
    window.session.undo_stack.undo()
    assert graph_to_yaml(graph) == before


def test_deleting_a_selected_edge_disconnects_and_marks_the_node(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    dropout = graph.find("dropout_1")
    edge = graph.in_edges(dropout.id)[0]
    window.scene.edge_items[edge].setSelected(True)
    window.scene.delete_selection()
    window.session.flush()
    assert edge not in graph.edges
    item = window.scene.node_items[dropout.id]
    assert item.has_error
    assert "dropout_1 (Dropout): has no input" in item.toolTip()


def test_moving_a_node_snaps_to_the_grid_and_undoes(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    dense = graph.find("dense_1")
    item = window.scene.node_items[dense.id]
    grab = item.mapToScene(QPointF(60, 10))
    _drag(qtbot, window, grab, grab + QPointF(47, 83))
    assert graph.node(dense.id).position == (260.0, 80.0)
    assert item.pos() == QPointF(260, 80)
    edge_item = window.scene.edge_items[graph.in_edges(dense.id)[0]]
    assert edge_item.boundingRect().contains(item.input_anchor(0))
    window.session.undo_stack.undo()
    assert graph.node(dense.id).position == (220.0, 0.0)
    assert item.pos() == QPointF(220, 0)


def test_copy_paste_and_duplicate_add_renamed_copies_with_their_edges(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    ids = [graph.find("dense_1").id, graph.find("dropout_1").id]
    window.scene.select_nodes(ids)
    window.copy_selection()
    window.paste()
    assert len(graph) == 6
    assert {graph.node(i).name for i in window.scene.selected_node_ids()} == {
        "dense_3",
        "dropout_2",
    }
    assert len(graph.edges) == 4
    window.duplicate()
    assert len(graph) == 8 and len(graph.edges) == 5
    window.session.undo_stack.undo()
    window.session.undo_stack.undo()
    assert len(graph) == 4 and len(graph.edges) == 3


@pytest.mark.parametrize(
    "payload",
    [
        {"nodes": 5, "edges": []},
        {"nodes": ["dense"], "edges": []},
        {"nodes": [{"id": ["n1"], "type": "Dense"}], "edges": []},
        {"nodes": [{"id": "n1", "type": "Dense", "position": [1]}], "edges": []},
        {"nodes": [{"id": "n1", "type": "Dense", "position": ["a", "b"]}], "edges": []},
        {"nodes": [{"id": "n1", "type": "Dense", "position": [1e400, 0]}], "edges": []},
        {"nodes": [{"id": "n1", "type": "Dense"}], "edges": 5},
        {"nodes": [{"id": "n1", "type": "Dense"}], "edges": [["n1"]]},
        {"nodes": [{"id": "n1", "type": "Dense"}], "edges": [["n1", "n1", "x", 0]]},
        {"nodes": [{"id": "n1", "type": "Dense"}], "edges": [[["n1"], "n1", 0, 0]]},
        # A port far past any layer's inputs: the canvas would draw every port below it.
        {
            "nodes": [{"id": "a", "type": "Dense"}, {"id": "b", "type": "Concatenate"}],
            "edges": [["a", "b", 10**12, 0]],
        },
    ],
)
def test_pasting_what_another_program_put_under_our_clipboard_type_changes_nothing(
    qtbot, make_window, payload
):
    window = make_window(mlp_graph())
    data = QMimeData()
    data.setData(NODES_MIME_TYPE, json.dumps(payload).encode("utf-8"))
    QGuiApplication.clipboard().setMimeData(data)
    window.paste()
    assert len(window.session.graph) == 4 and len(window.session.graph.edges) == 3
    assert not window.session.undo_stack.canUndo()


def test_zoom_and_fit(qtbot, make_window):
    window = make_window(mlp_graph())
    view = window.view
    view.fit_to_view()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in window.scene.node_items.values():
        assert visible.contains(item.sceneBoundingRect())
    zoom = view.zoom
    view.zoom_by(2.0)
    assert abs(view.zoom - 2 * zoom) < 1e-9
    view.zoom_by(1000)
    assert abs(view.zoom - 4.0) < 1e-9


def test_auto_layout_is_one_undoable_step(qtbot, make_window):
    graph = mlp_graph()
    for node in graph.nodes:
        node.position = (0.0, 0.0)
    window = make_window(graph)
    window.auto_layout()
    xs = [node.position[0] for node in window.session.graph.nodes]
    assert xs == sorted(xs) and len(set(xs)) == 4
    window.session.undo_stack.undo()
    assert {node.position for node in window.session.graph.nodes} == {(0.0, 0.0)}


def test_arrow_keys_nudge_the_selection_and_a_run_of_nudges_undoes_at_once(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    dense = graph.find("dense_1")
    window.scene.select_nodes([dense.id])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Right)
    qtbot.keyClick(window.view, Qt.Key.Key_Right)
    qtbot.keyClick(window.view, Qt.Key.Key_Down)
    assert graph.node(dense.id).position == (260.0, 20.0)
    assert window.scene.node_items[dense.id].pos() == QPointF(260, 20)
    assert window.session.undo_stack.count() == 1
    window.session.undo_stack.undo()
    assert graph.node(dense.id).position == (220.0, 0.0)


def test_the_wheel_zooms_around_the_cursor(qtbot, make_window):
    from PySide6.QtGui import QWheelEvent

    window = make_window(mlp_graph())
    view = window.view
    cursor = QPointF(view.viewport().width() * 0.8, view.viewport().height() * 0.3)
    before = view.mapToScene(cursor.toPoint())
    zoom = view.zoom
    wheel = QWheelEvent(
        cursor,
        view.viewport().mapToGlobal(cursor),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert abs(view.zoom - zoom * 1.15**2) < 1e-9
    after = view.mapToScene(cursor.toPoint())
    assert abs(after.x() - before.x()) <= 2 and abs(after.y() - before.y()) <= 2


def test_rubber_band_selects_the_nodes_it_touches(qtbot, make_window):
    window = make_window(mlp_graph())
    graph = window.session.graph
    first = window.scene.node_items[graph.find("input_1").id].sceneBoundingRect()
    second = window.scene.node_items[graph.find("dense_1").id].sceneBoundingRect()
    start = first.topLeft() - QPointF(20, 20)
    end = QPointF(second.center().x(), second.bottom() + 20)
    _drag(qtbot, window, start, end)
    assert sorted(graph.node(i).name for i in window.scene.selected_node_ids()) == [
        "dense_1",
        "input_1",
    ]
    assert window.session.selected_ids == window.scene.selected_node_ids()


def test_pulling_a_connection_off_an_input_rewires_or_removes_it(qtbot, make_window):
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": [8]}, position=(0, 0))
    first = graph.add_node("Dense", params={"units": 4}, position=(300, 0))
    second = graph.add_node("Dense", params={"units": 2}, position=(300, 200))
    graph.connect(source.id, first.id)
    window = make_window(graph)
    items = window.scene.node_items
    _drag(qtbot, window, items[first.id].input_anchor(0), items[second.id].input_anchor(0))
    assert [(e.source, e.target) for e in graph.edges] == [(source.id, second.id)]
    assert window.session.undo_stack.count() == 1
    _drag(qtbot, window, items[second.id].input_anchor(0), QPointF(700, 600))
    assert graph.edges == []
    window.session.undo_stack.undo()
    window.session.undo_stack.undo()
    assert [(e.source, e.target) for e in graph.edges] == [(source.id, first.id)]
    assert all(item.isVisible() for item in window.scene.edge_items.values())
