"""Blocks in the window: make, open (breadcrumb), edit inside, make unique, expand, templates."""

from __future__ import annotations

from graph.block_type import BLOCK
from graph.files import graph_to_yaml
from graph.model import AddBlock, AddNode, NetworkGraph, SetParams
from tests.graph.test_blocks import document, flat_document


def test_make_open_edit_unique_and_expand_a_block(make_window):
    window = make_window(flat_document(2))
    session, scene, actions = window.session, window.scene, window.block_actions
    flat = graph_to_yaml(session.graph)
    scene.select_nodes([n.id for n in session.graph.nodes if n.name.startswith("res_1.")])
    actions.make_action.trigger()
    (instance,) = [n for n in session.graph.nodes if n.type == BLOCK]
    assert instance.params["block"] == "block" and scene.selected_node_ids() == [instance.id]
    session.flush()
    ports = scene.node_items[instance.id].input_ports
    assert [port.toolTip() for port in ports] == ["input_1"]

    actions.open_block(instance.id)
    editor = actions.editor
    definition = session.graph.blocks.get("block")
    assert editor.isVisible() and editor.session.graph is definition
    assert editor.path() == instance.name
    dense = definition.find("res_1.dense_b")
    assert editor.session.execute(SetParams(dense.id, {"units": 4})) is None
    session.flush()
    assert session.is_dirty
    assert [p.node_id for p in session.problems] == [instance.id]  # the Add no longer fits
    assert session.problems[0].message.startswith(f"{instance.name}/res_1.add (Add): ")
    editor.session.undo_stack.undo()
    session.flush()
    assert session.problems == []
    editor.session.execute(AddNode(definition.new_node("Input", "skip", {"shape": (8,)})))
    session.flush()
    assert [port.toolTip() for port in ports] == ["input_1", "skip"]  # a new port appears
    editor.session.undo_stack.undo()
    session.flush()
    assert len(ports) == 1
    editor.go_to(-1)
    assert not editor.isVisible()

    scene.select_nodes([instance.id])
    actions.unique_action.trigger()
    assert instance.params["block"] == "block_2"
    actions.expand_action.trigger()
    assert not [n for n in session.graph.nodes if n.type == BLOCK]
    for _ in range(3):
        session.undo_stack.undo()
    assert graph_to_yaml(session.graph) == flat


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
    window.block_actions.open_block(graph.find("res_1").id)
    editor = window.block_actions.editor
    editor.scene.block_opened.emit(inner.id)  # what a double-click on block1 sends
    assert editor.path() == "res_1/block1" and editor.session.graph is graph.blocks.get("res")
    crumbs = [editor.crumbs.itemAt(i).widget().text() for i in range(editor.crumbs.count())]
    assert crumbs[1:] == ["›", "res_1 (stage)", "›", "block1 (res)"]
    editor.back_button.click()
    assert editor.path() == "res_1" and editor.session.graph is stage


def test_the_build_setting_has_its_form_under_the_training_settings(make_window):
    window = make_window()
    form = window.panels.training.build_settings
    assert list(form.labels) == ["blocks"]
    assert form.labels["blocks"].isVisibleTo(window.panels.training.settings_area.widget())
