"""Spatial reshaping layers: grow, pad or trim sequences, images and volumes.

Keras takes ZeroPadding and Cropping amounts as nested pairs per axis,
((top, bottom), (left, right)); the catalog keeps them flat, (top, bottom,
left, right), so one "ints" editor shows them. The to_keras/from_keras hooks
convert.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import fmt, require_rank
from graph.layers.convolution import DIMENSION_WORDS, EXAMPLE_SHAPES
from graph.params import Param

AXIS_WORDS = {1: "(start, end)", 2: "(top, bottom, left, right)", 3: "(before, after) per axis"}


def _upsampling(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        spatial = (
            None if d is None else d * s for d, s in zip(shape[1:-1], params["size"], strict=True)
        )
        return (None, *spatial, shape[-1])

    params: tuple[Param, ...] = (
        Param("size", "ints", (2,) * rank, minimum=1, length=rank, help="Repeat factor per axis"),
    )
    if rank == 2:
        params += (
            Param(
                "interpolation",
                "choice",
                "nearest",
                choices=("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"),
                help="How new values are filled in",
            ),
        )
    return LayerType(
        f"UpSampling{rank}D",
        "Reshaping",
        f"Enlarges {DIMENSION_WORDS[rank]} by repeating each value along every axis.",
        params,
        shape_rule,
        key_params=("size",),
        to_keras=_size_to_keras if rank == 1 else None,
        from_keras=_size_from_keras if rank == 1 else None,
    )


def _size_to_keras(kwargs: dict) -> dict:
    """UpSampling1D takes a plain int size."""
    return {**kwargs, "size": kwargs["size"][0]}


def _size_from_keras(config: dict) -> dict:
    size = config.get("size", 2)
    return {**config, "size": (size,) if isinstance(size, int) else tuple(size)}


def _nest(flat) -> tuple:
    return tuple((flat[i], flat[i + 1]) for i in range(0, len(flat), 2))


def _flatten_pairs(value, rank: int) -> tuple:
    """Keras's int, per-axis or nested pair amounts as a flat tuple."""
    if isinstance(value, int):
        return (value,) * (2 * rank)
    if rank == 1:
        return tuple(value)
    items = []
    for item in value:
        items.extend(item if isinstance(item, (list, tuple)) else (item, item))
    return tuple(items)


def _pair_hooks(name: str, rank: int):
    def to_keras(kwargs: dict) -> dict:
        flat = kwargs[name]
        return {**kwargs, name: tuple(flat) if rank == 1 else _nest(flat)}

    def from_keras(config: dict) -> dict:
        if name not in config:
            return config
        return {**config, name: _flatten_pairs(config[name], rank)}

    return to_keras, from_keras


def _padding(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        pairs = _nest(params["padding"])
        spatial = (
            None if d is None else d + a + b for d, (a, b) in zip(shape[1:-1], pairs, strict=True)
        )
        return (None, *spatial, shape[-1])

    to_keras, from_keras = _pair_hooks("padding", rank)
    return LayerType(
        f"ZeroPadding{rank}D",
        "Reshaping",
        f"Adds a border of zeros around {DIMENSION_WORDS[rank]}, e.g. to keep sizes after "
        "a convolution.",
        (
            Param(
                "padding",
                "ints",
                (1,) * (2 * rank),
                minimum=0,
                length=2 * rank,
                help=f"Zeros added {AXIS_WORDS[rank]}",
            ),
        ),
        shape_rule,
        key_params=("padding",),
        to_keras=to_keras,
        from_keras=from_keras,
    )


def _cropping(rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        pairs = _nest(params["cropping"])
        spatial = []
        for length, (a, b) in zip(shape[1:-1], pairs, strict=True):
            if length is not None and a + b >= length:
                raise ShapeError(
                    f"cropping {params['cropping']} removes all of an axis of "
                    f"input shape {fmt(shape)}"
                )
            spatial.append(None if length is None else length - a - b)
        return (None, *spatial, shape[-1])

    to_keras, from_keras = _pair_hooks("cropping", rank)
    return LayerType(
        f"Cropping{rank}D",
        "Reshaping",
        f"Trims values off the edges of {DIMENSION_WORDS[rank]}.",
        (
            Param(
                "cropping",
                "ints",
                (1,) * (2 * rank),
                minimum=0,
                length=2 * rank,
                help=f"Values trimmed {AXIS_WORDS[rank]}",
            ),
        ),
        shape_rule,
        key_params=("cropping",),
        to_keras=to_keras,
        from_keras=from_keras,
    )


LAYERS = tuple(
    factory(rank) for factory in (_upsampling, _padding, _cropping) for rank in (1, 2, 3)
)
