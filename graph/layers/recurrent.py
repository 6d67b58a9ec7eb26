"""Recurrent layers: read a sequence step by step, carrying a memory along."""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import (
    activation,
    constraint,
    fmt,
    initializer,
    known_last,
    positions,
    product,
    regularizer,
    require_rank,
    times,
)
from graph.layers._common import seed as seed_param
from graph.layers.convolution import (
    check_dilated_strides,
    dilation_param,
    spatial_shape,
    window_params,
)
from graph.params import Param

# Weight matrices per step: SimpleRNN has one, LSTM four gates, GRU three.
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
DESCRIPTIONS = {
    "SimpleRNN": "The simplest recurrent layer: each step mixes the input with the last output.",
    "LSTM": "Long short-term memory: gates decide what to remember, so it learns long patterns.",
    "GRU": "Gated recurrent unit: a lighter LSTM with two gates instead of three.",
}


def sequence_output(params, inputs):
    shape = inputs[0]
    require_rank(shape, 3, "(None, 20, 8) — (batch, time steps, features)")
    known_last(shape)
    if params["return_sequences"]:
        return (None, shape[1], params["units"])
    return (None, params["units"])


def recurrent_tail() -> tuple[Param, ...]:
    """Dropout, sequence and seed parameters every recurrent layer shares."""
    return (
        Param("dropout", "float", 0.0, minimum=0.0, maximum=1.0, help="Input dropout rate"),
        Param(
            "recurrent_dropout",
            "float",
            0.0,
            minimum=0.0,
            maximum=1.0,
            help="Dropout rate on the carried memory",
        ),
        Param("return_sequences", "bool", False, help="Output every step, not just the last"),
        Param("go_backwards", "bool", False, help="Read the sequence from the end"),
        seed_param(),
    )


def _recurrent(name: str) -> LayerType:
    gates = GATES[name]

    def count(params, inputs, _output):
        units = params["units"]
        weights = gates * units * (known_last(inputs[0]) + units)
        if not params["use_bias"]:
            return weights
        bias_sets = 2 if name == "GRU" and params["reset_after"] else 1
        return weights + bias_sets * gates * units

    def macs(params, inputs, _output):
        units = params["units"]
        steps, features = inputs[0][1], known_last(inputs[0])
        return times(steps, gates * units * (features + units))

    extra: tuple[Param, ...] = ()
    if name != "SimpleRNN":
        extra += (activation("sigmoid", "recurrent_activation"),)
    if name == "LSTM":
        extra += (Param("unit_forget_bias", "bool", True, help="Start the forget gate open"),)
    if name == "GRU":
        extra += (Param("reset_after", "bool", True, help="Apply the reset gate after the matmul"),)
    # Keras's SimpleRNN accepts an activity_regularizer but silently drops it.
    activity = () if name == "SimpleRNN" else (regularizer("activity_regularizer"),)
    return LayerType(
        name,
        "Recurrent",
        DESCRIPTIONS[name],
        (
            Param("units", "int", 32, minimum=1, help="Size of the memory (output features)"),
            activation("tanh"),
            *extra,
            Param("use_bias", "bool", True, help="Add a learned offset"),
            initializer("kernel_initializer", "glorot_uniform"),
            initializer("recurrent_initializer", "orthogonal"),
            initializer("bias_initializer", "zeros"),
            regularizer("kernel_regularizer"),
            regularizer("recurrent_regularizer"),
            regularizer("bias_regularizer"),
            *activity,
            constraint("kernel_constraint"),
            constraint("recurrent_constraint"),
            constraint("bias_constraint"),
            *recurrent_tail(),
        ),
        sequence_output,
        count,
        key_params=("units", "return_sequences"),
        count_macs=macs,
    )


CONV_LSTM_SHAPES = {
    1: "(None, 10, 32, 8) — (batch, time, length, channels)",
    2: "(None, 10, 28, 28, 3) — (batch, time, height, width, channels)",
    3: "(None, 10, 8, 8, 8, 1) — (batch, time, depth, height, width, channels)",
}
CONV_LSTM_WORDS = {1: "sequences", 2: "images, e.g. video frames", 3: "volumes"}


def _conv_lstm(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 3, CONV_LSTM_SHAPES[rank])
        known_last(shape)
        if None in shape[2:]:
            raise ShapeError(
                f"needs known sizes on every axis but batch and time. "
                f"Received: input shape {fmt(shape)}"
            )
        check_dilated_strides(params)
        # The window slides over the spatial axes of each step: drop the time axis.
        spatial = spatial_shape(params, (shape[0], *shape[2:]), rank)
        if params["return_sequences"]:
            return (None, shape[1], *spatial, params["filters"])
        return (None, *spatial, params["filters"])

    def count(params, inputs, _output):
        filters = params["filters"]
        kernel = product(params["kernel_size"])
        weights = 4 * filters * kernel * (known_last(inputs[0]) + filters)
        return weights + (4 * filters if params["use_bias"] else 0)

    def macs(params, inputs, output):
        filters = params["filters"]
        spatial = output[1:] if params["return_sequences"] else (None, *output[1:])
        per_step = 4 * filters * product(params["kernel_size"]) * (known_last(inputs[0]) + filters)
        return times(inputs[0][1], positions(spatial), per_step)

    return LayerType(
        f"ConvLSTM{rank}D",
        "Recurrent",
        f"An LSTM whose steps are {CONV_LSTM_WORDS[rank]}: convolutions replace its weighted sums.",
        (
            Param("filters", "int", 16, minimum=1, help="Number of filters (output channels)"),
            *window_params(rank),
            dilation_param(rank),
            activation("tanh"),
            activation("sigmoid", "recurrent_activation"),
            Param("use_bias", "bool", True, help="Add a learned offset"),
            initializer("kernel_initializer", "glorot_uniform"),
            initializer("recurrent_initializer", "orthogonal"),
            initializer("bias_initializer", "zeros"),
            Param("unit_forget_bias", "bool", True, help="Start the forget gate open"),
            regularizer("kernel_regularizer"),
            regularizer("recurrent_regularizer"),
            regularizer("bias_regularizer"),
            regularizer("activity_regularizer"),
            constraint("kernel_constraint"),
            constraint("recurrent_constraint"),
            constraint("bias_constraint"),
            *recurrent_tail(),
        ),
        shape_rule,
        count,
        key_params=("filters", "kernel_size", "return_sequences"),
        count_macs=macs,
    )


LAYERS = (
    *(_recurrent(name) for name in GATES),
    *(_conv_lstm(rank) for rank in (1, 2, 3)),
)
