"""One layer recipe: the layer the app instantiates is the layer the exported code writes.

For every catalog type, with its default params and with generated ones, the
layer `runtime.layer_factory.make_layer` builds from graph.layer_recipe and the
layer the exported source (`codegen.model_code.layer_expr`, arguments equal to
their defaults left out) evaluates to have equal Keras configs.
"""

from __future__ import annotations

import keras
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from codegen.layout_code import flat
from codegen.model_code import layer_expr
from graph.catalog import CATALOG
from graph.layer_recipe import layer_construct
from graph.recipe import Construct
from runtime.layer_factory import make_layer
from tests.runtime.test_conformance import expected_rank, layer_params

LAYER_TYPES = sorted(name for name in CATALOG if name != "Input")
# Unseeded random layers draw a seed of their own when made; a fixed one compares.
SEED = 7


def seeded(params: dict) -> dict:
    """`params` with every unset seed (wrapped layers' too) set to SEED."""
    result = dict(params)
    if "seed" in result and result["seed"] is None:
        result["seed"] = SEED
    inner = result.get("layer")
    if isinstance(inner, dict) and "params" in inner:
        result["layer"] = {**inner, "params": seeded(inner["params"])}
    return result


def assert_same_layer(type_name: str, params: dict) -> None:
    """Equal configs, or Keras refuses both (combinations the shape rules report first)."""
    source = flat(layer_expr(type_name, params, "layer"))
    try:
        built = make_layer(type_name, params, "layer")
    except ValueError:
        with pytest.raises(ValueError):
            eval(source, {"keras": keras})
        return
    exported = eval(source, {"keras": keras})  # the exporter's own output, no graph content
    assert type(exported) is type(built), source
    assert exported.get_config() == built.get_config(), source


@pytest.mark.parametrize("type_name", LAYER_TYPES)
def test_app_and_export_make_the_same_layer(type_name):
    entry = CATALOG[type_name]
    assert_same_layer(type_name, seeded(entry.default_params()))

    @settings(
        max_examples=4,
        deadline=None,
        database=None,
        phases=(Phase.generate,),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(layer_params(entry, expected_rank(entry) or 3))
    def check(params):
        assert_same_layer(type_name, seeded(params))

    check()


def test_readable_recipe_leaves_out_defaults_but_keeps_key_params():
    construct = layer_construct("Dense", {"units": 8}, "d", readable=True)
    expected = (("units", 8), ("activation", "linear"), ("name", "d"))
    assert construct == Construct("keras.layers.Dense", kwargs=expected)
    full = dict(layer_construct("Dense", {"units": 8}, "d").kwargs)
    assert full["use_bias"] is True and full["kernel_initializer"] == "glorot_uniform"


def test_keras_objects_are_constructs_with_single_arguments_by_position():
    construct = layer_construct(
        "Dense", {"units": 2, "kernel_regularizer": {"l1": 0.0, "l2": 0.01}}, "d", readable=True
    )
    kwargs = dict(construct.kwargs)
    assert kwargs["kernel_regularizer"] == Construct("keras.regularizers.L2", (0.01,))


def test_wrapped_layer_is_named_after_its_wrapper():
    construct = layer_construct("Bidirectional", {"layer": {"type": "LSTM", "params": {}}}, "bi")
    inner = dict(construct.kwargs)["layer"]
    assert inner.path == "keras.layers.LSTM"
    assert dict(inner.kwargs)["name"] == "bi_lstm"
