"""Crash recovery: unsaved work is written to a recovery file now and then.

A clean save or a clean exit removes the file, so finding one at start-up
means the last session ended without saving; the window offers to restore it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from graph import atomic
from graph.files import load_graph, save_graph
from graph.model import NetworkGraph
from gui.document import EditorSession

AUTOSAVE_INTERVAL_MS = 30_000


def default_recovery_dir() -> Path:
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location or Path.home() / ".deepwire") / "recovery"


@dataclass(frozen=True)
class PendingRecovery:
    """A recovery file left by an earlier session.

    Attributes:
        graph_file: The recovered graph (YAML).
        source: The file the work came from, if it had one.
        saved_at: When it was written (seconds since the epoch).
    """

    graph_file: Path
    source: Path | None
    saved_at: float


class RecoveryStore:
    """The recovery file and what is known about it.

    Args:
        directory: Where to keep it; the app's data folder when None.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_recovery_dir()
        self.graph_file = self.directory / "recovery.yaml"
        self.info_file = self.directory / "recovery.json"

    def write(self, graph: NetworkGraph, source: Path | None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        save_graph(graph, self.graph_file)
        info = {"source": str(source) if source else None, "saved_at": time.time()}
        atomic.write_text(self.info_file, json.dumps(info))

    def clear(self) -> None:
        self.graph_file.unlink(missing_ok=True)
        self.info_file.unlink(missing_ok=True)

    def pending(self) -> PendingRecovery | None:
        """The recovery left by an earlier session, if any."""
        if not self.graph_file.is_file():
            return None
        try:
            info = json.loads(self.info_file.read_text(encoding="utf-8"))
            source = Path(info["source"]) if info.get("source") else None
            saved_at = float(info.get("saved_at", 0.0))
            time.localtime(saved_at)  # a time the offer can show (not NaN, not 1e300)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
            source, saved_at = None, self.graph_file.stat().st_mtime
        return PendingRecovery(self.graph_file, source, saved_at)

    def load(self) -> NetworkGraph:
        """The recovered graph. Raises GraphFileError for a damaged file."""
        return load_graph(self.graph_file)


class Autosaver(QObject):
    """Writes the session's unsaved work to the store on a timer.

    Args:
        session: The session to protect.
        store: Where to write.
        interval_ms: How often to check for unsaved work.
    """

    def __init__(
        self, session: EditorSession, store: RecoveryStore, interval_ms: int = AUTOSAVE_INTERVAL_MS
    ) -> None:
        super().__init__(session)
        self.session = session
        self.store = store
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        session.dirty_changed.connect(self._on_dirty_changed)

    def autosave(self) -> bool:
        """Writes the recovery file now if there is unsaved work; returns whether it did."""
        if not self.session.is_dirty:
            return False
        try:
            self.store.write(self.session.graph, self.session.path)
        except OSError:
            # A full disk must not interrupt editing; the next tick retries.
            return False
        return True

    def _on_dirty_changed(self, dirty: bool) -> None:
        if not dirty:
            self.store.clear()
