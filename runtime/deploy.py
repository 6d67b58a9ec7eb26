"""Export a trained model for deployment, verify it and measure it.

Formats: `.keras` (Keras), SavedModel (TensorFlow Serving), TFLite (mobile)
and ONNX. Each export is loaded back with its own runtime (keras,
tf.saved_model, the TFLite interpreter, onnxruntime) and its outputs are
compared with the Keras model's on the same inputs; then single-sample
latency (p50/p95) and batch throughput are measured with that runtime.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from graph import atomic
from graph.messages import first_line
from runtime.data_contract import takes_text
from runtime.deploy_report import FORMATS, TEXT_REFUSALS, DeployReport, refusal_for_text
from runtime.saving import save_keras_model

SUFFIXES = {"keras": ".keras", "saved_model": "", "tflite": ".tflite", "onnx": ".onnx"}
LATENCY_RUNS = 50
THROUGHPUT_BATCH = 256
RTOL, ATOL = 1e-3, 1e-4

Runner = Callable[[list[np.ndarray]], list[np.ndarray]]


class DeployError(ValueError):
    """An export that failed, or whose reloaded model disagrees with the Keras model."""


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


# The size given to an open input dimension (None) when measuring without data:
# large enough for a few stride-2 stages of a fully convolutional network.
OPEN_DIMENSION_SAMPLE = 32


# Made-up words for a text input's random samples; a vocabulary maps unknown ones to OOV.
SAMPLE_WORDS = np.array("the a film plot was not dull great acting music".split())
SAMPLE_TEXT_WORDS = 6


def sample_inputs(model: keras.Model, batch: int, seed: int = 0) -> list[np.ndarray]:
    """Random inputs for every model input: float32 standard normal (like scaled data),
    or, for a text input, short texts of common words.

    Open dimensions (None) get OPEN_DIMENSION_SAMPLE.
    """
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        shape = (batch, *(_sample_size(d) for d in tensor.shape[1:]))
        texts = takes_text(tensor)
        inputs.append(
            _sample_texts(rng, shape) if texts else rng.normal(size=shape).astype("float32")
        )
    return inputs


def _sample_texts(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Texts of SAMPLE_TEXT_WORDS made-up words each, in an array of `shape`."""
    words = SAMPLE_WORDS[
        rng.integers(0, len(SAMPLE_WORDS), (int(np.prod(shape)), SAMPLE_TEXT_WORDS))
    ]
    return np.array([" ".join(row) for row in words], dtype=object).reshape(shape)


def reads_text(model: keras.Model) -> bool:
    """Whether a model input takes strings (a TextVectorization model reads raw text)."""
    return any(takes_text(tensor) for tensor in model.inputs)


def _sample_size(dimension: int | None) -> int:
    return OPEN_DIMENSION_SAMPLE if dimension is None else int(dimension)


def _as_list(outputs) -> list[np.ndarray]:
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(o) for o in outputs]


def _model_arg(model_inputs: list[np.ndarray]):
    return model_inputs[0] if len(model_inputs) == 1 else model_inputs


def _keras_runner(path: Path) -> Runner:
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    return lambda inputs: _as_list(loaded(_model_arg(inputs), training=False))


def _saved_model_runner(path: Path) -> Runner:
    loaded = tf.saved_model.load(str(path))
    return lambda inputs: _as_list(loaded.serve(_model_arg(inputs)))


def tflite_runner(path: Path, model: keras.Model) -> Runner:
    """Runs the TFLite file at `path` on batches of `model`'s inputs, one array per input."""
    return _tflite_runner(path, model)


def _tflite_runner(path: Path, model: keras.Model) -> Runner:
    with warnings.catch_warnings():
        # Deprecated in favour of ai_edge_litert, which is not a dependency.
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=str(path))
    names = [tensor.name.split(":")[0] for tensor in model.inputs]
    details = interpreter.get_input_details()
    # TFLite names inputs like "serving_default_input_1:0"; match them to the Keras inputs.
    order = []
    for name in names:
        match = next((d for d in details if d["name"].split(":")[0].endswith(name)), None)
        order.append(match if match is not None else details[len(order)])
    outputs = sorted(interpreter.get_output_details(), key=lambda d: d["index"])
    fixed_batch = order[0]["shape_signature"][0] == 1
    state = {"batch": None}

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        if fixed_batch and len(inputs[0]) > 1:
            rows = [run([a[i : i + 1] for a in inputs]) for i in range(len(inputs[0]))]
            return [np.concatenate(parts) for parts in zip(*rows, strict=True)]
        batch = len(inputs[0])
        if state["batch"] != batch:
            for detail, array in zip(order, inputs, strict=True):
                interpreter.resize_tensor_input(detail["index"], array.shape)
            interpreter.allocate_tensors()
            state["batch"] = batch
        for detail, array in zip(order, inputs, strict=True):
            interpreter.set_tensor(detail["index"], array)
        interpreter.invoke()
        return [interpreter.get_tensor(d["index"]) for d in outputs]

    return run


def _onnx_runner(path: Path) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return lambda inputs: session.run(None, dict(zip(names, inputs, strict=True)))


def _write(model: keras.Model, fmt: str, path: Path) -> None:
    # The TFLite and ONNX exporters print an intermediate SavedModel's
    # signature even when asked not to; keep the command line's output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        _write_format(model, fmt, path)


def _write_format(model: keras.Model, fmt: str, path: Path) -> None:
    # Every format goes to a temporary sibling first (graph.atomic): a kill or a
    # full disk leaves the previous export intact.
    if fmt == "keras":
        save_keras_model(model, path)
    elif fmt == "saved_model":
        atomic.write_with(
            path,
            lambda temporary: model.export(str(temporary), format="tf_saved_model", verbose=False),
        )
    elif fmt == "tflite":
        atomic.write_bytes(path, _tflite_bytes(model))
    else:
        with warnings.catch_warnings():
            # tf2onnx probes np.object, which NumPy warns about.
            warnings.simplefilter("ignore", FutureWarning)
            atomic.write_with(
                path, lambda temporary: model.export(str(temporary), format="onnx", verbose=False)
            )


def _tflite_bytes(model: keras.Model) -> bytes:
    """TFLite flatbuffer with a dynamic batch size when builtin ops allow it."""
    return tflite_convert(model, lambda _converter: None)


def tflite_convert(model: keras.Model, configure: Callable[[object], None]) -> bytes:
    """Converts `model` to a TFLite flatbuffer, `configure` setting up each converter tried.

    Recurrent layers need static shapes in builtin TFLite ops; for them the
    model is converted for one sample at a time (as on a phone) and the
    runner feeds batches sample by sample.

    Args:
        model: The Keras model.
        configure: Sets options on a `tf.lite.TFLiteConverter` (quantization) before converting.
    """
    if not _has_recurrent_layers(model):
        try:
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            configure(converter)
            return converter.convert()
        except Exception:
            pass
    specs = [tf.TensorSpec((1, *t.shape[1:]), t.dtype) for t in model.inputs]
    arg = specs[0] if len(specs) == 1 else specs
    function = tf.function(lambda x: model(x, training=False)).get_concrete_function(arg)
    # Weights frozen into constants: TFLite's resource variables fail inside
    # the recurrent WHILE loop.
    frozen = convert_variables_to_constants_v2(function)
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    # A frozen function has no trackable object to pass; the warning about it does not apply.
    absl_logger.setLevel(logging.ERROR)
    try:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
        configure(converter)
        return converter.convert()
    finally:
        absl_logger.setLevel(level)


def _has_recurrent_layers(model: keras.Model) -> bool:
    kinds = (keras.layers.RNN, keras.layers.Bidirectional, keras.layers.TimeDistributed)
    return any(isinstance(layer, kinds) for layer in model.layers)


def _runner(model: keras.Model, fmt: str, path: Path) -> Runner:
    if fmt == "keras":
        return _keras_runner(path)
    if fmt == "saved_model":
        return _saved_model_runner(path)
    if fmt == "tflite":
        return _tflite_runner(path, model)
    return _onnx_runner(path)


def export_path(directory: Path, name: str, fmt: str) -> Path:
    """Where `fmt` is written in `directory`: model.keras, model_saved_model/, ..."""
    if fmt == "saved_model":
        return directory / f"{name}_saved_model"
    return directory / f"{name}{SUFFIXES[fmt]}"


def export_model(
    model: keras.Model, fmt: str, path: Path | str, sample: list[np.ndarray] | None = None
) -> DeployReport:
    """Writes `model` as `fmt` to `path`, verifies the reloaded copy and measures it.

    Args:
        model: A built (ideally trained) Keras model.
        fmt: One of FORMATS: "keras", "saved_model", "tflite", "onnx".
        path: The file (or, for saved_model, folder) to write.
        sample: Inputs to compare outputs on (one array per model input);
            random normal data when None.

    Raises:
        DeployError: when the export fails, cannot be loaded back, or its
            outputs differ from the Keras model's.
    """
    if fmt not in FORMATS:
        raise DeployError(f"format must be one of {', '.join(FORMATS)}. Received: {fmt!r}")
    path = Path(path)
    if fmt in TEXT_REFUSALS and reads_text(model):
        raise DeployError(f"{fmt} export to {path} refused: {refusal_for_text(fmt)}")
    sample = sample or sample_inputs(model, 8)
    # The ONNX exporter needs a model that has been called on data.
    expected = _as_list(model(_model_arg(sample), training=False))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(model, fmt, path)
        run = _runner(model, fmt, path)
        actual = run(sample)
    except Exception as error:
        first = first_line(error)
        raise DeployError(f"{fmt} export to {path} failed: {first}") from None
    if len(actual) != len(expected):
        raise DeployError(
            f"{fmt} model at {path} returns {len(actual)} outputs, the Keras model {len(expected)}"
        )
    diff = 0.0
    for want, got in zip(expected, actual, strict=True):
        got = np.asarray(got).reshape(want.shape)
        diff = max(diff, float(np.max(np.abs(want - got))) if want.size else 0.0)
        if not np.allclose(want, got, rtol=RTOL, atol=ATOL):
            raise DeployError(
                f"{fmt} model at {path} disagrees with the Keras model: largest difference "
                f"{diff:.3g} (tolerance rtol={RTOL}, atol={ATOL})"
            )
    p50, p95 = _latency(run, [a[:1] for a in sample])
    throughput = _throughput(run, sample_inputs(model, THROUGHPUT_BATCH, seed=1))
    return DeployReport(fmt, path, _size(path), p50, p95, throughput, diff)


def keras_latency(model: keras.Model) -> tuple[float, float, float]:
    """The in-memory Keras model's (p50 ms, p95 ms, samples/s), as a baseline."""

    def run(inputs):
        return _as_list(model(_model_arg(inputs), training=False))

    p50, p95 = _latency(run, sample_inputs(model, 1))
    return p50, p95, _throughput(run, sample_inputs(model, THROUGHPUT_BATCH, seed=1))


def latency(run: Runner, single: list[np.ndarray]) -> tuple[float, float]:
    """(p50 ms, p95 ms) of `run` on one sample (one array per model input)."""
    return _latency(run, single)


def _latency(run: Runner, single: list[np.ndarray]) -> tuple[float, float]:
    for _ in range(3):
        run(single)
    times = []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        run(single)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _throughput(run: Runner, batch: list[np.ndarray], repeats: int = 5) -> float:
    run(batch)
    start = time.perf_counter()
    for _ in range(repeats):
        run(batch)
    return repeats * len(batch[0]) / (time.perf_counter() - start)
