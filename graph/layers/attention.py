"""Attention layers: each query position gathers a weighted mix of value positions.

The inputs are ports in Keras's order: query, value and an optional key (the
value is used as the key when none is connected). MultiHeadAttention takes
them as separate arguments, Attention and AdditiveAttention as one list; the
Keras builder calls each the way it expects.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import (
    fmt,
    known_last,
    plus,
    positions,
    product,
    require_min_rank,
    require_rank,
    seed,
    times,
    use_bias,
    weight_params,
)
from graph.params import Param

PORTS = ("query", "value", "key")


def _query_value_key(inputs):
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) > 2 else value
    for name, shape in zip(PORTS, (query, value, key), strict=True):
        require_min_rank(shape, 3, f"(None, 10, 16) — the {name}")
        known_last(shape)
    if not len(query) == len(value) == len(key):
        raise ShapeError(
            f"query, value and key must have the same rank. Received: query {fmt(query)}, "
            f"value {fmt(value)}, key {fmt(key)}"
        )
    if value[1:-1] != key[1:-1]:
        raise ShapeError(
            "value and key must match in all but the last dimension. "
            f"Received: value {fmt(value)}, key {fmt(key)}"
        )
    return query, value, key


def _mha_shape(params, inputs):
    query, _value, _key = _query_value_key(inputs)
    axes = params["attention_axes"]
    if axes is not None and max(axes) > len(query) - 1:
        raise ShapeError(
            f"attention_axes must be axes between 1 and {len(query) - 1} for query "
            f"{fmt(query)}. Received: attention_axes={axes}"
        )
    output = params["output_shape"]
    return (*query[:-1], *(output if output is not None else query[-1:]))


def _mha_count(params, inputs, _output):
    query, value, key = _query_value_key(inputs)
    heads, key_dim = params["num_heads"], params["key_dim"]
    value_dim = params["value_dim"] or key_dim
    bias = params["use_bias"]
    output = product(params["output_shape"] or query[-1:])
    projections = (
        (query[-1], key_dim),
        (key[-1], key_dim),
        (value[-1], value_dim),
    )
    total = sum(size * heads * dim + (heads * dim if bias else 0) for size, dim in projections)
    return total + heads * value_dim * output + (output if bias else 0)


def _mha_macs(params, inputs, _output):
    query, value, key = _query_value_key(inputs)
    heads, key_dim = params["num_heads"], params["key_dim"]
    value_dim = params["value_dim"] or key_dim
    output = product(params["output_shape"] or query[-1:])
    targets, sources = positions(query), positions(value)
    projections = (
        times(targets, query[-1], heads, key_dim),
        times(sources, key[-1], heads, key_dim),
        times(sources, value[-1], heads, value_dim),
        times(targets, heads, value_dim, output),
    )
    # Scores (query . key) and the weighted sum of values, for every pair of positions.
    mixing = times(targets, sources, heads, key_dim + value_dim)
    return plus(*projections, mixing)


def _pair_macs(_params, inputs, _output):
    """Scores plus weighted sum for every query/value position pair (dot or additive)."""
    query, value, key = _query_value_key(inputs)
    return times(positions(query), positions(value), key[-1] + value[-1])


def _dot_attention_shape(_params, inputs):
    query, value, key = _query_value_key(inputs)
    # Keras only notices a query/key size mismatch when data flows; say it now.
    if query[-1] != key[-1]:
        raise ShapeError(
            f"query and key need the same last dimension. Received: query {fmt(query)}, "
            f"key {fmt(key)}"
        )
    return (*query[:-1], value[-1])


def _attention_count(params, _inputs, _output):
    return int(params["use_scale"]) + int(params["score_mode"] == "concat")


def _additive_count(params, inputs, _output):
    return known_last(inputs[0]) if params["use_scale"] else 0


def _dropout_param() -> Param:
    return Param(
        "dropout", "float", 0.0, minimum=0.0, maximum=1.0, help="Fraction of attention dropped"
    )


def _gqa_inputs(params, inputs):
    query, value, key = _query_value_key(inputs)
    for name, shape in zip(PORTS, (query, value, key), strict=True):
        require_rank(shape, 3, f"(None, 10, 16) — the {name}: (batch, positions, features)")
    if query[-1] != value[-1]:
        raise ShapeError(
            f"query and value need the same last dimension. Received: query {fmt(query)}, "
            f"value {fmt(value)}"
        )
    if params["num_query_heads"] % params["num_key_value_heads"]:
        raise ShapeError(
            "num_query_heads must be a multiple of num_key_value_heads, so query heads share "
            f"key/value heads evenly. Received: {params['num_query_heads']} and "
            f"{params['num_key_value_heads']}"
        )
    return query, value, key


def _gqa_shape(params, inputs):
    return _gqa_inputs(params, inputs)[0]


def _gqa_count(params, inputs, _output):
    query, value, key = _gqa_inputs(params, inputs)
    head, queries, shared = (
        params["head_dim"],
        params["num_query_heads"],
        params["num_key_value_heads"],
    )
    bias = params["use_bias"]
    # Query (and gate) projections, key and value projections, and the output projection.
    projections = [
        (query[-1], queries * head),
        (key[-1], shared * head),
        (value[-1], shared * head),
    ]
    if params["use_gate"]:
        projections.append((query[-1], queries * head))
    projections.append((queries * head, query[-1]))
    return sum(size * out + (out if bias else 0) for size, out in projections)


def _gqa_macs(params, inputs, _output):
    query, value, key = _gqa_inputs(params, inputs)
    head, queries, shared = (
        params["head_dim"],
        params["num_query_heads"],
        params["num_key_value_heads"],
    )
    targets, sources = positions(query), positions(value)
    gate = times(targets, query[-1], queries, head) if params["use_gate"] else 0
    projections = plus(
        times(targets, query[-1], queries, head),
        times(sources, key[-1] + value[-1], shared, head),
        times(targets, queries, head, query[-1]),
        gate,
    )
    # Every query head scores and mixes every source position.
    return plus(projections, times(targets, sources, queries, 2 * head))


def _mha_from_keras(config: dict) -> dict:
    """Keras fills value_dim in with key_dim; the catalog keeps that as empty."""
    if config.get("value_dim") is not None and config.get("value_dim") == config.get("key_dim"):
        return {**config, "value_dim": None}
    return config


LAYERS = (
    LayerType(
        "MultiHeadAttention",
        "Attention",
        "Several attention heads in parallel, each learning what to look at; the core of "
        "transformers.",
        (
            Param("num_heads", "int", 2, minimum=1, help="Number of attention heads"),
            Param("key_dim", "int", 16, minimum=1, help="Size of each head's queries and keys"),
            Param(
                "value_dim",
                "int",
                None,
                minimum=1,
                nullable=True,
                help="Size of each head's values; empty: key_dim",
            ),
            _dropout_param(),
            use_bias(),
            Param(
                "output_shape",
                "ints",
                None,
                minimum=1,
                nullable=True,
                help="Output features; empty: the query's",
            ),
            Param(
                "attention_axes",
                "ints",
                None,
                minimum=1,
                nullable=True,
                help="Axes attention runs over; empty: all but the batch and features",
            ),
            *weight_params(),
            seed(),
        ),
        _mha_shape,
        _mha_count,
        count_macs=_mha_macs,
        min_inputs=2,
        max_inputs=3,
        key_params=("num_heads", "key_dim"),
        input_names=PORTS,
        from_keras=_mha_from_keras,
    ),
    LayerType(
        "Attention",
        "Attention",
        "Dot-product attention: each query takes a mix of the values whose keys match it best.",
        (
            Param("use_scale", "bool", False, help="Learn a scale for the scores"),
            Param(
                "score_mode",
                "choice",
                "dot",
                choices=("dot", "concat"),
                help="How query and key are compared",
            ),
            _dropout_param(),
            seed(),
        ),
        _dot_attention_shape,
        _attention_count,
        count_macs=_pair_macs,
        min_inputs=2,
        max_inputs=3,
        key_params=("score_mode",),
        input_names=PORTS,
    ),
    LayerType(
        "AdditiveAttention",
        "Attention",
        "Attention that scores a query against each key with a small learned sum (Bahdanau).",
        (
            Param("use_scale", "bool", True, help="Learn a scale per feature"),
            _dropout_param(),
            seed(),
        ),
        _dot_attention_shape,
        _additive_count,
        count_macs=_pair_macs,
        min_inputs=2,
        max_inputs=3,
        key_params=("use_scale",),
        input_names=PORTS,
    ),
    LayerType(
        "GroupQueryAttention",
        "Attention",
        "Multi-head attention where groups of query heads share keys and values, cheaper on "
        "long sequences.",
        (
            Param(
                "head_dim",
                "int",
                16,
                minimum=1,
                help="Size of each head's queries, keys and values",
                explanation="How many numbers each head uses to compare and carry positions. "
                "16-128 is usual; larger heads see finer detail but cost more.",
            ),
            Param(
                "num_query_heads",
                "int",
                4,
                minimum=1,
                help="Number of query heads",
                explanation="How many attention heads ask questions in parallel; each learns to "
                "look for something different. 4-16 is usual.",
            ),
            Param(
                "num_key_value_heads",
                "int",
                2,
                minimum=1,
                help="Number of key/value heads the query heads share",
                explanation="How many key/value heads there are; each serves a group of query "
                "heads. Fewer saves memory and time; equal to num_query_heads is plain "
                "multi-head attention.",
            ),
            _dropout_param(),
            use_bias(),
            Param(
                "use_gate",
                "bool",
                False,
                help="Scale each head's output by a learned gate",
                explanation="Adds a learned sigmoid gate per head that can damp what the head "
                "passes on; it adds as many weights as the query projection.",
            ),
            Param(
                "sliding_window",
                "int",
                None,
                minimum=1,
                nullable=True,
                help="Attend only this many nearby positions; empty: all",
                explanation="Limits each position to the neighbours within this distance, which "
                "saves time on long sequences. Leave empty to let every position see every other.",
            ),
            *weight_params(),
            seed(),
        ),
        _gqa_shape,
        _gqa_count,
        count_macs=_gqa_macs,
        min_inputs=2,
        max_inputs=3,
        key_params=("num_query_heads", "num_key_value_heads", "head_dim"),
        input_names=PORTS,
        class_names=("GroupedQueryAttention",),
    ),
)
