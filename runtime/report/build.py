"""Gathers everything a deployment report shows: data, training, metrics, cost, exports, privacy.

The figures are measured here (evaluation on the test split, real exports
through runtime.deploy, quantized variants through runtime.compression);
runtime.report.html only lays them out.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras

from graph.cost import format_bytes, graph_cost
from graph.model import NetworkGraph
from graph.summary import summary_rows, summary_totals
from runtime.compression import CompressionError, compress
from runtime.cost_estimate import estimate_training_memory
from runtime.data import Dataset
from runtime.deploy import DeployError, export_model, export_path
from runtime.evaluation import evaluate, evaluate_outputs, predict
from runtime.report.graph_picture import graph_svg

DEFAULT_FORMATS = ("keras", "tflite", "onnx")
QUANTIZED_VARIANTS = ("tflite_dynamic", "tflite_int8", "tflite_float16", "keras_int8")
# Settings keys that say a run used differential privacy, wherever a section declares them.
DP_FLAGS = ("differential_privacy", "dp", "dp_enabled", "use_dp")
EPSILON_KEYS = ("epsilon", "target_epsilon", "dp_epsilon")


class ReportInputError(ValueError):
    """An optional input of the report (privacy figures, compression results) is malformed."""


@dataclass(frozen=True)
class PrivacyFigures:
    """What is known about the model's privacy; every figure optional.

    Attributes:
        dp_used: Whether training used differential privacy; None when unknown.
        epsilon: The privacy budget spent (smaller is more private).
        delta: The DP delta.
        membership_auc: AUC of a membership-inference attack (0.5: it cannot
            tell training samples from others).
        notes: Free text from whoever measured them.
    """

    dp_used: bool | None = None
    epsilon: float | None = None
    delta: float | None = None
    membership_auc: float | None = None
    notes: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> PrivacyFigures:
        """Reads figures such as the federated/privacy runs write them.

        Raises:
            ReportInputError: naming the key whose value has the wrong type or range.
        """
        if not isinstance(data, dict):
            raise ReportInputError(
                f"privacy figures must be a JSON object. Received: {type(data).__name__}"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ReportInputError(
                f"privacy figures have no key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key == "dp_used":
                if not isinstance(value, bool):
                    raise ReportInputError(f"dp_used must be true or false. Received: {value!r}")
            elif key == "notes":
                if not isinstance(value, str):
                    raise ReportInputError(f"notes must be text. Received: {value!r}")
            else:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ReportInputError(f"{key} must be a number. Received: {value!r}")
                value = float(value)
                if not math.isfinite(value) or value < 0:
                    raise ReportInputError(f"{key} must be a finite number >= 0. Received: {value}")
                if key in ("membership_auc", "delta") and value > 1:
                    raise ReportInputError(f"{key} must lie between 0 and 1. Received: {value}")
            values[key] = value
        return cls(**values)

    def merged_with_settings(self, graph: NetworkGraph) -> PrivacyFigures:
        """Fills dp_used and epsilon from the graph's settings where the figures leave them out."""
        dp_used, epsilon = self.dp_used, self.epsilon
        for section in graph.settings.values():
            for key in DP_FLAGS:
                if dp_used is None and isinstance(section.get(key), bool):
                    dp_used = section[key]
            for key in EPSILON_KEYS:
                if epsilon is None and isinstance(section.get(key), (int, float)):
                    epsilon = float(section[key])
        return dataclasses.replace(self, dp_used=dp_used, epsilon=epsilon)


@dataclass
class DeploymentReport:
    """Everything the HTML page shows, as plain data."""

    title: str
    description: str
    generated: str
    graph_svg: str
    data: dict[str, Any]
    training: dict[str, Any]
    task: str
    metrics: dict[str, float]
    train_metrics: dict[str, float]
    per_class: list[dict[str, Any]]
    confusion: list[list[int]] | None
    class_names: list[str]
    cost: dict[str, Any]
    layers: list[dict[str, Any]]
    exports: list[dict[str, Any]] = field(default_factory=list)
    export_failures: dict[str, str] = field(default_factory=dict)
    compression: dict[str, Any] | None = None
    privacy: PrivacyFigures = field(default_factory=PrivacyFigures)
    memorisation: list[str] = field(default_factory=list)


def build_report(
    graph: NetworkGraph,
    dataset: Dataset,
    model: keras.Model,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    compression: dict[str, Any] | None = None,
    quantize: bool = True,
    privacy: PrivacyFigures | None = None,
    on_progress: Callable[[float, str], None] | None = None,
) -> DeploymentReport:
    """Measures `model` and gathers the report.

    Args:
        graph: The model's graph (picture, settings, cost).
        dataset: The data it was trained on; its test split is scored.
        model: The trained model.
        formats: Export formats to write, verify and time (runtime.deploy.FORMATS).
        compression: Results of an earlier compression run
            (CompressionReport.to_dict()); measured afresh when None and `quantize`.
        quantize: Whether to measure the quantized variants when `compression` is None.
        privacy: Figures from a privacy run (DP epsilon, membership-inference AUC).
        on_progress: Called with (fraction, what is being done).
    """

    def progress(fraction: float, text: str) -> None:
        if on_progress is not None:
            on_progress(fraction, text)

    progress(0.0, "evaluating on the test split")
    evaluation = evaluate(model, dataset)
    train_split = dataclasses.replace(dataset, x_test=dataset.x_train, y_test=dataset.y_train)
    train_metrics = evaluate_outputs(predict(model, dataset.x_train), train_split).metrics
    report = DeploymentReport(
        title=graph.name,
        description=graph.description,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        graph_svg=graph_svg(graph),
        data=_data_section(graph, dataset),
        training=dict(graph.training),
        task=evaluation.task,
        metrics=dict(evaluation.metrics),
        train_metrics=dict(train_metrics),
        per_class=[vars(c) for c in evaluation.per_class],
        confusion=None if evaluation.confusion is None else evaluation.confusion.tolist(),
        class_names=[str(n) for n in evaluation.class_names],
        cost=_cost_section(graph, dataset),
        layers=_layer_rows(graph),
        compression=compression,
        privacy=(privacy or PrivacyFigures()).merged_with_settings(graph),
    )
    report.memorisation = memorisation_notes(report, len(dataset.x_train))
    with tempfile.TemporaryDirectory(prefix="deepwire-report-") as work:
        for index, fmt in enumerate(formats):
            progress(0.2 + 0.4 * index / max(len(formats), 1), f"exporting {fmt}")
            try:
                result = export_model(model, fmt, export_path(Path(work), "model", fmt))
            except DeployError as error:
                report.export_failures[fmt] = str(error)
                continue
            report.exports.append(
                {
                    "format": fmt,
                    "size_bytes": result.size_bytes,
                    "p50_ms": result.p50_ms,
                    "p95_ms": result.p95_ms,
                    "throughput": result.throughput,
                    "max_abs_diff": result.max_abs_diff,
                }
            )
        if report.compression is None and quantize:
            progress(0.6, "measuring quantized variants")
            try:
                measured = compress(
                    model, graph, dataset, Path(work) / "compressed", QUANTIZED_VARIANTS
                )
            except CompressionError as error:
                report.compression = {"variants": [], "failures": {"all": str(error)}}
            else:
                report.compression = measured.to_dict()
    progress(1.0, "done")
    return report


def _data_section(graph: NetworkGraph, dataset: Dataset) -> dict[str, Any]:
    settings = graph.dataset
    source = settings.get("name") if settings.get("source") == "builtin" else settings.get("path")
    return {
        "summary": dataset.describe(),
        "source": f"{settings.get('source')}: {source}",
        "task": dataset.task,
        "input_shape": str(tuple(dataset.input_shape)),
        "train": len(dataset.x_train),
        "validation": 0 if dataset.x_val is None else len(dataset.x_val),
        "test": len(dataset.x_test),
        "classes": ", ".join(map(str, dataset.class_names)) or "-",
        "settings": dict(settings),
    }


def _cost_section(graph: NetworkGraph, dataset: Dataset) -> dict[str, Any]:
    cost = graph_cost(graph)
    totals = summary_totals(graph)
    memory = estimate_training_memory(graph, dataset)
    return {
        "macs": cost.macs,
        "params": totals.total,
        "trainable": totals.trainable,
        "weights_float32": cost.weight_bytes("float32"),
        "weights_float16": cost.weight_bytes("float16"),
        "weights_int8": cost.weight_bytes("int8"),
        "activation_bytes": cost.activation_bytes,
        "training_memory": memory.total,
        "training_memory_parts": memory.breakdown(),
        "incomplete": cost.incomplete,
    }


def _layer_rows(graph: NetworkGraph) -> list[dict[str, Any]]:
    return [
        {
            "name": row.name,
            "type": row.type,
            "output_shape": row.output_shape,
            "params": row.param_count,
            "macs": row.macs,
            "weights": format_bytes(row.weight_bytes),
            "activations": format_bytes(row.activation_bytes),
        }
        for row in summary_rows(graph)
    ]


def memorisation_notes(report: DeploymentReport, train_samples: int) -> list[str]:
    """Plain sentences on what the model may have memorised about its training data."""
    notes = []
    params = report.cost["params"]
    ratio = params / max(train_samples, 1)
    notes.append(
        f"The model has {params:,} weights for {train_samples:,} training samples "
        f"({ratio:.1f} per sample). "
        + (
            "With more weights than samples it has room to memorise individual samples."
            if ratio > 1
            else "Fewer weights than samples leave less room to memorise individuals."
        )
    )
    key = "accuracy" if report.task == "classification" else "mse"
    train, test = report.train_metrics.get(key), report.metrics.get(key)
    if train is not None and test is not None:
        gap = train - test if key == "accuracy" else test - train
        verdict = (
            "a gap this large suggests it remembers training samples better than it generalises"
            if (gap > 0.05 if key == "accuracy" else gap > 0.1 * max(abs(train), 1e-12))
            else "a small gap: little sign of memorisation"
        )
        notes.append(f"Training {key} {train:.4f} vs test {key} {test:.4f}: {verdict}.")
    if report.privacy.membership_auc is None:
        notes.append(
            "No membership-inference attack was measured: run one to see whether an attacker "
            "can tell training samples from others."
        )
    return notes
