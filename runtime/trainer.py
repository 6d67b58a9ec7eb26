"""Train a graph on a dataset with `model.fit`, reporting plain events.

`Trainer.run()` blocks (the GUI's training process and the CLI call it directly);
`stop()`, `pause()` and `resume()` may be called from any thread. Stopping
sets the model's `stop_training` flag directly, which `fit` checks after
every batch; pausing blocks at the end of the current batch, so the
optimizer and its state simply wait. Per-batch work is kept to what Keras already hands
over (its logs) so training through the trainer costs about what plain
`model.fit` costs; consumers throttle what they draw.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import keras
import tensorflow as tf

from graph import recipe
from graph.messages import first_line
from graph.model import NetworkGraph
from graph.validation import ERROR, validate
from runtime.builder import BuildError, build_model
from runtime.compile import compile_model, fit_targets
from runtime.cost_estimate import check_training_memory
from runtime.data import DataError, Dataset, feed, model_inputs, validation_data
from runtime.data_check import check_data
from runtime.data_contract import flowing_into
from runtime.distribute import fit_context, get_strategy
from runtime.events import BatchEnd, EpochEnd, TrainingFailed, TrainingFinished
from runtime.heads import input_shapes
from runtime.nan_trace import model_state, trace_nan
from runtime.recipe import instantiate

Listener = Callable[[object], None]


@dataclass
class _NanAt:
    epoch: int
    batch: int
    name: str


class _EventCallback(keras.callbacks.Callback):
    """Reports batch and epoch ends, honours pause, and catches NaN losses."""

    def __init__(self, trainer: Trainer, epochs: int) -> None:
        super().__init__()
        self.trainer = trainer
        self.epochs = epochs
        self.epoch = 1
        self.batches = 0
        self.nan: _NanAt | None = None
        self.epoch_start: list | None = None

    def on_train_begin(self, logs=None):
        self.batches = self.params.get("steps") or 0
        if self.trainer._stop.is_set():
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        # Kept once per epoch so that a NaN can be traced back (runtime.nan_trace).
        self.epoch_start = model_state(self.model)

    def on_train_batch_end(self, batch, logs=None):
        loss = logs.get("loss") if logs else None
        if loss is not None and not math.isfinite(loss):
            self.nan = _NanAt(self.epoch, batch + 1, "NaN" if math.isnan(loss) else "infinite")
            self.model.stop_training = True
            return
        self.trainer._emit(BatchEnd(self.epoch, batch + 1, self.batches, logs))
        # Waiting here, after the update, lets stop() while paused end the
        # run without another one: fit checks stop_training right after.
        if not self.trainer._running.is_set():
            self.trainer._running.wait()

    def on_epoch_end(self, epoch, logs=None):
        if self.nan is None:
            self.trainer._emit(EpochEnd(epoch + 1, self.epochs, dict(logs or {})))


class _BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest monitored loss, in memory."""

    def __init__(self, monitor: str) -> None:
        super().__init__()
        self.monitor = monitor
        self.best = math.inf
        self.best_epoch: int | None = None
        self.weights = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value < self.best:
            self.best, self.best_epoch = value, epoch + 1
            self.weights = self.model.get_weights()

    def restore(self) -> None:
        if self.weights is not None:
            self.model.set_weights(self.weights)


class Trainer:
    """Trains `graph` on `dataset` and reports events to `on_event`.

    Args:
        graph: A valid graph; its training settings drive the run.
        dataset: Data loaded for the graph (runtime.data.load_dataset).
        on_event: Called with BatchEnd, EpochEnd, TrainingFinished or
            TrainingFailed events, from the training thread.
        epochs: Overrides graph.training["epochs"] when given.
        extra_callbacks: More keras callbacks (tuning's pruning callback).
        health_every: Epochs between checks of every layer's health on one
            batch (runtime.explain.health.HealthMonitor, emitting
            HealthChecked events), also after the last epoch; 0: none.
    """

    def __init__(
        self,
        graph: NetworkGraph,
        dataset: Dataset,
        on_event: Listener | None = None,
        epochs: int | None = None,
        extra_callbacks: list | None = None,
        health_every: int = 0,
    ) -> None:
        self.graph = graph
        self.dataset = dataset
        self.on_event = on_event
        self.epochs = epochs or graph.training["epochs"]
        self.extra_callbacks = list(extra_callbacks or [])
        self.health_every = health_every
        self.model: keras.Model | None = None
        self.result: TrainingFinished | TrainingFailed | None = None
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    # Control, from any thread --------------------------------------------------

    def stop(self) -> None:
        """Ends training after the current batch (also while paused)."""
        self._stop.set()
        if self.model is not None:
            self.model.stop_training = True
        self._running.set()

    def pause(self) -> None:
        """Holds training after the current batch until `resume()` or `stop()`."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # Running -------------------------------------------------------------------

    def _emit(self, event: object) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _finish(self, event):
        self.result = event
        self._emit(event)
        return event

    def run(self) -> TrainingFinished | TrainingFailed:
        """Builds, compiles and trains; returns (and emits) the final event.

        Never raises for bad graphs, data or diverging training: those end
        in a TrainingFailed event with a message saying what to change.
        """
        try:
            return self._finish(self._train())
        except BuildError as error:
            node_id = error.problems[0].node_id if error.problems else None
            return self._finish(TrainingFailed(str(error), node_id=node_id))
        except (MemoryError, tf.errors.ResourceExhaustedError) as error:
            return self._finish(TrainingFailed(out_of_memory_message(error)))
        except (DataError, ValueError, TypeError, RuntimeError, tf.errors.OpError) as error:
            return self._finish(TrainingFailed(f"Training failed: {first_line(error)}"))

    def _train(self) -> TrainingFinished | TrainingFailed:
        training = self.graph.training
        strategy = get_strategy(training["strategy"])
        keras.utils.set_random_seed(training["seed"])
        graph_errors = [p for p in validate(self.graph) if p.severity == ERROR]
        if graph_errors:
            raise BuildError(graph_errors)
        if training["tensorboard_dir"] and importlib.util.find_spec("tensorboard") is None:
            return TrainingFailed(
                f"tensorboard_dir is set ({training['tensorboard_dir']!r}) but TensorBoard is "
                "not installed: install the tensorboard package or clear tensorboard_dir"
            )
        problems = check_data(self.graph, self.dataset)
        errors = [p for p in problems if p.severity == ERROR]
        if errors:
            # the warnings too: one may say why (a typo made a column of numbers categories)
            lines = [f"  - {p.message}" for p in errors]
            lines += [f"  - warning: {p.message}" for p in problems if p.severity != ERROR]
            return TrainingFailed(
                "The data does not fit the graph:\n" + "\n".join(lines),
                node_id=errors[0].node_id,
            )
        memory = check_training_memory(self.graph, self.dataset)
        if memory.severity == ERROR:
            # Refused here, before TensorFlow aborts the process allocating it.
            return TrainingFailed(f"Training refused: {memory.message}")
        with strategy.scope():
            model = build_model(self.graph)
            heads = compile_model(model, self.graph, self.dataset)
        self.model = model
        shapes = input_shapes(self.graph)
        x = model_inputs(self.dataset.x_train, shapes)
        adapt_normalization(model, x)
        y = fit_targets(heads, self.dataset.y_train, self.dataset)
        validation = None
        if self.dataset.has_validation:
            validation = validation_data(
                model_inputs(self.dataset.x_val, shapes),
                fit_targets(heads, self.dataset.y_val, self.dataset),
                training["batch_size"],
            )
        events = _EventCallback(self, self.epochs)
        best = _BestWeights("val_loss" if validation else "loss")
        callbacks = [events, *self._setting_callbacks(validation is not None)]
        if training["checkpoint_best"]:
            callbacks.append(best)
        if self.health_every:
            callbacks.append(self._health_monitor(model, heads, shapes))
        data = feed(x, y, training["batch_size"], shuffle=True, seed=training["seed"])
        with fit_context(training["strategy"], model, x, y):
            history = model.fit(
                **data,
                epochs=self.epochs,
                validation_data=validation,
                callbacks=callbacks + self.extra_callbacks,
                verbose=0,
            )
        if events.nan is not None:
            return self._nan_failure(events, model, x, y)
        if training["checkpoint_best"]:
            best.restore()
        done = len(history.history.get("loss", []))
        return TrainingFinished(
            history={k: [float(v) for v in values] for k, values in history.history.items()},
            stopped_early=done < self.epochs,
            model=model,
            best_epoch=best.best_epoch if training["checkpoint_best"] else done or None,
            stopped_by_user=self._stop.is_set(),
        )

    def _nan_failure(self, events: _EventCallback, model: keras.Model, x, y) -> TrainingFailed:
        """The NaN failure, naming the first node whose output stopped being finite."""
        nan, training = events.nan, self.graph.training
        source = None
        if events.epoch_start is not None:
            try:
                source = trace_nan(
                    self.graph, model, x, y, training["batch_size"], events.epoch_start
                )
            except Exception:
                source = None
        where = ""
        node = source.node if source else None
        if node is not None and node.type == "Input":
            where = f"; the data entering {node.label} holds NaN or infinite values"
        elif source is not None and source.largest is not None:
            where = (
                f"; the outputs of {node.label} stayed finite but grew to {source.largest:.3g}, "
                "so large that the loss overflowed"
            )
        elif node is not None:
            where = f"; {node.label} is the first layer whose output is not finite"
        return TrainingFailed(
            f"loss became {nan.name} at epoch {nan.epoch}, batch {nan.batch}{where}; "
            f"try a lower learning_rate (now {training['learning_rate']:g}), "
            "normalized features, or check the data for inf/NaN values",
            node_id=node.id if node is not None else None,
            epoch=nan.epoch,
            batch=nan.batch,
        )

    def _health_monitor(self, model: keras.Model, heads, shapes) -> keras.callbacks.Callback:
        from runtime.explain.health import HealthMonitor, health_batch

        x, y = health_batch(self.dataset, heads, shapes)
        ids = {node.name: node.id for node in self.graph.nodes}
        return HealthMonitor(x, y, ids, self._emit, self.health_every)

    def _setting_callbacks(self, has_validation: bool) -> list:
        monitor = "val_loss" if has_validation else "loss"
        return instantiate(recipe.setting_callbacks(self.graph.training, monitor))


def adapt_normalization(model: keras.Model, x) -> None:
    """Adapts every layer that learns from the data and has not learned yet.

    Normalization learns statistics, TextVectorization, StringLookup and
    IntegerLookup a vocabulary, Discretization (given num_bins) its bin edges.
    Layers are adapted in model order, so one placed after another sees data
    already transformed by the first.
    """
    for layer in model.layers:
        if not _needs_adapting(layer):
            continue
        if isinstance(layer, keras.layers.Normalization):
            layer.adapt(flowing_into(keras.Model(model.inputs, layer.input), x))
        else:
            layer.adapt(_data_reaching(model, layer, x))


def _needs_adapting(layer: keras.layers.Layer) -> bool:
    if isinstance(layer, keras.layers.TextVectorization):
        return len(layer.get_vocabulary()) <= 2  # only padding and [UNK]
    if isinstance(layer, (keras.layers.StringLookup, keras.layers.IntegerLookup)):
        return not layer.get_vocabulary(include_special_tokens=False)
    if isinstance(layer, keras.layers.Discretization):
        return layer.bin_boundaries is None
    if isinstance(layer, keras.layers.Normalization):
        return getattr(layer, "input_mean", None) is None
    return False


def _data_reaching(model: keras.Model, layer: keras.layers.Layer, x):
    """What `layer` reads: its Input's part of `x` (texts stay texts), or what flows there."""
    for index, tensor in enumerate(model.inputs):
        if tensor is layer.input:
            return x[index] if isinstance(x, list) else x
    if isinstance(layer, keras.layers.TextVectorization):
        raise ValueError(f"{layer.name}: TextVectorization must read an Input node directly")
    return flowing_into(keras.Model(model.inputs, layer.input), x)


def out_of_memory_message(error: BaseException) -> str:
    """What to say when building or training the model ran out of memory."""
    what = "Python" if isinstance(error, MemoryError) else "TensorFlow"
    return (
        f"Training ran out of memory ({what} could not allocate what the model needs): the "
        "model, its batches or its inputs are too large for this machine. Use fewer units or "
        "filters, smaller images (image_size) or a smaller batch_size"
    )
