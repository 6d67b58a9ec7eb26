"""Layers for token sequences: look up learned vectors, mark padding."""

from __future__ import annotations

from graph.layer_type import LayerType
from graph.layers._common import constraint, initializer, regularizer, require_min_rank, single
from graph.params import Param


def _embedding_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, "(None, 20) — token ids")
    return (*shape, params["output_dim"])


def _embedding_count(params, _inputs, _output):
    return params["input_dim"] * params["output_dim"]


def _reversible_count(params, inputs, output):
    tables = 1 if params["tie_weights"] else 2
    return tables * _embedding_count(params, inputs, output)


LAYERS = (
    LayerType(
        "Embedding",
        "Core",
        "Turns whole-number ids, such as word numbers, into learned vectors.",
        (
            Param("input_dim", "int", 1000, minimum=1, help="Vocabulary size: largest id + 1"),
            Param("output_dim", "int", 32, minimum=1, help="Length of each learned vector"),
            # Keras's default "uniform" is this initializer under another name.
            initializer("embeddings_initializer", "random_uniform"),
            regularizer("embeddings_regularizer"),
            regularizer("activity_regularizer"),
            constraint("embeddings_constraint"),
            Param("mask_zero", "bool", False, help="Treat id 0 as padding to skip"),
        ),
        _embedding_shape,
        _embedding_count,
        key_params=("input_dim", "output_dim"),
    ),
    LayerType(
        "ReversibleEmbedding",
        "Core",
        "An Embedding whose table can also turn vectors back into scores per id.",
        (
            Param("input_dim", "int", 1000, minimum=1, help="Vocabulary size: largest id + 1"),
            Param("output_dim", "int", 32, minimum=1, help="Length of each learned vector"),
            Param(
                "tie_weights",
                "bool",
                True,
                help="Use the same table both ways; off: a second table for the way back",
            ),
            initializer("embeddings_initializer", "random_uniform"),
            regularizer("embeddings_regularizer"),
            regularizer("activity_regularizer"),
            constraint("embeddings_constraint"),
            Param("mask_zero", "bool", False, help="Treat id 0 as padding to skip"),
            Param(
                "logit_soft_cap",
                "float",
                None,
                minimum=0.0,
                nullable=True,
                help="Caps the scores of the way back smoothly; empty: no cap",
            ),
        ),
        _embedding_shape,
        _reversible_count,
        key_params=("input_dim", "output_dim"),
    ),
    LayerType(
        "Masking",
        "Core",
        "Marks time steps whose values all equal mask_value as padding, so later layers skip them.",
        (Param("mask_value", "float", 0.0, help="Value that marks a padded step"),),
        single,
        key_params=("mask_value",),
    ),
)
