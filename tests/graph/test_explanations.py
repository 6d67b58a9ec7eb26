"""Every declared parameter and choice has an explanation a learner can read."""

from __future__ import annotations

import pytest

from graph.catalog import CATALOG
from graph.keras_objects import INITIALIZER_NAMES
from graph.params import ACTIVATIONS, Param, When
from graph.settings import LOSSES, METRICS, OPTIMIZERS, SECTIONS, TRAINING_PARAMS

LAYER_PARAMS = [(type_name, param) for type_name, spec in CATALOG.items() for param in spec.params]
SETTINGS_PARAMS = [(name, p) for name, section in SECTIONS.items() for p in section.params]


def assert_explains(param: Param, where: str) -> None:
    text = param.describe()
    assert param.help, f"{where}.{param.name} has no help line"
    assert len(text.split()) >= 6, f"{where}.{param.name} has no explanation: {text!r}"
    assert text.endswith("."), f"{where}.{param.name}: {text!r}"
    assert param.tooltip().startswith(param.help)


@pytest.mark.parametrize(("type_name", "param"), LAYER_PARAMS, ids=lambda v: getattr(v, "name", v))
def test_every_layer_parameter_is_explained(type_name, param):
    assert_explains(param, type_name)


@pytest.mark.parametrize(("section", "param"), SETTINGS_PARAMS, ids=lambda v: getattr(v, "name", v))
def test_every_setting_is_explained_in_its_own_declaration(section, param):
    assert param.explanation, f"{section}.{param.name} needs its own explanation"
    assert_explains(param, section)


@pytest.mark.parametrize(
    ("param_name", "choices"),
    [
        ("activation", ACTIVATIONS),
        ("kernel_initializer", INITIALIZER_NAMES),
        ("optimizer", OPTIMIZERS),
        ("loss", LOSSES),
        ("metrics", METRICS),
    ],
)
def test_every_activation_optimizer_loss_metric_and_initializer_is_explained(param_name, choices):
    param = Param(param_name, "choice", choices[0], choices=tuple(choices))
    for choice in choices:
        assert param.choice_tooltip(choice).endswith("."), (param_name, choice)


def test_decay_settings_are_shown_only_with_a_schedule():
    params = {p.name: p for p in TRAINING_PARAMS}
    constant = {"lr_schedule": "constant", "optimizer": "adam"}
    assert not params["decay_steps"].is_shown(constant)
    assert params["decay_steps"].is_shown({**constant, "lr_schedule": "cosine_decay"})
    assert not params["decay_rate"].is_shown({**constant, "lr_schedule": "cosine_decay"})
    assert params["decay_rate"].is_shown({**constant, "lr_schedule": "exponential_decay"})
    assert params["learning_rate"].is_shown(constant)


def test_conditions_combine_and_enable():
    param = Param(
        "noise",
        "float",
        0.1,
        shown_when=(When("source", ("builtin",)), When("name", ("moons",))),
        enabled_when=When("locked", (False,)),
    )
    assert param.is_shown({"source": "builtin", "name": "moons"})
    assert not param.is_shown({"source": "csv", "name": "moons"})
    assert param.is_enabled({"locked": False})
    assert not param.is_enabled({"locked": True})
