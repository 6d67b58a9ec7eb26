"""Activation layers with settings of their own (the Activation layer has none)."""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import (
    axis_index,
    constraint,
    fmt,
    initializer,
    regularizer,
    require_min_rank,
    single,
)
from graph.params import Param


def _prelu_count(params, inputs, _output):
    shape = inputs[0]
    shared = params["shared_axes"] or ()
    sizes = [1 if axis in shared else d for axis, d in enumerate(shape) if axis > 0]
    if None in sizes:
        raise ShapeError(
            f"needs known dimensions outside shared_axes={params['shared_axes']}. "
            f"Received: input shape {fmt(shape)}"
        )
    total = 1
    for size in sizes:
        total *= size
    return total


def _prelu_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, "(None, 64)")
    for axis in params["shared_axes"] or ():
        if not 0 < axis < len(shape):
            raise ShapeError(
                f"shared_axes must lie in 1..{len(shape) - 1} for input shape {fmt(shape)}. "
                f"Received: shared_axes={params['shared_axes']}"
            )
    _prelu_count(params, inputs, shape)
    return shape


def _softmax_shape(params, inputs):
    shape = inputs[0]
    axis_index(params["axis"], len(shape), shape)
    return shape


LAYERS = (
    LayerType(
        "ReLU",
        "Activation",
        "Keeps positive values and zeroes negative ones; optionally capped at a maximum.",
        (
            Param(
                "max_value",
                "float",
                None,
                minimum=0.0,
                nullable=True,
                help="Largest output; empty: no cap",
            ),
            Param("negative_slope", "float", 0.0, minimum=0.0, help="Slope below the threshold"),
            Param("threshold", "float", 0.0, minimum=0.0, help="Values below it count as off"),
        ),
        single,
        key_params=("max_value",),
    ),
    LayerType(
        "LeakyReLU",
        "Activation",
        "Like ReLU, but lets a small part of negative values through so neurons never go silent.",
        (Param("negative_slope", "float", 0.3, minimum=0.0, help="Slope for negative values"),),
        single,
        key_params=("negative_slope",),
    ),
    LayerType(
        "PReLU",
        "Activation",
        "Like LeakyReLU, but the slope for negative values is learned.",
        (
            initializer("alpha_initializer", "zeros"),
            regularizer("alpha_regularizer"),
            constraint("alpha_constraint"),
            Param(
                "shared_axes",
                "ints",
                None,
                minimum=1,
                nullable=True,
                help="Axes that share one slope, e.g. 1 2 for images",
            ),
        ),
        _prelu_shape,
        _prelu_count,
        key_params=("shared_axes",),
    ),
    LayerType(
        "ELU",
        "Activation",
        "Like ReLU, but negative values curve smoothly towards -alpha.",
        (Param("alpha", "float", 1.0, minimum=0.0, help="Limit of negative outputs"),),
        single,
        key_params=("alpha",),
    ),
    LayerType(
        "Softmax",
        "Activation",
        "Turns scores into probabilities that add up to 1 along an axis.",
        (Param("axis", "int", -1, help="Axis the probabilities add up over; -1 is the last"),),
        _softmax_shape,
        key_params=("axis",),
    ),
)
