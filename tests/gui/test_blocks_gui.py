"""Blocks in the window: make, open (breadcrumb), edit inside, make unique, expand, templates."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graph.block_type import BLOCK
from graph.files import graph_to_yaml
from graph.model import AddBlock, AddNode, NetworkGraph, RemoveEdge, RemoveNode, SetParams
from tests.graph.test_blocks import document, flat_document


def test_make_open_edit_unique_and_expand_a_block(make_window):
    window = make_window(flat_document(2))
    session, scene, actions = window.session, window.scene, window.block_actions
    document_graph = session.graph
    flat = graph_to_yaml(document_graph)
    scene.select_nodes([n.id for n in document_graph.nodes if n.name.startswith("res_1.")])
    actions.make_action.trigger()
    (instance,) = [n for n in document_graph.nodes if n.type == BLOCK]
    assert instance.params["block"] == "block" and scene.selected_node_ids() == [instance.id]
    session.flush()
    ports = scene.node_items[instance.id].input_ports
    assert [port.toolTip() for port in ports] == ["input_1"]

    actions.open_block(instance.id)  # in the main canvas: the scene shows the inside
    definition = document_graph.blocks.get("block")
    assert session.view is definition and session.graph is document_graph
    assert set(scene.node_items) == set(definition.nx_graph)
    assert window.breadcrumb.isVisibleTo(window) and window.breadcrumb.path().endswith(
        f"› {instance.name}"
    )
    dense = definition.find("res_1.dense_b")
    scene.select_nodes([dense.id])
    window.inspector.form.editors["units"].spin.setValue(4)  # an edit inside, from the inspector
    session.flush()
    assert session.is_dirty and definition.node(dense.id).params["units"] == 4
    # The document's panels see the document: its problem names the path inside.
    assert [p.node_id for p in session.problems] == [instance.id]
    assert session.problems[0].message.startswith(f"{instance.name}/res_1.add (Add): ")
    assert scene.node_items[definition.find("res_1.add").id].has_error
    session.undo_stack.undo()
    session.flush()
    assert (
        session.problems == [] and not scene.node_items[definition.find("res_1.add").id].has_error
    )
    skip = definition.new_node("Input", "skip", {"shape": (8,)})
    assert session.execute_in_view(AddNode(skip)) is None
    session.flush()
    session.go_up()
    assert session.view is document_graph and set(scene.node_items) == set(document_graph.nx_graph)
    ports = scene.node_items[instance.id].input_ports
    assert [port.toolTip() for port in ports] == ["input_1", "skip"]  # a new port appears
    session.undo_stack.undo()  # undoes the edit inside while the canvas shows the document
    session.flush()
    assert len(scene.node_items[instance.id].input_ports) == 1

    scene.select_nodes([instance.id])
    actions.unique_action.trigger()
    assert instance.params["block"] == "block_2"
    actions.expand_action.trigger()
    assert not [n for n in document_graph.nodes if n.type == BLOCK]
    for _ in range(3):
        session.undo_stack.undo()
    assert graph_to_yaml(document_graph) == flat


def test_inside_shows_the_shapes_of_the_instance_opened_through_and_undo_redo(make_window):
    graph = document(1)
    res = graph.blocks.get("res")
    res.set_params(res.find("x").id, shape=(3,))  # its own example shape differs
    window = make_window(graph)
    session, scene = window.session, window.scene
    instance = graph.find("res_1")
    scene.block_opened.emit(instance.id)
    assert session.view is res
    assert session.view_analysis.info(res.find("dense_a").id).input_shapes == ((None, 8),)
    dense_a = res.find("dense_a").id
    assert session.execute_in_view(SetParams(dense_a, {"units": 16})) is None
    session.flush()
    assert session.view_analysis.info(dense_a).output_shape == (None, 16)
    assert session.analysis.total_params() == (8 * 16 + 16) + (16 * 8 + 8) + 27
    assert "16" in scene.node_items[dense_a].face.shape
    session.undo_stack.undo()
    session.flush()
    assert session.view_analysis.info(dense_a).output_shape == (None, 8)
    assert scene.node_items[dense_a].face.shape == "(None, 8)"
    session.undo_stack.redo()
    session.flush()
    assert res.node(dense_a).params["units"] == 16
    assert session.analysis.info(instance.id).param_count == (8 * 16 + 16) + (16 * 8 + 8)
    # Undoing the block's making takes the canvas back up: its instance is gone.
    session.undo_stack.undo()
    session.execute(RemoveNode(instance.id))
    session.flush()
    assert session.view is graph and session.levels == []


def test_make_block_refusals_are_shown_not_raised(make_window):
    window = make_window(flat_document(1))
    window.scene.select_nodes([window.session.graph.find("input_1").id])
    window.block_actions.make_action.trigger()
    assert "is an Input layer" in window.statusBar().currentMessage()
    assert list(window.session.graph.blocks) == ["res"]  # the expanded document's only block


def test_palette_templates_place_instances_sharing_one_definition(make_window):
    window = make_window()
    assert "template:residual_block" in window.palette.items
    for _ in range(2):
        window.palette.layer_activated.emit("template:transformer_encoder_block")
    graph = window.session.graph
    assert list(graph.blocks) == ["transformer_encoder_block"]
    assert [n.name for n in graph.nodes] == [
        "transformer_encoder_block_1",
        "transformer_encoder_block_2",
    ]


def test_breadcrumb_follows_blocks_inside_blocks(make_window):
    graph = document(1)
    stage = NetworkGraph()
    entry = stage.add_node("Input", "x", {"shape": (8,)})
    inner = stage.add_node("Block", "block1", {"block": "res"})
    stage.connect(entry.id, inner.id)
    graph.apply(AddBlock("stage", stage))
    graph.set_params(graph.find("res_1").id, block="stage")
    window = make_window(graph)
    session, crumb = window.session, window.breadcrumb
    assert not crumb.isVisibleTo(window)
    window.scene.select_nodes([graph.find("res_1").id])
    QTest.keyClick(window.view, Qt.Key.Key_Return)  # Enter on a selected instance
    window.scene.block_opened.emit(inner.id)  # what a double-click on block1 sends
    assert session.view is graph.blocks.get("res")
    assert [c.text() for c in crumb.crumbs][1:] == ["res_1 (stage)", "block1 (res)"]
    assert crumb.path() == f"{session.display_name} › res_1 › block1"
    assert not crumb.crumbs[-1].isEnabled()
    crumb.crumbs[1].click()
    assert session.view is stage and crumb.path().endswith("› res_1")
    window.scene.block_opened.emit(inner.id)
    QTest.keyClick(window.view, Qt.Key.Key_Escape)
    assert session.view is stage
    window.scene.clearSelection()
    window.delete_action.trigger()  # Backspace with nothing selected goes up too
    assert session.view is graph and not crumb.isVisibleTo(window)
    assert graph.find("res_1") is not None  # nothing was deleted
    window.scene.block_opened.emit(graph.find("res_1").id)
    crumb.crumbs[0].click()
    assert session.view is graph and session.levels == []
    QTest.keyClick(window.view, Qt.Key.Key_Escape)  # at the document: nothing to leave
    assert session.view is graph


def test_the_build_setting_has_its_form_under_the_training_settings(make_window):
    window = make_window()
    form = window.panels.training.build_settings
    assert list(form.labels) == ["blocks"]
    assert form.labels["blocks"].isVisibleTo(window.panels.training.settings_area.widget())


def test_a_block_with_several_outputs_has_one_labelled_port_each(make_window):
    from tests.graph.test_blocks import split_block

    window = make_window(split_block())
    session, scene = window.session, window.scene
    instance = session.graph.find("fork_1")
    item = scene.node_items[instance.id]
    assert [port.toolTip() for port in item.output_ports] == ["left", "right"]
    assert item.face.shape == "(None, 4), (None, 5)"
    join = session.graph.find("join")
    for edge in session.graph.in_edges(join.id):
        start = scene.edge_items[edge]._path.pointAtPercent(0)
        assert start == item.output_ports[edge.source_port].scenePos()
    # Wire output 1 (right) into the Concatenate's freed first port, as a drag from it does.
    first = session.graph.in_edges(join.id)[0]
    assert session.execute(RemoveEdge(first)) is None
    assert "already connected" in scene.connect_ports(instance.id, join.id, 1, source_port=1)
    assert scene.connect_ports(instance.id, join.id, 0, source_port=1) is None
    session.flush()
    assert session.graph.in_edges(join.id)[0].source_port == 1
    assert session.analysis.info(join.id).output_shape == (None, 10)
    assert scene.edge_items[session.graph.in_edges(join.id)[0]].label == "(None, 5)"
    session.undo_stack.undo()
    session.undo_stack.undo()
    session.flush()
    assert session.graph.in_edges(join.id)[0] == first


def test_edits_of_same_numbered_nodes_in_two_graphs_stay_separate_undo_steps(make_window):
    graph = document(1)
    res = graph.blocks.get("res")
    window = make_window(graph)
    session = window.session
    head = graph.find("head").id
    inner = res.node(head).id  # ids repeat across graphs: n3 is dense_b inside
    assert session.execute(SetParams(head, {"units": 4})) is None
    session.open_block(graph.find("res_1").id)
    assert session.execute_in_view(SetParams(inner, {"units": 16})) is None
    assert session.undo_stack.count() == 2
    session.undo_stack.undo()
    assert res.node(inner).params["units"] == 8 and graph.node(head).params["units"] == 4
