"""The data panel: settings, preview, split sliders and the data check with one-click fixes."""

from __future__ import annotations

from PySide6.QtWidgets import QSplitter

from graph.model import SetSettings
from graph.validation import ERROR
from tests.gui.panel_helpers import example

LOAD_TIMEOUT_MS = 60_000


def _shown(qtbot, window, graph=None):
    """The window's data panel, raised and loaded."""
    panel = window.panels.data
    with qtbot.waitSignal(panel.loaded, timeout=LOAD_TIMEOUT_MS):
        window.panels.docks["data"].raise_()
    return panel


def test_preview_shows_split_sizes_and_a_table(qtbot, make_window):
    window = make_window(example())
    panel = _shown(qtbot, window)
    assert "1293</b> train" in panel.summary.text()
    assert "144</b> validation" in panel.summary.text()
    assert "360</b> test" in panel.summary.text()
    assert panel.table.rowCount() == 50
    last = panel.table.horizontalHeaderItem(panel.table.columnCount() - 1).text()
    assert last == "target (target)"
    assert not panel.preview.isTabVisible(1)
    assert panel.check_list.item(0).text() == "✓ The data fits the graph."
    window.resize(1280, 720)  # rows of one line: at least three show beside the check
    qtbot.waitUntil(lambda: panel.table.viewport().height() >= 3 * panel.table.rowHeight(0))
    assert panel.table.rowHeight(0) <= panel.table.fontMetrics().height() + 6


def test_image_datasets_show_a_grid_of_labelled_samples(qtbot, make_window):
    window = make_window(example("cnn_digits"))
    panel = _shown(qtbot, window)
    assert panel.preview.isTabVisible(1)
    labels = panel.images.widget().findChildren(type(panel.summary))
    assert len(labels) == 2 * 40  # a picture and a caption per sample


def test_image_folders_show_samples_and_name_unreadable_files(qtbot, make_window, tmp_path):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 255, size=(9, 9, 1), dtype=np.uint8)
            (tmp_path / "pets" / name / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (tmp_path / "pets" / "cats" / "broken.png").write_bytes(b"not a png")
    graph = example("cnn_digits")
    graph.dataset = {
        **graph.dataset,
        "source": "image_folder",
        "path": str(tmp_path / "pets"),
        "image_size": (8, 8),
        "validation_size": 0.0,
    }
    window = make_window(graph)
    panel = _shown(qtbot, window)
    assert "10 samples of shape (8, 8, 1)" in panel.summary.text()
    labels = panel.images.widget().findChildren(type(panel.summary))
    assert len(labels) == 2 * len(panel.dataset.x_train)  # each training image, captioned
    checks = [panel.check_list.item(i).text() for i in range(panel.check_list.count())]
    left_out = "1 image file of pets is left out, unreadable"
    assert any(left_out in c and "broken.png" in c for c in checks)


def test_text_datasets_show_whole_texts_and_fit_the_text_example(qtbot, make_window):
    window = make_window(example("text_sentiment"))
    panel = _shown(qtbot, window)
    assert panel.table.horizontalHeaderItem(0).text() == "text"
    assert len(panel.table.item(0, 0).text().split()) >= 3  # a whole review, not a number
    assert panel.check_list.item(0).text() == "✓ The data fits the graph."


def test_split_slider_changes_the_graph_undoably_and_reloads(qtbot, make_window):
    window = make_window(example())
    panel = _shown(qtbot, window)
    slider = panel.settings.editors["test_size"].slider
    with qtbot.waitSignal(panel.loaded, timeout=LOAD_TIMEOUT_MS):
        slider.setValue(50)
    assert window.session.graph.dataset["test_size"] == 0.5
    assert "899</b> test" in panel.summary.text()
    with qtbot.waitSignal(panel.loaded, timeout=LOAD_TIMEOUT_MS):
        window.session.undo_stack.undo()
    assert window.session.graph.dataset["test_size"] == 0.2
    assert slider.value() == 20


def test_rows_follow_the_source(qtbot, make_window):
    window = make_window(example())
    panel = _shown(qtbot, window)
    form = panel.settings
    assert not form.labels["path"].isVisibleTo(form)
    assert not form.labels["noise"].isVisibleTo(form)
    window.session.execute(SetSettings("dataset", {"name": "moons"}))
    assert form.labels["noise"].isVisibleTo(form)
    window.session.execute(SetSettings("dataset", {"source": "csv"}))
    assert form.labels["path"].isVisibleTo(form)
    assert not form.labels["name"].isVisibleTo(form)
    # Before a file is chosen: a hint, not an error, and no empty table.
    qtbot.waitUntil(lambda: "Choose a file" in panel.summary.text(), timeout=LOAD_TIMEOUT_MS)
    assert "needs a path" not in panel.summary.text()
    assert panel.table.columnCount() == 0


def test_a_csv_target_column_is_shown_by_its_name(qtbot, make_window, tmp_path):
    table = tmp_path / "flowers.csv"
    rows = [f"{i % 7}.5,{i % 3}.25,{'ab'[i % 2]}" for i in range(40)]
    table.write_text("length,width,species\n" + "\n".join(rows) + "\n")
    graph = example()
    graph.set_params(graph.find("input_1").id, shape=(2,))
    graph.dataset = {**graph.dataset, "source": "csv", "path": str(table)}
    window = make_window(graph)
    panel = _shown(qtbot, window)
    headers = [panel.table.horizontalHeaderItem(i).text() for i in range(3)]
    assert headers == ["length", "width", "species (target)"]


def test_browse_offers_parquet_tables_and_keeps_a_path_beside_the_graph_relative(
    qtbot, make_window, tmp_path, monkeypatch
):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PySide6.QtWidgets import QFileDialog

    table = tmp_path / "flowers.parquet"
    pq.write_table(
        pa.table({"length": [float(i % 7) for i in range(40)], "species": list("ab" * 20)}),
        table,
    )
    graph = example()
    graph.set_params(graph.find("input_1").id, shape=(1,))
    graph.dataset = {**graph.dataset, "source": "csv", "path": ""}
    window = make_window(graph)
    panel = window.panels.data
    window.panels.docks["data"].raise_()
    offered, offered_at = [], []

    def chosen_in_the_dialog(parent, caption, folder, filters):  # a native modal dialog
        offered.append(filters)
        offered_at.append(folder)
        return str(table), filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(chosen_in_the_dialog))
    with qtbot.waitSignal(panel.loaded, timeout=LOAD_TIMEOUT_MS):
        panel.settings.editors["path"].browse()
    first_filter = offered[0].split(";;")[0]
    assert "*.csv" in first_filter and "*.parquet" in first_filter
    assert window.session.graph.dataset["path"] == str(table)
    qtbot.waitUntil(lambda: "40 samples" in panel.summary.text(), timeout=LOAD_TIMEOUT_MS)
    assert "2 classes" in panel.summary.text()
    # Saved beside its data, the graph keeps the path relative, and Browse starts there.
    assert window.save_to(tmp_path / "flowers.yaml")
    panel.settings.editors["path"].browse()
    assert window.session.graph.dataset["path"] == "flowers.parquet"
    panel.settings.editors["path"].browse()
    assert offered_at[-1] == str(table)


def test_bad_file_shows_its_message(qtbot, make_window, tmp_path):
    window = make_window(example())
    panel = _shown(qtbot, window)
    missing = tmp_path / "nowhere.csv"
    with qtbot.waitSignal(panel.loaded, timeout=3000, raising=False):
        window.session.execute(SetSettings("dataset", {"source": "csv", "path": str(missing)}))
    qtbot.waitUntil(lambda: "file not found" in panel.summary.text(), timeout=LOAD_TIMEOUT_MS)
    assert str(missing) in panel.summary.text()
    assert panel.dataset is None


def test_output_mismatch_is_fixed_in_one_click_and_undone(qtbot, make_window):
    graph = example()
    output = graph.find("dense_2")
    graph.set_params(output.id, units=7, activation="relu")
    window = make_window(graph)
    panel = _shown(qtbot, window)
    assert panel.problems and panel.problems[0].severity == ERROR
    assert "has 7 units but digits has 10 classes" in panel.check_list.item(0).text()
    assert "Fix: dense_2: units=10, activation=softmax" in panel.check_list.item(0).text()
    assert panel.fix_button.isEnabled()
    assert panel.apply_selected_fix() is None
    window.session.flush()
    node = window.session.graph.node(output.id)
    assert (node.params["units"], node.params["activation"]) == (10, "softmax")
    assert panel.check_list.item(0).text() == "✓ The data fits the graph."
    window.session.undo_stack.undo()
    window.session.flush()
    assert window.session.graph.node(output.id).params["units"] == 7


def test_input_shape_fix_and_loss_fix_are_offered(qtbot, make_window):
    graph = example()
    graph.set_params(graph.find("input_1").id, shape=(32,))
    graph.set_params(graph.find("dense_1").id, units=64)
    window = make_window(graph)
    panel = _shown(qtbot, window)
    assert "set shape=[64]" in panel.problems[0].message
    assert panel.apply_selected_fix() is None
    window.session.flush()
    assert window.session.graph.find("input_1").params["shape"] == (64,)


def test_several_fixes_apply_at_once_and_undo_as_one_step(qtbot, make_window):
    graph = example()
    graph.set_params(graph.find("input_1").id, shape=(32,))
    graph.set_params(graph.find("dense_1").id, units=64)
    graph.training = {**graph.training, "loss": "mean_squared_error"}
    window = make_window(graph)
    panel = _shown(qtbot, window)
    assert len(panel.fixes) == 2
    assert panel.fix_all_button.isVisibleTo(panel)
    assert [fix.text for fix in panel.fixes.values()] == [
        "input_1: shape=(64,)",
        "training: loss=auto",
    ]
    assert panel.apply_all_fixes() is None
    window.session.flush()
    assert window.session.graph.find("input_1").params["shape"] == (64,)
    assert window.session.graph.training["loss"] == "auto"
    assert panel.check_list.item(0).text() == "✓ The data fits the graph."
    window.session.undo_stack.undo()
    assert window.session.graph.training["loss"] == "mean_squared_error"
    assert window.session.graph.find("input_1").params["shape"] == (32,)


def reviews_csv(tmp_path):
    """60 short film reviews, liked or not: a text CSV for a model made for numbers."""
    reviews = tmp_path / "reviews.csv"
    rows = [f'"the film was {word}",{label}' for word, label in (("great", "yes"), ("dull", "no"))]
    reviews.write_text("review,liked\n" + "\n".join(rows * 30), encoding="utf-8")
    return reviews


def test_a_text_csv_on_a_number_model_is_fixed_in_one_click_and_shown_whole(
    qtbot, make_window, tmp_path
):
    reviews = reviews_csv(tmp_path)
    window = make_window(example())
    panel = _shown(qtbot, window)
    before = [node.type for node in window.session.graph.nodes]
    with qtbot.waitSignal(panel.loaded, timeout=LOAD_TIMEOUT_MS):
        window.session.execute(SetSettings("dataset", {"source": "csv", "path": str(reviews)}))
    texts = [fix.text for fix in panel.fixes.values()]
    assert texts[:2] == ["input_1: dtype=string", "input_1: shape=(1,)"]
    assert "TextVectorization(max_tokens=7, output_sequence_length=4)" in texts[2]
    window.resize(1280, 720)
    assert panel.apply_all_fixes() is None
    window.session.flush()
    qtbot.waitUntil(lambda: panel.check_list.item(0).text() == "✓ The data fits the graph.")
    graph = window.session.graph
    assert [n.type for n in graph.nodes][len(before) :] == [
        "TextVectorization",
        "Embedding",
        "LSTM",
    ]
    # The chain pushed the rest right; the canvas shows every layer.
    view = window.view
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    for node_id, item in window.scene.node_items.items():
        assert shown.contains(item.sceneBoundingRect()), node_id
    window.session.undo_stack.undo()  # one step takes the whole change back
    assert [node.type for node in window.session.graph.nodes] == before


def test_problems_get_the_room_their_lines_need_and_give_it_back_once_fixed(
    qtbot, make_window, tmp_path
):
    """At 1280x720 the check kept one line and a half: one of four problems showed."""
    reviews = reviews_csv(tmp_path)
    window = make_window(example())
    window.resize(1280, 720)
    panel = _shown(qtbot, window)
    split = panel.findChild(QSplitter, "data_preview_splitter")
    with qtbot.waitSignal(panel.loaded, timeout=LOAD_TIMEOUT_MS):
        window.session.execute(SetSettings("dataset", {"source": "csv", "path": str(reviews)}))
    lines = panel.check_list
    assert lines.count() == 4
    qtbot.waitUntil(lambda: lines.viewport().height() >= 3 * lines.sizeHintForRow(0))
    assert split.sizes()[1] <= 0.6 * sum(split.sizes()) + 1  # the preview keeps a row or so
    # A split the user drags stays while the check still lists problems.
    split.setSizes([100, sum(split.sizes()) - 100])
    dragged = split.sizes()
    panel.recheck()
    assert split.sizes() == dragged
    assert panel.apply_all_fixes() is None
    window.session.flush()
    qtbot.waitUntil(lambda: lines.item(0).text() == "✓ The data fits the graph.")
    # The check is back to its header and one line; the preview has the rest.
    qtbot.waitUntil(lambda: split.sizes()[1] == split.widget(1).minimumSizeHint().height())
    assert panel.table.viewport().height() > 2 * panel.table.verticalHeader().defaultSectionSize()
