"""Retrain a run bundle headless and check that its metrics come out the same.

`deepwire reproduce BUNDLE [--data-dir DIR]` trains the bundle's graph with
the run's settings, seeds and epochs, evaluates it on the test split and
compares every recorded final metric (tolerance: relative 1e-4); a run that
kept its last epoch's figures instead (never scored on the test split) is
compared on those. Library versions and data split rows that differ from the
recorded ones are named. With the
same library versions the numbers should match; otherwise the versions that
differ are named. Exit 0 when they match, 1 when they do not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from graph.messages import bounded_lines, first_line, printable
from graph.validation import ERROR, validate
from runtime.cli.common import EXIT_FILE, CommandError, fail, start_tensorflow, train
from runtime.run_store import STOPPED, TEST_SPLIT, library_versions, metric_label


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, help="run bundle (.zip) from `deepwire runs --bundle`")
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder the graph's data paths are relative to (default: the recorded graph's folder)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    from runtime.run_bundle import BundleError, read_bundle, read_split

    try:
        bundle = read_bundle(args.bundle)
        recorded_rows = read_split(args.bundle)
    except BundleError as error:
        return fail(CommandError(str(error), EXIT_FILE))
    start_tensorflow()
    try:
        return _reproduce(args, bundle, recorded_rows)
    except CommandError as error:
        return fail(error)


def _reproduce(args: argparse.Namespace, bundle, recorded_rows: dict | None) -> int:
    from graph.files import GraphFileError, graph_from_yaml
    from runtime.evaluation import evaluate
    from runtime.run_bundle import (
        compare_metrics,
        recorded_split,
        split_differences,
        version_differences,
    )

    record = bundle.record
    if record.get("kind") != "train":
        kind = printable(str(record.get("kind")))
        raise CommandError(f"{args.bundle}: holds a {kind} run; reproduce retrains train runs only")
    try:
        graph = graph_from_yaml(bundle.graph_yaml, source=f"{args.bundle}:graph.yaml")
    except GraphFileError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    errors = [p for p in validate(graph) if p.severity == ERROR]
    if errors:
        lines = "\n".join(bounded_lines(f"  - {p.message}" for p in errors))
        raise CommandError(f"{args.bundle}: the bundle's graph is not valid:\n{lines}")
    result, dataset = train(graph, _data_dir(args, record), _epochs(record), args.quiet)
    split = recorded_split(record)
    if split == TEST_SPLIT:
        try:
            reproduced = evaluate(result.model, dataset).metrics
        except Exception as error:  # one line, as every failure of a command, not a traceback
            raise CommandError(
                "the run retrained, but evaluating it on the test split failed "
                f"({type(error).__name__}: {first_line(error)})"
            ) from None
    else:  # the run kept its last epoch's figures (it was never scored on the test split)
        reproduced = {name: values[-1] for name, values in result.history.items() if values}
    rows = compare_metrics(record["final_metrics"], reproduced)
    print(f"{'metric':<28} {'recorded':>12} {'reproduced':>12}")
    for name, expected, actual, close in rows:
        label = metric_label(split, name)
        print(f"{label:<28} {_cell(expected)} {_cell(actual)}  {'same' if close else 'DIFFERENT'}")
    split_changes = (
        None if recorded_rows is None else split_differences(recorded_rows, dataset.split_rows)
    )
    code, text = verdict(
        record.get("id"),
        bool(rows) and all(close for *_, close in rows),
        version_differences(record["versions"], library_versions()),
        split_changes,
    )
    print(text)
    return code


def verdict(
    run_id: object, matched: bool, versions: list[str], split_changes: list[str] | None
) -> tuple[int, str]:
    """(exit code, what to tell) once the metrics are compared.

    Args:
        run_id: The bundle's run.
        matched: Whether every recorded metric came out within tolerance.
        versions: `version_differences` of the recorded and current libraries.
        split_changes: `split_differences` of the recorded and current data
            split; None when the bundle kept no split.
    """
    split_note = (
        "; the data split differs from the recorded one (" + "; ".join(split_changes) + ")"
        if split_changes
        else ""
    )
    if matched:
        text = f"reproduced: the metrics match run {run_id} within tolerance"
        if versions:
            text += " (with other library versions: " + ", ".join(versions) + ")"
        return 0, text + split_note
    if versions:
        return 1, "not reproduced; the library versions differ: " + ", ".join(versions) + split_note
    if split_changes:
        return 1, "not reproduced, with the same library versions" + split_note
    return 1, "not reproduced, with the same library versions (the data may have changed)"


def _cell(value: object) -> str:
    return f"{value:>12.6f}" if isinstance(value, float) else f"{value!s:>12}"


def _data_dir(args: argparse.Namespace, record: dict) -> Path | None:
    if args.data_dir is not None:
        return args.data_dir.resolve()
    key = str(record.get("graph_key", ""))
    if key and not key.startswith("unsaved:"):
        return Path(key).parent
    return Path.cwd()


def _epochs(record: dict) -> int | None:
    """The recorded epochs override; for a run the user stopped, the epochs it ran."""
    epochs = record["options"].get("epochs")
    losses = (
        record.get("epochs", {}).get("loss") if isinstance(record.get("epochs"), dict) else None
    )
    if record.get("status") == STOPPED and isinstance(losses, list) and losses:
        return len(losses)
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None
