"""Convolution layers: learned filters slid over sequences, images and volumes."""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import (
    activation,
    constraint,
    conv_length,
    count_bias,
    deconv_length,
    initializer,
    known_last,
    positions,
    product,
    regularizer,
    require_rank,
    times,
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


def check_dilated_strides(params) -> None:
    """Keras refuses strides > 1 together with dilation_rate > 1."""
    dilation = params.get("dilation_rate")
    if dilation and max(params["strides"]) > 1 and max(dilation) > 1:
        raise ShapeError(
            "strides > 1 cannot be combined with dilation_rate > 1. "
            f"Received: strides={params['strides']}, dilation_rate={dilation}"
        )


def _conv(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        channels = known_last(shape)
        groups = params["groups"]
        if channels % groups:
            raise ShapeError(f"input channels {channels} are not divisible by groups={groups}")
        if params["filters"] % groups:
            raise ShapeError(f"filters={params['filters']} is not divisible by groups={groups}")
        check_dilated_strides(params)
        return (None, *spatial_shape(params, shape, rank), params["filters"])

    def count(params, inputs, _output):
        channels = known_last(inputs[0])
        weights = product(params["kernel_size"]) * channels // params["groups"] * params["filters"]
        return weights + count_bias(params, params["filters"])

    def macs(params, inputs, output):
        per_filter = product(params["kernel_size"]) * known_last(inputs[0]) // params["groups"]
        return times(positions(output), params["filters"], per_filter)

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
        count_macs=macs,
    )


def _conv_transpose(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        known_last(shape)
        check_dilated_strides(params)
        padding = params["output_padding"] or (None,) * rank
        for extra, stride in zip(padding, params["strides"], strict=True):
            if extra is not None and extra >= stride:
                raise ShapeError(
                    "each output_padding must be smaller than its stride. "
                    f"Received: output_padding={params['output_padding']}, "
                    f"strides={params['strides']}"
                )
        spatial = (
            deconv_length(length, k, s, params["padding"], extra, d)
            for length, k, s, extra, d in zip(
                shape[1:-1],
                params["kernel_size"],
                params["strides"],
                padding,
                params["dilation_rate"],
                strict=True,
            )
        )
        return (None, *spatial, params["filters"])

    def count(params, inputs, _output):
        weights = product(params["kernel_size"]) * known_last(inputs[0]) * params["filters"]
        return weights + count_bias(params, params["filters"])

    def macs(params, inputs, _output):
        # Every input value is spread over a kernel-sized patch of every filter.
        shape = inputs[0]
        kernel = product(params["kernel_size"])
        return times(positions(shape), known_last(shape), kernel, params["filters"])

    return LayerType(
        f"Conv{rank}DTranspose",
        "Convolution",
        f"The reverse of a convolution: grows {DIMENSION_WORDS[rank]} back up, e.g. in decoders.",
        (
            Param("filters", "int", 32, minimum=1, help="Number of filters (output channels)"),
            *window_params(rank),
            Param(
                "output_padding",
                "ints",
                None,
                minimum=0,
                length=rank,
                nullable=True,
                help="Extra size added to the output; each below its stride; empty: automatic",
            ),
            dilation_param(rank),
            activation(),
            use_bias(),
            *weight_params(),
        ),
        shape_rule,
        count,
        key_params=("filters", "kernel_size", "strides"),
        count_macs=macs,
    )


def depthwise_output(params, shape, rank: int) -> tuple:
    """Output spatial dims of a depthwise or separable convolution over `shape`."""
    require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
    known_last(shape)
    check_dilated_strides(params)
    return spatial_shape(params, shape, rank)


def multiplier_param() -> Param:
    return Param(
        "depth_multiplier", "int", 1, minimum=1, help="Filters per input channel in the first step"
    )


def _separable_conv(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        return (None, *depthwise_output(params, inputs[0], rank), params["filters"])

    def count(params, inputs, _output):
        spread = known_last(inputs[0]) * params["depth_multiplier"]
        depthwise = product(params["kernel_size"]) * spread
        return depthwise + spread * params["filters"] + count_bias(params, params["filters"])

    def macs(params, inputs, output):
        spread = known_last(inputs[0]) * params["depth_multiplier"]
        kernel = product(params["kernel_size"])
        return times(positions(output), spread, kernel + params["filters"])

    return LayerType(
        f"SeparableConv{rank}D",
        "Convolution",
        f"A cheaper convolution over {DIMENSION_WORDS[rank]}: filters each channel alone, "
        "then mixes channels.",
        (
            Param("filters", "int", 32, minimum=1, help="Number of filters (output channels)"),
            *window_params(rank),
            dilation_param(rank),
            multiplier_param(),
            activation(),
            use_bias(),
            initializer("depthwise_initializer", "glorot_uniform"),
            initializer("pointwise_initializer", "glorot_uniform"),
            initializer("bias_initializer", "zeros"),
            regularizer("depthwise_regularizer"),
            regularizer("pointwise_regularizer"),
            regularizer("bias_regularizer"),
            regularizer("activity_regularizer"),
            constraint("depthwise_constraint"),
            constraint("pointwise_constraint"),
            constraint("bias_constraint"),
        ),
        shape_rule,
        count,
        key_params=("filters", "kernel_size", "activation"),
        count_macs=macs,
    )


def _depthwise_conv(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        spatial = depthwise_output(params, shape, rank)
        return (None, *spatial, shape[-1] * params["depth_multiplier"])

    def count(params, inputs, _output):
        outputs = known_last(inputs[0]) * params["depth_multiplier"]
        return product(params["kernel_size"]) * outputs + count_bias(params, outputs)

    def macs(params, _inputs, output):
        return times(positions(output), output[-1], product(params["kernel_size"]))

    return LayerType(
        f"DepthwiseConv{rank}D",
        "Convolution",
        f"Filters each channel of {DIMENSION_WORDS[rank]} on its own, without mixing channels.",
        (
            *window_params(rank),
            multiplier_param(),
            dilation_param(rank),
            activation(),
            use_bias(),
            initializer("depthwise_initializer", "glorot_uniform"),
            initializer("bias_initializer", "zeros"),
            regularizer("depthwise_regularizer"),
            regularizer("bias_regularizer"),
            regularizer("activity_regularizer"),
            constraint("depthwise_constraint"),
            constraint("bias_constraint"),
        ),
        shape_rule,
        count,
        key_params=("kernel_size", "depth_multiplier"),
        count_macs=macs,
    )


LAYERS = (
    *(_conv(rank) for rank in (1, 2, 3)),
    *(_conv_transpose(rank) for rank in (1, 2, 3)),
    *(_separable_conv(rank) for rank in (1, 2)),
    *(_depthwise_conv(rank) for rank in (1, 2)),
)
