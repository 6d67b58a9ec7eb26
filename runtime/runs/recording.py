"""Recording runs in the run history, whatever their kind and whoever drives them.

`RunJournal` is one document's (or one command's) history: drivers call
`begin(request)` when a run starts, hand its events to the returned
`RunRecording`, and `end` it with the run's outcome (RunFinished or
RunFailed). Training, tuning, federated and continual runs are kept; other
kinds pass through unrecorded.

Runs go to the run store (`runtime.run_store`) under the graph file's key.
Runs of a document without a file, and every run while the store cannot be
used (corrupt, locked, unwritable), are kept in memory: the first store
problem is reported once through `on_error`, the runs stay listed, and they
reach the store when the document is saved (`attach`) and the store works.

Qt-free and TensorFlow-free.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from runtime.run_store import (
    FAILED,
    FINISHED,
    INTERRUPTED,
    KINDS,
    LAST_EPOCH,
    RUNNING,
    STOPPED,
    TEST_SPLIT,
    VALIDATION_SPLIT,
    RunRecord,
    RunStore,
    RunStoreError,
    graph_key_for,
    library_versions,
    load_npz_weights,
    text_sha256,
)

MEMORY_PREFIX = "memory-"  # ids of runs kept in memory only

# The app waits this long at most for another program's lock before keeping runs in memory.
STORE_TIMEOUT_S = 0.5


class RunRecording:
    """One run being recorded: collects the curves its events draw.

    `observe` may be called on any one thread; `RunJournal.end` reads what it collected.
    `add_test_metrics` records the test split's scores of the run's model, made
    by whoever evaluates it (the app's evaluation, after the run ended).
    """

    def __init__(
        self, run_id: str, request: Any, name: str | None, options: dict, journal: RunJournal
    ) -> None:
        self.run_id = run_id
        self.kind = request.kind
        self.request = request
        self.name = name
        self.options = options
        self.journal = journal
        self.started = time.time()
        self.series: dict[str, list[float]] = {}
        self.ended = False
        self.test_metrics: dict[str, float] = {}

    def add_test_metrics(self, metrics: dict) -> None:
        """Records `metrics` (name -> value on the test split) as the run's final metrics."""
        self.journal.add_test_metrics(self, metrics)

    def observe(self, event: object) -> None:
        """Keeps per-epoch (per-round, per-trial) values; ignores the rest (batches)."""
        from runtime.events import EpochEnd, RoundEnd, TrialFinished

        if isinstance(event, TrialFinished):
            if event.value is not None:
                self.series.setdefault("trial value", []).append(float(event.value))
        elif isinstance(event, (EpochEnd, RoundEnd)) and self.kind != "tune":
            # A tuning run's epochs belong to its trials: its curve is per trial.
            for name, value in event.logs.items():
                if isinstance(value, int | float):
                    self.series.setdefault(name, []).append(float(value))


def ending_of(outcome: Any) -> tuple[str, str]:
    """(status, message) of a RunFinished or RunFailed."""
    from runtime.events import RunFinished

    if outcome.stopped_by_user:
        return STOPPED, ""
    if isinstance(outcome, RunFinished):
        return FINISHED, ""
    if outcome.interrupted:
        return INTERRUPTED, outcome.message
    return FAILED, outcome.message


def outcome_details(outcome: Any, recording: RunRecording) -> dict[str, Any]:
    """What a run's outcome says for the store: curves, final metrics and weights.

    The final metrics are test-split scores when there are any: the outcome's
    own (`final_test_metrics()`: federated and continual runs) or those given
    to `recording.add_test_metrics`; a tuning run's best objective value
    (validation split); else the last epoch's figures, marked as such.
    """
    result = getattr(outcome, "result", None)
    history = getattr(getattr(result, "result", None), "history", None)
    epochs = dict(history) if isinstance(history, dict) and history else dict(recording.series)
    final = {
        name: float(values[-1])
        for name, values in epochs.items()
        if values and isinstance(values[-1], int | float) and math.isfinite(values[-1])
    }
    split = LAST_EPOCH
    best_value = getattr(result, "best_value", None)
    test = _finite(result.final_test_metrics()) if hasattr(result, "final_test_metrics") else {}
    test.update(recording.test_metrics)
    if isinstance(best_value, int | float):
        final, split = {"best trial value": float(best_value)}, VALIDATION_SPLIT
    elif test:
        final, split = test, TEST_SPLIT
    weights = getattr(result, "weights", None)
    return {
        "epochs": epochs,
        "final_metrics": final,
        "metrics_split": split,
        "weights": list(weights) if weights else None,
    }


def _finite(metrics: dict) -> dict[str, float]:
    return {
        str(name): float(value)
        for name, value in metrics.items()
        if isinstance(value, int | float) and math.isfinite(value)
    }


class RunJournal:
    """The recorded runs of one graph: in the store when it can be, in memory otherwise.

    Args:
        folder: The run store folder (`runtime.run_store.default_store_folder()` if None).
        path: The graph file; None for a document not saved yet.
        on_error: Told the store's problem once (a message naming the store and why).
        timeout: Seconds to wait for another program's lock on the store.
    """

    def __init__(
        self,
        folder: Path | None = None,
        path: Path | None = None,
        on_error: Callable[[str], None] | None = None,
        timeout: float = STORE_TIMEOUT_S,
    ) -> None:
        from runtime.run_store import default_store_folder, unsaved_graph_key

        self.folder = Path(folder) if folder is not None else default_store_folder()
        self.graph_key = graph_key_for(path) if path is not None else unsaved_graph_key()
        self.saved = path is not None
        self.error: str | None = None
        # Why stored runs were left out of the last listing (their record is damaged).
        self.damaged: list[str] = []
        self._on_error = on_error
        self.timeout = timeout
        self._memory: dict[str, RunRecord] = {}
        self._weights: dict[str, list] = {}
        self._moved: dict[str, str] = {}  # memory id -> its id in the store
        self._listeners: list[Callable[[], None]] = []

    # -- recording -----------------------------------------------------------

    def begin(self, request: Any, name: str | None = None) -> RunRecording | None:
        """Records that `request` starts now; None for kinds that are not kept."""
        if request.kind not in KINDS:
            return None
        options = _plain_options(request.options)
        run_id = None
        if self.saved:
            run_id = self._with_store(
                lambda store: store.start(
                    self.graph_key, request.kind, request.graph_yaml, name, options
                )
            )
        recording = RunRecording(run_id or "", request, name, options, self)
        if run_id is None:
            self._remember(recording)
        self._changed()
        return recording

    def end(self, recording: RunRecording | None, outcome: Any) -> None:
        """Records how the run ended (a RunFinished or RunFailed), its curves and weights."""
        if recording is None:
            return
        recording.ended = True
        status, message = ending_of(outcome)
        details = outcome_details(outcome, recording)
        run = self._memory.get(recording.run_id)
        if run is None:
            stored = self._with_store(
                lambda store: store.finish(recording.run_id, status, message, **details)
            )
            if stored is not None:
                self._flush()  # runs kept in memory while the store failed go there too
                self._changed()
                return
            # The store failed since the run began: the run stays listed, in memory.
            self._remember(recording)
            run = self._memory[recording.run_id]
        weights = details.pop("weights")
        if weights is not None:
            self._weights[run.id] = weights
        self._memory[run.id] = replace(
            run,
            status=status,
            message=message,
            duration=max(0.0, time.time() - run.started),
            **details,
        )
        self._flush()
        self._changed()

    def add_test_metrics(self, recording: RunRecording, metrics: dict) -> None:
        """Records test-split scores of `recording`'s model as its run's final metrics.

        Scores already on the test split (a federated run's own) are kept beside
        them; the last epoch's figures are replaced. Before the run ends they wait
        for `end`.
        """
        metrics = _finite(metrics)
        if not metrics:
            return
        recording.test_metrics.update(metrics)
        if not recording.ended:
            return
        run_id = self._moved.get(recording.run_id, recording.run_id)
        run = self.get(run_id)
        if run is None:
            return  # deleted, or the store cannot be read (already reported)
        final = {**run.final_metrics, **metrics} if run.metrics_split == TEST_SPLIT else metrics
        self._edit(
            run_id,
            lambda store: store.set_final_metrics(run_id, final, TEST_SPLIT),
            final_metrics=final,
            metrics_split=TEST_SPLIT,
        )

    def add(self, run: RunRecord, weights: list | None = None) -> None:
        """Lists a run recorded elsewhere (an imported bundle) among this graph's runs."""
        run = replace(run, graph_key=self.graph_key)
        if self.saved and self._with_store(lambda store: store.add(run, weights)) is not None:
            self._changed()
            return
        import uuid

        run_id = f"{MEMORY_PREFIX}{uuid.uuid4().hex[:12]}"
        self._memory[run_id] = replace(run, id=run_id)
        if weights is not None:
            self._weights[run_id] = list(weights)
        self._changed()

    def attach(self, path: Path) -> None:
        """The document now lives in `path`: its runs so far go to the store under that file."""
        key = graph_key_for(path)
        if self.saved and key == self.graph_key:
            return
        self.graph_key, self.saved = key, True
        self._memory = {run_id: replace(run, graph_key=key) for run_id, run in self._memory.items()}
        self._flush()
        self._changed()

    # -- reading and editing ---------------------------------------------------

    def runs(self, with_epochs: bool = True) -> list[RunRecord]:
        """This graph's runs, newest first (stored and in memory).

        Args:
            with_epochs: False may leave stored runs' `epochs` empty (faster for
                a table); `get` reads a run in full.
        """
        stored: list[RunRecord] = []
        if self.saved:
            stored = self._with_store(lambda store: self._readable(store, with_epochs)) or []
        # A run kept in memory after the store failed at its end is listed once, as it ended.
        stored = [run for run in stored if run.id not in self._memory]
        return sorted([*stored, *self._memory.values()], key=lambda run: -run.started)

    def _readable(self, store: RunStore, with_epochs: bool) -> list[RunRecord]:
        """The graph's stored runs; damaged ones are left out and named in `damaged`."""
        runs = store.runs_of(self.graph_key, with_epochs)
        self.damaged = list(store.damaged)
        return runs

    def get(self, run_id: str) -> RunRecord | None:
        """One run in full, or None when it is gone (or the store cannot be read)."""
        if run_id in self._memory:
            return self._memory[run_id]
        return self._with_store(lambda store: store.get(run_id)) if self.saved else None

    def in_memory(self, run_id: str) -> bool:
        return run_id in self._memory

    def weights_of(self, run: RunRecord) -> list | None:
        """The run's trained weight arrays, or None; a `.keras` file needs TensorFlow."""
        kept = self.kept_weights(run)
        return kept if kept is not None else stored_weights(run)

    def kept_weights(self, run: RunRecord) -> list | None:
        """The weights of a run kept in memory (not stored yet), else None; no file is read."""
        return self._weights.get(run.id)

    def rename(self, run_id: str, name: str) -> None:
        self._edit(run_id, lambda store: store.rename(run_id, name), name=name)

    def star(self, run_id: str, starred: bool = True) -> None:
        self._edit(run_id, lambda store: store.star(run_id, starred), starred=starred)

    def delete(self, run_id: str) -> None:
        if self._memory.pop(run_id, None) is not None:
            self._weights.pop(run_id, None)
            self._changed()
        else:
            self._edit(run_id, lambda store: store.delete(run_id))

    def subscribe(self, listener: Callable[[], None]) -> None:
        """`listener()` is called after every change of the runs."""
        self._listeners.append(listener)

    # -- internals -----------------------------------------------------------

    def _remember(self, recording: RunRecording) -> None:
        """Keeps `recording`'s run in memory (it gets a memory id if it has none)."""
        import uuid

        request = recording.request
        if not recording.run_id:
            recording.run_id = f"{MEMORY_PREFIX}{uuid.uuid4().hex[:12]}"
        count = sum(run.kind == request.kind for run in self._memory.values())
        self._memory[recording.run_id] = RunRecord(
            id=recording.run_id,
            graph_key=self.graph_key,
            kind=request.kind,
            name=recording.name or f"{request.kind} {count + 1}",
            graph_yaml=request.graph_yaml,
            graph_sha256=text_sha256(request.graph_yaml),
            options=recording.options,
            versions=library_versions(),
            started=recording.started,
            duration=None,
            status=RUNNING,
        )

    def _flush(self) -> None:
        """Moves the ended runs kept in memory into the store, when there is one to use."""
        if not self.saved:
            return
        for run_id, run in list(self._memory.items()):
            if run.status == RUNNING:
                continue
            weights = self._weights.get(run_id)

            def move(store: RunStore, run=run, weights=weights, run_id=run_id) -> RunRecord:
                added = store.add(run, weights)
                if not run_id.startswith(MEMORY_PREFIX):
                    # It began in the store, which failed at its end: its "running" row goes.
                    with contextlib.suppress(RunStoreError):
                        store.delete(run_id)
                return added

            added = self._with_store(move)
            if added is None:
                return
            self._moved[run_id] = added.id
            del self._memory[run_id]
            self._weights.pop(run_id, None)

    def _edit(self, run_id: str, change: Callable[[RunStore], Any], **fields: Any) -> None:
        if run_id in self._memory:
            self._memory[run_id] = replace(self._memory[run_id], **fields)
        else:
            self._with_store(change)
        self._changed()

    def _with_store(self, work: Callable[[RunStore], Any]) -> Any:
        """`work(store)`'s value, or None after reporting the store's problem (once)."""
        try:
            with RunStore.open(self.folder, self.timeout) as store:
                return work(store)
        except (RunStoreError, OSError) as error:
            if self.error is None and self._on_error is not None:
                self._on_error(str(error))
            self.error = str(error)
            return None

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()


def _plain_options(options: dict) -> dict:
    """The options the store can keep as JSON: trained weights (arrays) are left out,
    and what goes with them kept (continue training's new data and rehearsal)."""
    kept = {}
    for key, value in options.items():
        if _plain(value):
            kept[key] = value
        elif isinstance(value, dict) and (plain := _plain_options(value)):
            kept[key] = plain
    return kept


def _plain(value: Any) -> bool:
    """Whether an option is plain data the store can keep as JSON."""
    import json

    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def stored_weights(run: RunRecord) -> list | None:
    """The run's weights file read back, or None without one; `.keras` needs TensorFlow."""
    if run.weights is None:
        return None
    if run.weights.suffix == ".npz":
        return load_npz_weights(run.weights)
    import keras

    from runtime.learned_state import trained_weights

    return trained_weights(keras.saving.load_model(run.weights, compile=False))
