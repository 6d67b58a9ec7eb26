"""The losses that keep old knowledge: EWC's weight penalty and LwF's distillation.

- Elastic Weight Consolidation (Kirkpatrick et al., "Overcoming catastrophic
  forgetting in neural networks", PNAS 2017): after a task, the diagonal of the
  Fisher information F says how much each weight mattered to it; training on
  later tasks adds lambda/2 * sum_i F_i (theta_i - theta*_i)^2, pulling the
  weights that mattered back to their values theta* after that task. F is the
  empirical Fisher: the mean over samples of the squared gradient of
  log p(y | x) with the true label, computed in batches of per-sample
  gradients. Several tasks' penalties are kept as one
  quadratic, which has the same gradient as their sum (see `EwcPenalty.consolidate`).
- Learning without Forgetting (Li & Hoiem, "Learning without Forgetting",
  ECCV 2016 / TPAMI 2017): before a new task, the old network's outputs on
  the new task's samples are recorded; training adds
  alpha * cross-entropy(old outputs, new outputs) over the old classes, both
  softened by a temperature T (y' = y^(1/T) / sum y^(1/T), the paper's Eq. 3).

Everything here works on a model's outputs as probabilities (softmax) or
logits (`from_logits`), as the graph's loss resolves them.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from runtime.data_contract import takes_text

_EPSILON = 1e-7


def log_scores(outputs: tf.Tensor, from_logits: bool) -> tf.Tensor:
    """Outputs as unnormalised log-probabilities: logits as they are, log of probabilities."""
    if from_logits:
        return outputs
    return tf.math.log(tf.clip_by_value(outputs, _EPSILON, 1.0))


def masked_log_softmax(scores: tf.Tensor, mask: tf.Tensor, temperature: float = 1.0) -> tf.Tensor:
    """log softmax(scores / T) over the classes where `mask` is 1 (the others get -inf-like)."""
    scaled = scores / temperature
    return tf.nn.log_softmax(tf.where(mask > 0, scaled, tf.fill(tf.shape(scaled), -1e9)))


def masked_crossentropy(
    labels: tf.Tensor, outputs: tf.Tensor, mask: tf.Tensor, from_logits: bool
) -> tf.Tensor:
    """Mean cross-entropy of `labels` among each sample's allowed classes (task-incremental)."""
    log_probs = masked_log_softmax(log_scores(outputs, from_logits), mask)
    picked = tf.gather(log_probs, tf.cast(labels, tf.int32), batch_dims=1)
    return -tf.reduce_mean(picked)


def distillation_loss(
    old_probs: tf.Tensor,
    outputs: tf.Tensor,
    old_classes: tf.Tensor,
    weights: tf.Tensor,
    from_logits: bool,
    temperature: float,
) -> tf.Tensor:
    """LwF's knowledge-distillation loss over the old classes (Li & Hoiem, Eq. 2-3).

    Args:
        old_probs: The old network's recorded outputs, as log-scores (see `log_scores`).
        outputs: The network's outputs now.
        old_classes: 1 for each class an earlier task taught, else 0 (shape [classes]).
        weights: 1 for the samples that have recorded outputs, else 0 (shape [batch]).
        from_logits: Whether `outputs` are logits.
        temperature: T; higher softens both distributions.
    """
    mask = tf.broadcast_to(old_classes, tf.shape(outputs))
    target = tf.exp(masked_log_softmax(old_probs, mask, temperature))
    log_new = masked_log_softmax(log_scores(outputs, from_logits), mask, temperature)
    per_sample = -tf.reduce_sum(tf.where(mask > 0, target * log_new, 0.0), axis=-1)
    return tf.reduce_sum(per_sample * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


class EwcPenalty:
    """EWC's quadratic penalty on a model's trainable weights.

    Holds, per weight, the summed Fisher information A = sum_k F_k and the
    Fisher-weighted mean of the anchors m = sum_k F_k theta*_k / A; the penalty
    is lambda/2 * sum A (theta - m)^2. With one task it is exactly EWC's
    penalty; with several it differs from the sum of per-task penalties by a
    constant, so the gradient (what training sees) is the same.

    Args:
        model: The model whose trainable weights are penalised.
        strength: lambda.
    """

    def __init__(self, model: keras.Model, strength: float) -> None:
        self.weights = list(model.trainable_variables)
        self.strength = strength
        self.fisher = [
            tf.Variable(tf.zeros_like(w), trainable=False, name="ewc_fisher") for w in self.weights
        ]
        self.anchor = [
            tf.Variable(tf.identity(w), trainable=False, name="ewc_anchor") for w in self.weights
        ]
        self._weighted_anchor = [np.zeros(w.shape, dtype="float64") for w in self.weights]

    def __call__(self) -> tf.Tensor:
        total = tf.add_n(
            [
                tf.reduce_sum(f * tf.square(w - a))
                for w, f, a in zip(self.weights, self.fisher, self.anchor, strict=True)
            ]
        )
        return 0.5 * self.strength * total

    def consolidate(self, fisher: list[np.ndarray]) -> None:
        """Adds a finished task: its Fisher diagonal, anchored at the weights now."""
        for index, (w, f) in enumerate(zip(self.weights, fisher, strict=True)):
            summed = self.fisher[index].numpy().astype("float64") + f
            self._weighted_anchor[index] += f * w.numpy()
            anchor = np.where(
                summed > 0, self._weighted_anchor[index] / np.maximum(summed, 1e-300), w.numpy()
            )
            self.fisher[index].assign(summed.astype("float32"))
            self.anchor[index].assign(anchor.astype("float32"))


def batch_spec(model: keras.Model) -> tf.TensorSpec:
    """A batch of the model's input as a traced step takes it: float32, or texts."""
    kind = tf.string if takes_text(model.inputs[0]) else tf.float32
    return tf.TensorSpec([None, *model.inputs[0].shape[1:]], kind)


class FisherEstimator:
    """The diagonal empirical Fisher of a model: mean squared per-sample gradients of log p(y|x).

    Gradients are computed a batch at a time: one traced function maps the
    per-sample gradient over the batch (`tf.map_fn`, samples in parallel) and
    sums the squares; it is traced once and reused for every task. (A
    vectorised Jacobian runs a little faster per sample but costs several
    times more to trace, which dominates at the sizes people try here.)

    Args:
        model: The model.
        from_logits: Whether the model outputs logits.
        batch_size: Samples per Jacobian.
    """

    def __init__(self, model: keras.Model, from_logits: bool, batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size
        weights = model.trainable_variables

        def squared_gradient(sample):
            x, y = sample
            with tf.GradientTape() as tape:
                scores = log_scores(model(x[None], training=False), from_logits)
                log_likelihood = tf.nn.log_softmax(scores)[0, y]
            return [tf.square(g) for g in tape.gradient(log_likelihood, weights)]

        def squared_gradients(x, y):
            squares = tf.map_fn(
                squared_gradient,
                (x, y),
                fn_output_signature=[tf.TensorSpec(w.shape, w.dtype) for w in weights],
                parallel_iterations=batch_size,
            )
            return [tf.reduce_sum(square, axis=0) for square in squares]

        self._squared_gradients = tf.function(
            squared_gradients,
            input_signature=[
                batch_spec(model),
                tf.TensorSpec([None], tf.int32),
            ],
        )

    def __call__(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """The Fisher diagonal on (`x`, `y`), one array per trainable weight."""
        weights = self.model.trainable_variables
        totals = [np.zeros(w.shape, dtype="float64") for w in weights]
        for start in range(0, len(x), self.batch_size):
            parts = self._squared_gradients(
                x[start : start + self.batch_size],
                y[start : start + self.batch_size].astype("int32"),
            )
            for total, part in zip(totals, parts, strict=True):
                total += part.numpy()
        return [total / max(len(x), 1) for total in totals]
