"""Combining client updates at the server: weighted averages, clipping, noise.

Weights travel as lists of NumPy arrays (as `model.get_weights()` gives
them); an *update* is a client's weights minus the global weights it started
from.
"""

from __future__ import annotations

import numpy as np

Weights = list[np.ndarray]


def weighted_average(models: list[Weights], sample_counts: list[int]) -> Weights:
    """FedAvg (McMahan et al. 2017): every tensor averaged, each client weighted by its samples.

    Raises:
        ValueError: no models, counts that do not match them, or a zero total.
    """
    if not models or len(models) != len(sample_counts):
        raise ValueError(
            f"weighted_average needs one sample count per model. Received: "
            f"{len(models)} models, {len(sample_counts)} counts"
        )
    total = float(sum(sample_counts))
    if total <= 0:
        raise ValueError(f"sample counts must add up to more than 0. Received: {sample_counts}")
    shares = [count / total for count in sample_counts]
    return [
        sum(
            share * model[i].astype("float64") for share, model in zip(shares, models, strict=True)
        ).astype(models[0][i].dtype)
        for i in range(len(models[0]))
    ]


def difference(new: Weights, old: Weights) -> Weights:
    return [a - b for a, b in zip(new, old, strict=True)]


def add(base: Weights, update: Weights) -> Weights:
    return [a + b for a, b in zip(base, update, strict=True)]


def global_norm(update: Weights) -> float:
    """The L2 norm of all the update's tensors taken together."""
    return float(np.sqrt(sum(float(np.sum(np.square(t, dtype="float64"))) for t in update)))


def clip_update(update: Weights, clip_norm: float) -> Weights:
    """Scales `update` down so its global norm is at most `clip_norm` (unchanged if already)."""
    norm = global_norm(update)
    if norm <= clip_norm:
        return update
    scale = clip_norm / norm
    return [(t * scale).astype(t.dtype) for t in update]


def noisy_mean(
    updates: list[Weights],
    clip_norm: float,
    noise_multiplier: float,
    rng: np.random.Generator,
) -> Weights:
    """DP-FedAvg's server step (McMahan et al. 2018, "Learning Differentially Private RNNs").

    The sum of the clipped updates gets Gaussian noise of standard deviation
    noise_multiplier * clip_norm and is divided by the number of clients.
    Clients count equally here: weighting by sample counts would let one
    large client move the average by more than the clip norm, which the
    privacy guarantee rules out.
    """
    clipped = [clip_update(update, clip_norm) for update in updates]
    scale = noise_multiplier * clip_norm
    result = []
    for i in range(len(updates[0])):
        total = sum(update[i].astype("float64") for update in clipped)
        noise = rng.normal(0.0, scale, size=total.shape) if scale > 0 else 0.0
        result.append(((total + noise) / len(updates)).astype(updates[0][i].dtype))
    return result


def payload_bytes(weights: Weights) -> int:
    """Bytes of the tensors a client sends to the server each round."""
    return int(sum(t.nbytes for t in weights))
