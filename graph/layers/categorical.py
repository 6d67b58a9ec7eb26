"""Layers for categories: encode ids as vectors, hash or look values up, cut numbers into bins.

StringLookup, IntegerLookup and Discretization learn their vocabulary or bin
edges from the training data (adapted like Normalization) unless given them:
a fixed `vocabulary` or `bin_boundaries` param is built into the layer, which
is then never adapted.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import fmt, require_min_rank
from graph.params import Param

IDS = "(None, 1) — one category id per sample"


def _encoded(shape, mode, depth):
    """Shape after encoding ids as vectors of `depth`, as Keras's encoding layers do."""
    if mode == "int":
        return shape
    if mode == "one_hot":
        # Each id becomes a vector; a trailing axis of one id is replaced by it.
        return (*shape[:-1], depth) if shape[-1] == 1 else (*shape, depth)
    return (*shape[:-1], depth)


def _category_encoding_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, IDS)
    return _encoded(shape, params["output_mode"], params["num_tokens"])


def check_vocabulary(params, special: dict, added: int) -> None:
    """Refuses a fixed vocabulary listing a special token, or longer than max_tokens allows.

    Args:
        params: The node's params (vocabulary, max_tokens).
        special: The tokens the layer adds itself, by param name
            (e.g. {"oov_token": "[UNK]"}); None values are left out.
        added: How many ids the layer adds to the vocabulary (OOV, mask, padding).
    """
    vocabulary, max_tokens = params["vocabulary"], params["max_tokens"]
    for name, token in special.items():
        if token is not None and token in vocabulary:
            raise ShapeError(
                f"vocabulary lists the {name} {token!r}: leave it out, the layer adds it itself"
            )
    if max_tokens is not None and len(vocabulary) + added > max_tokens:
        raise ShapeError(
            f"vocabulary holds {len(vocabulary)} tokens, and with the {added} the layer adds "
            f"that is more than max_tokens {max_tokens}: raise max_tokens or shorten it"
        )


def _lookup_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, IDS)
    mode, vocabulary = params["output_mode"], params["vocabulary"]
    if params["pad_to_max_tokens"] and not params["max_tokens"]:
        raise ShapeError("pad_to_max_tokens needs max_tokens: the length to pad vectors to")
    if vocabulary is not None:
        mask = params["mask_token"]
        special = {"mask_token": mask, "oov_token": params["oov_token"]}
        # Keras keeps an id for the mask only when it gives ids (output_mode "int").
        masked = mask is not None and mode == "int"
        check_vocabulary(params, special, params["num_oov_indices"] + masked)
        if params["pad_to_max_tokens"]:
            return _encoded(shape, mode, params["max_tokens"])
        # A vector marks the vocabulary and the OOV ids, not the mask.
        return _encoded(shape, mode, len(vocabulary) + params["num_oov_indices"])
    if mode != "int" and not (params["pad_to_max_tokens"] and params["max_tokens"]):
        # Keras gives an open size the next Dense cannot use; the vocabulary comes later.
        raise ShapeError(
            f"needs a known output size for output_mode {mode!r}: give a vocabulary, or set "
            "max_tokens and turn pad_to_max_tokens on, since the vocabulary is only learned "
            "during training"
        )
    return _encoded(shape, mode, params["max_tokens"])


def _discretization_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, "(None, 1) — one value per sample")
    boundaries, bins = params["bin_boundaries"], params["num_bins"]
    if (boundaries is None) == (bins is None):
        raise ShapeError(
            "set either num_bins (edges learned from the training data) or bin_boundaries, "
            f"not {'both' if bins else 'neither'}"
        )
    if boundaries is not None and any(
        a >= b for a, b in zip(boundaries, boundaries[1:], strict=False)
    ):
        # An edge repeated would make an empty bin.
        raise ShapeError(
            f"bin_boundaries must be increasing, each edge above the one before. "
            f"Received: {tuple(boundaries)}"
        )
    depth = bins if bins is not None else len(boundaries) + 1
    if params["output_mode"] in ("multi_hot", "count"):
        # Keras's Discretization marks bins per sample over the second axis, not the last.
        return (shape[0], *shape[2:], depth)
    return _encoded(shape, params["output_mode"], depth)


def _hashed_crossing_shape(params, inputs):
    first, second = inputs
    require_min_rank(first, 2, IDS)
    if first != second:
        raise ShapeError(
            f"crosses two inputs of the same shape. Received: {fmt(first)} and {fmt(second)}"
        )
    return _encoded(first, params["output_mode"], params["num_bins"])


def _discretization_from_keras(config: dict) -> dict:
    """An adapted layer records its learned edges and the num_bins it was asked for."""
    if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
        config = {**config, "num_bins": None}
    if isinstance(config.get("bin_boundaries"), list):
        config = {**config, "bin_boundaries": tuple(config["bin_boundaries"])}
    return config


LOOKUP_MODES = ("int", "one_hot", "multi_hot", "count")


def _lookup_params(oov_token: Param, mask_token: Param, vocabulary: Param) -> tuple[Param, ...]:
    return (
        Param(
            "max_tokens",
            "int",
            None,
            minimum=2,
            nullable=True,
            help="Largest vocabulary, special tokens included; empty: no limit",
            explanation="How many different values the vocabulary keeps at most, the rarest "
            "dropped first. Leave empty to keep every value seen in the training data.",
        ),
        Param(
            "num_oov_indices",
            "int",
            1,
            minimum=0,
            help="Ids kept for values not in the vocabulary",
            explanation="How many ids are reserved for values never seen in training. Keep 1; "
            "0 makes an unseen value an error.",
        ),
        mask_token,
        oov_token,
        Param(
            "output_mode",
            "choice",
            "int",
            choices=LOOKUP_MODES,
            help="An id per value, or vectors marking (or counting) the values",
            explanation="int gives each value its id (for an Embedding); one_hot, multi_hot "
            "and count give vectors the size of the vocabulary (for a Dense).",
        ),
        Param(
            "pad_to_max_tokens",
            "bool",
            False,
            help="Vectors always max_tokens long",
            explanation="Makes one_hot, multi_hot and count vectors max_tokens long whatever "
            "the vocabulary learned, so the size is known before training.",
        ),
        vocabulary,
    )


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
    LayerType(
        "StringLookup",
        "Preprocessing",
        "Gives each word or category name a whole-number id from a vocabulary learned in training.",
        _lookup_params(
            Param(
                "oov_token",
                "str",
                "[UNK]",
                help="The word that stands for unknown values",
                explanation="The vocabulary entry that stands for values never seen in "
                "training; only its spelling in the vocabulary, the id is the same.",
            ),
            Param(
                "mask_token",
                "str",
                None,
                nullable=True,
                help="A value that marks padding and gets id 0; empty: none",
                explanation="A string in the data that means 'nothing here' (padding); it gets "
                "id 0 so later layers can skip it. Leave empty if the data has no padding.",
            ),
            Param(
                "vocabulary",
                "strs",
                None,
                nullable=True,
                distinct=True,
                help="The words or names to number, one per line; empty: learned in training",
                explanation="A fixed list of the values to look up, each once, numbered in "
                "this order; the layer then learns nothing from the data. Leave it empty to "
                "take the values seen in the training data.",
            ),
        ),
        _lookup_shape,
        key_params=("max_tokens", "output_mode"),
    ),
    LayerType(
        "IntegerLookup",
        "Preprocessing",
        "Renumbers whole-number codes (zip codes, product ids) as ids 0, 1, 2, ... learned in "
        "training.",
        _lookup_params(
            Param(
                "oov_token",
                "int",
                -1,
                help="The code that stands for unknown values",
                explanation="The vocabulary entry that stands for codes never seen in "
                "training; only its value in the vocabulary, the id is the same.",
            ),
            Param(
                "mask_token",
                "int",
                None,
                nullable=True,
                help="A code that marks padding and gets id 0; empty: none",
                explanation="A code in the data that means 'nothing here' (padding); it gets "
                "id 0 so later layers can skip it. Leave empty if the data has no padding.",
            ),
            Param(
                "vocabulary",
                "ints",
                None,
                nullable=True,
                distinct=True,
                help="The codes to renumber, one per line; empty: learned in training",
                explanation="A fixed list of the codes to look up, each once, numbered in "
                "this order; the layer then learns nothing from the data. Leave it empty to "
                "take the codes seen in the training data.",
            ),
        ),
        _lookup_shape,
        key_params=("max_tokens", "output_mode"),
    ),
    LayerType(
        "HashedCrossing",
        "Preprocessing",
        "Combines two category columns into one crossed category, hashed into a fixed number "
        "of bins.",
        (
            Param("num_bins", "int", 16, minimum=1, help="Number of bins"),
            Param(
                "output_mode",
                "choice",
                "int",
                choices=("int", "one_hot"),
                help="Bin numbers, or a vector marking the bin",
            ),
        ),
        _hashed_crossing_shape,
        min_inputs=2,
        max_inputs=2,
        key_params=("num_bins",),
    ),
    LayerType(
        "Discretization",
        "Preprocessing",
        "Sorts numbers into ranges (bins), e.g. ages into age groups, by edges given or learned.",
        (
            Param(
                "num_bins",
                "int",
                4,
                minimum=1,
                nullable=True,
                help="Bins whose edges are learned from the training data",
                explanation="How many ranges the values are cut into; the edges are chosen from "
                "the training data so each range holds about as many values.",
            ),
            Param(
                "bin_boundaries",
                "floats",
                None,
                nullable=True,
                help="Fixed edges between bins, increasing; empty: learned",
                explanation="The edges between ranges, smallest first: (0, 18, 65) makes four "
                "ranges. Set these or num_bins, not both.",
            ),
            Param(
                "epsilon",
                "float",
                0.01,
                minimum=0.0,
                maximum=1.0,
                help="Allowed error of the learned edges",
                explanation="How far learned edges may be from the exact quantiles, as a "
                "fraction. Smaller is more exact but needs more memory while learning.",
            ),
            Param(
                "output_mode",
                "choice",
                "int",
                choices=LOOKUP_MODES,
                help="A bin number per value, or vectors marking (or counting) the bins",
                explanation="int gives each value its bin number; one_hot, multi_hot and count "
                "give vectors with one entry per bin.",
            ),
        ),
        _discretization_shape,
        key_params=("num_bins", "bin_boundaries"),
        from_keras=_discretization_from_keras,
    ),
)
