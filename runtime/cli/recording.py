"""Recording a command's run in the run store, without ever failing the command for it.

A store that cannot be opened or written costs one warning line on stderr; the
command goes on and its results are saved as usual.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runtime.run_store import RunStore, RunStoreError, default_store_folder, graph_key_for


def add_runs_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        type=Path,
        metavar="DIR",
        help="run store folder (default: $DEEPWIRE_RUNS_DIR or ~/.local/share/DeepWire/runs)",
    )


def _warn(error: Exception | str) -> None:
    print(f"warning: this run is not recorded in the run history: {error}", file=sys.stderr)


def command_journal(folder: Path | None, graph_file: Path):
    """The run history of `graph_file` for `runtime.cli.loop.drive`; store problems warn once."""
    from runtime.runs.recording import RunJournal

    return RunJournal(folder, graph_file, _warn, timeout=2.0)


class RunRecorder:
    """Starts a run record now; `finish` completes it. Never raises."""

    def __init__(
        self, folder: Path | None, graph_file: Path, kind: str, graph_yaml: str, options: dict
    ) -> None:
        self.store: RunStore | None = None
        self.run_id: str | None = None
        try:
            self.store = RunStore.open(folder or default_store_folder())
            self.run_id = self.store.start(
                graph_key_for(graph_file), kind, graph_yaml, options=options
            )
        except (RunStoreError, OSError) as error:
            _warn(error)
            self.close()

    def finish(self, status: str, **details) -> None:
        """See `RunStore.finish` for `details`."""
        if self.store is None or self.run_id is None:
            return
        try:
            self.store.finish(self.run_id, status, **details)
            print(f"recorded as run {self.run_id} in {self.store.folder}", file=sys.stderr)
        except (RunStoreError, OSError) as error:
            _warn(error)
        self.close()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
