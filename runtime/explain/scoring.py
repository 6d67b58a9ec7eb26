"""The model seen as one function of a dataset sample, for one chosen output.

Explanations work on samples as the dataset holds them (`Dataset.x_test[i]`).
With several Input nodes, a sample is cut into one piece per Input the way the
trainer feeds it (runtime.data.model_inputs), here with TensorFlow ops so that
gradients flow back to the sample. A model with several outputs is explained
for one output at a time (`output`, default the first). A model whose Input
takes strings (text through TextVectorization) is fed strings as they are.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from graph.messages import excerpt
from runtime.data_contract import takes_text
from runtime.explain.errors import ExplainError

PREDICT_BATCH = 4096


class ModelScorer:
    """Maps a batch of samples to the chosen output, flattened to (batch, units).

    Args:
        model: A trained Keras model.
        sample_shape: One sample's shape as the dataset holds it.
        output: Which model output to explain (index, in the model's order).

    Raises:
        ExplainError: when the output does not exist or the samples do not fit the inputs.
    """

    def __init__(self, model: keras.Model, sample_shape: tuple[int, ...], output: int = 0):
        outputs = len(model.outputs)
        if not 0 <= output < outputs:
            raise ExplainError(
                f"The model has {outputs} output(s); choose output 0 to {outputs - 1}. "
                f"Received: output={output}"
            )
        self.model = model
        self.output = output
        self._probes: dict[str, keras.Model] = {}
        self._traced: dict[str, object] = {}
        self._forward = tf.function(self.__call__, reduce_retracing=True)
        self.sample_shape = tuple(int(d) for d in sample_shape)
        self.input_shapes = [tuple(int(d) for d in t.shape[1:]) for t in model.inputs]
        self.input_sizes = [math.prod(shape) for shape in self.input_shapes]
        # Strings cannot be cut or differentiated: a text model takes its one Input as it is.
        self.text = any(takes_text(t) for t in model.inputs)
        if self._direct_feed():
            return
        if math.prod(self.sample_shape) != sum(self.input_sizes):
            shapes = ", ".join(str(shape) for shape in self.input_shapes)
            raise ExplainError(
                f"A sample of shape {self.sample_shape} does not fit the model's input(s) "
                f"{shapes}. Received: {math.prod(self.sample_shape)} values, "
                f"expected {sum(self.input_sizes)}"
            )

    def _direct_feed(self) -> bool:
        return len(self.input_shapes) == 1 and self.input_shapes[0] == self.sample_shape

    @property
    def output_name(self) -> str:
        """The output layer's name (dense_2), not its tensor's (keras_tensor_3)."""
        names = getattr(self.model, "output_names", None)
        if names and len(names) == len(self.model.outputs):
            return names[self.output]
        return self.model.outputs[self.output].name.split("/")[0]

    def feed(self, x):
        """The model's input(s) for samples `x` (batch, *sample_shape), differentiably."""
        if self._direct_feed():
            return x
        flat = tf.reshape(x, (tf.shape(x)[0], -1))
        pieces = tf.split(flat, self.input_sizes, axis=1)
        shaped = [tf.reshape(p, (-1, *s)) for p, s in zip(pieces, self.input_shapes, strict=True)]
        return shaped[0] if len(shaped) == 1 else shaped

    def pick(self, outputs):
        """The chosen output of a model call's `outputs`, flattened to (batch, units)."""
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[self.output]
        return tf.reshape(outputs, (tf.shape(outputs)[0], -1))

    def __call__(self, x) -> tf.Tensor:
        """The chosen output for samples `x` as a tensor (batch, units); differentiable."""
        return self.pick(self.model(self.feed(x), training=False))

    def probe(self, layer: keras.layers.Layer, with_outputs: bool = False) -> keras.Model:
        """A sub-model from the inputs to `layer`'s output (and the model's outputs), cached."""
        key = f"{layer.name}|{with_outputs}"
        if key not in self._probes:
            output = layer.output[0] if isinstance(layer.output, (list, tuple)) else layer.output
            outputs = [output, *self.model.outputs] if with_outputs else output
            inputs = self.model.inputs
            inputs = inputs[0] if len(inputs) == 1 else inputs
            self._probes[key] = keras.Model(inputs, outputs)
        return self._probes[key]

    def traced(self, key: str, factory):
        """`factory()` wrapped in tf.function once per scorer and `key`, then reused.

        Tracing costs a few hundred milliseconds once; every later explanation of
        this model then runs as one graph call instead of many eager operations.
        """
        if key not in self._traced:
            self._traced[key] = tf.function(factory(), reduce_retracing=True)
        return self._traced[key]

    def predict(self, x: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
        """The chosen output for samples `x` as a NumPy array (batch, units).

        Runs a traced (tf.function) forward pass: after the first call of a
        batch size, each call costs little more than the arithmetic.
        """
        x = self.as_batch(x)
        parts = [
            self._forward(tf.constant(x[start : start + batch_size])).numpy()
            for start in range(0, len(x), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.units), "float32")

    def as_batch(self, x) -> np.ndarray:
        """Samples `x` as the array the model takes: strings for text, else float32."""
        dtype = object if self.text else "float32"
        return np.asarray(x, dtype=dtype).reshape(-1, *self.sample_shape)

    @property
    def units(self) -> int:
        return math.prod(int(d) for d in self.model.outputs[self.output].shape[1:])

    def check_sample(self, x: np.ndarray) -> np.ndarray:
        """`x` as one float32 sample of the expected shape (one string for a text model).

        Raises:
            ExplainError: naming the shape received and the shape expected.
        """
        if self.text:
            return self._check_text(x)
        x = np.asarray(x)
        if x.dtype.kind in "USO":
            raise ExplainError(
                f"This model takes numbers, not text. Received: {excerpt(x.tolist())}"
            )
        x = x.astype("float32")
        if x.shape == (1, *self.sample_shape):
            x = x[0]
        if x.shape != self.sample_shape:
            raise ExplainError(
                f"The sample has the wrong shape: expected {self.sample_shape}. Received: {x.shape}"
            )
        if not np.all(np.isfinite(x)):
            raise ExplainError("The sample holds missing or infinite values (NaN or inf).")
        return x

    def _check_text(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.size != 1 or x.dtype.kind not in "USO" or not isinstance(x.reshape(-1)[0], str):
            raise ExplainError(
                "This model reads text: give one string as the sample. "
                f"Received: {excerpt(x.tolist())}"
            )
        return np.array([str(x.reshape(-1)[0])], dtype=str).reshape(self.sample_shape)

    def target_for(self, prediction: np.ndarray, target: int | None) -> int:
        """The output unit to explain: `target` if given (checked), else the predicted class.

        Args:
            prediction: The chosen output's values for the sample (units,).
            target: The unit asked for, or None.
        """
        units = self.units
        if target is None:
            return int(np.argmax(prediction)) if units > 1 else 0
        if not 0 <= int(target) < units:
            raise ExplainError(
                f"The output {self.output_name} has {units} unit(s); choose a target "
                f"from 0 to {units - 1}. Received: target={target}"
            )
        return int(target)
