"""The run history: every run of every graph, kept in a local SQLite file.

One `runs.sqlite3` per store folder (the app passes its per-user data folder,
the command line `default_store_folder()`, tests a temporary folder), with the
trained weights as files beside it in `weights/`. SQLite from the standard
library needs no server, survives restarts and, in WAL mode with every write in
a transaction, is never left half-written by a crash. Weights files are written
through `graph.atomic`.

A run is inserted as "running" when it starts and updated when it ends. A run
still "running" when a store is opened, whose process is gone, died with that
process: it is marked "interrupted".

Qt-free and TensorFlow-free (Keras is imported only to save a model).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import platform
import socket
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from graph import atomic

DATABASE_NAME = "runs.sqlite3"
WEIGHTS_FOLDER = "weights"
SCHEMA_VERSION = 2  # 2: metrics_split

KINDS = ("train", "tune", "federated", "continual")
RUNNING, FINISHED, STOPPED, FAILED, INTERRUPTED = (
    "running",
    "finished",
    "stopped",
    "failed",
    "interrupted",
)
ENDINGS = (FINISHED, STOPPED, FAILED, INTERRUPTED)

# Which data a run's final metrics were measured on (`RunRecord.metrics_split`),
# and what that means for a learner reading them.
TEST_SPLIT, LAST_EPOCH, VALIDATION_SPLIT = "test", "last epoch", "validation"
METRICS_SPLITS = {
    TEST_SPLIT: "Scored on the test split, data the model never saw while it learned: "
    "the fair measure of how it does on new data.",
    LAST_EPOCH: "The last epoch's (round's) figures, not a test score: names starting "
    "with val_ come from the validation split, the others from the training split.",
    VALIDATION_SPLIT: "The tuning objective on the validation split, which chose the "
    "trial: a fair test score needs the test split.",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    graph_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    graph_yaml TEXT NOT NULL,
    graph_sha256 TEXT NOT NULL,
    options TEXT NOT NULL,
    versions TEXT NOT NULL,
    started REAL NOT NULL,
    duration REAL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    epochs TEXT NOT NULL DEFAULT '{}',
    final_metrics TEXT NOT NULL DEFAULT '{}',
    metrics_split TEXT NOT NULL DEFAULT '',
    weights TEXT NOT NULL DEFAULT '',
    starred INTEGER NOT NULL DEFAULT 0,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_graph ON runs (graph_key, started);
"""

_COLUMNS = (
    "id, graph_key, kind, name, graph_yaml, graph_sha256, options, versions, started, "
    "duration, status, message, epochs, final_metrics, metrics_split, weights, starred"
)
_COLUMN_NAMES = tuple(name.strip() for name in _COLUMNS.split(","))


class RunStoreError(Exception):
    """The store cannot be used (corrupt, locked, unwritable); the message says which and where."""


@dataclass(frozen=True)
class RunRecord:
    """One stored run.

    Attributes:
        graph_key: The graph file's absolute path, or "unsaved:<uuid>".
        options: The run's plain options (e.g. an epochs override).
        versions: Library name -> version when the run started.
        started: Seconds since the epoch.
        duration: Seconds the run took; None while it runs.
        status: running, finished, stopped, failed or interrupted.
        message: Why a failed run failed.
        epochs: Metric name -> one value per epoch.
        final_metrics: Metric name -> value on the split `metrics_split` names.
        metrics_split: Where `final_metrics` come from: one of `METRICS_SPLITS`.
        weights: Path of the trained weights (.keras or .npz), or None.
    """

    id: str
    graph_key: str
    kind: str
    name: str
    graph_yaml: str
    graph_sha256: str
    options: dict
    versions: dict
    started: float
    duration: float | None
    status: str
    message: str = ""
    epochs: dict = field(default_factory=dict)
    final_metrics: dict = field(default_factory=dict)
    metrics_split: str = LAST_EPOCH
    weights: Path | None = None
    starred: bool = False


def default_store_folder() -> Path:
    """The per-user store folder: $DEEPWIRE_RUNS_DIR, else XDG data dir/DeepWire/runs."""
    configured = os.environ.get("DEEPWIRE_RUNS_DIR")
    if configured:
        return Path(configured).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "DeepWire" / "runs"


def graph_key_for(path: str | os.PathLike) -> str:
    """The key that ties runs to a saved graph file: its absolute path."""
    return str(Path(path).expanduser().resolve())


def unsaved_graph_key() -> str:
    """A fresh key for a document that has no file yet (see `RunStore.move_runs`)."""
    return f"unsaved:{uuid.uuid4()}"


def metric_label(split: str, name: str) -> str:
    """A final metric's name with the split it was measured on: "test accuracy"."""
    return f"{split} {name}"


def labelled_metrics(run: RunRecord) -> dict[str, float]:
    """The run's numeric final metrics by `metric_label`."""
    return {
        metric_label(run.metrics_split, name): float(value)
        for name, value in run.final_metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def legacy_split(kind: str, final_metrics: dict) -> str:
    """The split of final metrics recorded before the split was kept (store format 1,
    bundles without it): the app kept the last epoch's figures (val_... among them),
    tuning its objective, the train command test scores."""
    if kind == "tune":
        return VALIDATION_SPLIT
    if kind == "train" and not any(str(name).startswith("val_") for name in final_metrics):
        return TEST_SPLIT
    return LAST_EPOCH


def library_versions() -> dict[str, str]:
    """Versions of the libraries that decide a run's numbers, read without importing them.

    scikit-learn splits the data, so its version decides which samples train.
    """
    return dict(_library_versions())


@functools.lru_cache(maxsize=1)
def _library_versions() -> dict[str, str]:
    # Read once per process: the metadata look-ups cost ~8 ms, on the GUI
    # thread as every run starts, and a process keeps the versions it imported.
    versions = {"python": platform.python_version()}
    for name in ("tensorflow", "keras", "numpy", "scikit-learn"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def text_sha256(text: str) -> str:
    """The SHA-256 of `text` (UTF-8) in hex: a graph snapshot's identity."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _json(value: Any) -> str:
    # Metrics may hold numpy floats; plain floats are what JSON and readers expect.
    return json.dumps(value, default=float)


class RunStore:
    """The run history in one folder. Open it with `RunStore.open(folder)`.

    Every method raises `RunStoreError` when the database cannot be read or written.
    """

    def __init__(self, folder: Path, connection: sqlite3.Connection) -> None:
        self.folder = folder
        self.path = folder / DATABASE_NAME
        self._connection = connection
        # Why runs were left out of the last `runs_of` (their stored JSON is damaged).
        self.damaged: list[str] = []

    @classmethod
    def open(cls, folder: str | os.PathLike, timeout: float = 2.0) -> RunStore:
        """Opens (creating if needed) the store in `folder` and marks dead runs interrupted.

        Args:
            folder: The store folder; created if missing.
            timeout: Seconds to wait for another program's write lock.

        Raises:
            RunStoreError: the folder cannot be created, or the database is
                corrupt, locked or from a newer DeepWire.
        """
        folder = Path(folder)
        path = folder / DATABASE_NAME
        try:
            (folder / WEIGHTS_FOLDER).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunStoreError(f"{folder}: cannot create the run store folder ({error})") from None
        try:
            connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise _store_error(path, error) from None
        store = cls(folder, connection)
        try:
            store._prepare()
        except RunStoreError:
            connection.close()
            raise
        return store

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------

    def start(
        self,
        graph_key: str,
        kind: str,
        graph_yaml: str,
        name: str | None = None,
        options: dict | None = None,
        versions: dict | None = None,
    ) -> str:
        """Records a run that starts now as "running" and returns its id.

        Args:
            graph_key: See `graph_key_for` and `unsaved_graph_key`.
            kind: One of `KINDS`.
            graph_yaml: The graph snapshot the run trains.
            name: Shown in the runs table; "<kind> <n>" by default.
            options: The run's plain options, kept for reproducing it.
            versions: Library versions; `library_versions()` by default.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown run kind {kind!r}; expected one of {', '.join(KINDS)}")
        run_id = uuid.uuid4().hex[:12]
        with self._transaction() as cursor:
            if name is None:
                count = cursor.execute(
                    "SELECT COUNT(*) FROM runs WHERE graph_key = ? AND kind = ?", (graph_key, kind)
                ).fetchone()[0]
                name = f"{kind} {count + 1}"
            cursor.execute(
                "INSERT INTO runs (id, graph_key, kind, name, graph_yaml, graph_sha256, options,"
                " versions, started, status, host, pid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    graph_key,
                    kind,
                    name,
                    graph_yaml,
                    text_sha256(graph_yaml),
                    _json(options or {}),
                    _json(versions or library_versions()),
                    time.time(),
                    RUNNING,
                    socket.gethostname(),
                    os.getpid(),
                ),
            )
        return run_id

    def finish(
        self,
        run_id: str,
        status: str,
        message: str = "",
        epochs: dict | None = None,
        final_metrics: dict | None = None,
        model: Any = None,
        weights: Sequence[Any] | None = None,
        metrics_split: str = TEST_SPLIT,
    ) -> RunRecord:
        """Records how a run ended, its metrics and its trained weights.

        Args:
            run_id: From `start`.
            status: finished, stopped, failed or interrupted.
            message: Why it failed.
            epochs: Metric name -> per-epoch values (a Keras history).
            final_metrics: Metric name -> value on the split `metrics_split` names.
            model: A Keras model, saved as `weights/<id>.keras`.
            weights: Or the weight arrays (`runtime.learned_state.trained_weights`),
                saved as `weights/<id>.npz`.
            metrics_split: Where `final_metrics` come from (`METRICS_SPLITS`).

        Raises:
            RunStoreError: the run is unknown or the store cannot be written.
            OSError: the weights file cannot be written (the run is then not updated).
        """
        if status not in ENDINGS:
            raise ValueError(f"unknown ending {status!r}; expected one of {', '.join(ENDINGS)}")
        _check_split(metrics_split)
        weights_name = ""
        if model is not None:
            from runtime.saving import save_keras_model

            weights_name = f"{WEIGHTS_FOLDER}/{run_id}.keras"
            save_keras_model(model, self.folder / weights_name)
        elif weights is not None:
            weights_name = f"{WEIGHTS_FOLDER}/{run_id}.npz"
            atomic.write_bytes(self.folder / weights_name, _npz_bytes(weights))
        with self._transaction() as cursor:
            started = self._row(cursor, run_id)["started"]
            cursor.execute(
                "UPDATE runs SET status = ?, message = ?, duration = ?, epochs = ?,"
                " final_metrics = ?, metrics_split = ?, weights = ? WHERE id = ?",
                (
                    status,
                    message,
                    max(0.0, time.time() - started),
                    _json(epochs or {}),
                    _json(final_metrics or {}),
                    metrics_split,
                    weights_name,
                    run_id,
                ),
            )
        return self.get(run_id)

    def add(self, run: RunRecord, weights: Sequence[Any] | None = None) -> RunRecord:
        """Keeps a run that ended elsewhere (in memory while its document had no file).

        It gets a new id here; its times, ending and metrics are kept as they are.

        Args:
            run: The run, with the graph key it belongs to now.
            weights: Its trained weight arrays, saved as `weights/<id>.npz`.
        """
        run_id = uuid.uuid4().hex[:12]
        weights_name = ""
        if weights is not None:
            weights_name = f"{WEIGHTS_FOLDER}/{run_id}.npz"
            atomic.write_bytes(self.folder / weights_name, _npz_bytes(weights))
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT INTO runs ({_COLUMNS}, host, pid) VALUES"
                " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    run.graph_key,
                    run.kind,
                    run.name,
                    run.graph_yaml,
                    run.graph_sha256 or text_sha256(run.graph_yaml),
                    _json(run.options),
                    _json(run.versions),
                    run.started,
                    run.duration,
                    run.status,
                    run.message,
                    _json(run.epochs),
                    _json(run.final_metrics),
                    run.metrics_split,
                    weights_name,
                    int(run.starred),
                    socket.gethostname(),
                    os.getpid(),
                ),
            )
        return self.get(run_id)

    def set_final_metrics(self, run_id: str, final_metrics: dict, metrics_split: str) -> None:
        """Replaces a run's final metrics (a test evaluation made after the run ended)."""
        _check_split(metrics_split)
        with self._transaction() as cursor:
            self._row(cursor, run_id)
            cursor.execute(
                "UPDATE runs SET final_metrics = ?, metrics_split = ? WHERE id = ?",
                (_json(final_metrics), metrics_split, run_id),
            )

    def rename(self, run_id: str, name: str) -> None:
        self._update(run_id, "name", name)

    def star(self, run_id: str, starred: bool = True) -> None:
        self._update(run_id, "starred", int(starred))

    def delete(self, run_id: str) -> None:
        """Removes the run and its weights file."""
        with self._transaction() as cursor:
            weights = self._row(cursor, run_id)["weights"]
            cursor.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        if weights:
            with contextlib.suppress(OSError):
                (self.folder / weights).unlink()

    def move_runs(self, old_key: str, new_key: str) -> int:
        """Gives `old_key`'s runs to `new_key` (an unsaved document saved); returns how many."""
        with self._transaction() as cursor:
            cursor.execute("UPDATE runs SET graph_key = ? WHERE graph_key = ?", (new_key, old_key))
            return cursor.rowcount

    # -- reading -------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord:
        """The run with this id.

        Raises:
            RunStoreError: no such run.
        """
        with self._errors():
            return self._record(self._row(self._connection.cursor(), run_id))

    def runs_of(self, graph_key: str, with_epochs: bool = True) -> list[RunRecord]:
        """The runs of one graph, newest first; a run whose stored JSON cannot be read
        is left out, and `damaged` says which and why.

        Args:
            graph_key: See `graph_key_for`.
            with_epochs: False leaves `epochs` empty: a table of many runs
                reads faster without every curve (`get` reads one run in full).
        """
        columns = _COLUMNS if with_epochs else _COLUMNS.replace("epochs", "'{}' AS epochs")
        with self._errors():
            rows = self._connection.execute(
                f"SELECT {columns} FROM runs WHERE graph_key = ? ORDER BY started DESC",
                (graph_key,),
            ).fetchall()
            # Runs of one graph mostly share their options, versions and metric names:
            # each distinct JSON text is decoded once per listing.
            decoded: dict[str, dict] = {}
            records, self.damaged = [], []
            for row in rows:  # a damaged run is left out, not every run with it
                try:
                    records.append(self._record(row, decoded))
                except RunStoreError as error:
                    self.damaged.append(str(error))
            return records

    # -- internals -----------------------------------------------------------

    def _prepare(self) -> None:
        with self._errors():
            self._connection.row_factory = sqlite3.Row
            mode = self._connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise RunStoreError(f"{self.path}: the run store cannot use a write-ahead log")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            version = self._connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RunStoreError(
                    f"{self.path}: the run store was written by a newer DeepWire "
                    f"(format {version}, this one reads {SCHEMA_VERSION})"
                )
        with self._transaction() as cursor:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    cursor.execute(statement)
            columns = {row["name"] for row in cursor.execute("PRAGMA table_info(runs)")}
            if "metrics_split" not in columns:
                self._add_metrics_split(cursor)
            cursor.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._mark_interrupted(cursor)

    @staticmethod
    def _add_metrics_split(cursor: sqlite3.Cursor) -> None:
        """Format 1 -> 2: each run's split, as `legacy_split` reads its metrics."""
        cursor.execute("ALTER TABLE runs ADD COLUMN metrics_split TEXT NOT NULL DEFAULT ''")
        rows = cursor.execute("SELECT id, kind, final_metrics FROM runs").fetchall()
        for row in rows:
            try:
                metrics = _json_dict(row["final_metrics"])
            except ValueError:
                metrics = {}
            split = legacy_split(row["kind"], metrics)
            cursor.execute("UPDATE runs SET metrics_split = ? WHERE id = ?", (split, row["id"]))

    def _mark_interrupted(self, cursor: sqlite3.Cursor) -> None:
        host, own = socket.gethostname(), os.getpid()
        rows = cursor.execute(
            "SELECT id, host, pid FROM runs WHERE status = ?", (RUNNING,)
        ).fetchall()
        dead = [
            row["id"]
            for row in rows
            if row["host"] == host and row["pid"] != own and not _process_alive(row["pid"])
        ]
        for run_id in dead:
            cursor.execute(
                "UPDATE runs SET status = ?, message = ? WHERE id = ?",
                (INTERRUPTED, "the program running it ended before the run did", run_id),
            )

    def _update(self, run_id: str, column: str, value: Any) -> None:
        with self._transaction() as cursor:
            self._row(cursor, run_id)
            cursor.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id))

    def _row(self, cursor: sqlite3.Cursor, run_id: str) -> sqlite3.Row:
        row = cursor.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunStoreError(f"{self.path}: no run with id {run_id!r}")
        return row

    def _record(self, row: sqlite3.Row, decoded: dict[str, dict] | None = None) -> RunRecord:
        # By position: sqlite3.Row's lookup by name compares every column's name.
        values = dict(zip(_COLUMN_NAMES, row, strict=True))

        def read(column: str) -> dict:
            text = values[column]
            try:
                if decoded is None:
                    return _json_dict(text)
                if text not in decoded:
                    decoded[text] = _json_dict(text)
            except (ValueError, TypeError) as error:
                raise RunStoreError(
                    f"{self.path}: the run store holds a damaged run: run {values['id']} "
                    f"({values['name']}) has unreadable {column} ({error})"
                ) from None
            return dict(decoded[text])  # each record its own (shallow) copy

        return RunRecord(
            id=values["id"],
            graph_key=values["graph_key"],
            kind=values["kind"],
            name=values["name"],
            graph_yaml=values["graph_yaml"],
            graph_sha256=values["graph_sha256"],
            options=read("options"),
            versions=read("versions"),
            started=values["started"],
            duration=values["duration"],
            status=values["status"],
            message=values["message"],
            epochs=read("epochs"),
            final_metrics=read("final_metrics"),
            metrics_split=values["metrics_split"],
            weights=self.folder / values["weights"] if values["weights"] else None,
            starred=bool(values["starred"]),
        )

    @contextlib.contextmanager
    def _errors(self):
        try:
            yield
        except sqlite3.Error as error:
            raise _store_error(self.path, error) from None
        except (ValueError, KeyError, TypeError) as error:  # a damaged row
            raise RunStoreError(
                f"{self.path}: the run store holds a damaged run ({error})"
            ) from None

    @contextlib.contextmanager
    def _transaction(self):
        """One write: all of it or none of it (BEGIN IMMEDIATE takes the write lock at once)."""
        with self._errors():
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                self._connection.rollback()
                raise
            cursor.execute("COMMIT")


def _check_split(split: str) -> None:
    if split not in METRICS_SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(METRICS_SPLITS)}")


def _json_dict(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, found {type(value).__name__}")
    return value


def _store_error(path: Path, error: sqlite3.Error) -> RunStoreError:
    text = str(error)
    if "locked" in text or "busy" in text:
        return RunStoreError(f"{path}: the run store is locked by another program ({text})")
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        return RunStoreError(f"{path}: the run store is corrupt ({text})")
    return RunStoreError(f"{path}: the run store cannot be used ({text})")


def _npz_bytes(weights: Sequence[Any]) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, *weights)
    return buffer.getvalue()


def load_npz_weights(path: str | os.PathLike) -> list:
    """The weight arrays saved by `finish(..., weights=...)`, in order."""
    import numpy as np

    with np.load(path) as archive:
        return [archive[f"arr_{index}"] for index in range(len(archive.files))]
