"""Magnitude pruning: zero the smallest weights, fine-tune the rest, ship it compressed.

Han et al. (2015), "Learning both Weights and Connections for Efficient Neural
Networks", showed that most weights of a trained network can be removed by
magnitude with little loss once the rest are retrained. Zhu & Gupta (2017),
"To prune, or not to prune", raise the sparsity gradually during training,
s_t = s_f * (1 - (1 - t / n)^3), which loses less than pruning at once. This
module follows both, written directly on Keras 3 (tensorflow-model-optimization,
which implements them for Keras 2, does not support Keras 3).

Each layer's kernels (not biases or normalization statistics) are pruned to
the target sparsity by their own magnitudes. Zeros cost nothing once the file
is compressed, so the deployed size is the zip of the saved model.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from graph.atomic import write_with
from graph.model import NetworkGraph
from runtime.compile import compile_model, fit_targets
from runtime.compression.files import variant_file, zipped
from runtime.compression.measure import (
    CompressionError,
    VariantResult,
    input_list,
    keras_runner,
    measure_variant,
    save_keras,
)
from runtime.data import Dataset, feed
from runtime.learned_state import clone_trained

# Weights pruned: the multiplying matrices and filters of every layer.
PRUNED_WEIGHTS = (
    "kernel",
    "depthwise_kernel",
    "pointwise_kernel",
    "recurrent_kernel",
    "embeddings",
)


def check_sparsity(sparsity: float) -> float:
    """Returns `sparsity` if it lies strictly between 0 and 1.

    Raises:
        CompressionError: otherwise, showing the value.
    """
    try:
        value = float(sparsity)
    except (TypeError, ValueError):
        raise CompressionError(
            f"sparsity must be a number between 0 and 1. Received: {sparsity!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise CompressionError(
            "sparsity must lie strictly between 0 and 1 (the share of weights set to zero). "
            f"Received: {sparsity!r}"
        )
    return value


def prunable_variables(model: keras.Model) -> list:
    """The kernel variables of `model`, the weights magnitude pruning removes."""
    return [
        variable
        for layer in model.layers
        for variable in layer.trainable_weights
        if variable.path.rsplit("/", 1)[-1] in PRUNED_WEIGHTS
    ]


def schedule(step: int, steps: int, final: float) -> float:
    """Zhu & Gupta's cubic ramp: sparsity after `step` of `steps` toward `final`."""
    progress = min(max(step / max(steps, 1), 0.0), 1.0)
    return final * (1.0 - (1.0 - progress) ** 3)


def prune_to(variables: list, sparsity: float) -> None:
    """Zeroes the `sparsity` share of smallest-magnitude entries of each variable in place."""
    for variable in variables:
        values = np.asarray(variable.numpy())
        count = int(round(sparsity * values.size))
        if count == 0:
            continue
        threshold = np.partition(np.abs(values).ravel(), count - 1)[count - 1]
        mask = np.abs(values) > threshold
        variable.assign(values * mask)


def sparsity_of(variables: list) -> float:
    """Share of zero entries over `variables`."""
    total = sum(int(np.prod(v.shape)) for v in variables)
    zeros = sum(int(np.sum(np.asarray(v.numpy()) == 0)) for v in variables)
    return zeros / total if total else 0.0


class _GradualPruning(keras.callbacks.Callback):
    """Raises sparsity along the cubic schedule, pruning again after every batch."""

    def __init__(self, variables: list, final: float, steps: int, on_step) -> None:
        super().__init__()
        self.variables, self.final, self.steps, self.on_step = variables, final, steps, on_step
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        prune_to(self.variables, schedule(self.step, self.steps, self.final))
        if self.on_step is not None:
            self.on_step(self.step, self.steps)


def prune(
    model: keras.Model,
    graph: NetworkGraph,
    dataset: Dataset,
    sparsity: float,
    epochs: int = 2,
    on_step: Callable[[int, int], None] | None = None,
) -> keras.Model:
    """A copy of `model` pruned to `sparsity` with a short fine-tune; `model` is unchanged.

    Args:
        model: The trained float model.
        graph: Its graph, whose training settings (optimizer, loss, batch size) are reused.
        dataset: The dataset whose training split fine-tunes.
        sparsity: The final share of kernel weights set to zero, in (0, 1).
        epochs: Fine-tuning epochs; the sparsity ramps up over them.
        on_step: Called with (step, steps) after each fine-tuning batch.
    """
    sparsity = check_sparsity(sparsity)
    if epochs < 1:
        raise CompressionError(f"fine-tuning needs at least 1 epoch. Received: {epochs}")
    copy = clone_trained(model)
    variables = prunable_variables(copy)
    if not variables:
        raise CompressionError("the model has no kernels to prune (no Dense, Conv or RNN layers)")
    heads = compile_model(copy, graph, dataset)
    inputs = input_list(copy, dataset.x_train)
    batch = int(graph.training["batch_size"])
    steps = epochs * -(-len(inputs[0]) // batch)
    # feed streams image files batch by batch (arrays go as they are).
    data = feed(
        inputs[0] if len(inputs) == 1 else inputs,
        fit_targets(heads, dataset.y_train, dataset),
        batch,
        shuffle=True,
        seed=graph.training["seed"],
    )
    copy.fit(
        **data,
        epochs=epochs,
        verbose=0,
        callbacks=[_GradualPruning(variables, sparsity, steps, on_step)],
    )
    prune_to(variables, sparsity)
    return copy


def zipped_size(path: Path, target: Path) -> int:
    """Writes `path` deflated into the zip `target` (atomically); returns the zip's size."""

    def writer(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, arcname=path.name)

    write_with(target, writer)
    return target.stat().st_size


def prune_variant(
    model: keras.Model,
    graph: NetworkGraph,
    dataset: Dataset,
    directory: Path,
    baseline: float,
    sparsity: float,
    epochs: int = 2,
    on_step: Callable[[int, int], None] | None = None,
) -> VariantResult:
    """Prunes, saves (model_pruned.keras and its .zip) and measures the pruned model."""
    pruned = prune(model, graph, dataset, sparsity, epochs, on_step)
    path = directory / variant_file("pruned")
    save_keras(pruned, path)
    size = zipped_size(path, directory / zipped(path.name))
    reached = sparsity_of(prunable_variables(pruned))
    return measure_variant(
        "pruned",
        f"Magnitude pruning to {sparsity:.0%} (zip)",
        keras_runner(pruned),
        model,
        dataset,
        baseline,
        size,
        str(directory / zipped(path.name)),
        note=f"kernel sparsity {reached:.1%}, fine-tuned {epochs} epoch{'s' * (epochs > 1)}",
    )
