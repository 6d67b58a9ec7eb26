"""Merge layers: combine several tensors into one."""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import axis_index, fmt
from graph.params import Param


def _elementwise_shape(_params, inputs):
    """Keras's broadcasting rule for Add, Multiply, ...: equal dims, 1 or None."""
    first = inputs[0]
    result = list(first)
    for other in inputs[1:]:
        if len(other) != len(first):
            raise ShapeError(f"input shapes {fmt(first)} and {fmt(other)} differ in rank")
        for i, (a, b) in enumerate(zip(result, other, strict=True)):
            if i == 0:
                continue
            if a is None or b is None:
                result[i] = None
            elif a == 1:
                result[i] = b
            elif b != 1 and a != b:
                raise ShapeError(f"input shapes {fmt(first)} and {fmt(other)} differ")
    return tuple(result)


def _concatenate_shape(params, inputs):
    first = inputs[0]
    rank = len(first)
    for other in inputs[1:]:
        if len(other) != rank:
            raise ShapeError(f"input shapes {fmt(first)} and {fmt(other)} differ in rank")
    axis = axis_index(params["axis"], rank, first)
    result = list(first)
    # Like Keras, the other axes keep the first input's sizes, known or not.
    for other in inputs[1:]:
        for i in range(1, rank):
            if i == axis:
                continue
            a, b = result[i], other[i]
            if a is not None and b is not None and a != b:
                raise ShapeError(
                    f"input shapes {fmt(first)} and {fmt(other)} must match except on axis "
                    f"{params['axis']}"
                )
    sizes = [shape[axis] for shape in inputs]
    result[axis] = None if None in sizes else sum(sizes)
    return tuple(result)


def _dot_shape(params, inputs):
    first, second = inputs
    axes = [axis_index(a, len(s), s) for a, s in zip(params["axes"], inputs, strict=True)]
    a, b = first[axes[0]], second[axes[1]]
    # Keras compares these exactly: a known size never matches an unknown one.
    if a != b:
        raise ShapeError(
            f"dimension {a} of {fmt(first)} (axis {params['axes'][0]}) does not match "
            f"dimension {b} of {fmt(second)} (axis {params['axes'][1]})"
        )
    if first[0] is not None and second[0] is not None and first[0] != second[0]:
        raise ShapeError(f"batch sizes of {fmt(first)} and {fmt(second)} differ")
    shape = [d for i, d in enumerate(first) if i != axes[0]]
    shape += [d for i, d in enumerate(second) if i not in (0, axes[1])]
    if len(shape) == 1:
        shape.append(1)
    return tuple(shape)


def _dot_from_keras(config: dict) -> dict:
    axes = config.get("axes", -1)
    if isinstance(axes, int):
        axes = (axes, axes)
    return {**config, "axes": tuple(axes)}


def _merge(name: str, description: str, max_inputs: int | None = None) -> LayerType:
    return LayerType(
        name,
        "Merge",
        description,
        (),
        _elementwise_shape,
        min_inputs=2,
        max_inputs=max_inputs,
    )


LAYERS = (
    _merge("Add", "Adds its inputs value by value; the heart of residual connections."),
    _merge("Subtract", "Subtracts its second input from its first, value by value.", 2),
    _merge("Multiply", "Multiplies its inputs value by value, e.g. to gate one by another."),
    _merge("Average", "Averages its inputs value by value."),
    _merge("Maximum", "Keeps the largest of its inputs at every position."),
    _merge("Minimum", "Keeps the smallest of its inputs at every position."),
    LayerType(
        "Concatenate",
        "Merge",
        "Joins its inputs side by side along one axis, e.g. two feature vectors into one.",
        (Param("axis", "int", -1, help="Axis to join along; -1 is the last"),),
        _concatenate_shape,
        min_inputs=2,
        max_inputs=None,
        key_params=("axis",),
    ),
    LayerType(
        "Dot",
        "Merge",
        "Dot product of two inputs along the given axes, e.g. a similarity score.",
        (
            Param("axes", "ints", (-1, -1), length=2, help="Axis of each input to multiply over"),
            Param("normalize", "bool", False, help="Normalise to cosine similarity first"),
        ),
        _dot_shape,
        min_inputs=2,
        max_inputs=2,
        key_params=("axes",),
        from_keras=_dot_from_keras,
    ),
)
