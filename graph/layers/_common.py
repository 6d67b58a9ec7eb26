"""Shared parameter declarations and shape arithmetic for catalog entries."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from graph.keras_objects import INITIALIZER_NAMES
from graph.layer_type import Shape, ShapeError
from graph.params import ACTIVATIONS, Param


def activation(default: str = "linear", name: str = "activation") -> Param:
    return Param(name, "choice", default, choices=ACTIVATIONS, help="Function applied to outputs")


# Weights that are vectors (biases, normalization scales, PReLU slopes):
# Keras's orthogonal initializer needs a matrix and fails on them.
VECTOR_WEIGHTS = ("bias", "beta", "gamma", "moving", "alpha")
VECTOR_INITIALIZERS = tuple(name for name in INITIALIZER_NAMES if name != "orthogonal")


def initializer(name: str, default: str) -> Param:
    choices = VECTOR_INITIALIZERS if name.startswith(VECTOR_WEIGHTS) else INITIALIZER_NAMES
    return Param(name, "initializer", default, choices=choices, help="How weights start out")


def regularizer(name: str) -> Param:
    return Param(name, "regularizer", None, help="L1/L2 penalty that discourages large weights")


def constraint(name: str) -> Param:
    return Param(name, "constraint", None, help="A rule weights are held to after each step")


def use_bias() -> Param:
    return Param("use_bias", "bool", True, help="Add a learned offset to each output")


def seed() -> Param:
    return Param("seed", "int", None, minimum=0, nullable=True, help="Random seed; empty: random")


def weight_params(kernel: str = "glorot_uniform", prefix: str = "kernel") -> tuple[Param, ...]:
    """Initializer and regularizer parameters of a layer with a kernel and a bias."""
    return (
        initializer(f"{prefix}_initializer", kernel),
        initializer("bias_initializer", "zeros"),
        regularizer(f"{prefix}_regularizer"),
        regularizer("bias_regularizer"),
        regularizer("activity_regularizer"),
        constraint(f"{prefix}_constraint"),
        constraint("bias_constraint"),
    )


def fmt(shape: Sequence[int | None]) -> str:
    """Formats a shape as Keras prints it: (None, 64)."""
    items = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({items},)" if len(shape) == 1 else f"({items})"


def single(_params: Mapping[str, Any], inputs: list[Shape]) -> Shape:
    """Shape rule of layers whose output has their input's shape."""
    return inputs[0]


def require_rank(shape: Shape, rank: int, example: str) -> None:
    """Raises unless `shape` (batch included) has exactly `rank` dimensions."""
    if len(shape) != rank:
        raise ShapeError(
            f"expects an input of rank {rank}, like {example}. Received: input shape {fmt(shape)}",
            needed_rank=rank,
        )


def require_min_rank(shape: Shape, rank: int, example: str) -> None:
    if len(shape) < rank:
        raise ShapeError(
            f"expects an input of rank {rank} or more, like {example}. "
            f"Received: input shape {fmt(shape)}",
            needed_rank=rank,
        )


def known_last(shape: Shape) -> int:
    """The last dimension, which weights are sized from; it must be known."""
    if shape[-1] is None:
        raise ShapeError(f"needs a known last dimension. Received: input shape {fmt(shape)}")
    return shape[-1]


def axis_index(axis: int, rank: int, shape: Shape) -> int:
    """Normalises a Keras axis (negative counts from the end) against `rank`."""
    index = axis + rank if axis < 0 else axis
    if index == 0:
        # Keras accepts the batch axis, but mixing samples is never meant in a model.
        raise ShapeError(
            f"axis {axis} is the batch dimension of input shape {fmt(shape)}; "
            f"use 1 to {rank - 1} or count from the end with -1"
        )
    if not 0 < index < rank:
        raise ShapeError(f"axis {axis} is out of range for input shape {fmt(shape)}")
    return index


def conv_length(
    length: int | None, kernel: int, stride: int, padding: str, dilation: int = 1
) -> int | None:
    """Output length of a convolution or pooling window along one axis, as Keras."""
    if length is None:
        return None
    if padding in ("same", "causal"):
        return (length + stride - 1) // stride
    span = dilation * (kernel - 1) + 1
    if span > length:
        raise ShapeError(
            f"kernel of size {kernel}"
            + (f" with dilation {dilation}" if dilation > 1 else "")
            + f" is larger than the input's {length}"
        )
    return (length - span) // stride + 1


def deconv_length(
    length: int | None,
    kernel: int,
    stride: int,
    padding: str,
    output_padding: int | None = None,
    dilation: int = 1,
) -> int | None:
    """Output length of a transposed convolution along one axis, as Keras."""
    if length is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def product(values: Sequence[int | None]) -> int | None:
    if any(v is None for v in values):
        return None
    return math.prod(values)


def count_bias(params: Mapping[str, Any], units: int) -> int:
    return units if params.get("use_bias", True) else 0


def positions(shape: Sequence[int | None]) -> int | None:
    """Positions a per-position op runs at: every axis but batch and features (1 for a vector)."""
    return product(shape[1:-1])


def times(*factors: int | None) -> int | None:
    """Product of cost factors; None (unknown) when any is unknown."""
    return product(factors)


def plus(*terms: int | None) -> int | None:
    """Sum of cost terms; None (unknown) when any is unknown."""
    return None if any(t is None for t in terms) else sum(terms)
