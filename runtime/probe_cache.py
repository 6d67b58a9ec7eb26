"""The time probe's results, kept so that timing the same graph again costs nothing.

A probe (runtime.cost_estimate.probe_training) takes seconds; its result only
changes when the model, its data or settings, the batch size or the machine
change. Results are kept in one small JSON file, keyed by those three, in the
app's cache folder (the GUI passes Qt's; commands use `default_cache_folder`).
A missing, unreadable or corrupt file is an empty cache: the next probe writes
a good one. Imports neither Qt nor TensorFlow.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import yaml

from graph import atomic
from graph.cost import machine_memory
from graph.files import graph_to_yaml
from graph.model import NetworkGraph

CACHE_FILE = "time_probes.json"
# Old entries go first beyond this many, so the file stays small.
MAX_ENTRIES = 200
# Parts of a graph file that change nothing in an epoch's cost: the layout,
# the labels, and how many epochs there are.
_LAYOUT_KEYS = ("name", "description")
# What a probe measures and how an epoch is modelled; a change makes older results
# misleading, so it starts every key (format 2: median epochs, the validation pass).
PROBE_FORMAT = "v2"


@dataclass(frozen=True)
class TimeEstimate:
    """How long an epoch of a graph takes here, from a probe of its training steps.

    An epoch is what `model.fit` does per epoch in a training run: a step per
    training batch, then (with a validation split) an evaluation step per
    validation batch; each part also has a fixed cost whatever its length
    (its data iterator, metrics reset and read, callbacks).

    Attributes:
        seconds_per_step: One training step (a batch), Keras's per-batch work included.
        seconds_per_epoch: The training part's fixed cost, whatever its length.
        train_samples: Samples in the training split the epoch goes over.
        batch_size: Samples per step (training and validation alike, as in fit).
        seconds_per_validation_step: One evaluation step on a validation batch.
        seconds_per_validation: The validation pass's fixed cost.
        validation_samples: Samples in the validation split (0: no validation pass).
    """

    seconds_per_step: float
    seconds_per_epoch: float
    train_samples: int
    batch_size: int
    seconds_per_validation_step: float = 0.0
    seconds_per_validation: float = 0.0
    validation_samples: int = 0

    @property
    def batches(self) -> int:
        """Training batches per epoch, the last (partial) one included."""
        return -(-self.train_samples // max(self.batch_size, 1))

    @property
    def validation_batches(self) -> int:
        return -(-self.validation_samples // max(self.batch_size, 1))

    @property
    def epoch_seconds(self) -> float:
        """Estimated seconds of one epoch: the training part (its fixed cost plus a step
        per batch), then the validation pass (likewise), if there is one."""
        seconds = self.seconds_per_epoch + self.batches * self.seconds_per_step
        if self.validation_batches:
            seconds += (
                self.seconds_per_validation
                + self.validation_batches * self.seconds_per_validation_step
            )
        return seconds


def format_seconds(seconds: float) -> str:
    """0.042 s, 4.2 s, 42 s, 4.2 min or 4.2 h."""
    if seconds < 10:
        return f"{seconds:.2g} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def describe_epoch_time(estimate: TimeEstimate, cached: bool) -> str:
    """One line for the user: the estimate, and where it comes from."""
    return f"estimated time per epoch: {epoch_time_details(estimate, cached)}"


def epoch_time_details(estimate: TimeEstimate, cached: bool) -> str:
    """The estimate, what an epoch holds and where the figures come from:
    "~0.12 s (41 batches of 32 + 5 validation batches, from a short timed run)"."""
    source = "timed earlier on this machine" if cached else "from a short timed run"
    validation = estimate.validation_batches
    checked = (
        f" + {validation} validation batch{'es' if validation > 1 else ''}" if validation else ""
    )
    return (
        f"~{format_seconds(estimate.epoch_seconds)} "
        f"({estimate.batches} batches of {estimate.batch_size}{checked}, {source})"
    )


def default_cache_folder() -> Path:
    """Where commands keep the cache: $DEEPWIRE_CACHE_DIR, else the XDG cache folder/DeepWire."""
    configured = os.environ.get("DEEPWIRE_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "DeepWire"


def graph_fingerprint(graph: NetworkGraph) -> str:
    """A hash of everything in `graph` that an epoch's cost depends on.

    Layers, wiring, blocks and every settings section count; node positions,
    names of the graph and the number of epochs do not.
    """
    data = yaml.safe_load(graph_to_yaml(graph))
    for key in _LAYOUT_KEYS:
        data.pop(key, None)
    for node in data.get("nodes", []):
        node.pop("position", None)
    data.get("training", {}).pop("epochs", None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def machine_fingerprint() -> str:
    """A hash of what makes this machine train at its speed: processor, cores, memory,
    and the TensorFlow and Keras versions (read from their metadata, not imported)."""
    parts = [
        platform.machine(),
        _processor_name(),
        str(_usable_cores()),
        str(machine_memory()),
        platform.python_version(),
    ]
    for package in ("tensorflow", "keras"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} missing")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


def _processor_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def probe_key(graph: NetworkGraph) -> str:
    """The cache key of `graph`'s probe: probe format, graph hash, batch size and machine."""
    batch = int(graph.training.get("batch_size", 32))
    return f"{PROBE_FORMAT}:{graph_fingerprint(graph)}:{batch}:{machine_fingerprint()}"


class ProbeCache:
    """The probe results kept in `folder`/time_probes.json.

    Args:
        folder: The cache folder; default_cache_folder() if None.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.path = Path(folder or default_cache_folder()) / CACHE_FILE

    def lookup(self, graph: NetworkGraph) -> TimeEstimate | None:
        """The cached estimate of `graph` on this machine, or None."""
        entry = self._entries().get(probe_key(graph))
        try:
            return TimeEstimate(**entry) if isinstance(entry, dict) else None
        except TypeError:
            return None  # an entry of another shape: probe again

    def store(self, graph: NetworkGraph, estimate: TimeEstimate) -> None:
        """Keeps `estimate` for `graph`; a cache that cannot be written is left as it was.

        Not keeping a result only costs a probe next time, so an unwritable
        folder is no error for the user.
        """
        # Results of an older probe format are never read again: they go.
        prefix = f"{PROBE_FORMAT}:"
        entries = {k: v for k, v in self._entries().items() if k.startswith(prefix)}
        key = probe_key(graph)
        entries.pop(key, None)
        entries[key] = asdict(estimate)
        kept = dict(list(entries.items())[-MAX_ENTRIES:])
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(self.path, json.dumps(kept, indent=1) + "\n")

    def _entries(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
