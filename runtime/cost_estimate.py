"""Before training: will the run fit this machine's memory, and how long will an epoch take?

The memory estimate is graph.cost's (weights, gradients, optimizer slots,
activations of a batch) plus the dataset the run holds. The time estimate
times a second of real training steps of the graph's own model: FLOP counts
with a machine-wide throughput missed by a factor of two here (a step's cost
depends on which kernels run and on Keras's per-batch work in Python, not on
MACs alone), while the model's own step times the batches of an epoch, plus
an epoch's fixed cost, plus the validation pass fit runs after every epoch
(an evaluation step per validation batch and its own fixed cost), comes within
the target (bench/cost_estimate.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graph.cost import MemoryVerdict, TrainingMemory, graph_cost, memory_verdict, training_memory
from graph.model import NetworkGraph
from graph.summary import summary_totals
from runtime.probe_cache import ProbeCache, TimeEstimate

if TYPE_CHECKING:  # the data contract imports scikit-learn: not for a memory check alone
    from runtime.data import Dataset

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
        seconds_per_epoch: The fixed cost of an epoch's training part (its data
            iterator, shuffling, the metrics read at its end), whatever its length.
        seconds_per_validation_step: One evaluation step on a validation batch.
        seconds_per_validation: The validation pass's fixed cost (evaluate's
            iterator, metrics reset and read), whatever its length.
    """

    seconds_per_step: float
    seconds_per_epoch: float
    seconds_per_validation_step: float = 0.0
    seconds_per_validation: float = 0.0


@dataclass(frozen=True)
class EpochTime:
    """One timed epoch: its training part and its validation pass (0 without one).

    Attributes:
        train: Seconds from the epoch's start to its validation pass (or its end).
        validation: Seconds of the validation pass.
        steps: Seconds between consecutive training batches' ends: one step each.
            The first batch is left out: its time also holds the epoch's start.
        validation_steps: The same for the validation batches.
    """

    train: float
    validation: float = 0.0
    steps: tuple[float, ...] = ()
    validation_steps: tuple[float, ...] = ()

    @property
    def total(self) -> float:
        return self.train + self.validation


class TrainingData:
    """The first samples of a dataset's splits, in the form `model.fit` takes them.

    Args:
        model: The compiled model (its inputs give the shapes the features are cut to).
        heads: What compile_model returned (how targets are fed to each output).
        dataset: The loaded dataset.
    """

    def __init__(self, model, heads, dataset: Dataset) -> None:
        self.shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
        self.heads = heads
        self.dataset = dataset

    def train(self, samples: int) -> tuple:
        """(x, y) of the first `samples` training samples."""
        return self._cut(self.dataset.x_train, self.dataset.y_train, samples)

    def validation(self, samples: int) -> tuple | None:
        """(x, y) of the first `samples` validation samples; None without any."""
        if not self.dataset.has_validation or samples <= 0:
            return None
        return self._cut(self.dataset.x_val, self.dataset.y_val, samples)

    def _cut(self, x, y, samples: int) -> tuple:
        from runtime.compile import fit_targets
        from runtime.data import model_inputs

        return (
            model_inputs(x[:samples], self.shapes),
            fit_targets(self.heads, y[:samples], self.dataset),
        )


def trainable_model(graph: NetworkGraph, dataset: Dataset):
    """`graph`'s model built, adapted and compiled as training does it, and its data.

    Returns:
        (model, data): data is a TrainingData over `dataset`.
    """
    import keras

    from runtime.builder import build_model
    from runtime.compile import compile_model
    from runtime.data import model_inputs
    from runtime.trainer import adapt_normalization

    keras.utils.set_random_seed(int(graph.training.get("seed") or 0))
    model = build_model(graph)
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
    adapt_normalization(model, model_inputs(dataset.x_train, shapes))
    heads = compile_model(model, graph, dataset)
    return model, TrainingData(model, heads, dataset)


def timed_epochs(
    model,
    x,
    y,
    batch_size: int,
    epochs: int,
    after_epoch: Callable[[], None] | None = None,
    validation: tuple | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> list[EpochTime]:
    """Trains `model` for `epochs` (validating on `validation`, if given) and times each epoch.

    Args:
        after_epoch: Called after each epoch, outside the timing (e.g. a run's
            checkpoint, which raises to stop).
        validation: (x, y) that fit evaluates after every epoch, as training does.
        clock: What times it: wall-clock seconds (bench/cost_estimate.py can
            pass the process's CPU time, which load from other processes moves less).
    """
    import keras

    times: list[EpochTime] = []

    class EpochTimer(keras.callbacks.Callback):
        # fit's validation pass calls the test hooks, between the epoch's begin and end.
        def on_epoch_begin(self, epoch, logs=None):
            self.validation, self.steps, self.checks = 0.0, [], []
            self.start = self.last = clock()
            self.first = True

        def on_train_batch_end(self, batch, logs=None):
            self.last = self._lap(self.steps, self.last, self.first)
            self.first = False

        def on_test_begin(self, logs=None):
            self.test_start = self.test_last = clock()
            self.first_check = True

        def on_test_batch_end(self, batch, logs=None):
            self.test_last = self._lap(self.checks, self.test_last, self.first_check)
            self.first_check = False

        def on_test_end(self, logs=None):
            self.validation = clock() - self.test_start

        def on_epoch_end(self, epoch, logs=None):
            total = clock() - self.start
            times.append(
                EpochTime(
                    total - self.validation, self.validation, tuple(self.steps), tuple(self.checks)
                )
            )
            if after_epoch is not None:
                after_epoch()

        @staticmethod
        def _lap(laps: list[float], last: float, first: bool) -> float:
            now = clock()
            if not first:
                laps.append(now - last)
            return now

    model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        verbose=0,
        validation_data=validation,
        callbacks=[EpochTimer()],
    )
    return times


def _batches(samples: int, batch: int) -> int:
    return -(-samples // max(batch, 1))


def _per_batch(parts: list[float], laps: list[float], batches: int) -> tuple[float, float]:
    """(cost per batch, fixed cost) of a part of an epoch that ran `batches` batches.

    A batch costs the median of the laps between batches, which a burst of load
    from other processes moves less than it moves whole epochs; the fixed cost is
    the median part less that many batches. Without laps (a single batch), the
    part is all fixed cost.
    """
    if not laps:
        return 0.0, float(np.median(parts))
    step = float(np.median(laps))
    return step, max(float(np.median(parts)) - batches * step, 0.0)


def probe_training(
    graph: NetworkGraph,
    dataset: Dataset,
    budget_seconds: float = 1.5,
    after_epoch: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> StepProbe:
    """Times real training epochs of `graph`'s own model on its first batches.

    The model is built, adapted and compiled as training does it, and
    `model.fit` runs short epochs, then longer ones, each validating as
    training does, so the figures hold everything an epoch costs here: the
    arithmetic of these very layers, Keras's per-batch work in Python, each
    epoch's fixed cost and the validation pass's. The short fit traces the
    steps (its first epoch) and sizes the longer epochs, which take about
    `budget_seconds` together and give the figures: a step is the median time
    between batches, the fixed costs the median epoch less its steps (medians,
    as a training run's epochs are typically timed; the fastest epoch read
    10-30% low). Training batches are whole: a partial batch has another
    shape, and TensorFlow would trace the step again for it, which a real run
    pays once, not per epoch; a validation split of a few batches is checked
    whole, so its partial batch is traced once, in the first of three epochs,
    and outvoted by the medians. Check the memory estimate first: the probe
    allocates the model. `after_epoch` is called after each of its epochs (a
    run's checkpoint). `clock`: as timed_epochs'.
    """
    batch = int(graph.training["batch_size"])
    samples = len(dataset.x_train)
    held_out = len(dataset.x_val) if dataset.has_validation else 0
    model, data = trainable_model(graph, dataset)

    def epochs_of(steps: int, checked: int, epochs: int) -> list[EpochTime]:
        x, y = data.train(min(samples, steps * batch))
        validation = data.validation(checked)
        return timed_epochs(model, x, y, batch, epochs, after_epoch, validation, clock)

    whole = max(samples // batch, 1)  # fewer samples than a batch: one partial batch
    short = min(2, whole)
    traced = epochs_of(short, min(held_out, batch), 3)[1:]
    # The short epoch's time per step overstates a step (the epoch's fixed cost is in it),
    # so the longer epochs stay within the budget.
    short_step = float(np.median([epoch.train for epoch in traced])) / short
    budget_steps = budget_seconds / 3 / max(short_step, 1e-6)
    long = (
        whole
        if whole <= short
        else int(np.clip(budget_steps, short + 2, min(whole, PROBE_MAX_STEPS)))
    )
    # As many validation batches as training ones (an evaluation step costs less),
    # or the whole split when it is smaller.
    checked = held_out if _batches(held_out, batch) <= max(long, 2) else long * batch
    timed = epochs_of(long, checked, 3)
    step, fixed = _per_batch(
        [epoch.train for epoch in timed], [lap for epoch in timed for lap in epoch.steps], long
    )
    validation_step, validation_fixed = _per_batch(
        [epoch.validation for epoch in timed],
        [lap for epoch in timed for lap in epoch.validation_steps],
        _batches(checked, batch),
    )
    return StepProbe(step, fixed, validation_step, validation_fixed)


def time_estimate(graph: NetworkGraph, dataset: Dataset, probe: StepProbe) -> TimeEstimate:
    """The estimated epoch of training `graph` on `dataset`, from probe_training's figures."""
    return TimeEstimate(
        seconds_per_step=probe.seconds_per_step,
        seconds_per_epoch=probe.seconds_per_epoch,
        train_samples=len(dataset.x_train),
        batch_size=int(graph.training["batch_size"]),
        seconds_per_validation_step=probe.seconds_per_validation_step,
        seconds_per_validation=probe.seconds_per_validation,
        validation_samples=len(dataset.x_val) if dataset.has_validation else 0,
    )


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
    estimate = time_estimate(
        graph, dataset, probe_training(graph, dataset, after_epoch=after_epoch)
    )
    if cache is not None:
        cache.store(graph, estimate)
    return estimate, False
