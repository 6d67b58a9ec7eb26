"""Pooling layers: shrink feature maps by summarising windows or whole axes."""

from __future__ import annotations

from graph.layer_type import LayerType
from graph.layers._common import product, require_rank, times
from graph.layers.convolution import DIMENSION_WORDS, EXAMPLE_SHAPES, spatial_shape
from graph.params import Param


def _pooling(kind: str, rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        window = {**params, "kernel_size": params["pool_size"], "strides": _strides(params)}
        return (None, *spatial_shape(window, shape, rank, dilated=False), shape[-1])

    def macs(params, _inputs, output):
        # One comparison or addition per value of each window, counted as a MAC.
        return times(product(output[1:]), product(params["pool_size"]))

    summary = "largest" if kind == "Max" else "average"
    return LayerType(
        f"{kind}Pooling{rank}D",
        "Pooling",
        f"Keeps the {summary} value of each window, shrinking {DIMENSION_WORDS[rank]}.",
        (
            Param("pool_size", "ints", (2,) * rank, minimum=1, length=rank, help="Window size"),
            Param(
                "strides",
                "ints",
                None,
                minimum=1,
                length=rank,
                nullable=True,
                help="Step between windows; empty: the pool size",
            ),
            Param("padding", "choice", "valid", choices=("valid", "same"), help="Pad mode"),
        ),
        shape_rule,
        key_params=("pool_size",),
        from_keras=_strides_from_keras,
        count_macs=macs,
    )


def _strides(params):
    return params["strides"] if params["strides"] is not None else params["pool_size"]


def _strides_from_keras(config: dict) -> dict:
    """Keras stores the strides it defaulted to the pool size; the catalog keeps None."""
    strides = config.get("strides")
    if strides is not None and tuple(strides) == tuple(config.get("pool_size", ())):
        return {**config, "strides": None}
    return config


def _global_macs(_params, inputs, _output):
    """Every input value is read once, counted as a MAC like a window's."""
    return product(inputs[0][1:])


def _global_pooling(kind: str, rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        if params["keepdims"]:
            return (None, *(1,) * rank, shape[-1])
        return (None, shape[-1])

    summary = "largest" if kind == "Max" else "average"
    return LayerType(
        f"Global{kind}Pooling{rank}D",
        "Pooling",
        f"Keeps the {summary} value of each channel over all of the {DIMENSION_WORDS[rank]}.",
        (Param("keepdims", "bool", False, help="Keep the pooled axes with size 1"),),
        shape_rule,
        key_params=("keepdims",),
        count_macs=_global_macs,
    )


def _adaptive_pooling(kind: str, rank: int) -> LayerType:
    def shape_rule(params, inputs):
        shape = inputs[0]
        require_rank(shape, rank + 2, EXAMPLE_SHAPES[rank])
        return (None, *params["output_size"], shape[-1])

    summary = "largest" if kind == "Max" else "average"
    return LayerType(
        f"Adaptive{kind}Pooling{rank}D",
        "Pooling",
        f"Keeps the {summary} value of each of a fixed number of regions, so "
        f"{DIMENSION_WORDS[rank]} of any size come out at output_size.",
        (
            Param(
                "output_size",
                "ints",
                (2,) * rank,
                minimum=1,
                length=rank,
                help="Size of the output along each axis",
            ),
        ),
        shape_rule,
        key_params=("output_size",),
    )


LAYERS = tuple(
    factory(kind, rank)
    for factory in (_pooling, _global_pooling, _adaptive_pooling)
    for kind in ("Max", "Average")
    for rank in (1, 2, 3)
)
