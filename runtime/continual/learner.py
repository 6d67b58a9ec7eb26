"""Trains a graph's model on a sequence of tasks with one strategy, filling the accuracy matrix.

The model, its optimizer and its loss come from the graph and its training
settings (runtime.builder, runtime.compile); the penalties of the strategies
need a loss of their own, so training is a custom train step (one
`tf.function`, the same for every strategy) instead of `model.fit`:

    loss = graph's loss on the batch (+ the layers' own regularisation losses)
           + EWC's penalty                           (strategy "ewc")
           + alpha * distillation on the old classes (strategy "lwf")

and with strategy "replay" each batch of the task is trained together with a
batch of the same size from the replay memory (runtime.continual.buffer).

Scenarios (van de Ven & Tolias, "Three scenarios for continual learning",
2019): class-incremental predicts among every class; task-incremental is told
each sample's task, so both training and testing choose among that task's
classes only (a shared output whose other units are masked out).

After each task every task's test accuracy is measured (a row of the matrix);
the metrics come from runtime.continual.metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from graph.model import NetworkGraph
from graph.validation import ERROR, validate
from runtime.builder import BuildError, build_model
from runtime.compile import make_loss, make_optimizer
from runtime.continual.buffer import ReplayBuffer
from runtime.continual.errors import ContinualError
from runtime.continual.metrics import summary_metrics
from runtime.continual.strategies import (
    EwcPenalty,
    FisherEstimator,
    batch_spec,
    distillation_loss,
    log_scores,
    masked_crossentropy,
)
from runtime.continual.tasks import TaskSequence, continual_settings, join_samples
from runtime.data import DataError, Dataset, model_inputs
from runtime.data_check import check_data
from runtime.heads import input_shapes, output_heads
from runtime.learned_state import trained_weights
from runtime.trainer import adapt_normalization

_CROSSENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy")
_EVAL_BATCH = 1024


@dataclass(frozen=True)
class TaskReport:
    """One task finished: its row of the accuracy matrix and the metrics so far.

    Attributes:
        index: The task (from 0).
        name: Its name.
        row: Test accuracy on every task of the sequence after training on this one.
        metrics: Average accuracy, backward and forward transfer over the tasks so far.
        loss: The mean training loss of its last epoch.
        seconds: Time spent training on it (with the strategy's extra work).
    """

    index: int
    name: str
    row: list[float]
    metrics: dict[str, float]
    loss: float
    seconds: float


@dataclass
class ContinualResult:
    """A whole sequence learned with one strategy (plain and picklable).

    Attributes:
        strategy: "naive", "replay", "ewc" or "lwf".
        scenario: "class_incremental" or "task_incremental".
        task_names: The tasks' names in order.
        task_classes: Each task's class ids.
        class_names: Every class's name by id.
        matrix: R[i][j], test accuracy on task j after training on task i (rows
            for the tasks trained; fewer than tasks when stopped).
        initial: b[j], each task's accuracy before any training.
        metrics: Average accuracy, backward and forward transfer.
        losses: Each task's last-epoch training loss.
        seconds: Training time per task.
        weights: The final weights and learned state (runtime.learned_state.trained_weights).
        stopped: True when the user stopped it at a task boundary.
        buffer_counts: Samples per class id in the replay memory at the end ({} without replay).
    """

    strategy: str
    scenario: str
    task_names: list[str]
    task_classes: list[list[int]]
    class_names: list[str]
    matrix: list[list[float]]
    initial: list[float]
    metrics: dict[str, float]
    losses: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    stopped: bool = False
    buffer_counts: dict[int, int] = field(default_factory=dict)


def check_fit(graph: NetworkGraph, sequence: TaskSequence) -> None:
    """Raises ContinualError unless `graph` is valid and its input and output fit `sequence`."""
    problems = [p for p in validate(graph) if p.severity == ERROR]
    if not problems:
        problems = [p for p in check_data(graph, _as_dataset(sequence)) if p.severity == ERROR]
    if problems:
        lines = "\n".join(f"  - {p.message}" for p in problems)
        raise ContinualError(
            f"The graph does not fit the task sequence:\n{lines}", problems[0].node_id
        )
    if len(graph.input_nodes()) != 1:
        raise ContinualError("continual learning needs a graph with exactly one Input node")
    heads = output_heads(graph, "classification")
    if len(heads) != 1:
        raise ContinualError("continual learning needs a graph with exactly one output")
    if heads[0].loss.name not in _CROSSENTROPIES:
        raise ContinualError(
            f"continual learning needs one output unit per class and a categorical "
            f"crossentropy; output {heads[0].node.label} uses {heads[0].loss.name}: give it "
            f"units={sequence.num_classes} and activation=softmax",
            heads[0].node.id,
        )


def check_learner(graph: NetworkGraph, sequence: TaskSequence, settings: dict) -> None:
    """Raises ContinualError unless `graph` can learn `sequence` with `settings` (checked)."""
    check_fit(graph, sequence)
    samples = sequence.training_samples()
    if settings["strategy"] == "replay" and settings["buffer_size"] > samples:
        raise ContinualError(
            f"buffer_size is {settings['buffer_size']} but the whole sequence has "
            f"{samples} training samples: choose a buffer_size of at most {samples}"
        )


def _as_dataset(sequence: TaskSequence) -> Dataset:
    tasks = sequence.tasks
    return Dataset(
        name=sequence.source,
        x_train=join_samples([t.x_train for t in tasks]),
        y_train=np.concatenate([t.y_train for t in tasks]),
        x_val=None,
        y_val=None,
        x_test=join_samples([t.x_test for t in tasks]),
        y_test=np.concatenate([t.y_test for t in tasks]),
        task="classification",
        class_names=sequence.class_names,
        feature_names=(),
        num_classes=sequence.num_classes,
        input_shape=sequence.input_shape,
    )


class ContinualLearner:
    """Learns `sequence` task after task with the graph's model and one strategy.

    Args:
        graph: A valid classification graph with one Input and one softmax output.
        sequence: The tasks.
        settings: The graph's continual section (missing keys take defaults).
        strategy: Overrides settings["strategy"] when given.

    Raises:
        ContinualError: when the graph does not fit the sequence or a setting does not fit the data.
    """

    def __init__(
        self,
        graph: NetworkGraph,
        sequence: TaskSequence,
        settings: dict,
        strategy: str | None = None,
    ) -> None:
        settings = continual_settings({**settings, **({"strategy": strategy} if strategy else {})})
        check_learner(graph, sequence, settings)
        self.settings = settings
        self.strategy = settings["strategy"]
        self.sequence = sequence
        self.graph = graph
        seed = settings["seed"]
        keras.utils.set_random_seed(seed)
        try:
            self.model = build_model(graph)
        except BuildError as error:
            node = error.problems[0].node_id if error.problems else None
            raise ContinualError(str(error), node) from None
        head = output_heads(graph, "classification")[0]
        self.from_logits = head.loss.from_logits
        self.graph_loss = keras.losses.get(make_loss(head.loss))
        self.one_hot = head.loss.name == "categorical_crossentropy"
        self.optimizer = make_optimizer(graph.training)
        self.batch_size = graph.training["batch_size"]
        self.task_incremental = settings["scenario"] == "task_incremental"
        self.rng = np.random.default_rng(seed)
        self.shapes = input_shapes(graph)
        self.buffer = (
            ReplayBuffer(settings["buffer_size"], settings["buffer_selection"], seed)
            if self.strategy == "replay"
            else None
        )
        self.ewc = (
            EwcPenalty(self.model, settings["ewc_lambda"]) if self.strategy == "ewc" else None
        )
        classes = sequence.num_classes
        self.old_classes = tf.Variable(tf.zeros([classes]), trainable=False, name="lwf_classes")
        self._masks = self._task_masks()
        # One trace for every batch size and task (the last batch of a task is smaller).
        self._step = tf.function(
            self._train_step,
            input_signature=[
                batch_spec(self.model),
                tf.TensorSpec([None], tf.int64),
                tf.TensorSpec([None, classes], tf.float32),
                tf.TensorSpec([None, classes], tf.float32),
                tf.TensorSpec([None], tf.float32),
            ],
        )
        self.fisher = (
            FisherEstimator(self.model, self.from_logits) if self.strategy == "ewc" else None
        )
        self._feeds = [(self._feed(t.x_train), self._feed(t.x_test)) for t in sequence.tasks]
        adapt_normalization(self.model, self._feeds[0][0])
        self.matrix: list[list[float]] = []
        self.initial: list[float] = []
        self.losses: list[float] = []
        self.seconds: list[float] = []

    # Data ----------------------------------------------------------------------

    def _feed(self, x: np.ndarray) -> np.ndarray:
        if x.dtype.kind == "U":  # texts stay NumPy: batches are picked and replayed by index
            return x.reshape(len(x), *self.shapes[0])
        try:
            return model_inputs(x, self.shapes)
        except DataError as error:
            raise ContinualError(str(error)) from None

    def _task_masks(self) -> np.ndarray:
        """Per class id, the classes a sample of it may be predicted as (its task's, or all)."""
        classes = self.sequence.num_classes
        if not self.task_incremental:
            return np.ones((classes, classes), dtype="float32")
        masks = np.zeros((classes, classes), dtype="float32")
        for task in self.sequence.tasks:
            for label in task.classes:
                masks[label, list(task.classes)] = 1.0
        return masks

    # Training --------------------------------------------------------------------

    def _train_step(self, x, y, mask, old_scores, old_weights):
        with tf.GradientTape() as tape:
            outputs = self.model(x, training=True)
            if self.task_incremental:
                loss = masked_crossentropy(y, outputs, mask, self.from_logits)
            else:
                target = tf.one_hot(y, tf.shape(outputs)[-1]) if self.one_hot else y
                loss = tf.reduce_mean(self.graph_loss(target, outputs))
            if self.model.losses:
                loss += tf.add_n(self.model.losses)
            if self.ewc is not None:
                loss += self.ewc()
            if self.strategy == "lwf":
                loss += self.settings["lwf_alpha"] * distillation_loss(
                    old_scores,
                    outputs,
                    self.old_classes,
                    old_weights,
                    self.from_logits,
                    self.settings["lwf_temperature"],
                )
        variables = self.model.trainable_variables
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        return loss

    def _old_scores(self, x: np.ndarray) -> np.ndarray:
        """LwF: the network's outputs on the new task's samples before it trains on them."""
        parts = [
            log_scores(self.model(x[i : i + _EVAL_BATCH], training=False), self.from_logits)
            for i in range(0, len(x), _EVAL_BATCH)
        ]
        return np.concatenate([p.numpy() for p in parts])

    def train_task(
        self,
        index: int,
        on_epoch: Callable[[int, float], None] | None = None,
    ) -> float:
        """Trains epochs_per_task epochs on task `index`; returns the last epoch's loss."""
        task = self.sequence.tasks[index]
        x, y = self._feeds[index][0], task.y_train
        classes = self.sequence.num_classes
        lwf = self.strategy == "lwf" and index > 0
        if lwf:
            old = np.zeros(classes, dtype="float32")
            for earlier in self.sequence.tasks[:index]:
                old[list(earlier.classes)] = 1.0
            self.old_classes.assign(old)
            scores = self._old_scores(x)
        else:
            scores = np.zeros((len(x), classes), dtype="float32")
        weights = np.full(len(x), 1.0 if lwf else 0.0, dtype="float32")
        replay = self.buffer is not None and len(self.buffer) > 0
        loss = float("nan")
        for epoch in range(self.settings["epochs_per_task"]):
            order = self.rng.permutation(len(x))
            total, batches = 0.0, 0
            for start in range(0, len(x), self.batch_size):
                picks = order[start : start + self.batch_size]
                xb, yb, sb, wb = x[picks], y[picks], scores[picks], weights[picks]
                if replay:
                    xr, yr = self.buffer.sample(len(picks), self.rng)
                    xb, yb = np.concatenate([xb, xr]), np.concatenate([yb, yr])
                    sb = np.concatenate([sb, np.zeros((len(yr), classes), dtype="float32")])
                    wb = np.concatenate([wb, np.zeros(len(yr), dtype="float32")])
                total += float(self._step(xb, yb, self._masks[yb], sb, wb))
                batches += 1
            loss = total / max(batches, 1)
            if on_epoch is not None:
                on_epoch(epoch + 1, loss)
        return loss

    def remember(self, index: int) -> None:
        """After task `index`: what the strategy keeps of it (memory samples, Fisher)."""
        task = self.sequence.tasks[index]
        if self.buffer is not None:
            x = self._feeds[index][0]
            for start in range(0, len(x), _EVAL_BATCH):  # image files: a batch decoded at a time
                self.buffer.add(
                    x[start : start + _EVAL_BATCH], task.y_train[start : start + _EVAL_BATCH]
                )
        if self.ewc is not None:
            count = min(self.settings["fisher_samples"], len(task.y_train))
            picks = self.rng.choice(len(task.y_train), size=count, replace=False)
            fisher = self.fisher(self._feeds[index][0][picks], task.y_train[picks])
            self.ewc.consolidate(fisher)

    # Testing ---------------------------------------------------------------------

    def evaluate(self) -> list[float]:
        """Test accuracy on every task of the sequence, as the scenario predicts."""
        accuracies = []
        for task, (_, x) in zip(self.sequence.tasks, self._feeds, strict=True):
            # Batch by batch, so image files are decoded a batch at a time.
            scores = np.concatenate(
                [
                    np.asarray(self.model(x[i : i + _EVAL_BATCH], training=False))
                    for i in range(0, len(x), _EVAL_BATCH)
                ]
            )
            if self.task_incremental:
                allowed = np.full(scores.shape[1], -np.inf)
                allowed[list(task.classes)] = 0.0
                scores = scores + allowed
            accuracies.append(float(np.mean(np.argmax(scores, axis=1) == task.y_test)))
        return accuracies

    # The whole sequence ------------------------------------------------------------

    def run(
        self,
        on_task: Callable[[TaskReport], None] | None = None,
        checkpoint: Callable[[], None] | None = None,
        on_epoch: Callable[[int, int, float], None] | None = None,
    ) -> ContinualResult:
        """Learns every task in order; the result holds the accuracy matrix and metrics.

        Args:
            on_task: Called after each task with its report.
            checkpoint: Called before each task: it may wait (pause) or raise (stop);
                `result()` then still gives the tasks done.
            on_epoch: Called with (task index, epoch, loss) after each epoch.
        """
        self.initial = self.evaluate()
        for index, task in enumerate(self.sequence.tasks):
            if checkpoint is not None:
                checkpoint()
            began = time.perf_counter()
            epoch_hook = (
                None if on_epoch is None else (lambda e, loss, i=index: on_epoch(i, e, loss))
            )
            loss = self.train_task(index, epoch_hook)
            self.remember(index)
            self.seconds.append(time.perf_counter() - began)
            self.losses.append(loss)
            self.matrix.append(self.evaluate())
            if on_task is not None:
                metrics = summary_metrics(self.matrix, self.initial)
                on_task(
                    TaskReport(index, task.name, self.matrix[-1], metrics, loss, self.seconds[-1])
                )
        return self.result()

    def result(self, stopped: bool = False) -> ContinualResult:
        """What was learned so far (all tasks unless stopped)."""
        sequence = self.sequence
        return ContinualResult(
            strategy=self.strategy,
            scenario=self.settings["scenario"],
            task_names=sequence.names,
            task_classes=[list(t.classes) for t in sequence.tasks],
            class_names=list(sequence.class_names),
            matrix=[list(row) for row in self.matrix],
            initial=list(self.initial),
            metrics=summary_metrics(self.matrix, self.initial),
            losses=list(self.losses),
            seconds=list(self.seconds),
            weights=trained_weights(self.model),
            stopped=stopped,
            buffer_counts=self.buffer.class_counts() if self.buffer is not None else {},
        )
