"""Membership inference: can an attacker tell a training sample from an unseen one?

The loss-threshold attack (Yeom et al. 2018, "Privacy Risk in Machine
Learning: Analyzing the Connection to Overfitting") guesses "member" when the
model's loss on a sample is low. Its AUC over equally many training and test
samples measures the leak: 0.5 is a coin flip, 1.0 a model that gives its
training set away.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from runtime.data import ImageFiles, feed

EPSILON = 1e-7


def sample_losses(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each sample's cross-entropy from predicted probabilities and class ids.

    A single output column is read as the probability of class 1.
    """
    p = np.asarray(probabilities, dtype="float64")
    labels = np.asarray(labels).astype(int).reshape(-1)
    if p.ndim == 1 or p.shape[-1] == 1:
        p1 = np.clip(p.reshape(-1), EPSILON, 1 - EPSILON)
        return -np.where(labels == 1, np.log(p1), np.log(1 - p1))
    rows = np.arange(len(labels))
    return -np.log(np.clip(p[rows, labels], EPSILON, 1.0))


def membership_inference_auc(
    model,
    x_train,
    y_train: np.ndarray,
    x_test,
    y_test: np.ndarray,
    seed: int = 0,
    max_samples: int = 2000,
    from_logits: bool = False,
) -> float:
    """The loss-threshold attack's AUC against a classifier with probability outputs.

    Members and non-members are balanced (as many of each, at most
    `max_samples`), so the AUC does not reward guessing the larger group.

    Args:
        model: A Keras classifier whose output is class probabilities.
        x_train, y_train: Samples it trained on, with class ids.
        x_test, y_test: Samples it never saw.
        seed: Picks the balanced subsets.
        max_samples: At most this many of each group are scored.
        from_logits: The model outputs logits (no final softmax/sigmoid).
    """
    rng = np.random.default_rng(seed)
    count = min(len(y_train), len(y_test), max_samples)
    members = np.sort(rng.choice(len(y_train), count, replace=False))
    outsiders = np.sort(rng.choice(len(y_test), count, replace=False))
    losses = np.concatenate(
        [
            sample_losses(_predict(model, x_train, members, from_logits), y_train[members]),
            sample_losses(_predict(model, x_test, outsiders, from_logits), y_test[outsiders]),
        ]
    )
    is_member = np.concatenate([np.ones(count), np.zeros(count)])
    return float(roc_auc_score(is_member, -losses))


def _rows(values, indices: np.ndarray):
    """The rows `indices` of an array, or of a string tensor (texts, as model_inputs hands them)."""
    if isinstance(values, np.ndarray):
        return values[indices]
    import tensorflow as tf

    return tf.gather(values, indices)  # tensors take no array of positions as an index


def _predict(model, x, indices: np.ndarray, from_logits: bool) -> np.ndarray:
    """Outputs on the samples at `indices`; image files stream, only the outputs are kept."""
    if isinstance(x, ImageFiles):
        picked = x.take(indices)
    else:
        picked = [_rows(part, indices) for part in x] if isinstance(x, list) else _rows(x, indices)
    output = model.predict(**feed(picked, batch_size=1024), verbose=0)
    output = np.asarray(output[0] if isinstance(output, list) else output, dtype="float64")
    if not from_logits:
        return output
    if output.ndim == 1 or output.shape[-1] == 1:
        return 1.0 / (1.0 + np.exp(-output))
    shifted = np.exp(output - output.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
