"""The trainer: real training, events, stop, pause, NaN, callbacks from the settings."""

from __future__ import annotations

import importlib.util
import threading
import time
from dataclasses import replace

import keras
import numpy as np
import pytest

from graph.model import RemoveEdge
from runtime.compile import make_optimizer
from runtime.data import load_dataset
from runtime.evaluation import evaluate
from runtime.events import BatchEnd, EpochEnd, TrainingFailed, TrainingFinished
from runtime.trainer import Trainer
from tests.runtime.runtime_helpers import mlp, tiny_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset({"name": "digits"})


def batches_per_epoch(dataset, batch_size=32):
    return -(-len(dataset.x_train) // batch_size)


def test_digits_really_trains_and_reports_events(digits):
    events = []
    result = Trainer(mlp(epochs=3), digits, on_event=events.append).run()
    assert isinstance(result, TrainingFinished)
    batches = [e for e in events if isinstance(e, BatchEnd)]
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert len(batches) == 3 * batches_per_epoch(digits)
    assert batches[0].batch == 1 and batches[0].batches == batches_per_epoch(digits)
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert set(epochs[-1].logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert events[-1] is result
    assert result.history["loss"][-1] < result.history["loss"][0]
    # Far above the 10% of guessing.
    assert evaluate(result.model, digits).metrics["accuracy"] > 0.8


def test_same_seed_same_numbers(digits):
    first = Trainer(mlp(epochs=1, seed=3), digits).run()
    second = Trainer(mlp(epochs=1, seed=3), digits).run()
    assert first.history == second.history


def test_stop_within_one_batch(digits):
    trainer = None

    def on_event(event):
        if isinstance(event, BatchEnd) and event.batch == 3:
            trainer.stop()

    events = []
    trainer = Trainer(mlp(epochs=5), digits, on_event=lambda e: (events.append(e), on_event(e)))
    result = trainer.run()
    assert isinstance(result, TrainingFinished)
    assert result.stopped_by_user and result.stopped_early
    assert [e.batch for e in events if isinstance(e, BatchEnd)] == [1, 2, 3]
    assert int(result.model.optimizer.iterations) == 3


def test_stop_from_another_thread_while_paused(digits):
    trainer = Trainer(mlp(epochs=50), digits)
    trainer.pause()
    worker = threading.Thread(target=trainer.run)
    worker.start()
    time.sleep(0.5)
    trainer.stop()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert trainer.result.stopped_by_user
    # Paused before the start, the run holds after its first batch.
    assert int(trainer.model.optimizer.iterations) == 1


def test_pause_and_resume_keep_the_optimizer_state(digits):
    seen = {}
    trainer = None

    def on_event(event):
        if isinstance(event, BatchEnd) and event.epoch == 1 and event.batch == 2:
            trainer.pause()

            def resume_later():
                time.sleep(0.3)
                seen["paused"] = trainer.paused
                seen["iterations"] = int(trainer.model.optimizer.iterations)
                trainer.resume()

            threading.Thread(target=resume_later).start()

    trainer = Trainer(mlp(epochs=2), digits, on_event=on_event)
    result = trainer.run()
    assert seen == {"paused": True, "iterations": 2}
    assert int(result.model.optimizer.iterations) == 2 * batches_per_epoch(digits)


def test_huge_learning_rate_fails_with_epoch_and_batch():
    sine = load_dataset({"name": "sine", "samples": 200, "normalization": "none"})
    graph = mlp(
        input_shape=(20, 1),
        units=1,
        activation="linear",
        hidden=64,
        optimizer="sgd",
        learning_rate=10.0,
        epochs=5,
        metrics=(),
    )
    result = Trainer(graph, sine).run()
    assert isinstance(result, TrainingFailed)
    assert result.epoch == 1 and result.batch is not None
    assert f"at epoch 1, batch {result.batch}; " in result.message
    assert "try a lower learning_rate (now 10)" in result.message


def test_inf_in_the_data_fails_with_epoch_and_batch():
    x = np.random.default_rng(0).normal(size=(40, 2))
    x[7, 0] = np.inf
    dataset = tiny_dataset(x, np.arange(40) % 2)
    graph = mlp(input_shape=(2,), units=2, batch_size=64)
    result = Trainer(graph, dataset).run()
    assert isinstance(result, TrainingFailed)
    assert "loss became NaN at epoch 1, batch 1" in result.message


def test_data_that_does_not_fit_fails_naming_the_node(digits):
    graph = mlp(units=1, activation="sigmoid")
    result = Trainer(graph, digits).run()
    assert isinstance(result, TrainingFailed)
    assert result.node_id == graph.output_nodes()[0].id
    assert "set units=10 and activation=softmax" in result.message


def test_invalid_graph_fails_with_the_build_problems(digits):
    graph = mlp()
    output = graph.output_nodes()[0]
    graph.apply(RemoveEdge(graph.in_edges(output.id)[0]))
    result = Trainer(graph, digits).run()
    assert isinstance(result, TrainingFailed)
    assert "The graph cannot be built" in result.message


def test_best_weights_checkpoint(digits):
    result = Trainer(mlp(epochs=3), digits).run()
    val = result.history["val_loss"]
    assert result.best_epoch == int(np.argmin(val)) + 1
    x_val = digits.x_val
    loss = result.model.evaluate(x_val, digits.y_val, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(min(val), rel=1e-4)


def test_early_stopping_ends_before_the_planned_epochs():
    # Random labels: the validation loss rises as soon as the model memorises.
    rng = np.random.default_rng(0)
    noise = tiny_dataset(rng.normal(size=(64, 4)), rng.integers(0, 2, 64))
    noise = replace(noise, x_val=rng.normal(size=(64, 4)), y_val=rng.integers(0, 2, 64))
    graph = mlp(input_shape=(4,), units=2, hidden=64, learning_rate=0.05, epochs=30)
    graph.training.update(early_stopping=True, patience=1)
    result = Trainer(graph, noise).run()
    assert result.stopped_early and not result.stopped_by_user
    assert len(result.history["loss"]) < 30


def test_reduce_lr_on_plateau():
    iris = load_dataset({"name": "iris"})
    graph = mlp(input_shape=(4,), units=3, learning_rate=1e-8, epochs=4)
    graph.training.update(reduce_lr_on_plateau=True, reduce_lr_patience=1)
    result = Trainer(graph, iris).run()
    assert result.history["learning_rate"][-1] < 1e-8


def test_tensorboard_log_directory(tmp_path):
    iris = load_dataset({"name": "iris"})
    graph = mlp(input_shape=(4,), units=3, epochs=1, tensorboard_dir=str(tmp_path / "logs"))
    result = Trainer(graph, iris).run()
    if importlib.util.find_spec("tensorboard") is None:
        assert isinstance(result, TrainingFailed)
        assert "but TensorBoard is not installed" in result.message
    else:
        assert any((tmp_path / "logs").rglob("events.out.tfevents.*"))


def test_normalization_layer_is_adapted_on_the_training_data():
    x = np.random.default_rng(1).normal(loc=5.0, scale=3.0, size=(64, 3))
    dataset = tiny_dataset(x, np.arange(64) % 2)
    graph = mlp(input_shape=(3,), units=2, epochs=1)
    source = graph.input_nodes()[0]
    first = graph.out_edges(source.id)[0].target
    graph.apply(RemoveEdge(graph.out_edges(source.id)[0]))
    norm = graph.add_node("Normalization")
    graph.connect(source.id, norm.id)
    graph.connect(norm.id, first)
    result = Trainer(graph, dataset).run()
    layer = result.model.get_layer(norm.name)
    np.testing.assert_allclose(np.ravel(layer.mean), x.mean(axis=0), rtol=1e-4)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam"])
def test_every_optimizer_from_settings(name):
    settings = mlp(optimizer=name, momentum=0.9, nesterov=True, learning_rate=0.01).training
    optimizer = make_optimizer(settings)
    assert type(optimizer).__name__.lower() == name
    if name == "sgd":
        assert optimizer.momentum == 0.9 and optimizer.nesterov
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("schedule", "kind"),
    [
        ("exponential_decay", keras.optimizers.schedules.ExponentialDecay),
        ("cosine_decay", keras.optimizers.schedules.CosineDecay),
    ],
)
def test_learning_rate_schedules(schedule, kind):
    optimizer = make_optimizer(mlp(lr_schedule=schedule, decay_steps=10).training)
    assert isinstance(optimizer._learning_rate, kind)
