"""The estimated time per epoch in the status bar, beside the memory estimate.

A thin view over runtime.probe_cache and the `estimate_time` run: after each
edit it reads the probe cache (no TensorFlow, no data), and on request it times
the graph in the training process, where the training it predicts will run,
showing "calibrating…" meanwhile. Timing is never started by an edit: a probe
costs seconds of the machine's time.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QLabel

from graph.validation import ERROR
from gui.document import EditorSession

# Edits come in bursts; the cache is read once they pause.
LOOKUP_DELAY_MS = 250
PREFIX = "Time/epoch:"
CALIBRATING = f"{PREFIX} calibrating…"
NOT_TIMED = f'{PREFIX} <a href="estimate">estimate</a>'
NOT_TIMED_TIP = (
    "Click to time a few training steps of this graph on this machine (a second or two). "
    "The result is kept, so the same graph is not timed again."
)


def default_cache_folder() -> Path:
    """The app's per-user cache folder (Qt's standard location)."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(location)


class EpochTimeLabel(QLabel):
    """Shows the session graph's estimated time per epoch, or a link that estimates it.

    Args:
        session: The editing session whose graph is timed.
        cache_folder: Where probe results are kept; Qt's cache folder if None.
    """

    def __init__(self, session: EditorSession, cache_folder: Path | None = None) -> None:
        super().__init__()
        self.session = session
        self.cache_folder = cache_folder or default_cache_folder()
        self.adapter = None
        self.linkActivated.connect(lambda _link: self.estimate())
        self._lookup = QTimer(self)
        self._lookup.setSingleShot(True)
        self._lookup.setInterval(LOOKUP_DELAY_MS)
        self._lookup.timeout.connect(self.look_up)
        # Not while the window is built: the cache key reads package metadata (tens of ms).
        self._lookup.start()

    @property
    def calibrating(self) -> bool:
        return self.adapter is not None

    def refresh(self) -> None:
        """The graph changed: read the cache once the edits pause (not while timing)."""
        if not self.calibrating:
            self._lookup.start()

    def look_up(self) -> None:
        """Shows the cached estimate of the current graph, or the link to estimate it."""
        from runtime.probe_cache import ProbeCache, describe_epoch_time, format_seconds

        estimate = ProbeCache(self.cache_folder).lookup(self.session.graph)
        if estimate is None:
            self.setText(NOT_TIMED)
            self.setToolTip(NOT_TIMED_TIP)
        else:
            self.setText(f"{PREFIX} ~{format_seconds(estimate.epoch_seconds)}")
            self.setToolTip(describe_epoch_time(estimate, True).capitalize())

    def estimate(self) -> bool:
        """Times the current graph in the training process; False when it cannot start."""
        if self.calibrating or any(p.severity == ERROR for p in self.session.problems):
            return False
        from graph.files import graph_to_yaml
        from gui.run_adapter import RunAdapter
        from runtime.runs.base import RunRequest

        session = self.session
        base_dir = session.path.parent if session.path else None
        options = {"cache_dir": str(self.cache_folder)}
        request = RunRequest("estimate_time", graph_to_yaml(session.graph), base_dir, options)
        self.adapter = RunAdapter(request, parent=self)
        self.adapter.finished.connect(self._on_finished)
        self.setText(CALIBRATING)
        self.setToolTip("Timing a few training steps of this graph…")
        self.adapter.start()
        return True

    def cancel(self) -> None:
        """Stops a probe in progress (a training run is about to use the machine)."""
        if self.adapter is not None:
            self.adapter.stop()

    def _on_finished(self, outcome) -> None:
        from runtime.events import RunFailed

        self.adapter = None
        if isinstance(outcome, RunFailed) and not outcome.stopped_by_user:
            self.setText(f"{PREFIX} ?")
            self.setToolTip(f"Could not time the graph: {outcome.message}")
        elif isinstance(outcome, RunFailed) or outcome.result.estimate is not None:
            # Stopped, or timed: the graph may have changed meanwhile, so show the current one's.
            self.look_up()
        else:
            self.setText(f"{PREFIX} ?")
            self.setToolTip(outcome.result.message)
