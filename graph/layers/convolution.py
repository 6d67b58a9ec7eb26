"""Convolution layers: learned filters slid over sequences, images and volumes."""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import (
    activation,
    conv_length,
    count_bias,
    known_last,
    require_rank,
    use_bias,
    weight_params,
)
from graph.params import Param

EXAMPLE_SHAPES = {1: "(None, 100, 8)", 2: "(None, 28, 28, 3)", 3: "(None, 16, 16, 16, 1)"}
DIMENSION_WORDS = {1: "sequences", 2: "images", 3: "volumes"}


def window_params(rank: int, kernel: int = 3) -> tuple[Param, ...]:
    """kernel_size, strides and padding as every convolution declares them."""
    return (
        Param("kernel_size", "ints", (kernel,) * rank, minimum=1, length=rank, help="Window size"),
        Param("strides", "ints", (1,) * rank, minimum=1, length=rank, help="Step between windows"),
        Param("padding", "choice", "valid", choices=("valid", "same"), help="Pad to keep size"),
    )


def dilation_param(rank: int) -> Param:
    return Param(
        "dilation_rate", "ints", (1,) * rank, minimum=1, length=rank, help="Gaps inside the window"
    )


def spatial_shape(params, shape, rank: int, dilated: bool = True):
    """Output spatial dims of a channels-last window op over `shape`."""
    dilation = params.get("dilation_rate", (1,) * rank) if dilated else (1,) * rank
    return tuple(
        conv_length(length, k, s, params["padding"], d)
        for length, k, s, d in zip(
            shape[1:-1], params["kernel_size"], params["strides"], dilation, strict=True
        )
    )


def _conv(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        channels = known_last(shape)
        if channels % params["groups"]:
            raise ShapeError(
                f"input channels {channels} are not divisible by groups={params['groups']}"
            )
        return (None, *spatial_shape(params, shape, rank), params["filters"])

    def count(params, inputs, _output):
        channels = known_last(inputs[0])
        kernel = 1
        for k in params["kernel_size"]:
            kernel *= k
        weights = kernel * channels // params["groups"] * params["filters"]
        return weights + count_bias(params, params["filters"])

    window = list(window_params(rank))
    if rank == 1:
        window[2] = Param(
            "padding", "choice", "valid", choices=("valid", "same", "causal"), help="Pad mode"
        )
    return LayerType(
        f"Conv{rank}D",
        "Convolution",
        f"Slides learned filters over {DIMENSION_WORDS[rank]} to detect local patterns.",
        (
            Param("filters", "int", 32, minimum=1, help="Number of filters (output channels)"),
            *window,
            dilation_param(rank),
            Param("groups", "int", 1, minimum=1, help="Split channels into independent groups"),
            activation(),
            use_bias(),
            *weight_params(),
        ),
        shape_rule,
        count,
        key_params=("filters", "kernel_size", "activation"),
    )


LAYERS = tuple(_conv(rank) for rank in (1, 2, 3))
