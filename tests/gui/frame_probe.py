"""How long the GUI thread is kept from its event loop by work of its own process.

A precise timer ticks every PROBE_MS on the GUI thread. The time between two
ticks, minus the tick's interval and minus the time the OS kept the thread
waiting for a CPU (Linux's /proc/thread-self/schedstat), is how long the
thread was busy or blocked on something of ours: another process hogging this
machine's cores does not count, so the figure holds on a loaded CI machine.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QElapsedTimer, Qt, QTimer

PROBE_MS = 5
SCHEDSTAT = Path("/proc/thread-self/schedstat")


def run_queue_ms() -> float:
    """Time the calling thread has waited for a CPU while runnable, in ms."""
    return int(SCHEDSTAT.read_text().split()[1]) / 1e6


class FrameProbe:
    """Records, per tick, how long the GUI thread was kept from it (see the module)."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.blocked_ms: list[float] = []
        self._last = (0.0, 0.0)

    def start(self) -> None:
        self.blocked_ms = []
        self.clock.start()
        self._last = (0.0, run_queue_ms())
        self.timer.start()

    def stop(self, *_args: object) -> None:
        """Stops ticking; the stretch since the last tick counts too (a slot for any signal)."""
        self.timer.stop()
        self._tick()

    def longest_ms(self) -> float:
        return max(self.blocked_ms, default=0.0)

    def _tick(self) -> None:
        now, waited = self.clock.nsecsElapsed() / 1e6, run_queue_ms()
        last_now, last_waited = self._last
        self.blocked_ms.append(max(0.0, now - last_now - (waited - last_waited) - PROBE_MS))
        self._last = (now, waited)
