"""Before training: will the run fit this machine's memory, and how long will an epoch take?

The memory estimate is graph.cost's (weights, gradients, optimizer slots,
activations of a batch) plus the dataset the run holds. The time estimate
times a second of real training steps of the graph's own model: FLOP counts
with a machine-wide throughput missed by a factor of two here (a step's cost
depends on which kernels run and on Keras's per-batch work in Python, not on
MACs alone), while the model's own step times the batches of an epoch, plus
an epoch's fixed cost, comes within the target (bench/cost_estimate.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from graph.cost import MemoryVerdict, TrainingMemory, graph_cost, memory_verdict, training_memory
from graph.model import NetworkGraph
from graph.summary import summary_totals
from runtime.data import Dataset
from runtime.probe_cache import ProbeCache, TimeEstimate

# Batches the probe's longer epoch runs at most.
PROBE_MAX_STEPS = 32


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


@dataclass(frozen=True)
class StepProbe:
    """What an epoch of a model costs here, measured by probe_training.

    Attributes:
        seconds_per_step: One training step (a batch), Keras's per-batch work included.
        seconds_per_epoch: The fixed cost of an epoch (its data iterator, shuffling,
            the metrics read at its end), whatever its length.
    """

    seconds_per_step: float
    seconds_per_epoch: float


def trainable_model(graph: NetworkGraph, dataset: Dataset):
    """`graph`'s model built, adapted and compiled as training does it, and its data.

    Returns:
        (model, fit_data): fit_data(n) gives the (x, y) of the first n training samples
        in the form `model.fit` takes them.
    """
    import keras

    from runtime.builder import build_model
    from runtime.compile import compile_model, fit_targets
    from runtime.data import model_inputs
    from runtime.trainer import adapt_normalization

    keras.utils.set_random_seed(int(graph.training.get("seed") or 0))
    model = build_model(graph)
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
    adapt_normalization(model, model_inputs(dataset.x_train, shapes))
    heads = compile_model(model, graph, dataset)

    def fit_data(samples: int) -> tuple:
        return (
            model_inputs(dataset.x_train[:samples], shapes),
            fit_targets(heads, dataset.y_train[:samples], dataset),
        )

    return model, fit_data


def timed_epochs(
    model, x, y, batch_size: int, epochs: int, after_epoch: Callable[[], None] | None = None
) -> list[float]:
    """Trains `model` for `epochs` and returns each epoch's wall-clock seconds.

    Args:
        after_epoch: Called after each epoch, outside the timing (e.g. a run's
            checkpoint, which raises to stop).
    """
    import keras

    times: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)
            if after_epoch is not None:
                after_epoch()

    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[EpochTimer()])
    return times


def probe_training(
    graph: NetworkGraph,
    dataset: Dataset,
    budget_seconds: float = 1.0,
    after_epoch: Callable[[], None] | None = None,
) -> StepProbe:
    """Times real training epochs of `graph`'s own model on its first batches.

    The model is built, adapted and compiled as training does it, and
    `model.fit` runs short epochs of two lengths, so the figures hold
    everything an epoch costs here: the arithmetic of these very layers,
    Keras's per-batch work in Python and each epoch's fixed cost. The first
    fit traces the step; the longer epochs take about `budget_seconds` each. Each
    length keeps its fastest epoch (load from other processes only slows
    one down). Both lengths are whole batches: a partial batch has another
    shape, and TensorFlow would trace the step again for it, which a real run
    pays once, not per epoch. Check the memory estimate first: the probe
    allocates the model. `after_epoch` is called after each of its epochs (a
    run's checkpoint).
    """
    batch = int(graph.training["batch_size"])
    samples = len(dataset.x_train)
    model, fit_data = trainable_model(graph, dataset)

    def fastest_epoch(steps: int, epochs: int, traces: bool) -> float:
        x, y = fit_data(min(samples, steps * batch))
        times = timed_epochs(model, x, y, batch, epochs, after_epoch)
        return min(times[1:] if traces else times)

    whole = max(samples // batch, 1)  # fewer samples than a batch: one partial batch
    short = min(2, whole)
    short_seconds = fastest_epoch(short, 3, traces=True)
    if whole == short:
        return StepProbe(short_seconds / short, 0.0)
    # The short epoch's time per step overstates a step (the epoch's fixed cost is in it),
    # so the longer epoch stays within the budget.
    budget_steps = budget_seconds / max(short_seconds / short, 1e-6)
    long = int(np.clip(budget_steps, short + 2, min(whole, PROBE_MAX_STEPS)))
    long_seconds = fastest_epoch(long, 2, traces=False)
    step = max((long_seconds - short_seconds) / (long - short), 1e-6)
    return StepProbe(step, max(short_seconds - short * step, 0.0))


def epoch_seconds(graph: NetworkGraph, train_samples: int, probe: StepProbe) -> float:
    """Estimated seconds of one training epoch over `train_samples`, from probe_training.

    Every batch costs a step, the last (partial) one included.
    """
    batch = int(graph.training["batch_size"])
    return TimeEstimate(
        probe.seconds_per_step, probe.seconds_per_epoch, train_samples, batch
    ).epoch_seconds


def estimate_epoch_time(
    graph: NetworkGraph,
    dataset: Dataset,
    cache: ProbeCache | None = None,
    after_epoch: Callable[[], None] | None = None,
) -> tuple[TimeEstimate, bool] | None:
    """How long an epoch of `graph` takes here: from `cache`, else probed (and then kept).

    Args:
        graph: The graph to train.
        dataset: Its loaded data.
        cache: Where probe results are kept, or None to always probe.
        after_epoch: Called after each of the probe's epochs (a run's checkpoint).

    Returns:
        (the estimate, whether it came from the cache), or None when training would
        not fit in memory (nothing is probed: the probe allocates the model).
    """
    if cache is not None:
        cached = cache.lookup(graph)
        if cached is not None:
            return cached, True
    if check_training_memory(graph, dataset).severity == "error":
        return None
    probe = probe_training(graph, dataset, after_epoch=after_epoch)
    batch = int(graph.training["batch_size"])
    estimate = TimeEstimate(
        probe.seconds_per_step, probe.seconds_per_epoch, len(dataset.x_train), batch
    )
    if cache is not None:
        cache.store(graph, estimate)
    return estimate, False
