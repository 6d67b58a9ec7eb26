"""Post-training quantization: store weights (and maybe activations) in fewer bits.

Four variants, each a different trade of size and speed against accuracy:

- ``tflite_dynamic``: TFLite dynamic-range quantization; weights int8, activations
  float, quantized on the fly.
- ``tflite_int8``: TFLite full-integer quantization; weights and activations
  int8, their ranges calibrated on a representative sample of the training
  split. Every op must have an int8 kernel.
- ``tflite_float16``: TFLite with float16 weights; half the size, near-float accuracy.
- ``keras_int8``: Keras's own ``model.quantize("int8")`` (Dense, EinsumDense and
  Embedding kernels in int8 with per-channel scales), saved as ``.keras``.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from graph.atomic import write_bytes
from runtime.compression.files import variant_file
from runtime.compression.measure import (
    CompressionError,
    VariantResult,
    input_batches,
    input_list,
    keras_runner,
    measure_variant,
    save_keras,
)
from runtime.data import DataError, Dataset
from runtime.data_contract import ImageFiles
from runtime.deploy import reads_text, tflite_convert, tflite_runner
from runtime.deploy_report import TEXT_REFUSALS
from runtime.learned_state import clone_trained

VARIANTS = {
    "tflite_dynamic": "TFLite dynamic-range (int8 weights)",
    "tflite_int8": "TFLite full integer (int8)",
    "tflite_float16": "TFLite float16",
    "keras_int8": "Keras int8 (model.quantize)",
}
REPRESENTATIVE_SAMPLES = 100


def representative_inputs(
    model: keras.Model, x, count: int = REPRESENTATIVE_SAMPLES, seed: int = 0
) -> list[list[np.ndarray]]:
    """Up to `count` single samples of `x`, drawn at random, as lists of per-input arrays.

    Only the drawn samples are read: image files are decoded `count` at most,
    never the whole split.

    Raises:
        CompressionError: when the samples do not fit the model's inputs, naming both shapes.
    """
    if not isinstance(x, ImageFiles):
        x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise CompressionError(
            f"representative data must hold samples, one per row. Received: shape {x.shape}"
        )
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x), size=min(count, len(x)), replace=False)
    drawn = x.take(picks) if isinstance(x, ImageFiles) else x[picks]
    try:
        arrays = input_list(model, drawn)
    except DataError as error:
        expected = ", ".join(f"{t.name} {tuple(t.shape[1:])}" for t in model.inputs)
        raise CompressionError(
            f"representative data of sample shape {tuple(x.shape[1:])} does not fit the "
            f"model's input ({expected}): {error}"
        ) from None
    # One batch holding just the drawn samples, in the order drawn.
    arrays = next(input_batches(arrays, size=len(picks)))
    return [[a[i : i + 1] for a in arrays] for i in range(len(picks))]


def tflite_bytes(
    model: keras.Model, variant: str, representative: list[list[np.ndarray]] | None = None
) -> bytes:
    """The TFLite flatbuffer of `model` quantized as `variant`.

    Args:
        model: A trained float Keras model.
        variant: "tflite_dynamic", "tflite_int8" or "tflite_float16".
        representative: Samples calibrating activation ranges; needed for tflite_int8.

    Raises:
        CompressionError: naming the layer TFLite could not convert, where it says.
    """
    if reads_text(model):
        raise CompressionError(f"{variant}: {TEXT_REFUSALS['tflite']}")
    if variant == "tflite_int8" and not representative:
        raise CompressionError("tflite_int8 needs representative data from the training split")
    if variant == "tflite_int8":
        refuse_recurrent_int8(model)

    def configure(converter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "tflite_float16":
            converter.target_spec.supported_types = [tf.float16]
        elif variant == "tflite_int8":
            converter.representative_dataset = lambda: iter(representative)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tflite_convert(model, configure)
    except Exception as error:
        raise CompressionError(conversion_message(model, variant, error)) from None


def refuse_recurrent_int8(model: keras.Model) -> None:
    """TFLite's full-integer quantizer crashes the process on recurrent loops; refuse them first.

    Raises:
        CompressionError: naming the first recurrent layer.
    """
    kinds = (keras.layers.RNN, keras.layers.Bidirectional, keras.layers.TimeDistributed)
    for layer in model.layers:
        if isinstance(layer, kinds):
            raise CompressionError(
                f"tflite_int8: TFLite cannot convert layer {layer.name} "
                f"({type(layer).__name__}) to full integer: its recurrent loop has no int8 "
                "kernels. Use tflite_dynamic or tflite_float16 for this model"
            )


def conversion_message(model: keras.Model, variant: str, error: Exception) -> str:
    """A one-paragraph message for a failed conversion, naming the layer when the error does."""
    text = str(error)
    culprits = [layer for layer in model.layers if layer.name and f"{layer.name}/" in text]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = next((line for line in lines if "error:" in line.lower()), lines[0] if lines else "")
    where = f"layer {culprits[0].name} ({type(culprits[0]).__name__})" if culprits else "the model"
    return f"{variant}: TFLite cannot convert {where}: {reason[:300]}"


def keras_int8(model: keras.Model) -> keras.Model:
    """A copy of `model` with Keras's int8 quantization; `model` itself is unchanged.

    Raises:
        CompressionError: when no layer of the model can be quantized by Keras.
    """
    quantizable = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding)
    if not any(isinstance(layer, quantizable) for layer in model.layers):
        kinds = ", ".join(sorted({type(layer).__name__ for layer in model.layers}))
        raise CompressionError(
            "keras_int8 quantizes Dense, EinsumDense and Embedding layers; this model has "
            f"none (its layers: {kinds})"
        )
    copy = clone_trained(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # only the layers Keras quantizes: others (a TextVectorization's lookup)
            # would refuse, not skip, when asked
            copy.quantize("int8", filters=lambda layer: isinstance(layer, quantizable))
    except (ValueError, NotImplementedError, TypeError) as error:
        raise CompressionError(f"keras_int8: {str(error).splitlines()[0]}") from None
    return copy


def quantize(
    model: keras.Model,
    variant: str,
    dataset: Dataset,
    directory: Path,
    baseline: float,
    representative: list[list[np.ndarray]] | None = None,
) -> VariantResult:
    """Writes `model` quantized as `variant` into `directory` and measures it.

    Args:
        model: The trained float model.
        variant: A key of VARIANTS.
        dataset: The dataset; its test split scores the variant.
        directory: Where the file goes (model_<variant>.tflite or .keras).
        baseline: The float model's metric on the test split.
        representative: Calibration samples for tflite_int8 (default: from the training split).
    """
    if variant not in VARIANTS:
        raise CompressionError(
            f"unknown quantization {variant!r}; choose one of {', '.join(VARIANTS)}"
        )
    if variant == "keras_int8":
        quantized = keras_int8(model)
        path = directory / variant_file(variant)
        save_keras(quantized, path)
        run = keras_runner(quantized)
    else:
        if variant == "tflite_int8" and representative is None and not reads_text(model):
            representative = representative_inputs(model, dataset.x_train)
        path = directory / variant_file(variant)
        write_bytes(path, tflite_bytes(model, variant, representative))
        run = tflite_runner(path, model)
    return measure_variant(
        variant, VARIANTS[variant], run, model, dataset, baseline, path.stat().st_size, str(path)
    )
