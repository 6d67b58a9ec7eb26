"""Benchmark: code export for 1,000-node graphs and import of a 200+ layer model.

Prints each time against its target and against Keras's own time for the
same model, as ratios:
- export (validation + code generation) of 1,000-node chain and branched
  graphs vs the 100 ms target, and vs building the same model in Keras;
- import (config -> graph, incl. checks and layout) of the largest model the
  catalog supports vs Keras rebuilding it (`keras.Model.from_config`);
  target <= 2x;
- finding and folding repeated blocks in that imported graph vs 1 s.

Run: `.venv/bin/python bench/codegen_import.py [--import]`
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXPORT_TARGET_S = 0.100
IMPORT_TARGET_RATIO = 2.0
FOLD_TARGET_S = 1.0
REPEATS = 5


def median_time(action, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_export() -> None:
    from codegen.python_source import export_model_code
    from graph.generators import branched_graph, chain_graph

    print("Export of model code (validation included), median of", REPEATS)
    rows = []
    for name, graph in (("chain", chain_graph(1000)), ("branched", branched_graph(1000))):
        seconds = median_time(lambda g=graph: export_model_code(g))
        rows.append((name, graph, seconds))
        print(
            f"  {name:<9} 1,000 nodes: {seconds * 1000:7.1f} ms   "
            f"target {EXPORT_TARGET_S * 1000:.0f} ms   ratio {seconds / EXPORT_TARGET_S:.2f}"
        )
    import keras

    from runtime.builder import build_model

    print("  vs Keras building the same model (runtime.builder, 1 run each)")
    for name, graph, seconds in rows:
        keras.backend.clear_session()
        start = time.perf_counter()
        build_model(graph)
        keras_seconds = time.perf_counter() - start
        print(
            f"  {name:<9} keras build {keras_seconds * 1000:8.1f} ms   "
            f"export/keras ratio {seconds / keras_seconds:.3f}"
        )


# keras.applications models by layer count, largest first (32x32 inputs, 10 classes).
LARGEST_FIRST = ("NASNetLarge", "EfficientNetV2L", "EfficientNetB7", "DenseNet201", "ResNet152V2")


def largest_supported_model():
    """The biggest keras.applications architecture the catalog imports, or a generated stand-in."""
    import keras

    from graph.generators import branched_graph
    from runtime.builder import build_model
    from runtime.importer import ImportModelError, import_model

    for name in LARGEST_FIRST:
        model = getattr(keras.applications, name)(weights=None, input_shape=(32, 32, 3), classes=10)
        try:
            import_model(model)
        except ImportModelError as error:
            print(f"  {name}: not importable ({str(error).splitlines()[0]})")
            continue
        return name, model
    model = build_model(branched_graph(400))
    return "generated branched model (400 layers; no keras.applications model imports)", model


def bench_import() -> None:
    import keras

    from runtime.importer import import_model

    print("Import of a large model (config -> graph, checks and layout included)")
    name, model = largest_supported_model()
    config = model.get_config()
    import_seconds = median_time(lambda: import_model(model), 3)
    # from_config consumes its argument, so each run gets a fresh copy (made untimed).
    copies = [copy.deepcopy(config) for _ in range(3)]
    keras_seconds = median_time(lambda: keras.Model.from_config(copies.pop()), 3)
    ratio = import_seconds / keras_seconds
    print(f"  model: {name}, {len(model.layers)} layers")
    print(
        f"  import {import_seconds * 1000:8.1f} ms   "
        f"keras from_config {keras_seconds * 1000:8.1f} ms   "
        f"ratio {ratio:.2f} (target <= {IMPORT_TARGET_RATIO:.1f})"
    )
    bench_folding(import_model(model))


def bench_folding(graph) -> None:
    """Finding and folding repeats in the imported graph, against the 1 s target."""
    from graph.block_folding import describe, find_repeats, fold_repeats

    repeats = find_repeats(graph)
    find_seconds = median_time(lambda: find_repeats(graph))
    # Nothing is folded (or copied) when nothing repeats.
    fold_seconds = median_time(lambda: fold_repeats(graph, repeats)) if repeats else 0.0
    total = find_seconds + fold_seconds
    print(f"  fold repeats: {describe(graph.name, repeats)}")
    print(
        f"  find {find_seconds * 1000:8.1f} ms   fold {fold_seconds * 1000:8.1f} ms   "
        f"target {FOLD_TARGET_S * 1000:.0f} ms   ratio {total / FOLD_TARGET_S:.2f}"
    )


if __name__ == "__main__":
    # --import runs only the import benchmark.
    if "--import" not in sys.argv:
        bench_export()
    bench_import()
