"""The training runs of the open document, shared by the training, evaluation and export views."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph.model import NetworkGraph


@dataclass
class TrainingRun:
    """One run of the training panel.

    Attributes:
        number: 1 for the session's first run, and so on.
        graph: The graph as it was when the run started (edits made later
            do not change it).
        dataset: The runtime.data.Dataset it trained on (None if loading failed).
        history: Per-epoch values of each logged metric.
        weights: The trained model's weights, as the training process sent
            them (None when the run failed).
        model: The trained keras.Model when the app holds one (a preview's run),
            else None: runs are sent `trained_weights()`.
        message: Why it failed, or "" when it finished.
        node_id: The node at fault when it failed because of one.
        diagnosis: The plain-language reading of its learning curves.
        stopped_by_user: Whether the user ended it.
        best_epoch: The epoch whose weights the model holds.
        health: Its latest runtime.events.HealthChecked, or None before the first.
        recording: Its runtime.runs.recording.RunRecording in the run history
            (None for a restored run), which takes its test-split scores.
    """

    number: int
    graph: NetworkGraph
    dataset: Any = None
    history: dict[str, list[float]] = field(default_factory=dict)
    weights: list | None = None
    model: Any = None
    message: str = ""
    node_id: str | None = None
    diagnosis: str = ""
    stopped_by_user: bool = False
    best_epoch: int | None = None
    health: Any = None
    recording: Any = None

    @property
    def succeeded(self) -> bool:
        return (self.model is not None or self.weights is not None) and not self.message

    def trained_weights(self) -> list:
        """The trained weights, which every run that takes this model is sent.

        A model built in this process (previews) gives its own, read with what
        it learned besides its weights (runtime.learned_state).
        """
        if self.weights is not None:
            return self.weights
        from runtime.learned_state import trained_weights

        return trained_weights(self.model)


class RunHistory(QObject):
    """Every run of the open document, newest last, and its recorded runs (`journal`).

    The history belongs to the document: File > New or Open (the session's
    graph_replaced) clears it, so runs of another graph never reach its charts,
    evaluation or run numbers; a run of the old document that ends later is
    not recorded here (its journal, the old document's, still records it).

    `journal` (runtime.runs.recording.RunJournal) keeps every recorded run of
    the document in the run store beside its file; run adapters record into
    it, and it follows the document's file when it is saved.

    Args:
        session: The gui.document.EditorSession whose document the runs belong to.
        parent: Owner on the GUI thread.
        store_folder: The run store folder; the per-user default when None.

    Signals:
        run_started: A TrainingRun whose training just began.
        run_finished: The same TrainingRun once it ended (finished or failed).
        cleared: The document changed; every run is gone.
        records_changed: The journal's runs changed (a run began or ended, an edit).
        store_failed: The run store cannot be used (the message, once per document).
        restored: The TrainingRun of a restored recorded run, its model trained.
        restore_failed: Why a recorded run's model could not be restored (its
            graph and settings may be the document's again all the same).
        bundle_imported: What became of a bundle import (its run listed, or why not).
        bundle_exported: What became of a bundle export (saved, or why not).
    """

    run_started = Signal(object)
    run_finished = Signal(object)
    cleared = Signal()
    records_changed = Signal()
    store_failed = Signal(str)
    restored = Signal(object)
    restore_failed = Signal(str)
    bundle_imported = Signal(str)
    bundle_exported = Signal(str)

    def __init__(
        self,
        session: QObject | None = None,
        parent: QObject | None = None,
        store_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.runs: list[TrainingRun] = []
        self.store_folder = store_folder
        # Why this document's run store cannot be used, for panels made later.
        self.store_error: str | None = None
        # Made on first use: the run store's modules (SQLite) load then, not
        # while the window is built.
        self._journal = None
        self._journal_path: Path | None = getattr(session, "path", None)
        if session is not None:
            session.graph_replaced.connect(self.clear)
            session.path_changed.connect(self._on_path_changed)

    @property
    def journal(self):
        """The document's runtime.runs.recording.RunJournal."""
        if self._journal is None:
            self._journal = self._new_journal(self._journal_path)
        return self._journal

    def _new_journal(self, path: Path | None):
        from runtime.runs.recording import RunJournal  # Qt- and TensorFlow-free

        journal = RunJournal(self.store_folder, path, self._store_failed)
        journal.subscribe(self.records_changed.emit)
        return journal

    def _store_failed(self, error: str) -> None:
        self.store_error = error
        self.store_failed.emit(error)

    def _on_path_changed(self, path: Path | None) -> None:
        if path is None:
            return
        if self._journal is None:
            self._journal_path = path  # nothing recorded yet: nothing to move
        else:
            self._journal.attach(path)

    def clear(self) -> None:
        """Forgets every run (a new document)."""
        self.runs = []
        self._journal, self._journal_path = None, None
        self.store_error = None
        self.cleared.emit()
        self.records_changed.emit()

    def restore(self, record, session) -> str | None:
        """Makes a recorded run the document's again, without training.

        Its graph and settings replace the document's as one undo step at
        once; its weights become the current trained model when its data has
        loaded (the `restore` run kind): `restored` or `restore_failed` follows.

        Args:
            record: A runtime.run_store.RunRecord of `journal`.
            session: The gui.document.EditorSession to restore into.

        Returns:
            None when the graph was restored, else why not.
        """
        from graph.replace import replace_contents
        from runtime.events import RunFinished
        from runtime.runs.base import RunRequest
        from runtime.runs.restoring import RestoreError, restored_graph

        try:
            graph = restored_graph(record)
        except RestoreError as error:
            return str(error)
        refused = session.execute(
            replace_contents(session.graph, graph, f"Restore run {record.name!r}")
        )
        if refused is not None:
            return f"Run {record.name!r} cannot be restored: {refused}"
        journal = self.journal
        base_dir = session.path.parent if session.path else None
        options = {"record": record, "weights": journal.kept_weights(record)}

        def ended(outcome) -> None:
            if isinstance(outcome, RunFinished):
                self._on_restored(outcome.result, journal)
            else:
                self.restore_failed.emit(outcome.message)

        self._start_run(RunRequest("restore", record.graph_yaml, base_dir, options), ended)
        return None

    def import_bundle(self, path: Path) -> None:
        """Lists a reproducibility bundle's run among the document's (the `bundle` run kind).

        `bundle_imported` says how it went; restore the run to use its graph and model.
        """
        from runtime.events import RunFinished
        from runtime.runs.base import RunRequest

        journal = self.journal

        def ended(outcome) -> None:
            if not isinstance(outcome, RunFinished):
                self.bundle_imported.emit(outcome.message)
                return
            run, weights = outcome.result
            journal.add(run, weights)
            self.bundle_imported.emit(f"Imported run {run.name!r} from {Path(path).name}.")

        self._start_run(RunRequest("bundle", "", None, {"path": str(path)}), ended)

    def _start_run(self, request, ended) -> None:
        from gui.run_adapter import RunAdapter

        adapter = RunAdapter(request, parent=self)

        def finished(outcome) -> None:
            adapter.deleteLater()
            ended(outcome)

        adapter.finished.connect(finished)
        adapter.start()

    def export_bundle(self, record, path: Path) -> None:
        """Writes a recorded run as a reproducibility bundle (the write_bundle run kind).

        `bundle_exported` says how it went. The training script comes from the
        export command and the data is read for its split, so this takes a moment.
        """
        from runtime.events import RunFinished
        from runtime.runs.base import RunRequest

        weights = self.journal.weights_of(record) if record.weights is None else None
        options = {"record": record, "path": str(path), "weights": weights}

        def ended(outcome) -> None:
            finished = isinstance(outcome, RunFinished)
            self.bundle_exported.emit(outcome.result if finished else outcome.message)

        self._start_run(RunRequest("write_bundle", "", None, options), ended)

    def _on_restored(self, restored, journal) -> None:
        if journal is not self.journal:
            return  # the document changed while the run's data loaded
        run = self.start(restored.graph)
        run.dataset, run.weights, run.model = restored.dataset, restored.weights, restored.model
        run.history = restored.history
        self.finish(run)
        self.restored.emit(run)

    def start(self, graph: NetworkGraph) -> TrainingRun:
        """Records a new run of `graph` (a snapshot the run owns)."""
        run = TrainingRun(len(self.runs) + 1, graph)
        self.runs.append(run)
        self.run_started.emit(run)
        return run

    def finish(self, run: TrainingRun) -> None:
        if any(run is kept for kept in self.runs):
            self.run_finished.emit(run)

    def record_evaluation(self, run: TrainingRun, metrics: dict) -> None:
        """Keeps `metrics` (the test split's scores of `run`'s model) as its recorded run's
        final metrics, in the journal that recorded it (the document may have changed since)."""
        if run.recording is not None:
            run.recording.add_test_metrics(metrics)

    def latest_trained(self) -> TrainingRun | None:
        """The newest run that produced a model."""
        return next((run for run in reversed(self.runs) if run.succeeded), None)
