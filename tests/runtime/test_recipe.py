"""The recipe is written once: what the app makes equals what the exported code makes."""

from __future__ import annotations

import itertools

import keras
import pytest

from codegen.layout_code import flat
from codegen.recipe_code import construct_expr
from graph import recipe
from graph.recipe import Ref
from graph.settings import LOSSES, METRICS, OPTIMIZERS, TRAINING_PARAMS, default_section
from graph.task import LossChoice
from runtime.recipe import instantiate


def printed_then_run(value, **names):
    """The exported source of `value`, executed as an exported script would."""
    import tensorflow as tf

    return eval(flat(construct_expr(value)), {"keras": keras, "tf": tf, **names})


def config(obj):
    if isinstance(obj, (str, float, int)):
        return obj
    return {key: value for key, value in obj.get_config().items() if key != "name"} | {
        "class": type(obj).__name__
    }


@pytest.mark.parametrize(
    ("optimizer", "schedule", "decay"),
    itertools.product(OPTIMIZERS, ("constant", "exponential_decay", "cosine_decay"), (None, 0.01)),
)
def test_optimizers_and_schedules_are_the_same_in_the_app_and_the_script(
    optimizer, schedule, decay
):
    training = default_section(TRAINING_PARAMS) | {
        "optimizer": optimizer,
        "lr_schedule": schedule,
        "weight_decay": decay,
        "momentum": 0.5,
    }
    spec = recipe.optimizer(training)
    app, script = instantiate(spec), printed_then_run(spec)
    assert config(app) == config(script)


@pytest.mark.parametrize(
    ("loss", "logits", "task"),
    itertools.product(LOSSES[1:], (False, True), ("classification", "regression")),
)
def test_losses_and_metrics_are_the_same_in_the_app_and_the_script(loss, logits, task):
    choice = LossChoice(loss, logits)
    assert config(instantiate(recipe.loss(choice))) == config(printed_then_run(recipe.loss(choice)))
    app = instantiate(recipe.metrics(choice, METRICS, task))
    script = printed_then_run(recipe.metrics(choice, METRICS, task))
    assert [config(metric) for metric in app] == [config(metric) for metric in script]
    if task == "regression":
        assert app == ["mae", "mse"]


def test_callbacks_watch_what_the_code_says_they_watch():
    training = default_section(TRAINING_PARAMS) | {
        "early_stopping": True,
        "reduce_lr_on_plateau": True,
        "tensorboard_dir": "logs",
    }
    specs = recipe.setting_callbacks(training, Ref("monitor"))
    app = instantiate(specs, {"monitor": "val_loss"})
    script = printed_then_run(specs, monitor="val_loss")
    assert [type(callback) for callback in app] == [type(callback) for callback in script]
    assert [type(c).__name__ for c in app] == [
        "EarlyStopping",
        "ReduceLROnPlateau",
        "TensorBoard",
    ]
    assert app[0].monitor == script[0].monitor == "val_loss"
    assert app[1].factor == script[1].factor == training["reduce_lr_factor"]
    # A schedule owns the learning rate: no ReduceLROnPlateau then.
    scheduled = training | {"lr_schedule": "cosine_decay"}
    assert "ReduceLROnPlateau" not in str(recipe.setting_callbacks(scheduled, "loss"))


def test_strategies_resolve_to_tensorflow_classes():
    import tensorflow as tf

    from runtime.recipe import resolve

    assert resolve(recipe.STRATEGIES["mirrored"]) is tf.distribute.MirroredStrategy
    assert resolve(recipe.STRATEGIES["multi_worker"]) is tf.distribute.MultiWorkerMirroredStrategy
