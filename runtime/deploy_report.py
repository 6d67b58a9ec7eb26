"""What a deployment export reports, free of TensorFlow.

The `deploy` run kind executes in the training process; the window unpickles
its events and result, so the classes they hold must import nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graph.cost import format_bytes
from runtime.runs.base import RunError

FORMATS = ("keras", "saved_model", "tflite", "onnx")

# Why a format cannot hold a model that reads text; declared once for deploy and compress.
TEXT_REFUSALS = {
    "tflite": "TFLite's own operations cannot split text into words: TextVectorization "
    "needs TensorFlow's operations inside TFLite (the Flex delegate), which the TFLite "
    "interpreter here cannot run to check the file",
    "onnx": "ONNX has no operations to split text into words and look them up (TextVectorization)",
}
TEXT_FORMATS_HINT = "deploy a model that reads text as SavedModel or .keras"


def refusal_for_text(fmt: str) -> str:
    """Why `fmt` cannot hold a model that reads raw text, and what can."""
    return f"{TEXT_REFUSALS[fmt]}; {TEXT_FORMATS_HINT}"


def graph_reads_text(graph) -> bool:
    """Whether the graph has an Input of strings (raw text for a TextVectorization)."""
    return any(n.type == "Input" and n.params.get("dtype") == "string" for n in graph.nodes)


HEADER = f"{'format':<12} {'size':>10} {'p50 ms':>9} {'p95 ms':>9} {'samples/s':>12}  path"


def chosen_formats(options: dict, default: tuple[str, ...] = FORMATS) -> tuple[str, ...]:
    """The formats a run's option ``formats`` names (else `default`), each checked.

    Raises:
        RunError: naming the first unknown format.
    """
    formats = tuple(options.get("formats") or default)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RunError(
            f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}. "
            f"Received: {list(formats)!r}"
        )
    return formats


@dataclass(frozen=True)
class DeployReport:
    """An exported, verified model and its measured speed.

    Attributes:
        format: One of FORMATS.
        path: The file (or SavedModel folder) written.
        size_bytes: Its size on disk (a folder's files summed).
        p50_ms: Median single-sample latency in milliseconds.
        p95_ms: 95th percentile single-sample latency in milliseconds.
        throughput: Samples per second on batches of runtime.deploy.THROUGHPUT_BATCH.
        max_abs_diff: Largest difference from the Keras model's outputs.
    """

    format: str
    path: Path
    size_bytes: int
    p50_ms: float
    p95_ms: float
    throughput: float
    max_abs_diff: float

    def line(self) -> str:
        """One row for the command line."""
        return (
            f"{self.format:<12} {format_bytes(self.size_bytes):>10} {self.p50_ms:>9.3f} "
            f"{self.p95_ms:>9.3f} {self.throughput:>12,.0f}  {self.path}"
        )


@dataclass(frozen=True)
class FormatExported:
    """One format of a `deploy` run is done: written, loaded back and measured, or failed.

    Attributes:
        format: One of FORMATS.
        report: Its DeployReport, or None when it failed.
        message: Why it failed ("" when it did not).
    """

    format: str
    report: DeployReport | None
    message: str = ""


@dataclass(frozen=True)
class DeployResult:
    """The outcome of a `deploy` run.

    Attributes:
        reports: The formats written, in the order asked.
        failures: Format -> why it failed.
        keras_baseline: (p50 ms, p95 ms, samples/s) of the in-memory Keras
            model, when asked for.
        source: Which model was exported, in words ("the model trained in this run", ...).
    """

    reports: tuple[DeployReport, ...]
    failures: dict[str, str]
    keras_baseline: tuple[float, float, float] | None
    source: str
