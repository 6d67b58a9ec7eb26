"""Regularization layers: noise and penalties that keep a network from memorising."""

from __future__ import annotations

from graph.layer_type import LayerType
from graph.layers._common import require_rank, seed, single
from graph.layers.convolution import DIMENSION_WORDS, EXAMPLE_SHAPES
from graph.params import Param


def rate_param(help_text: str = "Fraction dropped") -> Param:
    return Param("rate", "float", 0.5, minimum=0.0, maximum=1.0, help=help_text)


def _spatial_dropout(rank: int) -> LayerType:
    def shape_rule(_params, inputs):
        require_rank(inputs[0], rank + 2, EXAMPLE_SHAPES[rank])
        return inputs[0]

    return LayerType(
        f"SpatialDropout{rank}D",
        "Regularization",
        f"During training, drops whole channels of {DIMENSION_WORDS[rank]} instead of "
        "single values.",
        (rate_param("Fraction of channels dropped"), seed()),
        shape_rule,
        key_params=("rate",),
    )


LAYERS = (
    *(_spatial_dropout(rank) for rank in (1, 2, 3)),
    LayerType(
        "GaussianNoise",
        "Regularization",
        "During training, adds random noise to every value so the network learns robust features.",
        (
            Param(
                "stddev", "float", 0.1, minimum=0.0, maximum=1.0, help="Spread of the added noise"
            ),
            seed(),
        ),
        single,
        key_params=("stddev",),
    ),
    LayerType(
        "GaussianDropout",
        "Regularization",
        "During training, multiplies every value by random noise around 1.",
        (rate_param("Strength of the noise, like a dropout rate"), seed()),
        single,
        key_params=("rate",),
    ),
    LayerType(
        "AlphaDropout",
        "Regularization",
        "A dropout that keeps the mean and spread of values; made for SELU networks.",
        (rate_param(), seed()),
        single,
        key_params=("rate",),
    ),
    LayerType(
        "ActivityRegularization",
        "Regularization",
        "Adds a penalty on the size of the values passing through it to the training loss.",
        (
            Param("l1", "float", 0.0, minimum=0.0, help="Penalty on the sum of absolute values"),
            Param("l2", "float", 0.0, minimum=0.0, help="Penalty on the sum of squares"),
        ),
        single,
        key_params=("l1", "l2"),
    ),
)
