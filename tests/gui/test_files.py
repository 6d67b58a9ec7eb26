"""Files: save and reopen, dirty marker, prompts, templates, recovery, recent files, scale."""

from __future__ import annotations

import time

import pytest

from graph.files import graph_to_yaml, load_graph, save_graph
from graph.generators import chain_graph
from graph.model import SetParams
from gui.main_window import EXAMPLES_DIR
from gui.prompts import CANCEL, SAVE
from tests.gui.conftest import mlp_graph


def test_save_and_reopen_give_the_same_graph(qtbot, make_window, tmp_path):
    window = make_window(mlp_graph())
    session = window.session
    session.execute(SetParams(session.graph.find("dense_1").id, {"units": 48}))
    assert window.isWindowModified()
    path = tmp_path / "mlp.yaml"
    assert window.save_to(path)
    assert not window.isWindowModified()
    assert window.windowTitle() == "mlp.yaml[*] — DeepWire"
    saved = graph_to_yaml(session.graph)
    other = make_window()
    assert other.open_path(path)
    assert graph_to_yaml(other.session.graph) == saved
    assert other.session.path == path
    assert len(other.scene.node_items) == 4 and len(other.scene.edge_items) == 3
    assert other.recent_files()[0] == str(path.resolve())


def test_a_bad_file_is_reported_and_changes_nothing(qtbot, make_window, prompts, tmp_path):
    window = make_window(mlp_graph())
    before = graph_to_yaml(window.session.graph)
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: deepwire-graph\nversion: 1\nnodes: [\n", encoding="utf-8")
    assert not window.open_path(bad)
    assert len(prompts.errors) == 1 and "bad.yaml" in prompts.errors[0]
    assert graph_to_yaml(window.session.graph) == before


def test_unsaved_changes_prompt_before_they_are_discarded(qtbot, make_window, prompts, tmp_path):
    window = make_window(mlp_graph())
    session = window.session
    session.execute(SetParams(session.graph.find("dense_1").id, {"units": 8}))
    prompts.save_answer = CANCEL
    window.new_graph()
    assert len(prompts.asked) == 1 and "unsaved changes" in prompts.asked[0]
    assert len(session.graph) == 4
    prompts.save_answer = SAVE
    path = tmp_path / "kept.yaml"
    session.path = path
    window.new_graph()
    assert len(session.graph) == 0
    assert load_graph(path).find("dense_1").params["units"] == 8
    assert not window.isWindowModified()


def test_every_example_is_offered_as_a_template_and_opens_unsaved(qtbot, window, prompts):
    titles = [action.text() for action in window.templates_menu.actions()]
    examples = sorted(EXAMPLES_DIR.glob("*.yaml"))
    assert len(titles) == len(examples) >= 1
    for example in examples:
        assert window.new_from_template(example)
        assert window.session.path is None
        assert not window.session.is_dirty
        assert len(window.scene.node_items) == len(load_graph(example))
    assert not prompts.errors


def test_unsaved_work_is_autosaved_and_offered_after_a_crash(qtbot, make_window, prompts):
    window = make_window(mlp_graph())
    assert not window.autosaver.autosave()
    session = window.session
    session.execute(SetParams(session.graph.find("dense_1").id, {"units": 7}))
    assert window.autosaver.autosave()
    assert window.recovery.pending() is not None
    # A second window stands for the next start after a crash.
    restarted = make_window()
    prompts.confirm_answer = True
    assert restarted.offer_recovery()
    assert "did not close normally" in prompts.asked[-1]
    assert restarted.session.graph.find("dense_1").params["units"] == 7
    assert restarted.session.is_dirty and restarted.isWindowModified()


def test_a_clean_save_removes_the_recovery_file(qtbot, make_window, tmp_path):
    window = make_window(mlp_graph())
    session = window.session
    session.execute(SetParams(session.graph.find("dense_1").id, {"units": 7}))
    window.autosaver.autosave()
    assert window.save_to(tmp_path / "saved.yaml")
    assert window.recovery.pending() is None
    assert not make_window().offer_recovery()


def test_declining_recovery_discards_the_file(qtbot, make_window, prompts):
    window = make_window(mlp_graph())
    window.recovery.write(window.session.graph, None)
    prompts.confirm_answer = False
    assert not window.offer_recovery()
    assert window.recovery.pending() is None


@pytest.mark.parametrize(
    "info",
    ['{"source": null, "saved_at": 1e300}', '{"saved_at": NaN}', '["x"]', "{", '"text"'],
)
def test_a_damaged_recovery_note_still_offers_the_work_saved_at_the_file_time(
    qtbot, make_window, prompts, info
):
    # A time past the calendar's range once raised OverflowError out of the offer.
    window = make_window(mlp_graph())
    window.recovery.write(window.session.graph, None)
    window.recovery.info_file.write_text(info, encoding="utf-8")
    prompts.confirm_answer = True
    assert make_window().offer_recovery()
    when = time.strftime("%Y-%m-%d", time.localtime(window.recovery.graph_file.stat().st_mtime))
    assert f"saved at {when}" in prompts.asked[-1]


def test_a_1000_node_graph_opens_and_renders(qtbot, make_window, tmp_path):
    path = tmp_path / "big.yaml"
    save_graph(chain_graph(1000), path)
    window = make_window()
    started = time.perf_counter()
    assert window.open_path(path)
    window.grab()
    elapsed = time.perf_counter() - started
    assert len(window.scene.node_items) == 1000
    assert len(window.scene.edge_items) == 999
    assert all(item.face is not None for item in window.scene.node_items.values())
    assert window.layers_label.text() == "1,000 layers"
    # Generous bound: this is a smoke check; bench/gui_scale.py measures.
    assert elapsed < 20


def test_recent_files_are_listed_newest_first(qtbot, make_window, tmp_path):
    window = make_window(mlp_graph())
    for name in ("a.yaml", "b.yaml", "a.yaml"):
        assert window.save_to(tmp_path / name)
    assert window.recent_files() == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]
    window._fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()] == window.recent_files()


def test_undoing_back_to_the_saved_state_clears_the_dirty_marker(qtbot, make_window, tmp_path):
    window = make_window(mlp_graph())
    assert window.save_to(tmp_path / "mlp.yaml")
    node_id = window.session.graph.find("dense_1").id
    window.session.execute(SetParams(node_id, {"units": 5}))
    assert window.isWindowModified() and window.session.is_dirty
    window.session.undo_stack.undo()
    assert not window.isWindowModified() and not window.session.is_dirty
