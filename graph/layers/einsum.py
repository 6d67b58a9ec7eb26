"""EinsumDense: a Dense layer whose weight shape and contraction an einsum equation says.

The shape rule follows Keras's own analysis of the equation
(keras/src/layers/core/einsum_dense.py, `_analyze_split_string`): the input
spec, the kernel spec and the output spec, with `...` standing for the axes
the equation leaves out on the left or on the right.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from graph.layer_type import LayerType, Shape, ShapeError
from graph.layers._common import activation, fmt, product, weight_params
from graph.params import Param

FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), True),
    (re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), False),
)


@dataclass(frozen=True)
class Einsum:
    """The weight shapes and output shape one equation gives for one input shape."""

    kernel: tuple[int | None, ...]
    bias: tuple[int | None, ...] | None
    output: Shape
    filled: Shape
    """The output shape with the sizes Keras leaves open taken from the input."""
    reduced: tuple[int | None, ...]
    """Sizes of the input axes summed over (in neither the output nor the batch)."""


def analyze(params, shape: Shape) -> Einsum:
    """Keras's reading of `params["equation"]` for an input of `shape`.

    Raises:
        ShapeError: naming what in the equation, output_shape or bias_axes does not fit.
    """
    equation = params["equation"].replace(" ", "")
    for pattern, left_elided in FORMS:
        match = pattern.match(equation.replace("...", "0"))
        if match:
            return _analyze(match.groups(), left_elided, params, shape)
    raise ShapeError(
        f"equation must look like 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...'. "
        f"Received: {params['equation']!r}"
    )


def _analyze(specs, left_elided: bool, params, shape: Shape) -> Einsum:
    input_spec, weight_spec, output_spec = specs
    rank = len(shape)
    elided = rank - len(input_spec)
    if elided < 0 or (elided and "..." not in params["equation"]):
        raise ShapeError(
            f"equation {params['equation']!r} names {len(input_spec)} input axes, but the "
            f"input has {rank}. Received: input shape {fmt(shape)}"
        )
    output = [shape[0], *params["output_shape"]]
    hidden = tuple(shape[1:elided])
    if left_elided and hidden != hidden[::-1]:
        # Keras 3 declares the axes '...' stands for in reverse order while the
        # computation keeps them in order, so the layers after it would be built
        # for a shape the data does not have.
        raise ShapeError(
            f"'...' at the start of {params['equation']!r} stands for the axes {fmt(hidden)} "
            "here; Keras reports several such axes in reverse order, so name them in the "
            "equation instead (e.g. 'abc,cd->abd')"
        )
    if left_elided:
        output[1:1] = shape[1:elided]
    elif elided:
        output += shape[rank - elided :]
    if len(output) != len(output_spec) + elided:
        raise ShapeError(
            f"output_shape {tuple(params['output_shape'])} must give the {len(output_spec) - 1} "
            f"output axes of {params['equation']!r} after the batch"
        )
    offset = elided if left_elided else 0
    inputs = {axis: shape[i + offset] for i, axis in enumerate(input_spec)}
    outputs = {axis: i + offset for i, axis in enumerate(output_spec)}
    # Keras leaves an output size given as None open, though the input knows it.
    filled = list(output)
    for axis, size in inputs.items():
        if axis in outputs:
            index = outputs[axis]
            if output[index] is None:
                filled[index] = size
            elif output[index] != size:
                raise ShapeError(
                    f"axis {axis!r} is in the input and the output, so sizes must agree. "
                    f"Received: input {size}, output_shape {output[index]}"
                )
    for axis in output_spec:
        if axis not in input_spec and axis not in weight_spec:
            raise ShapeError(f"output axis {axis!r} is in neither the input nor the kernel")
    kernel = []
    for axis in weight_spec:
        if axis in outputs:
            kernel.append(output[outputs[axis]])
        elif axis in inputs:
            kernel.append(inputs[axis])
        else:
            raise ShapeError(f"kernel axis {axis!r} is in neither the input nor the output")
    if any(size is None for size in kernel):
        raise ShapeError(
            f"needs known sizes for the kernel axes {weight_spec!r}. Received: input shape "
            f"{fmt(shape)}, output {fmt(output)}"
        )
    reduced = tuple(
        size for axis, size in inputs.items() if axis not in outputs and axis in weight_spec
    )
    bias = _bias(params, output_spec, output, offset)
    return Einsum(tuple(kernel), bias, tuple(output), tuple(filled), reduced)


def _bias(params, output_spec: str, output: list, offset: int) -> tuple | None:
    bias_axes = params["bias_axes"]
    if bias_axes is None:
        return None
    missing = [axis for axis in bias_axes if axis not in output_spec]
    if missing:
        raise ShapeError(
            f"bias_axes {bias_axes!r} must be output axes of {params['equation']!r}; "
            f"{missing[0]!r} is not"
        )
    first = min(output_spec.find(axis) for axis in bias_axes)
    sizes = {axis: output[i + offset] for i, axis in enumerate(output_spec)}
    bias = tuple(sizes[axis] if axis in bias_axes else 1 for axis in output_spec[first:])
    if any(size is None for size in bias):
        raise ShapeError(f"needs known sizes for the bias axes {bias_axes!r}")
    return bias


def _shape(params, inputs):
    return analyze(params, inputs[0]).output


def _count(params, inputs, _output):
    result = analyze(params, inputs[0])
    return math.prod(result.kernel) + (math.prod(result.bias) if result.bias else 0)


def _macs(params, inputs, _output):
    result = analyze(params, inputs[0])
    # Each output value sums over the reduced axes.
    return product((*result.filled[1:], *result.reduced))


LAYERS = (
    LayerType(
        "EinsumDense",
        "Core",
        "A Dense layer over chosen axes, written as an einsum equation; used inside transformers.",
        (
            Param(
                "equation",
                "str",
                "ab,bc->ac",
                help="Input, kernel and output axes, e.g. abc,cd->abd",
                explanation="Letters name axes: those of the input, of the learned kernel and "
                "of the output. Axes missing from the output are summed over; 'ab,bc->ac' is a "
                "plain Dense layer.",
            ),
            Param(
                "output_shape",
                "ints",
                (32,),
                minimum=1,
                open_items=True,
                help="Output sizes after the batch; ? copies the input's size",
                explanation="The size of each output axis after the batch, in the equation's "
                "order. Write ? for an axis that keeps the input's size, like a sequence length.",
            ),
            activation(),
            Param(
                "bias_axes",
                "str",
                None,
                nullable=True,
                help="Output axes that get a learned offset, e.g. c; empty: none",
                explanation="Letters of the output axes that get a learned offset per entry, "
                "like Dense's bias on its units. Leave empty for no offset.",
            ),
            *weight_params(),
        ),
        _shape,
        _count,
        key_params=("equation", "output_shape"),
        count_macs=_macs,
    ),
)
