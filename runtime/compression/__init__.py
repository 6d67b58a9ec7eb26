"""Compression: shrink a trained model and see what it costs in accuracy, size and speed.

:func:`compress` measures the float model, then each chosen variant
(post-training quantizations from :mod:`.quantization`, magnitude pruning
from :mod:`.pruning`) on the same test split, writing every file atomically
into one folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras

from graph.model import NetworkGraph
from runtime.compression.files import FLOAT_MODEL
from runtime.compression.files import zipped as zipped_name
from runtime.compression.measure import (
    CompressionError,
    VariantResult,
    keras_runner,
    measure_variant,
    save_keras,
    test_metric,
)
from runtime.compression.pruning import check_sparsity, prune_variant, zipped_size
from runtime.compression.quantization import VARIANTS, quantize, representative_inputs
from runtime.data import Dataset

ALL_VARIANTS = (*VARIANTS, "pruned")

__all__ = [
    "ALL_VARIANTS",
    "CompressionError",
    "CompressionReport",
    "VariantResult",
    "check_request",
    "compress",
    "representative_inputs",
]


@dataclass
class CompressionReport:
    """The float model and every variant measured against it.

    Attributes:
        results: One row per variant, the float model first.
        failures: Variants that could not be made, with the reason.
    """

    results: list[VariantResult] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    def table(self) -> str:
        """A plain-text table; '!' marks a metric that lost more than the tolerance."""
        header = (
            f"{'variant':<16} {'metric':>9} {'change':>10} {'size':>10} {'p50 ms':>8} "
            f"{'p95 ms':>8}  notes"
        )
        lines = [header]
        for r in self.results:
            flag = " !" if r.worse_than_tolerance else ""
            lines.append(
                f"{r.name:<16} {r.metric:>9.4f} {r.change_text() + flag:>10} "
                f"{_size(r.size_bytes):>10} {r.p50_ms:>8.3f} {r.p95_ms:>8.3f}  {r.note}".rstrip()
            )
        lines += [f"{name:<16} failed: {reason}" for name, reason in self.failures.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "variants": [
                {**vars(r), "worse_than_tolerance": r.worse_than_tolerance} for r in self.results
            ],
            "failures": dict(self.failures),
        }


def _size(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def check_request(variants: tuple[str, ...], sparsity: float) -> None:
    """Raises CompressionError for an unknown variant, or a sparsity outside (0, 1) if pruning."""
    unknown = [v for v in variants if v not in ALL_VARIANTS]
    if unknown:
        raise CompressionError(
            f"unknown variant {unknown[0]!r}; choose from {', '.join(ALL_VARIANTS)}"
        )
    if "pruned" in variants:
        check_sparsity(sparsity)


def compress(
    model: keras.Model,
    graph: NetworkGraph,
    dataset: Dataset,
    directory: Path,
    variants: tuple[str, ...] = ALL_VARIANTS,
    sparsity: float = 0.5,
    fine_tune_epochs: int = 2,
    on_progress: Callable[[float, str], None] | None = None,
    representative: list | None = None,
) -> CompressionReport:
    """Measures `model` and each variant of it on the test split.

    A variant that cannot be made (a layer TFLite cannot convert) is reported
    in `failures` with its reason; the others still run.

    Args:
        model: The trained float Keras model.
        graph: Its graph (training settings for the pruning fine-tune).
        dataset: The dataset the model was trained on.
        directory: The folder the files are written to (created if missing).
        variants: Keys of ALL_VARIANTS.
        sparsity: Target sparsity of "pruned", in (0, 1).
        fine_tune_epochs: Epochs of fine-tuning while pruning.
        on_progress: Called with (fraction done, what is being done).
        representative: Calibration samples for tflite_int8 (representative_inputs);
            drawn from the training split when None.

    Raises:
        CompressionError: for an unknown variant or a sparsity outside (0, 1),
            before anything is written.
    """
    check_request(variants, sparsity)
    directory.mkdir(parents=True, exist_ok=True)
    report = CompressionReport()

    def progress(fraction: float, text: str) -> None:
        if on_progress is not None:
            on_progress(fraction, text)

    progress(0.0, "measuring the float model")
    float_path = directory / FLOAT_MODEL
    save_keras(model, float_path)
    baseline = test_metric(keras_runner(model), model, dataset)
    zipped = zipped_size(float_path, directory / zipped_name(FLOAT_MODEL))
    report.results.append(
        measure_variant(
            "float",
            "Float32 Keras model",
            keras_runner(model),
            model,
            dataset,
            None,
            float_path.stat().st_size,
            str(float_path),
            note=f"zipped {_size(zipped)}",
        )
    )
    for index, variant in enumerate(variants):
        progress((index + 1) / (len(variants) + 1), f"{variant}")
        try:
            if variant == "pruned":
                result = prune_variant(
                    model, graph, dataset, directory, baseline, sparsity, fine_tune_epochs
                )
            else:
                result = quantize(model, variant, dataset, directory, baseline, representative)
        except CompressionError as error:
            report.failures[variant] = str(error)
            continue
        report.results.append(result)
    progress(1.0, "done")
    return report
