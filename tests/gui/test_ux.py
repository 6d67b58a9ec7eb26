"""A new user's tour: layout that fits 1280x720, remembered layout, help, tooltips, names."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QScrollArea

from graph.files import load_graph
from gui.help import about_html, shortcuts_html, versions
from gui.main_window import EXAMPLES_DIR, MainWindow
from gui.recovery import RecoveryStore
from tests.gui.conftest import ScriptedPrompts
from tests.gui.panel_helpers import example


def new_window(qtbot, tmp_path: Path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ScriptedPrompts(), RecoveryStore(tmp_path / "recovery"), settings)
    qtbot.addWidget(window)
    return window


def test_at_1280x720_the_canvas_keeps_half_the_height_and_forms_never_scroll_sideways(
    qtbot, make_window
):
    window = make_window(example())
    window.resize(1280, 720)
    window.panels.docks["training"].raise_()
    qtbot.waitUntil(lambda: window.view.height() >= 360, timeout=3_000)
    area = window.panels.training.settings_area
    assert area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert window.dockWidgetArea(window.panels.docks["training_settings"]) == (
        Qt.DockWidgetArea.RightDockWidgetArea
    )
    # Every label of the training form is whole.
    form = window.panels.training.settings
    window.panels.docks["training_settings"].raise_()
    qtbot.wait(50)
    for name, label in form.labels.items():
        if label.isVisibleTo(form):
            assert label.width() >= label.sizeHint().width(), name
    assert all(
        scroll.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        for scroll in window.panels.data.findChildren(QScrollArea)
        if scroll.widget() is window.panels.data.settings
    )


def test_window_docks_splitters_and_last_file_are_remembered(qtbot, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text((EXAMPLES_DIR / "mlp_digits.yaml").read_text())
    first = new_window(qtbot, tmp_path)
    first.show()
    first.resize(780, 580)
    first.open_path(path, ask=False)
    first.panels.docks["tuning"].close()
    splitter = first.panels.training.splitter
    splitter.setSizes([300, 500])
    remembered = splitter.sizes()
    qtbot.wait(50)
    size = first.size().toTuple()
    first.close()

    second = new_window(qtbot, tmp_path)
    second.show()
    qtbot.wait(50)
    assert second.size().toTuple() == size != (1440, 900)
    assert second.panels.docks["tuning"].isHidden()
    assert second.panels.training.splitter.sizes()[0] == remembered[0]
    assert second.last_file() == path.resolve()


def test_help_menu_pages(qtbot, window):
    assert set(window.help_actions) == {"getting_started", "shortcuts", "docs", "about"}
    shortcuts = shortcuts_html(window)
    assert "Train" in shortcuts and "F5" in shortcuts and "Fit to View" in shortcuts
    about = about_html()
    for name in ("DeepWire", "Python", "Qt", "TensorFlow", "Keras"):
        assert name in versions() and name in about
    window.help_actions["getting_started"].trigger()


def test_tooltips_explain_parameters_and_choices(qtbot, window):
    window.session.replace_graph(example())
    window.focus_node(window.session.graph.find("dense_1").id)
    form = window.inspector.form
    tip = form.labels["units"].toolTip()
    assert "neurons" in tip and "<b>units</b>" in tip
    combo = form.editors["activation"].combo
    relu = combo.findText("relu")
    assert "hidden layers" in combo.itemData(relu, Qt.ItemDataRole.ToolTipRole)
    training = window.panels.training.settings
    assert "too high" in training.labels["learning_rate"].toolTip().lower()
    assert not training.labels["decay_steps"].isVisibleTo(training)


def test_templates_are_listed_by_their_names(qtbot, window):
    titles = [action.text() for action in window.templates_menu.actions()]
    assert "MLP on digits" in titles
    assert window.layers_label.text().endswith("layers")
    window.session.replace_graph(load_graph(EXAMPLES_DIR / "mlp_digits.yaml"))
    window.scene.select_nodes([])
    for node in list(window.session.graph.nodes)[1:]:
        window.scene.select_nodes([node.id])
        window.scene.delete_selection()
    window.session.flush()
    assert window.layers_label.text() == "1 layer"


def test_a_saved_untitled_graph_is_named_after_its_file(qtbot, window, tmp_path):
    assert window.session.graph.name == "Untitled"
    assert window.save_to(tmp_path / "my_net.yaml")
    assert load_graph(tmp_path / "my_net.yaml").name == "my_net"


def test_f_fits_the_graph_wherever_the_focus_is_except_in_a_text_field(qtbot, window):
    window.session.replace_graph(example())
    window.view.zoom_by(4.0)
    zoomed = window.view.transform().m11()
    window.palette.setFocus()
    qtbot.keyClick(window.palette, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: window.view.transform().m11() != zoomed, timeout=2_000)
    window.view.zoom_by(4.0)
    zoomed = window.view.transform().m11()
    name = window.inspector.name_edit
    window.focus_node(window.session.graph.find("dense_1").id)
    name.setFocus()
    qtbot.keyClick(name, Qt.Key.Key_F)
    assert name.text().endswith("f")
    assert window.view.transform().m11() == zoomed


def test_new_and_pasted_nodes_never_land_on_existing_ones(qtbot, window):
    from graph.layout import NODE_FOOTPRINT

    window.session.replace_graph(example())
    window.view.fit_to_view()
    window.scene.select_nodes([])
    added = [window.add_layer("Dense") for _ in range(3)]
    window.scene.select_nodes([window.session.graph.find("dense_1").id])
    window.copy_selection()
    window.paste()
    window.paste()
    graph = window.session.graph
    assert len(graph) == 4 + 3 + 2 and all(added)
    width, height = NODE_FOOTPRINT
    nodes = graph.nodes
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            dx = abs(a.position[0] - b.position[0])
            dy = abs(a.position[1] - b.position[1])
            assert dx >= width or dy >= height, (a.name, b.name)


def test_the_inspector_suggests_relu_for_a_hidden_linear_layer(qtbot, window):
    graph = example()
    dense = graph.find("dense_1")
    graph.set_params(dense.id, activation="linear")
    window.session.replace_graph(graph)
    window.focus_node(dense.id)
    inspector = window.inspector
    assert inspector.hint_label.isVisibleTo(inspector)
    assert inspector.hint_button.text() == "Use relu in dense_1"
    assert inspector.apply_hint() is None
    window.session.flush()
    assert window.session.graph.node(dense.id).params["activation"] == "relu"
    assert not inspector.hint_label.isVisibleTo(inspector)
    window.focus_node(window.session.graph.find("dense_2").id)
    assert not inspector.hint_label.isVisibleTo(inspector)


def test_tuning_shows_numbers_to_significant_digits_and_whole_trials(qtbot, window):
    from gui.panels.tuning_panel import _params_text

    assert _params_text({"learning_rate": 0.0007309539835912913, "units": 64}) == (
        "learning_rate=0.000731, units=64"
    )
    panel = window.panels.tuning
    panel.best_curve = [(1, 0.52), (2, 0.41), (3, 0.4)]
    panel._draw_best()
    axis = panel._plot.getViewBox().parentItem().getAxis("bottom")
    assert axis._tickSpacing[0][0] == 1


def test_latencies_and_numbers_read_in_their_units():
    from graph.formatting import format_latency, format_number, plural

    assert format_latency(0.003) == "3 µs"
    assert format_latency(12.345) == "12.3 ms"
    assert format_latency(0.0005) == "500 ns"
    assert format_number(0.0007309539835912913) == "0.000731"
    assert format_number(64) == "64"
    assert plural(1, "layer") == "1 layer" and plural(3, "layer") == "3 layers"


def test_a_node_face_shows_its_error_on_two_lines(qtbot, window):
    graph = example()
    conv = graph.add_node("Conv2D", position=(0, 400))
    graph.connect(graph.find("input_1").id, conv.id)
    window.session.replace_graph(graph)
    window.session.flush()
    footer = window.scene.node_items[conv.id]._elided[3]
    first, second = footer.split("\n")
    assert first.startswith("⚠ expects an input") and "rank 4" in second


def test_auto_layout_keeps_every_edge_label_and_inputs_in_line(qtbot, window):
    for name in ("mlp_digits", "cnn_digits", "residual_mlp"):
        window.session.replace_graph(example(name))
        window.auto_layout()
        window.session.flush()
        edges = list(window.scene.edge_items.values())
        assert edges and all(edge.label_visible for edge in edges), name
        graph = window.session.graph
        source = graph.input_nodes()[0]
        after = graph.node(graph.out_edges(source.id)[0].target)
        assert source.position[1] == after.position[1], name


def _wheel(widget, notches: int = -1) -> bool:
    """Turns the mouse wheel over `widget`; whether it took the turn (accepted the event).

    An event sent here reaches `widget` alone: Qt passes an ignored wheel event on to
    the parents (the form's scroll area) only when it comes from the system.
    """
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    at = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        at,
        QPointF(widget.mapToGlobal(at.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_scrolling_a_form_scrolls_it_and_changes_no_setting_it_passes_over(qtbot, make_window):
    window = make_window(example())
    window.resize(1280, 720)
    window.panels.docks["continual"].raise_()
    panel = window.panels.continual
    qtbot.waitUntil(panel.isVisible, timeout=3_000)
    form = panel.form
    spin = form.editors["buffer_size"].spin
    combo = form.editors["scenario"].combo
    area = next(a for a in panel.findChildren(QScrollArea) if a.widget().isAncestorOf(form))
    assert area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert area.verticalScrollBar().maximum() > 0, "the form should scroll at 1280x720"

    def state():
        return dict(window.session.graph.settings["continual"]), window.session.undo_stack.count()

    before = state()
    for widget in (spin, combo):
        assert not _wheel(widget), "the wheel should be left for the form's scroll area"
    assert state() == before
    assert _wheel(area.viewport()) and area.verticalScrollBar().value() > 0
    # Once clicked (focused), the wheel steps the spin box as usual: an undoable edit.
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=3_000)
    _wheel(spin, notches=1)
    qtbot.waitUntil(lambda: window.session.undo_stack.count() == before[1] + 1, timeout=3_000)
    assert window.session.graph.settings["continual"]["buffer_size"] != before[0]["buffer_size"]
    # The data panel's split sliders are passed over alike.
    slider = window.panels.data.settings.editors["test_size"].slider
    assert not _wheel(slider)
    assert window.session.graph.dataset["test_size"] == example().dataset["test_size"]


# A bottom dock's height in a real 1280x720 window (offscreen it has a few pixels more).
REAL_DOCK_HEIGHT = 205


def test_at_1280x720_no_bottom_panel_scrolls_sideways_or_needlessly_down(qtbot, make_window):
    """Every panel's controls fit the window's width, none hiding past the right edge, and
    its dock's height in a real window."""
    window = make_window(example())
    window.resize(1280, 720)
    from gui.panels import discover_panels

    for name in [spec.name for spec in discover_panels() if spec.create is not None]:
        window.panels.context.show(name)
        if name == "explain":  # as for a model that reads text: its own text field shows
            window.panels.explain.text_input.show()
            window.panels.explain.truth_label.setText("true: negative")
            node_combo = window.panels.explain.node_combo  # its first choice is whole
            qtbot.waitUntil(lambda combo=node_combo: combo.isVisible(), timeout=3_000)
            needed = node_combo.fontMetrics().horizontalAdvance("(last convolution)")
            assert node_combo.width() > needed
        area = window.panels.docks[name].widget()
        qtbot.waitUntil(lambda area=area: area.viewport().width() > 1000, timeout=3_000)
        needed = area.widget().minimumSizeHint().width()
        assert needed <= area.viewport().width(), f"{name} needs {needed} pixels"
        # and scrolls down only when it cannot shrink to the dock's height
        minimum = area.widget().minimumSizeHint().height()
        assert minimum <= REAL_DOCK_HEIGHT, f"{name} needs {minimum} pixels of height"
        assert area.widget().height() <= max(area.viewport().height(), minimum), name
        if minimum <= area.maximumViewportSize().height():
            assert not area.verticalScrollBar().isVisible(), name
