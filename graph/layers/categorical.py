"""Layers for whole-number categories: encode ids as vectors, hash values into bins."""

from __future__ import annotations

from graph.layer_type import LayerType
from graph.layers._common import require_min_rank
from graph.params import Param

IDS = "(None, 1) — one category id per sample"


def _category_encoding_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, IDS)
    tokens = params["num_tokens"]
    if params["output_mode"] == "one_hot":
        # Each id becomes a vector; a trailing axis of one id is replaced by it.
        return (*shape[:-1], tokens) if shape[-1] == 1 else (*shape, tokens)
    return (*shape[:-1], tokens)


def _hashing_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, IDS)
    if params["output_mode"] == "int":
        return shape
    return (*shape[:-1], params["num_bins"])


def _salt_from_keras(config: dict) -> dict:
    """Keras stores a salt s as the key pair (s, s)."""
    salt = config.get("salt")
    if isinstance(salt, (list, tuple)) and len(salt) == 2 and salt[0] == salt[1]:
        return {**config, "salt": salt[0]}
    return config


LAYERS = (
    LayerType(
        "CategoryEncoding",
        "Preprocessing",
        "Turns whole-number category ids into vectors with a 1 (or a count) per category.",
        (
            Param("num_tokens", "int", 10, minimum=1, help="Number of categories: largest id + 1"),
            Param(
                "output_mode",
                "choice",
                "multi_hot",
                choices=("one_hot", "multi_hot", "count"),
                help="A vector per id, or one vector marking (or counting) every id of a sample",
            ),
        ),
        _category_encoding_shape,
        key_params=("num_tokens", "output_mode"),
    ),
    LayerType(
        "Hashing",
        "Preprocessing",
        "Sorts any values into a fixed number of bins by hashing, for categories too many to list.",
        (
            Param("num_bins", "int", 16, minimum=1, help="Number of bins"),
            Param(
                "mask_value",
                "int",
                None,
                nullable=True,
                help="A value that marks padding and gets bin 0; empty: none",
            ),
            Param("salt", "int", None, minimum=0, nullable=True, help="Hash key; empty: default"),
            Param(
                "output_mode",
                "choice",
                "int",
                choices=("int", "one_hot", "multi_hot", "count"),
                help="Bin numbers, or vectors marking (or counting) the bins",
            ),
        ),
        _hashing_shape,
        key_params=("num_bins",),
        from_keras=_salt_from_keras,
    ),
)
