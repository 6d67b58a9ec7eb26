"""Run history in the app: runs recorded per graph file, listed after a restart, restored."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from graph.files import save_graph
from graph.model import SetParams
from runtime.run_store import DATABASE_NAME, FINISHED, TEST_SPLIT
from tests.gui.panel_helpers import TRAIN_TIMEOUT_MS, example, train


def _statuses(window):
    panel = window.panels.run_history
    panel.refresh()
    return [panel.records[run_id].status for run_id in panel.records]


def _predict(run, samples):
    from runtime.training_process import rebuild_model

    model = run.model or rebuild_model(run.graph, run.dataset, run.weights)
    return model.predict(samples, verbose=0)


def test_runs_follow_the_file_across_restarts_and_restore_without_training(
    qtbot, make_window, tmp_path, capsys
):
    path, other = tmp_path / "digits.yaml", tmp_path / "other.yaml"
    save_graph(example(epochs=1), other)
    first = make_window(example(epochs=1))
    trained = train(qtbot, first)
    assert _statuses(first) == [FINISHED]  # unsaved: kept in memory
    # The app's evaluation of the run's model on the test split is its final metrics.
    journal = first.panels.runs.journal
    qtbot.waitUntil(lambda: journal.runs()[0].metrics_split == TEST_SPLIT, timeout=60_000)
    evaluated = first.panels.evaluation.evaluation.report.metrics
    assert journal.runs()[0].final_metrics == pytest.approx(evaluated)
    first.panels.run_history.refresh()
    assert "test accuracy" in first.panels.run_history.headers()
    assert first.save_to(path)
    samples = trained.dataset.x_test[:8]
    expected = _predict(trained, samples)

    again = make_window()  # a restart: a new window over the same file
    assert again.open_path(path, ask=False)
    panel = again.panels.run_history
    assert _statuses(again) == [FINISHED]
    (kept,) = again.panels.runs.journal.runs()
    assert (kept.metrics_split, kept.final_metrics) == (TEST_SPLIT, pytest.approx(evaluated))
    assert again.open_path(other, ask=False)
    assert _statuses(again) == []  # another graph's runs are not listed
    assert again.open_path(path, ask=False)
    session = again.session
    dense = next(node for node in session.graph.nodes if node.type == "Dense")
    session.execute(SetParams(dense.id, {"units": 32}))
    steps = session.undo_stack.count()
    # The table follows the document while the Runs panel is up (read when it comes up).
    again.panels.context.show("run_history")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)
    panel.table.selectRow(0)
    with qtbot.waitSignal(again.panels.runs.restored, timeout=TRAIN_TIMEOUT_MS) as restored:
        assert panel.restore_selected()
    assert session.undo_stack.count() == steps + 1  # one undo step
    assert session.graph.node(dense.id).params["units"] == 64
    run = restored.args[0]
    assert again.panels.runs.latest_trained() is run and not again.panels.training.is_training
    assert run.history == trained.history
    np.testing.assert_allclose(_predict(run, samples), expected, rtol=1e-5, atol=1e-6)
    session.undo_stack.undo()
    assert session.graph.node(dense.id).params["units"] == 32

    # The run exported from the Runs panel as a bundle; imported over another graph,
    # it lists the run to restore.
    bundle = tmp_path / "run.zip"
    panel.refresh()
    panel.table.selectRow(0)
    with qtbot.waitSignal(again.panels.runs.bundle_exported, timeout=60_000) as exported:
        assert panel.export_selected(bundle)
    assert exported.args[0] == "Saved run 'train 1' as run.zip."
    with zipfile.ZipFile(bundle) as archive:
        assert {"train.py", "split.npz", "weights.npz"} <= set(archive.namelist())
        assert "def build_model" in archive.read("train.py").decode()
    # The app's run reproduces headless: retrained, scored on the test split, the same.
    from main import main

    assert main(["reproduce", str(bundle), "-q"]) == 0
    out = capsys.readouterr().out
    assert "reproduced: the metrics match" in out and "test accuracy" in out
    assert again.open_path(other, ask=False)
    with qtbot.waitSignal(again.panels.runs.bundle_imported, timeout=60_000) as imported:
        again.panels.runs.import_bundle(bundle)
    assert "Imported run 'train 1'" in imported.args[0]
    assert _statuses(again) == [FINISHED]
    journal = again.panels.runs.journal
    (listed,) = journal.runs()
    assert (listed.metrics_split, listed.final_metrics) == (TEST_SPLIT, pytest.approx(evaluated))
    for kept, learned in zip(journal.weights_of(listed), trained.weights, strict=True):
        np.testing.assert_array_equal(kept, learned)  # restoring it gives the model above


def test_a_corrupt_store_is_reported_once_and_runs_stay_in_memory(
    qtbot, make_window, tmp_path, monkeypatch
):
    store = tmp_path / "store"
    store.mkdir()
    (store / DATABASE_NAME).write_bytes(b"not a database" * 100)
    monkeypatch.setenv("DEEPWIRE_RUNS_DIR", str(store))
    path = tmp_path / "digits.yaml"
    save_graph(example(epochs=1), path)
    window = make_window()
    failures = []
    window.panels.runs.store_failed.connect(failures.append)
    assert window.open_path(path, ask=False)
    run = train(qtbot, window)
    assert run.succeeded
    panel = window.panels.run_history
    assert _statuses(window) == [FINISHED]
    assert len(failures) == 1 and "corrupt" in failures[0]
    assert "Run history unavailable" in panel.message.text()
    assert "kept in memory" in panel.message.text()
