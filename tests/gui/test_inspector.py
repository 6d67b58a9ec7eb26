"""The inspector: editors from the catalog, live edits, refusals with reasons, undo."""

from __future__ import annotations

from PySide6.QtCore import Qt

from graph.catalog import CATALOG
from graph.model import NetworkGraph
from gui.param_editors import (
    BoolEditor,
    ChoiceEditor,
    FloatEditor,
    IntEditor,
    KerasObjectEditor,
    NullableEditor,
    ParamForm,
    TextEditor,
    parse_numbers,
)
from tests.gui.conftest import mlp_graph


def _select(window, name: str):
    node = window.session.graph.find(name)
    window.scene.select_nodes([node.id])
    return node


def test_every_catalog_layer_gets_a_form_showing_its_defaults(qtbot):
    for spec in CATALOG.values():
        form = ParamForm(spec.params)
        qtbot.addWidget(form)
        defaults = spec.coerce_params({})
        form.set_values(defaults)
        assert spec.coerce_params(form.values()) == defaults, spec.type


def test_editors_follow_the_param_kinds(qtbot):
    form = ParamForm(CATALOG["Dense"].params)
    qtbot.addWidget(form)
    units = form.editors["units"]
    assert isinstance(units, IntEditor)
    units.spin.setValue(1)
    units.spin.stepBy(-1)
    assert units.spin.value() == 1
    assert isinstance(form.editors["activation"], ChoiceEditor)
    assert isinstance(form.editors["use_bias"], BoolEditor)
    for name in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
        assert isinstance(form.editors[name], KerasObjectEditor)
    dropout = ParamForm(CATALOG["Dropout"].params)
    qtbot.addWidget(dropout)
    rate = dropout.editors["rate"]
    assert isinstance(rate, FloatEditor)
    rate.spin.setValue(1.0)
    rate.spin.stepBy(1)
    assert rate.spin.value() == 1.0
    conv = ParamForm(CATALOG["Conv2D"].params)
    qtbot.addWidget(conv)
    assert isinstance(conv.editors["kernel_size"], TextEditor)
    nullable = [
        p for spec in CATALOG.values() for p in spec.params if p.nullable and p.kind == "int"
    ]
    if nullable:
        editor = ParamForm([nullable[0]]).editors[nullable[0].name]
        assert isinstance(editor, NullableEditor)
        editor.set_value(None)
        assert editor.value() is None


def test_parse_numbers_reads_tuples_and_leaves_junk_for_the_catalog_to_refuse():
    assert parse_numbers("3, 3", int) == (3, 3)
    assert parse_numbers("8x8x1", int) == (8, 8, 1)
    assert parse_numbers("[2 2]", int) == (2, 2)
    assert parse_numbers("0.5, 1", float) == (0.5, 1.0)
    assert parse_numbers("2.5", int) == "2.5"
    assert parse_numbers("abc", int) == "abc"


def test_parse_numbers_reads_open_sizes_only_where_allowed():
    assert parse_numbers("?, ?, 3", int, open_items=True) == (None, None, 3)
    assert parse_numbers("None x 8", int, open_items=True) == (None, 8)
    assert parse_numbers("?, 3", int) == "?, 3"


def test_a_parameter_edit_updates_shapes_downstream_and_undoes(qtbot, make_window):
    window = make_window(mlp_graph())
    session, scene = window.session, window.scene
    dense = _select(window, "dense_1")
    dropout = session.graph.find("dropout_1")
    last = session.graph.find("dense_2")
    assert window.inspector.node_id == dense.id
    window.inspector.form.editors["units"].spin.setValue(32)
    qtbot.waitUntil(lambda: scene.node_items[dropout.id].face.shape == "(None, 32)")
    assert session.graph.node(dense.id).params["units"] == 32
    assert scene.node_items[dense.id].face.count == "2,080 params"
    assert scene.node_items[last.id].face.count == "330 params"
    edge = session.graph.in_edges(last.id)[0]
    assert scene.edge_items[edge].label == "(None, 32)"
    assert window.params_label.text() == "Total params: 2,410"
    # Cost follows the edit: 64 x 32 MACs in dense_1, 32 x 10 in dense_2.
    assert "MACs per sample: 2,048" in window.inspector.shape_label.text()
    assert "Weights (float32 / float16 / int8): 8.3 KB / 4.2 KB / 2.1 KB" in (
        window.inspector.shape_label.text()
    )
    assert window.cost_label.text().startswith("MACs/sample: 2.4K    Weights: 9.6 KB")
    session.undo_stack.undo()
    session.flush()
    assert scene.node_items[dropout.id].face.shape == "(None, 64)"
    assert window.inspector.form.editors["units"].value() == 64


def test_successive_edits_of_one_parameter_are_one_undo_step(qtbot, make_window):
    window = make_window(mlp_graph())
    _select(window, "dense_1")
    spin = window.inspector.form.editors["units"].spin
    for value in (65, 66, 67):
        spin.setValue(value)
    stack = window.session.undo_stack
    assert stack.count() == 1
    stack.undo()
    assert window.session.graph.find("dense_1").params["units"] == 64


def test_an_invalid_value_is_refused_with_the_reason(qtbot, make_window):
    window = make_window(mlp_graph())
    node = _select(window, "input_1")
    editor = window.inspector.form.editors["shape"]
    editor.line.setText("64, zero")
    editor.line.editingFinished.emit()
    # The reason shows beside the field, which keeps the typed text.
    error = window.inspector.form.refusals["shape"]
    assert not error.isHidden()
    assert error.text() == (
        "input_1 (Input): shape must be a list of numbers. Received: '64, zero'"
    )
    assert window.session.graph.node(node.id).params["shape"] == (64,)
    assert editor.line.text() == "64, zero"
    assert window.session.undo_stack.count() == 0
    editor.line.setText("0")
    editor.line.editingFinished.emit()
    assert "must be >= 1" in error.text() and editor.line.text() == "0"
    editor.line.setText("8, 8")
    editor.line.editingFinished.emit()
    assert error.isHidden()
    assert window.session.graph.node(node.id).params["shape"] == (8, 8)


def test_a_number_typed_out_of_range_is_refused_with_the_reason_not_snapped_back(
    qtbot, make_window
):
    window = make_window(mlp_graph())
    node = _select(window, "dense_1")
    spin = window.inspector.form.editors["units"].spin
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "0")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    error = window.inspector.form.refusals["units"]
    assert not error.isHidden()
    assert "units must be >= 1. Received: 0" in error.text()
    assert spin.text() == "0"
    assert window.session.graph.node(node.id).params["units"] == 64
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "16")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert error.isHidden()
    assert window.session.graph.node(node.id).params["units"] == 16


def test_spin_box_arrows_stay_within_the_parameter_range(qtbot, make_window):
    window = make_window(mlp_graph())
    _select(window, "dropout_1")
    spin = window.inspector.form.editors["rate"].spin
    spin.stepBy(-100)
    assert spin.value() == 0.0
    spin.stepBy(100)
    assert spin.value() == 1.0
    assert window.inspector.form.refusals["rate"].isHidden()


def test_renaming_refuses_duplicates_and_slashes(qtbot, make_window):
    window = make_window(mlp_graph())
    node = _select(window, "dense_1")
    name_edit = window.inspector.name_edit
    for bad, reason in (
        ("dense_2", "dense_1 (Dense): the name 'dense_2' is already used by another layer"),
        ("a/b", "dense_1 (Dense): layer names cannot contain '/'. Received: 'a/b'"),
    ):
        name_edit.setText(bad)
        name_edit.editingFinished.emit()
        assert window.inspector.error_label.text() == reason
        assert name_edit.text() == "dense_1"
    name_edit.setText("hidden")
    name_edit.editingFinished.emit()
    window.session.flush()
    assert window.session.graph.node(node.id).name == "hidden"
    assert window.scene.node_items[node.id].face.name == "hidden"


def test_regularizer_and_choice_edits_apply(qtbot, make_window):
    window = make_window(mlp_graph())
    node = _select(window, "dense_1")
    form = window.inspector.form
    form.editors["kernel_regularizer"].class_combo.setCurrentText("L2")
    assert window.session.graph.node(node.id).params["kernel_regularizer"] == {
        "l1": 0.0,
        "l2": 0.01,
    }
    form.editors["activation"].combo.setCurrentText("tanh")
    assert window.session.graph.node(node.id).params["activation"] == "tanh"
    form.editors["use_bias"].check.setChecked(False)
    window.session.flush()
    assert window.scene.node_items[node.id].face.count == "4,096 params"


def test_problems_panel_lists_problems_and_clicking_one_selects_the_node(qtbot, make_window):
    graph = NetworkGraph()
    graph.add_node("Input", params={"shape": [8]}, position=(0, 0))
    dense = graph.add_node("Dense", params={"units": 4}, position=(2000, 900))
    window = make_window(graph)
    items = window.problems.list
    texts = [items.item(i).text() for i in range(items.count())]
    assert "dense_1 (Dense): has no input; connect a layer to it" in texts
    row = texts.index("dense_1 (Dense): has no input; connect a layer to it")
    item = items.item(row)
    rect = items.visualItemRect(item)
    qtbot.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.scene.selected_node_ids() == [dense.id]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert window.scene.node_items[dense.id].sceneBoundingRect().contains(centre)
    assert window.scene.node_items[dense.id].has_error
    assert "2 problems" in window.problems_label.text()


def test_multichoice_settings_edit_as_a_checkable_list(qtbot):
    from graph.settings import TRAINING_PARAMS

    metrics = next(p for p in TRAINING_PARAMS if p.name == "metrics")
    form = ParamForm([metrics])
    qtbot.addWidget(form)
    editor = form.editors["metrics"]
    form.set_values({"metrics": ("accuracy",)})
    assert editor.value() == ("accuracy",)
    other = next(c for c in metrics.choices if c != "accuracy")
    with qtbot.waitSignal(form.edited) as blocker:
        editor.set_checked(other, True)
    assert blocker.args[0] == "metrics"
    assert set(blocker.args[1]) == {"accuracy", other}
    assert metrics.coerce(blocker.args[1]) == blocker.args[1]


def test_editing_a_value_back_to_where_it_was_leaves_no_undo_step(qtbot, make_window):
    window = make_window(mlp_graph())
    _select(window, "dense_1")
    spin = window.inspector.form.editors["units"].spin
    spin.setValue(65)
    spin.setValue(64)
    assert window.session.undo_stack.count() == 0
    assert not window.session.is_dirty


def test_initializer_and_constraint_arguments_are_edited_in_place(qtbot, make_window):
    window = make_window(mlp_graph())
    node = _select(window, "dense_1")
    form = window.inspector.form
    initializer = form.editors["kernel_initializer"]
    assert initializer.class_combo.currentText() == "GlorotUniform"
    assert initializer.class_combo.findText("none") == -1
    initializer.class_combo.setCurrentText("VarianceScaling")
    params = lambda: window.session.graph.node(node.id).params  # noqa: E731
    assert params()["kernel_initializer"] == "variance_scaling"
    initializer.form.editors["scale"].spin.setValue(2.0)
    initializer.form.editors["mode"].combo.setCurrentText("fan_out")
    assert params()["kernel_initializer"] == {
        "class": "VarianceScaling",
        "config": {"scale": 2.0, "mode": "fan_out"},
    }
    constraint = form.editors["kernel_constraint"]
    assert constraint.class_combo.currentText() == "none" and constraint.form is None
    constraint.class_combo.setCurrentText("MaxNorm")
    constraint.form.editors["max_value"].spin.setValue(3.0)
    assert params()["kernel_constraint"] == {"class": "MaxNorm", "config": {"max_value": 3.0}}
    window.session.undo_stack.undo()
    window.session.flush()
    assert params()["kernel_constraint"] is None
    assert window.inspector.form.editors["kernel_constraint"].class_combo.currentText() == "none"
