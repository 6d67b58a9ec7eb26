"""A client's local training: Keras's own train step, looped inside one compiled function.

`model.fit` costs tens of milliseconds per call before its first batch
(data adapters, callbacks, history); a simulated round calls it once per
client, so that overhead would outweigh the training itself on small client
datasets. Here each local epoch is one call of a `tf.function` that runs the
model's `train_step` (the same step `fit` runs: loss, gradients, optimizer,
metrics) over the client's batches. A client's image files stream instead: each
batch of the data contract's pipeline goes through one compiled step, so a
client holds its file names, never its pixels.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from runtime.data import ImageFiles, image_pipeline


class LocalTrainer:
    """Trains `model` (built and compiled) on one client's data at a time.

    Args:
        model: The compiled Keras model every client shares.
        batch_size: Samples per local update.
        proximal_strength: FedProx's c = learning_rate * mu (Li et al. 2020,
            "Federated Optimization in Heterogeneous Networks"); after each
            batch every weight takes the proximal step of mu/2 *
            ||w - w_global||^2: w <- (w + c * w_global) / (1 + c). 0: FedAvg.
    """

    def __init__(self, model: keras.Model, batch_size: int, proximal_strength: float = 0.0):
        self.model = model
        self.batch_size = batch_size
        self.proximal_strength = proximal_strength
        model.optimizer.build(model.trainable_variables)
        self._fresh_optimizer = [v.numpy() for v in model.optimizer.variables]
        self._epoch = None
        self._test = None
        self._batch_step = None
        self._batch_test = None

    def reset_optimizer(self) -> None:
        """Puts the optimizer back to its untouched state (moments and step count)."""
        for variable, value in zip(
            self.model.optimizer.variables, self._fresh_optimizer, strict=True
        ):
            variable.assign(value)

    def train(self, x, y, epochs: int, rng: np.random.Generator) -> dict[str, float]:
        """Fits the model's current weights to (x, y) for `epochs`; returns the last epoch's means.

        The optimizer starts fresh, as on a device that only keeps the model.
        """
        if self._epoch is None:
            self._epoch = self._compile(self._epoch_steps, x, y, anchor=True)
        self.reset_optimizer()
        anchor = [tf.identity(v) for v in self.model.trainable_variables]
        if isinstance(x, ImageFiles):
            return self._train_streamed(x, y, epochs, rng, anchor)
        samples = len(x[0] if isinstance(x, list) else x)
        for _ in range(epochs):
            order = rng.permutation(samples)
            self.model.reset_metrics()
            self._epoch(take_rows(x, order), take_rows(y, order), anchor)
        return {k: float(v) for k, v in self.model.get_metrics_result().items()}

    def _train_streamed(self, x, y, epochs, rng, anchor) -> dict[str, float]:
        if self._batch_step is None:
            self._batch_step = tf.function(self._one_step, reduce_retracing=True)
        for _ in range(epochs):
            self.model.reset_metrics()
            seed = int(rng.integers(2**31))
            for batch in image_pipeline(x, y, self.batch_size, shuffle=True, seed=seed):
                self._batch_step(batch, anchor)
        return {k: float(v) for k, v in self.model.get_metrics_result().items()}

    def evaluate(self, x, y) -> dict[str, float]:
        """The model's loss and metrics on (x, y), as `model.evaluate` reports them."""
        if isinstance(x, ImageFiles):
            if self._batch_test is None:
                self._batch_test = tf.function(self.model.test_step, reduce_retracing=True)
            self.model.reset_metrics()
            for batch in image_pipeline(x, y, max(self.batch_size, 1024)):
                self._batch_test(batch)
            return {k: float(v) for k, v in self.model.get_metrics_result().items()}
        if self._test is None:
            self._test = self._compile(self._test_steps, x, y, anchor=False)
        self.model.reset_metrics()
        self._test(x, y)
        return {k: float(v) for k, v in self.model.get_metrics_result().items()}

    def _compile(self, steps, x, y, anchor: bool):
        """`steps` as a tf.function traced once for any number of samples."""
        signature = [_spec(x), _spec(y)]
        if anchor:
            signature.append(
                [tf.TensorSpec(v.shape, v.dtype) for v in self.model.trainable_variables]
            )
        return tf.function(steps, input_signature=signature)

    def _test_steps(self, x, y):
        samples = tf.shape(tf.nest.flatten(x)[0])[0]
        size = max(self.batch_size, 1024)
        for step in tf.range((samples + size - 1) // size):
            start = step * size

            def batch(tensor, start=start):
                return tensor[start : start + size]

            self.model.test_step((tf.nest.map_structure(batch, x), tf.nest.map_structure(batch, y)))

    def _epoch_steps(self, x, y, anchor):
        size = self.batch_size
        samples = tf.shape(tf.nest.flatten(x)[0])[0]
        steps = (samples + size - 1) // size
        for step in tf.range(steps):
            start = step * size

            def batch(tensor, start=start):
                return tensor[start : start + size]

            self._one_step(
                (tf.nest.map_structure(batch, x), tf.nest.map_structure(batch, y)), anchor
            )

    def _one_step(self, batch, anchor):
        """Keras's train step on one (x, y) batch, then FedProx's proximal step."""
        model, strength = self.model, self.proximal_strength
        model.train_step(batch)
        if strength > 0:
            for variable, centre in zip(model.trainable_variables, anchor, strict=True):
                variable.assign((variable + strength * centre) / (1.0 + strength))


def _spec(values):
    """A TensorSpec (a list of them for several arrays) with any number of samples."""
    if isinstance(values, list):
        return [_spec(v) for v in values]
    return tf.TensorSpec((None, *values.shape[1:]), tf.as_dtype(values.dtype))


def take_rows(values, order: np.ndarray):
    """The rows `order` of an array, or of each array of a list (several Inputs);
    of image files, those files still undecoded; of texts (a string tensor, as
    model_inputs hands them), a string tensor."""
    if isinstance(values, list):
        return [take_rows(v, order) for v in values]
    if isinstance(values, ImageFiles):
        return values.take(order)
    if isinstance(values, tf.Tensor):
        return tf.gather(values, order)  # tensors take no array of positions as an index
    return values[order]
