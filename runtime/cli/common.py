"""What the train, tune and deploy commands share: loading, checks, progress, messages.

Exit codes: 0 success; 1 the graph, data or training failed; 2 a file could
not be read or written. Every failure is one clear message on stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

from graph.messages import bounded_lines
from graph.model import NetworkGraph
from graph.validation import ERROR, validate
from runtime.data import DataError, Dataset, load_dataset
from runtime.events import BatchEnd, EpochEnd, TrainingFailed, TrainingFinished

EXIT_FAILED = 1
EXIT_FILE = 2


class CommandError(Exception):
    """Ends a command with `message` on stderr and exit code `code`."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def _stderr_silenced():
    """Silences file descriptor 2, where TensorFlow's C++ start-up logs go."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def start_tensorflow() -> None:
    """Imports TensorFlow and finds its devices without its C++ start-up chatter.

    The logs (oneDNN notes, a CUDA probe failing on machines without a GPU)
    say nothing a command-line user can act on. Python errors still surface:
    only the C++ stream is silenced, and only while TensorFlow starts.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()


def fail(error: CommandError) -> int:
    print(f"error: {error}", file=sys.stderr)
    return error.code


def load(path: Path) -> tuple[NetworkGraph, Dataset]:
    """The graph file and its dataset (paths relative to the file), both checked.

    Raises:
        CommandError: for an unreadable file, an invalid graph or unusable data.
    """
    from graph.files import GraphFileError, load_graph

    try:
        graph = load_graph(path)
    except GraphFileError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    errors = [p for p in validate(graph) if p.severity == ERROR]
    if errors:
        lines = "\n".join(bounded_lines(f"  - {p.message}" for p in errors))
        raise CommandError(f"{path}: the graph is not valid:\n{lines}")
    try:
        dataset = load_dataset(graph.dataset, base_dir=Path(path).resolve().parent)
    except DataError as error:
        raise CommandError(f"{path}: dataset: {error}") from None
    return graph, dataset


def make_output_dir(directory: Path) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        message = f"{directory}: cannot create folder ({error.strerror})"
        raise CommandError(message, EXIT_FILE) from None
    return directory


def _format_logs(logs: dict) -> str:
    return "  ".join(f"{name} {value:.4f}" for name, value in logs.items())


class Progress:
    """Prints training progress to stderr: a bar per epoch, a line per finished epoch.

    The bar is redrawn at most every `interval` seconds and only on a terminal,
    so printing never slows training.
    """

    def __init__(self, stream=None, interval: float = 0.1, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.width = width
        self.live = self.stream.isatty()
        self._drawn = 0.0

    def __call__(self, event: object) -> None:
        if isinstance(event, BatchEnd) and self.live:
            now = time.monotonic()
            if now - self._drawn < self.interval and event.batch != event.batches:
                return
            self._drawn = now
            done = int(self.width * event.batch / max(event.batches, 1))
            bar = "=" * done + "." * (self.width - done)
            loss = event.logs.get("loss", float("nan"))
            self.stream.write(
                f"\repoch {event.epoch} [{bar}] {event.batch}/{event.batches} loss {loss:.4f}"
            )
            self.stream.flush()
        elif isinstance(event, EpochEnd):
            prefix = "\r\033[K" if self.live else ""
            self.stream.write(
                f"{prefix}epoch {event.epoch}/{event.epochs}  {_format_logs(event.logs)}\n"
            )
            self.stream.flush()


def train(
    graph: NetworkGraph, dataset: Dataset, epochs: int | None, quiet: bool = False
) -> TrainingFinished:
    """Trains with a progress display; Ctrl-C stops after the current batch and keeps the model.

    Raises:
        CommandError: when training fails (with the trainer's message).
    """
    from runtime.trainer import Trainer

    trainer = Trainer(graph, dataset, on_event=None if quiet else Progress(), epochs=epochs)
    worker = threading.Thread(target=trainer.run, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping after the current batch", file=sys.stderr)
        trainer.stop()
        worker.join()
    result = trainer.result
    if isinstance(result, TrainingFailed) or result is None:
        message = result.message if result else "training ended without a result"
        raise CommandError(message)
    return result
