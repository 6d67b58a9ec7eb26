"""Recurrent layers: read a sequence step by step, carrying a memory along."""

from __future__ import annotations

from graph.layer_type import LayerType
from graph.layers._common import activation, initializer, known_last, regularizer, require_rank
from graph.layers._common import seed as seed_param
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


def _recurrent(name: str) -> LayerType:
    gates = GATES[name]

    def count(params, inputs, _output):
        units = params["units"]
        weights = gates * units * (known_last(inputs[0]) + units)
        if not params["use_bias"]:
            return weights
        bias_sets = 2 if name == "GRU" and params["reset_after"] else 1
        return weights + bias_sets * gates * units

    extra: tuple[Param, ...] = ()
    if name != "SimpleRNN":
        extra += (activation("sigmoid", "recurrent_activation"),)
    if name == "LSTM":
        extra += (Param("unit_forget_bias", "bool", True, help="Start the forget gate open"),)
    if name == "GRU":
        extra += (Param("reset_after", "bool", True, help="Apply the reset gate after the matmul"),)
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
            regularizer("activity_regularizer"),
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
        ),
        sequence_output,
        count,
        key_params=("units", "return_sequences"),
    )


LAYERS = tuple(_recurrent(name) for name in GATES)
