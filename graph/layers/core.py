"""Core layers: inputs, dense layers and tensor plumbing."""

from __future__ import annotations

import math

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import (
    activation,
    count_bias,
    fmt,
    known_last,
    positions,
    product,
    require_min_rank,
    require_rank,
    seed,
    single,
    times,
    use_bias,
    weight_params,
)
from graph.params import Param


def _input_shape(params, _inputs):
    return (None, *params["shape"])


def _dense_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, "(None, 64)")
    known_last(shape)
    return (*shape[:-1], params["units"])


def _dense_count(params, inputs, _output):
    return known_last(inputs[0]) * params["units"] + count_bias(params, params["units"])


def _dense_macs(params, inputs, output):
    return times(positions(output), known_last(inputs[0]), params["units"])


def _dropout_shape(params, inputs):
    shape = inputs[0]
    noise = params["noise_shape"]
    if noise is not None and (
        len(noise) != len(shape)
        or any(n not in (None, 1, size) for n, size in zip(noise, shape, strict=True))
    ):
        raise ShapeError(
            f"noise_shape must have the input's rank, batch first, each size ? (the input's), "
            f"1 or the input's. Received: noise_shape {fmt(noise)} for input shape {fmt(shape)}"
        )
    return shape


def _flatten_shape(_params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, "(None, 8, 8, 16)")
    # Keras would give (None, None) here and fail later in the next Dense;
    # reporting it at the Flatten points at the real cause.
    if any(d is None for d in shape[1:]):
        raise ShapeError(
            f"cannot flatten a tensor with unknown dimensions. Received: input shape {fmt(shape)}"
        )
    return (None, math.prod(shape[1:]))


def _reshape_shape(params, inputs):
    shape = inputs[0]
    target = list(params["target_shape"])
    unknown = [i for i, d in enumerate(target) if d == -1]
    if len(unknown) > 1:
        raise ShapeError(f"target_shape may contain -1 once. Received: {tuple(target)}")
    if any(d == 0 or d < -1 for d in target):
        raise ShapeError(f"target_shape must be positive or -1. Received: {tuple(target)}")
    size = product(shape[1:])
    known = math.prod(d for d in target if d != -1)
    if unknown:
        if size is None:
            target[unknown[0]] = None
        elif size % known:
            raise ShapeError(
                f"cannot reshape input shape {fmt(shape)} ({size} values) "
                f"to target_shape {tuple(params['target_shape'])}"
            )
        else:
            target[unknown[0]] = size // known
    elif size is not None and size != known:
        raise ShapeError(
            f"cannot reshape input shape {fmt(shape)} ({size} values) "
            f"to target_shape {tuple(target)} ({known} values)"
        )
    return (None, *target)


def _permute_shape(params, inputs):
    shape = inputs[0]
    dims = params["dims"]
    if sorted(dims) != list(range(1, len(shape))):
        raise ShapeError(
            f"dims must be a permutation of 1..{len(shape) - 1} for input shape {fmt(shape)}. "
            f"Received: dims={dims}"
        )
    return (None, *(shape[d] for d in dims))


def _repeat_vector_shape(params, inputs):
    shape = inputs[0]
    require_rank(shape, 2, "(None, 32)")
    return (None, params["n"], shape[1])


LAYERS = (
    LayerType(
        "Input",
        "Core",
        "Where data enters the network; its shape is one sample's shape, without the batch.",
        (
            Param(
                "shape",
                "ints",
                (64,),
                minimum=1,
                open_items=True,
                help="Shape of one sample; ? (or None) leaves a size open, e.g. ?, ?, 3 "
                "for images of any height and width",
            ),
            Param(
                "dtype",
                "choice",
                "float32",
                choices=("float32", "int32", "int64", "string"),
                help="Type of the data: numbers, whole numbers for Embedding ids, or text",
            ),
        ),
        _input_shape,
        min_inputs=0,
        max_inputs=0,
        key_params=("shape",),
    ),
    LayerType(
        "Dense",
        "Core",
        "A fully connected layer: every output is a weighted sum of all inputs.",
        (
            Param("units", "int", 32, minimum=1, help="Number of outputs (neurons)"),
            activation(),
            use_bias(),
            *weight_params(),
        ),
        _dense_shape,
        _dense_count,
        count_macs=_dense_macs,
        key_params=("units", "activation"),
    ),
    LayerType(
        "Activation",
        "Core",
        "Applies a function such as ReLU or softmax to every value.",
        (activation("relu"),),
        single,
        key_params=("activation",),
    ),
    LayerType(
        "Dropout",
        "Regularization",
        "During training, randomly zeroes a fraction of values so the network cannot memorise.",
        (
            Param("rate", "float", 0.5, minimum=0.0, maximum=1.0, help="Fraction dropped"),
            seed(),
            Param(
                "noise_shape",
                "ints",
                None,
                minimum=1,
                nullable=True,
                open_items=True,
                help="Drop whole slices: 1 shares a choice along an axis; empty: each value",
                explanation="The shape of the drop mask, batch first: ? keeps the input's size, "
                "1 makes one choice for the whole axis, e.g. (?, 1, 1, ?) drops whole channels "
                "of an image. Leave empty to drop values one by one.",
            ),
        ),
        _dropout_shape,
        key_params=("rate",),
    ),
    LayerType(
        "Flatten",
        "Reshaping",
        "Unrolls each sample into one long vector, e.g. an image into its pixels.",
        (),
        _flatten_shape,
    ),
    LayerType(
        "Reshape",
        "Reshaping",
        "Rearranges each sample into a new shape with the same number of values.",
        (Param("target_shape", "ints", (8, 8), minimum=-1, help="New shape; -1 infers one"),),
        _reshape_shape,
        key_params=("target_shape",),
    ),
    LayerType(
        "Permute",
        "Reshaping",
        "Reorders the dimensions of each sample, e.g. swaps time and features.",
        (Param("dims", "ints", (2, 1), minimum=1, help="New order of dimensions, from 1"),),
        _permute_shape,
        key_params=("dims",),
    ),
    LayerType(
        "RepeatVector",
        "Reshaping",
        "Repeats a vector n times, turning it into a sequence.",
        (Param("n", "int", 4, minimum=1, help="Number of repetitions"),),
        _repeat_vector_shape,
        key_params=("n",),
    ),
    LayerType(
        "Identity",
        "Core",
        "Passes its input through unchanged; useful as a named junction.",
        (),
        single,
    ),
)
