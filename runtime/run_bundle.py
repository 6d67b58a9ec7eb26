"""Reproducibility bundles: one stored run as a single zip file.

A bundle holds the graph snapshot (`graph.yaml`), the run's record
(`run.json`: settings, seeds, options, library versions, per-epoch and final
metrics and the split they were measured on, how it ended), the data split
(`split.npz`: the source rows of the train, validation and test splits), its
trained weights (`model.keras` or `weights.npz`) and the exported training
script (`train.py`). `deepwire reproduce` retrains
from it and compares the metrics; `compare_metrics` and `version_differences`
are that comparison.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from graph import atomic
from graph.input_files import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_MODEL_MB,
    MAX_FILE_MB_VARIABLE,
    MAX_MODEL_MB_VARIABLE,
    check_regular_file,
    limit_bytes,
)
from runtime.run_store import RunRecord

MAIN = Path(__file__).resolve().parents[1] / "main.py"
FORMAT = "deepwire-run-bundle"
VERSION = 1
GRAPH_MEMBER, RECORD_MEMBER, SCRIPT_MEMBER = "graph.yaml", "run.json", "train.py"
SPLIT_MEMBER = "split.npz"
SPLITS = ("train", "validation", "test")

# Same machine and versions: float32 training with the same seed gives the same
# numbers up to the order of floating-point reductions.
RELATIVE_TOLERANCE = 1e-4
ABSOLUTE_TOLERANCE = 1e-5


class BundleError(ValueError):
    """A bundle that cannot be written or read; the message names the file and the problem."""


@dataclass(frozen=True)
class Bundle:
    """What `read_bundle` returns: the graph snapshot and the run's record (run.json)."""

    graph_yaml: str
    record: dict


def bundle_record(run: RunRecord) -> dict:
    """The run.json content of a stored run (settings and seeds read from its graph)."""
    from graph.files import graph_from_yaml

    graph = graph_from_yaml(run.graph_yaml, source=f"run {run.id}")
    settings = {name: dict(values) for name, values in graph.settings.items()}
    seeds = {
        name: values["seed"]
        for name, values in settings.items()
        if isinstance(values, dict) and "seed" in values
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "id": run.id,
        "name": run.name,
        "kind": run.kind,
        "graph_key": run.graph_key,
        "graph_sha256": run.graph_sha256,
        "settings": settings,
        "seeds": seeds,
        "options": run.options,
        "versions": run.versions,
        "started": run.started,
        "duration": run.duration,
        "status": run.status,
        "message": run.message,
        "epochs": run.epochs,
        "final_metrics": run.final_metrics,
        "metrics_split": run.metrics_split,
    }


def write_bundle(
    run: RunRecord, path: str | os.PathLike, script: str, weights: list | None = None
) -> None:
    """Writes `run` as a bundle at `path` atomically.

    Args:
        run: The recorded run.
        path: The zip to write.
        script: The run's graph as a training script (see `training_script`).
        weights: The trained weight arrays of a run whose weights are not in
            a file (kept in memory); saved as weights.npz.

    Raises:
        BundleError: the run's stored graph cannot be read, or its data
            cannot be loaded (the split is read from it).
        OSError: the file cannot be written; `path` is then unchanged.
    """
    from graph.files import GraphFileError

    try:
        record = bundle_record(run)
    except GraphFileError as error:
        raise BundleError(f"run {run.id}: its stored graph cannot be read ({error})") from None
    split = _npz_bytes(run_split_rows(run))

    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(GRAPH_MEMBER, run.graph_yaml)
            archive.writestr(RECORD_MEMBER, json.dumps(record, indent=2) + "\n")
            archive.writestr(SCRIPT_MEMBER, script)
            archive.writestr(SPLIT_MEMBER, split)
            if run.weights is not None:
                member = "model.keras" if run.weights.suffix == ".keras" else "weights.npz"
                archive.write(run.weights, member)
            elif weights is not None:
                archive.writestr("weights.npz", _npz_bytes(dict(_numbered(weights))))
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())

    atomic.write_with(path, write)


def run_split_rows(run: RunRecord) -> dict:
    """The source rows of each split of the run's data (its graph's dataset settings and seed).

    Raises:
        BundleError: the data cannot be loaded (moved, changed into something unreadable).
    """
    from graph.files import graph_from_yaml
    from runtime.data import DataError, load_dataset

    graph = graph_from_yaml(run.graph_yaml, source=f"run {run.id}")
    base_dir = None if run.graph_key.startswith("unsaved:") else Path(run.graph_key).parent
    try:
        return load_dataset(graph.dataset, base_dir).split_rows
    except DataError as error:
        raise BundleError(
            f"run {run.id}: its data cannot be loaded to keep the split ({error})"
        ) from None


def split_differences(recorded: dict, current: dict) -> list[str]:
    """'test: 3 of 360 rows differ' for each split whose rows are not the recorded ones."""
    import numpy as np

    lines = []
    for name in SPLITS:
        mine, theirs = np.asarray(recorded.get(name, [])), np.asarray(current.get(name, []))
        if mine.shape != theirs.shape:
            lines.append(f"{name}: {len(mine)} rows recorded, {len(theirs)} now")
        elif (differing := int(np.count_nonzero(mine != theirs))) > 0:
            lines.append(f"{name}: {differing} of {len(mine)} rows differ")
    return lines


def read_split(path: str | os.PathLike) -> dict | None:
    """The bundle's recorded split rows, or None when it has none (older bundles).

    Raises:
        BundleError: the member is there but cannot be read.
    """
    import numpy as np

    limit = limit_bytes(MAX_MODEL_MB_VARIABLE, DEFAULT_MAX_MODEL_MB)
    try:
        with zipfile.ZipFile(path) as archive:
            if SPLIT_MEMBER not in archive.namelist():
                return None
            if archive.getinfo(SPLIT_MEMBER).file_size > limit:
                raise BundleError(f"{path}: {SPLIT_MEMBER} is larger than {limit} bytes")
            data = archive.read(SPLIT_MEMBER)
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return {name: arrays[name] for name in SPLITS if name in arrays.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        if isinstance(error, BundleError):
            raise
        raise BundleError(f"{path}: its {SPLIT_MEMBER} cannot be read ({error})") from None


def _numbered(weights: list):
    """(arr_0, first), (arr_1, second), ...: the names np.savez gives arrays in order."""
    return ((f"arr_{index}", array) for index, array in enumerate(weights))


def _npz_bytes(arrays: dict) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def training_script(run: RunRecord) -> str:
    """The run's graph as a training script, from `deepwire export` (codegen).

    runtime/ may not import codegen/ (the layers contract), so the public
    command prints it: the snapshot goes to a temporary file, with a relative
    data path made absolute against the graph file's folder first.

    Raises:
        BundleError: the graph cannot be exported (the command's message).
    """
    from graph.files import GraphFileError, graph_from_yaml, save_graph

    try:
        graph = graph_from_yaml(run.graph_yaml, source=f"run {run.id}")
    except GraphFileError as error:
        raise BundleError(f"run {run.id}: its stored graph cannot be read ({error})") from None
    data_path = graph.dataset.get("path")
    if data_path and not run.graph_key.startswith("unsaved:"):
        graph.dataset = {**graph.dataset, "path": str(Path(run.graph_key).parent / data_path)}
    with tempfile.TemporaryDirectory(prefix="deepwire-bundle-") as folder:
        snapshot = Path(folder) / "graph.yaml"
        save_graph(graph, snapshot)
        command = [sys.executable, str(MAIN), "export", str(snapshot), "--script"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no message"
        raise BundleError(f"run {run.id}: its graph cannot be exported ({reason})")
    return done.stdout


def read_bundle(path: str | os.PathLike) -> Bundle:
    """The graph and record of a bundle, checked.

    Raises:
        BundleError: not a regular file, not a zip, a member missing or too
            large, or a record that is not a DeepWire run bundle.
    """
    from graph.input_files import InputFileError

    path = Path(path)
    try:
        check_regular_file(path, "a run bundle (.zip)")
    except InputFileError as error:
        raise BundleError(str(error)) from None
    limit = limit_bytes(MAX_FILE_MB_VARIABLE, DEFAULT_MAX_FILE_MB)
    try:
        with zipfile.ZipFile(path) as archive:
            texts = {}
            for member in (GRAPH_MEMBER, RECORD_MEMBER):
                try:
                    info = archive.getinfo(member)
                except KeyError:
                    raise BundleError(f"{path}: not a run bundle ({member} is missing)") from None
                if info.file_size > limit:
                    raise BundleError(
                        f"{path}: {member} is larger than {limit} bytes "
                        f"(set {MAX_FILE_MB_VARIABLE} to allow more)"
                    )
                texts[member] = archive.read(member).decode("utf-8")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        if isinstance(error, BundleError):
            raise
        raise BundleError(f"{path}: not a readable zip file ({error})") from None
    try:
        record = json.loads(texts[RECORD_MEMBER])
    except ValueError as error:
        raise BundleError(f"{path}: {RECORD_MEMBER} is not valid JSON ({error})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise BundleError(f"{path}: {RECORD_MEMBER} is not a DeepWire run record")
    if record.get("version") != VERSION:
        raise BundleError(f"{path}: bundle version {record.get('version')!r} is not {VERSION}")
    for key, kind in (("final_metrics", dict), ("versions", dict), ("options", dict)):
        if not isinstance(record.get(key), kind):
            raise BundleError(f"{path}: {RECORD_MEMBER} has no valid {key!r}")
    return Bundle(texts[GRAPH_MEMBER], record)


def recorded_split(record: dict) -> str:
    """The split a bundle's final metrics come from (older bundles do not say: guessed)."""
    from runtime.run_store import METRICS_SPLITS, legacy_split

    split = record.get("metrics_split")
    if split in METRICS_SPLITS:
        return split
    metrics = record.get("final_metrics")
    return legacy_split(str(record.get("kind")), metrics if isinstance(metrics, dict) else {})


def compare_metrics(recorded: dict, reproduced: dict) -> list[tuple[str, float, float, bool]]:
    """(name, recorded, reproduced, within tolerance) for each recorded final metric."""
    rows = []
    for name, expected in recorded.items():
        actual = reproduced.get(name)
        if not isinstance(expected, int | float) or actual is None:
            rows.append((name, expected, actual, False))
            continue
        close = math.isclose(
            float(expected), float(actual), rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE
        )
        rows.append((name, float(expected), float(actual), close))
    return rows


def version_differences(recorded: dict, current: dict) -> list[str]:
    """'name recorded -> current' for each library whose version differs."""
    return [
        f"{name} {recorded[name]} -> {current.get(name, 'missing')}"
        for name in sorted(recorded)
        if recorded[name] != current.get(name)
    ]


def bundle_run(path: str | os.PathLike) -> tuple[RunRecord, list | None]:
    """A bundle as a run to list in the app: its record and trained weights (None if it has none).

    The record keeps the bundle's name, ending, curves and metrics; its id and
    graph key are placeholders (`RunJournal.add` gives it the document's).
    A `model.keras` member is read with Keras (call this on the runtime thread).

    Raises:
        BundleError: see `read_bundle`; also a run kind the history does not
            keep, or weights that cannot be read.
    """
    import time

    from runtime.run_store import ENDINGS, FINISHED, KINDS, text_sha256

    bundle = read_bundle(path)
    record = bundle.record
    kind = record.get("kind")
    if kind not in KINDS:
        raise BundleError(f"{path}: a {kind!r} run; the run history keeps {', '.join(KINDS)}")

    def number(key: str, default):
        value = record.get(key)
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else default

    def mapping(key: str) -> dict:
        value = record.get(key)
        return value if isinstance(value, dict) else {}

    run = RunRecord(
        id="",
        graph_key="",
        kind=kind,
        name=str(record.get("name") or Path(path).stem),
        graph_yaml=bundle.graph_yaml,
        graph_sha256=text_sha256(bundle.graph_yaml),
        options=mapping("options"),
        versions=mapping("versions"),
        started=number("started", time.time()),
        duration=number("duration", None),
        status=record.get("status") if record.get("status") in ENDINGS else FINISHED,
        message=str(record.get("message") or ""),
        epochs=mapping("epochs"),
        final_metrics=mapping("final_metrics"),
        metrics_split=recorded_split(record),
    )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            limit = limit_bytes(MAX_MODEL_MB_VARIABLE, DEFAULT_MAX_MODEL_MB)
            member = next((m for m in ("weights.npz", "model.keras") if m in names), None)
            if member is None:
                return run, None
            if archive.getinfo(member).file_size > limit:
                raise BundleError(f"{path}: {member} is larger than {limit} bytes")
            data = archive.read(member)
    except (zipfile.BadZipFile, OSError) as error:
        raise BundleError(f"{path}: not a readable zip file ({error})") from None
    try:
        if member == "weights.npz":
            import numpy as np

            with np.load(io.BytesIO(data)) as arrays:
                return run, [arrays[f"arr_{index}"] for index in range(len(arrays.files))]
        return run, _keras_weights(data)
    except Exception as error:  # a damaged archive member: any library error says so
        raise BundleError(f"{path}: its {member} cannot be read ({error})") from None


def _keras_weights(data: bytes) -> list:
    import keras

    from runtime.learned_state import trained_weights

    with tempfile.TemporaryDirectory() as folder:
        model_path = Path(folder) / "model.keras"
        atomic.write_bytes(model_path, data)
        return trained_weights(keras.saving.load_model(model_path, compile=False))
