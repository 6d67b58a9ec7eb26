"""Before training: will the run fit this machine's memory, and how long will an epoch take?

The memory estimate is graph.cost's (weights, gradients, optimizer slots,
activations of a batch) plus the dataset the run holds. The time estimate
times a second of real training steps of the graph's own model: FLOP counts
with a machine-wide throughput missed by a factor of two here (a step's cost
depends on which kernels run and on Keras's per-batch work in Python, not on
MACs alone), while the model's own step, times the batches of an epoch,
comes within the target (bench/cost_estimate.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from graph.cost import MemoryVerdict, TrainingMemory, graph_cost, memory_verdict, training_memory
from graph.model import NetworkGraph
from graph.summary import summary_totals
from runtime.data import Dataset

# Batches the timed probe runs at most: enough that an epoch's fixed cost is spread thin.
PROBE_MAX_STEPS = 16


def dataset_bytes(dataset: Dataset) -> int:
    """Bytes of every split's arrays the run keeps in memory."""
    arrays: Iterable = (
        dataset.x_train,
        dataset.y_train,
        dataset.x_val,
        dataset.y_val,
        dataset.x_test,
        dataset.y_test,
    )
    return sum(_nbytes(array) for array in arrays)


def _nbytes(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0))


def estimate_training_memory(graph: NetworkGraph, dataset: Dataset | None = None) -> TrainingMemory:
    """The estimated peak memory of training `graph` on `dataset`, by part."""
    cost = graph_cost(graph)
    trainable = summary_totals(graph).trainable
    data = dataset_bytes(dataset) if dataset is not None else 0
    return training_memory(cost, graph.training, trainable_params=trainable, data_bytes=data)


def check_training_memory(graph: NetworkGraph, dataset: Dataset | None = None) -> MemoryVerdict:
    """Whether training `graph` on `dataset` fits: an error over the machine's memory,
    a warning over half of it."""
    return memory_verdict(estimate_training_memory(graph, dataset))


def probe_step_seconds(graph: NetworkGraph, dataset: Dataset, budget_seconds: float = 1.0) -> float:
    """Seconds of one training step of `graph`'s own model, measured on its first batches.

    The model is built and compiled as training builds it, then `model.fit`
    runs whole epochs over a few real batches, so the figure holds
    everything a step costs here: the arithmetic of these very layers, and
    Keras's per-batch work in Python (callbacks, metrics, the data iterator).
    A first short fit traces the step and times it roughly; a second fit of
    as many batches as fit in `budget_seconds` (at most PROBE_MAX_STEPS, at
    most an epoch) is timed, and its faster epoch counts (load from other
    processes only ever slows a step down). Check the memory estimate first:
    the probe allocates the model.
    """
    import keras

    from runtime.builder import build_model
    from runtime.compile import compile_model, fit_targets
    from runtime.data import model_inputs

    batch = int(graph.training["batch_size"])
    samples = len(dataset.x_train)
    keras.utils.set_random_seed(int(graph.training.get("seed") or 0))
    model = build_model(graph)
    heads = compile_model(model, graph, dataset)
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]

    def epoch_times(steps: int, epochs: int) -> list[float]:
        take = min(samples, steps * batch)
        times: list[float] = []

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.start)

        model.fit(
            model_inputs(dataset.x_train[:take], shapes),
            fit_targets(heads, dataset.y_train[:take], dataset),
            batch_size=batch,
            epochs=epochs,
            shuffle=False,
            verbose=0,
            callbacks=[EpochTimer()],
        )
        return times

    batches = -(-samples // batch)
    first = min(2, batches)
    rough = epoch_times(first, 2)[1] / first
    steps = int(np.clip(budget_seconds / 2 / max(rough, 1e-6), 1, min(batches, PROBE_MAX_STEPS)))
    return min(epoch_times(steps, 2)) / steps


def epoch_seconds(graph: NetworkGraph, train_samples: int, step_seconds: float) -> float:
    """Estimated seconds of one training epoch over `train_samples`, from probe_step_seconds.

    Every batch costs a step, the last (partial) one included.
    """
    batches = -(-train_samples // int(graph.training["batch_size"]))
    return batches * step_seconds
