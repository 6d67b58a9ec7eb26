"""What the train, tune and deploy commands share: loading, checks, progress, messages.

Exit codes: 0 success; 1 the graph, data or training failed; 2 a file could
not be read or written. Every failure is one clear message on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from graph.messages import bounded_lines
from graph.model import NetworkGraph
from graph.validation import ERROR, validate
from runtime.data import DataError, Dataset, load_dataset, skipped_images
from runtime.events import BatchEnd, EpochEnd, RunFailed, TrainingFinished

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


def tensorflow_command(
    body: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """A command's `run`: starts TensorFlow quietly, then runs `body`.

    A CommandError raised anywhere in `body` ends the command with its message
    and exit code (runtime.cli.common's convention), never a traceback.
    """

    @functools.wraps(body)
    def run(args: argparse.Namespace) -> int:
        start_tensorflow()
        try:
            return body(args)
        except CommandError as error:
            return fail(error)

    return run


def drive_to_end(request, on_event=None, quiet: bool = False, journal=None):
    """Drives `request` (runtime.cli.loop.drive) and returns its RunFinished.

    Raises:
        CommandError: when the run fails, with its message and exit code.
    """
    from runtime.cli.loop import drive

    outcome = drive(request, on_event, quiet, journal)
    if isinstance(outcome, RunFailed):
        raise CommandError(outcome.message, outcome.exit_code)
    return outcome


def print_progress_text(event: object) -> None:
    """Prints a run's Progress messages on stderr (for commands without a progress bar)."""
    from runtime.events import Progress as ProgressEvent

    if isinstance(event, ProgressEvent) and event.text:
        print(event.text, file=sys.stderr)


def load_valid_graph(path: Path) -> NetworkGraph:
    """The graph file, checked: readable and valid.

    Raises:
        CommandError: for an unreadable file (exit 2) or an invalid graph (exit 1).
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
    return graph


def load(path: Path) -> tuple[NetworkGraph, Dataset]:
    """The graph file and its dataset (paths relative to the file), both checked.

    Raises:
        CommandError: for an unreadable file, an invalid graph or unusable data.
    """
    graph = load_valid_graph(path)
    try:
        dataset = load_dataset(graph.dataset, base_dir=Path(path).resolve().parent)
    except DataError as error:
        raise CommandError(f"{path}: dataset: {error}") from None
    warn_about_skipped_images(dataset)
    return graph, dataset


def warn_about_skipped_images(dataset: Dataset) -> None:
    """Names on stderr the image files the load left out (unreadable, too large)."""
    if dataset.skipped:
        print(f"warning: {skipped_images(dataset.name, dataset.skipped)}", file=sys.stderr)


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
    graph: NetworkGraph,
    base_dir: Path | None,
    epochs: int | None,
    quiet: bool = False,
    estimate_time: bool = False,
) -> tuple[TrainingFinished, Dataset]:
    """Trains `graph` (the "train" run kind) with a progress display.

    Ctrl-C once stops after the current batch and keeps the model (see runtime.cli.loop).
    With `estimate_time`, the estimated time per epoch is printed before the first
    epoch (timed once per graph and machine, then read from the probe cache).

    Returns:
        The finished training, its `model` rebuilt from the trained weights, and its data.

    Raises:
        CommandError: when training fails (with the run's message).
    """
    from graph.files import graph_to_yaml
    from runtime.runs.base import RunRequest
    from runtime.training_process import rebuild_model

    # The command diagnoses with its own evaluation of the rebuilt model.
    options = {"epochs": epochs, "estimate_time": estimate_time, "diagnose_on_test": False}
    request = RunRequest("train", graph_to_yaml(graph), base_dir, options)
    outcome = drive_to_end(request, Progress(), quiet=quiet)
    trained = outcome.result
    if trained.result.stopped_by_user:
        print("stopped by you: keeping the model as it was then", file=sys.stderr)
    warn_about_skipped_images(trained.dataset)
    model = rebuild_model(graph, trained.dataset, trained.weights)
    return replace(trained.result, model=model), trained.dataset
