"""Worker threads: results reach the GUI thread safely, and garbage is collected only there."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from gui import collection
from gui.background import call_on_gui, start_job
from tests.gui.panel_helpers import example


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_garbage_made_on_a_worker_thread_is_collected_on_the_gui_thread(qtbot):
    collecting_threads: list[str] = []

    def record(phase: str, _info: dict) -> None:
        if phase == "start":
            collecting_threads.append(threading.current_thread().name)

    def make_garbage() -> None:
        for _ in range(20 * gc.get_threshold()[0]):
            _Cycle()

    gc.callbacks.append(record)
    try:
        start_job(make_garbage, "garbage maker").join()
        assert collecting_threads == []  # the worker thread never collected
        qtbot.waitUntil(lambda: bool(collecting_threads), timeout=5_000)
        assert set(collecting_threads) == {threading.main_thread().name}
    finally:
        gc.callbacks.remove(record)


def test_a_window_collects_garbage_on_its_timer_from_its_birth(make_window, qtbot):
    # Not from the first background job on: opening a big graph before any run
    # must not pay for automatic full collections of the whole heap midway.
    from graph.generators import chain_graph

    collection.restore_automatic_collection()
    window = make_window()
    assert not gc.isenabled()
    collections: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(record)
    try:
        window.session.replace_graph(chain_graph(300))
        for _ in range(20 * gc.get_threshold()[0]):
            _Cycle()
        assert collections == []
        qtbot.waitUntil(lambda: bool(collections), timeout=5_000)  # the timer's turn
    finally:
        gc.callbacks.remove(record)


def test_a_result_posted_as_the_application_is_torn_down_is_dropped_quietly(monkeypatch):
    import shiboken6

    from gui import background

    gone = background._GuiThreadCalls()
    shiboken6.delete(gone)
    monkeypatch.setattr(background, "_gui_calls", gone)
    receiver = QObject()
    failures: list[Exception] = []

    def post() -> None:
        try:
            call_on_gui(receiver, print, "never shown")
        except Exception as error:
            failures.append(error)

    worker = threading.Thread(target=post)
    worker.start()
    worker.join()
    assert failures == []


def test_no_collection_while_tensorflow_work_holds_it():
    collection.collect_on_gui_thread()
    for _ in range(2 * gc.get_threshold()[0]):
        _Cycle()
    collection.hold()
    try:
        before = gc.get_count()[0]
        collection.collect_if_due()
        assert gc.get_count()[0] >= before
    finally:
        collection.release()
    collection.collect_if_due()
    assert gc.get_count()[0] < before


def test_a_light_run_without_tensorflow_has_a_thread_of_its_own(qtbot):
    from gui.run_adapter import RunAdapter
    from runtime.events import RunFinished
    from runtime.runs.base import RunRequest

    busy = threading.Event()
    start_job(busy.wait, "busy runtime work", uses_runtime=True)  # holds the runtime thread
    owner = QObject()
    request = RunRequest("dataset", "", None, {"settings": dict(example().dataset)})
    adapter = RunAdapter(request, parent=owner)
    try:
        with qtbot.waitSignal(adapter.finished, timeout=30_000) as ended:
            adapter.start()
    finally:
        busy.set()
    assert isinstance(ended.args[0], RunFinished), ended.args[0]
    assert len(ended.args[0].result.x_train) > 0


def test_call_on_gui_skips_a_deleted_receiver(qtbot):
    alive, dead = QObject(), QObject()
    calls: list[str] = []
    dead.deleteLater()
    qtbot.wait(10)

    def post() -> None:
        call_on_gui(alive, calls.append, "alive")
        call_on_gui(dead, calls.append, "dead")

    start_job(post, "poster").join()
    qtbot.waitUntil(lambda: bool(calls), timeout=5_000)
    qtbot.wait(50)
    assert calls == ["alive"]


def test_tensorflow_jobs_run_in_order_on_one_runtime_thread():
    log: list[tuple[str, str, str]] = []
    first_may_end = threading.Event()

    def job(name: str, wait: threading.Event | None = None):
        def run() -> None:
            log.append(("start", name, threading.current_thread().name))
            if wait is not None:
                wait.wait(5)
            log.append(("end", name, threading.current_thread().name))

        return run

    first = start_job(job("first", first_may_end), "first", uses_runtime=True)
    second = start_job(job("second"), "second", uses_runtime=True)
    assert not second.join(0.2)  # queued behind the first
    first_may_end.set()
    assert first.join(5) and second.join(5)
    assert [(event, name) for event, name, _ in log] == [
        ("start", "first"),
        ("end", "first"),
        ("start", "second"),
        ("end", "second"),
    ]
    assert {thread for _, _, thread in log} == {"runtime"}
