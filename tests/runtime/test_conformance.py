"""The pure-Python catalog agrees with Keras, layer type by layer type.

For every catalog entry, hypothesis generates parameters from the entry's
Param declarations and input shapes of a fitting rank; the layer is built
with `make_layer` and called on `keras.Input` tensors. When the catalog's
shape rule rejects the inputs, Keras must reject them too, except for the
documented cases where the catalog is deliberately stricter (STRICTER). When
it accepts, the output shape and the parameter count must equal Keras's.
`params_from_layer` must give back exactly the params the layer was made from.
"""

from __future__ import annotations

import importlib
import json
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.catalog import CATALOG
from graph.keras_objects import CLASSES, MODULES
from graph.layer_type import LayerType, ShapeError
from graph.params import OBJECT_KINDS, Param
from graph.wiring import POSITIONAL, call_style
from runtime.layer_factory import (
    UnsupportedLayerError,
    make_input,
    make_layer,
    params_from_config,
    params_from_layer,
)
from tests.graph.strategies import keras_object_values

# Preprocessing layers that take ids or values of any rank, not images.
ANY_RANK_PREPROCESSING = (
    "Rescaling",
    "CategoryEncoding",
    "Hashing",
    "StringLookup",
    "IntegerLookup",
    "HashedCrossing",
    "Discretization",
    "MelSpectrogram",
    "STFTSpectrogram",
)
# Where the catalog refuses what Keras builds symbolically, and why: Keras
# accepts these when building and fails (or computes nonsense) later.
STRICTER = {
    # Keras gives (None, None) and the next layer fails; the rule names the cause.
    "Flatten": r"unknown dimensions",
    # Keras only checks query/key sizes when data flows.
    "Attention": r"same last dimension|rank 3 or more|value and key must match",
    "AdditiveAttention": r"same last dimension|rank 3 or more|value and key must match",
    # TensorFlow refuses these at run time, not when the layer is built.
    "SeparableConv1D": r"strides > 1 cannot be combined",
    "SeparableConv2D": r"strides > 1 cannot be combined",
    "DepthwiseConv1D": r"strides > 1 cannot be combined",
    "DepthwiseConv2D": r"strides > 1 cannot be combined",
    "ConvLSTM1D": r"strides > 1 cannot be combined",
    "ConvLSTM2D": r"strides > 1 cannot be combined",
    "ConvLSTM3D": r"strides > 1 cannot be combined",
    # Keras reshapes to empty axes; no layer after it could use them.
    "Reshape": r"must be positive",
    # Keras's TimeDistributed does not check the wrapped layer's input rank.
    # (a wrapped Dropout's noise_shape too, like Dropout's own below).
    "TimeDistributed": r"wrapped \w+: (expects an input of rank|cannot flatten|noise_shape must)",
    # Keras's adaptive pooling reshapes an input of the wrong rank into nonsense.
    **{
        f"Adaptive{kind}Pooling{rank}D": r"expects an input of rank"
        for kind in ("Max", "Average")
        for rank in (1, 2, 3)
    },
    # Keras accepts rank-2 inputs; attention over no positions means nothing.
    "MultiHeadAttention": r"rank 3 or more",
    # Keras also takes unbatched (rank-3) images; graphs always have a batch.
    **{
        name: r"expects an input of rank 4"
        for name, entry in CATALOG.items()
        if entry.category == "Preprocessing" and name not in ANY_RANK_PREPROCESSING
    },
    # Keras gives any rank an output shape, but its einsums need (batch, positions, features).
    "GroupQueryAttention": r"expects an input of rank 3",
    # Keras's Dropout checks noise_shape only when data flows.
    "Dropout": r"noise_shape must have",
    # Keras's symbolic EinsumDense takes an input of the wrong rank; einsum then fails on data.
    # It also declares several axes under a leading '...' in reverse order (the data keeps them).
    "EinsumDense": r"names \d+ input axes|must give the|in reverse order",
    # Keras's SpectralNormalization does not check the wrapped layer's input rank.
    "SpectralNormalization": r"wrapped \w+: expects an input of rank",
    # Keras's symbolic HashedCrossing takes differing shapes; crossing them fails on data.
    "HashedCrossing": r"of the same shape",
    # Keras bins by unsorted edges without a word; the result means nothing.
    "Discretization": r"must be increasing",
    # Keras takes special tokens at the start of a vocabulary (as if the layer's own);
    # a vocabulary here lists the user's tokens only.
    "StringLookup": r"vocabulary lists the",
    "IntegerLookup": r"vocabulary lists the",
    # Keras's shape rule takes (batch, samples, 1); its computation takes (batch, samples).
    "MelSpectrogram": r"expects an input of rank 2",
    # Keras takes any shape of strings; a text Input holds one text per sample.
    "TextVectorization": r"one text per sample",
    "*": "|".join(
        (
            # Keras builds weights for a None axis size and fails at the first batch.
            r"needs a known",
            # Keras accepts the batch axis; mixing samples is never meant in a model.
            r"is the batch dimension",
            # Keras's Softmax and UnitNormalization check their axis only on data.
            r"is out of range",
        )
    ),
}

# Params whose generated values need to stay small or meaningful.
SMALL_INTS = {
    "units": (1, 5),
    "filters": (1, 4),
    "groups": (1, 2),
    "depth_multiplier": (1, 2),
    "num_heads": (1, 2),
    "key_dim": (1, 3),
    "value_dim": (1, 3),
    "input_dim": (1, 12),
    "num_tokens": (1, 6),
    "num_bins": (1, 6),
    "output_dim": (1, 4),
    "height": (1, 6),
    "width": (1, 6),
    "n": (1, 3),
    "seed": (0, 99),
    "head_dim": (1, 3),
    "num_query_heads": (1, 4),
    "num_key_value_heads": (1, 2),
    "sliding_window": (1, 3),
    "power_iterations": (1, 2),
    "max_tokens": (1, 6),
    "num_oov_indices": (0, 2),
    "fft_length": (2, 16),
    "sequence_length": (1, 16),
    "sequence_stride": (1, 8),
    "num_mel_bins": (1, 6),
    "sampling_rate": (8000, 16000),
    "frame_length": (2, 8),
    "frame_step": (1, 8),
    "axis": (-3, 3),
}
SMALL_ITEMS = {
    "kernel_size": (1, 3),
    "strides": (1, 2),
    "pool_size": (1, 3),
    "output_size": (1, 3),
    "dilation_rate": (1, 2),
    "size": (1, 3),
    "padding": (0, 2),
    "cropping": (0, 2),
    "output_padding": (0, 1),
    "output_shape": (1, 3),
    "target_shape": (-1, 4),
    "shared_axes": (1, 3),
    "attention_axes": (1, 2),
    "dims": (1, 3),
}
VOCABULARY_TOKENS = ("cat", "dog", "the", "[UNK]", "?", "[MASK]")
NICE_FLOATS = (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0)

# Input rank (batch included) that each type expects, so most examples build.
RANK_HINTS = {
    **{f"Conv{r}D": r + 2 for r in (1, 2, 3)},
    **{f"Conv{r}DTranspose": r + 2 for r in (1, 2, 3)},
    **{f"{k}Conv{r}D": r + 2 for k in ("Separable", "Depthwise") for r in (1, 2)},
    **{f"{k}Pooling{r}D": r + 2 for k in ("Max", "Average") for r in (1, 2, 3)},
    **{f"Global{k}Pooling{r}D": r + 2 for k in ("Max", "Average") for r in (1, 2, 3)},
    **{f"Adaptive{k}Pooling{r}D": r + 2 for k in ("Max", "Average") for r in (1, 2, 3)},
    **{f"{k}{r}D": r + 2 for k in ("UpSampling", "ZeroPadding", "Cropping") for r in (1, 2, 3)},
    **{f"SpatialDropout{r}D": r + 2 for r in (1, 2, 3)},
    **{f"ConvLSTM{r}D": r + 3 for r in (1, 2, 3)},
    **dict.fromkeys(("SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed"), 3),
    **dict.fromkeys(("MultiHeadAttention", "Attention", "AdditiveAttention"), 3),
    "RepeatVector": 2,
    "GroupQueryAttention": 3,
    "MelSpectrogram": 2,
    "STFTSpectrogram": 3,
}
PREPROCESSING_RANK = 4
# Types whose inputs are whole-number ids.
INTEGER_INPUTS = (
    "Embedding",
    "ReversibleEmbedding",
    "CategoryEncoding",
    "IntegerLookup",
    "HashedCrossing",
)
STRING_INPUTS = ("StringLookup",)
# Values of string params: valid ones mostly, a few Keras refuses.
STRINGS = {
    "equation": (
        "ab,bc->ac",
        "abc,cd->abd",
        "abc,cde->abde",
        "abc,bcd->ad",
        "...b,bc->...c",
        "ab...,bc->ac...",
        "ab,bc->ad",
    ),
    "bias_axes": ("c", "d", "bd", "x"),
    "oov_token": ("[UNK]", "?"),
    "mask_token": ("", "[MASK]"),
}
# Params Keras leaves out of a layer's config, so an imported config lacks them.
KERAS_DROPS = {"SimpleRNN": ("seed",)}
# 30 examples for each of ~180 types: about 2 minutes of CPU. Raise it to search harder.
MAX_EXAMPLES = int(os.environ.get("DEEPWIRE_CONFORMANCE_EXAMPLES", "30"))
LAYER_TYPES = [name for name in CATALOG if name != "Input"]
# Layers whose every Keras build costs a large part of a second (filter banks,
# chains of augmentations) get fewer examples, so the suite stays fast.
COSTLY_TYPES = {"MelSpectrogram", "STFTSpectrogram", "RandAugment", "AugMix"}


def _number(param: Param, low: float, high: float, integer: bool):
    if param.minimum is not None:
        low = max(low, param.minimum)
    if param.maximum is not None:
        high = min(high, param.maximum)
    if integer:
        return st.integers(int(low), int(max(low, high)))
    return st.sampled_from([v for v in NICE_FLOATS if low <= v <= high] or [float(low)])


def param_values(param: Param, rank: int) -> st.SearchStrategy:
    """Values of one parameter, within its declaration and small."""
    strategy = _declared_values(param, rank)
    return st.one_of(st.none(), strategy) if param.nullable else strategy


def _declared_values(param: Param, rank: int) -> st.SearchStrategy:
    kind = param.kind
    if kind == "int":
        return _number(param, *SMALL_INTS.get(param.name, (0, 4)), integer=True)
    if kind == "float":
        return _number(param, -1.0, 2.0, integer=False)
    if kind == "bool":
        return st.booleans()
    if kind == "choice":
        return st.sampled_from(param.choices)
    if kind == "str":
        return st.sampled_from(STRINGS[param.name])
    if param.name == "vocabulary":
        # A few tokens, special ones among them now and then but never first: Keras strips
        # special tokens it finds first and then fails on data (TensorFlow's error).
        ints = kind == "ints"
        first = st.integers(5, 9) if ints else st.sampled_from(VOCABULARY_TOKENS[:3])
        tokens = st.integers(-1, 9) if ints else st.sampled_from(VOCABULARY_TOKENS)
        return st.tuples(first, st.lists(tokens, max_size=3)).map(
            lambda drawn: tuple(dict.fromkeys((drawn[0], *drawn[1])))
        )
    if kind == "regularizer":
        strengths = st.sampled_from((0.0, 0.01, 0.001))
        return st.fixed_dictionaries({"l1": strengths, "l2": strengths}) | _objects(param, rank)
    if kind in OBJECT_KINDS:
        return _objects(param, rank)
    if kind == "layer":
        return st.sampled_from(param.wrappable).flatmap(
            lambda inner: layer_params(CATALOG[inner], rank).map(
                lambda params: {"type": inner, "params": params}
            )
        )
    if kind == "ints" and param.open_items:
        sizes = st.one_of(st.none(), st.integers(1, 4))
        return st.lists(sizes, min_size=1, max_size=3).map(tuple)
    if kind in ("ints", "floats"):
        length = param.length or len(param.default or ()) or rank - 1
        if param.name in ("mean", "variance"):
            items = _number(param, 0.5, 2.0, integer=False)
            return st.lists(items, min_size=1, max_size=1).map(tuple)
        if param.name == "value_range":
            return st.sampled_from(((0.0, 255.0), (0.0, 1.0), (-1.0, 1.0)))
        low, high = SMALL_ITEMS.get(param.name, (1, 3))
        items = _number(param, low, high, integer=kind == "ints")
        if param.name in ("dims", "target_shape", "shared_axes", "attention_axes"):
            return st.lists(items, min_size=1, max_size=max(1, rank - 1)).map(tuple)
        return st.lists(items, min_size=length, max_size=length).map(tuple)
    raise AssertionError(f"no strategy for {param.name} ({kind})")


def _objects(param: Param, rank: int) -> st.SearchStrategy:
    """Keras objects with arguments; OrthogonalRegularizer needs rank-2 weights (tested alone)."""

    def argument_values(argument: Param) -> st.SearchStrategy:
        if argument.name == "axis":
            return st.sampled_from(((0,), (0, 1)))
        return param_values(argument, rank)

    return keras_object_values(param, argument_values, skip=("OrthogonalRegularizer",))


def layer_params(entry: LayerType, rank: int) -> st.SearchStrategy:
    """Valid params of `entry`, every one generated from its Param."""
    values = {param.name: param_values(param, rank) for param in entry.params}
    return st.fixed_dictionaries(values).filter(_coerces(entry)).map(entry.coerce_params)


def _coerces(entry: LayerType):
    def check(params):
        try:
            entry.coerce_params(params)
        except ValueError:
            return False
        return True

    return check


def expected_rank(entry: LayerType) -> int | None:
    if entry.category == "Preprocessing" and entry.type not in ANY_RANK_PREPROCESSING:
        return PREPROCESSING_RANK
    return RANK_HINTS.get(entry.type)


@st.composite
def layer_case(draw, entry: LayerType):
    """(params, input shapes) for one example of `entry`."""
    hinted = expected_rank(entry)
    rank = draw(st.integers(2, 5)) if hinted is None or draw(st.integers(0, 9)) == 0 else hinted
    params = draw(layer_params(entry, rank))
    dims = st.one_of(st.integers(1, 7), st.just(None)) if draw(st.booleans()) else st.integers(1, 7)
    first = (None, *draw(st.lists(dims, min_size=rank - 1, max_size=rank - 1)))
    upper = entry.max_inputs if entry.max_inputs is not None else 3
    count = draw(st.integers(entry.min_inputs, upper))
    shapes = [first]
    for _ in range(count - 1):
        # Mostly the same shape (merges), sometimes one dimension changed.
        other = list(first)
        if draw(st.integers(0, 2)) == 0:
            other[draw(st.integers(1, rank - 1))] = draw(dims)
        shapes.append(tuple(other))
    return params, shapes


def catalog_result(entry: LayerType, params: dict, shapes: list):
    """(output shape, param count), or the ShapeError the catalog raises."""
    try:
        output = entry.shape_rule(params, shapes)
        return output, entry.count_params(params, shapes, output)
    except ShapeError as error:
        return error


def keras_result(type_name: str, params: dict, shapes: list):
    """(output shape, param count, layer), or the exception Keras raises."""
    dtype = "int32" if type_name in INTEGER_INPUTS else "float32"
    dtype = "string" if type_name in STRING_INPUTS else dtype
    try:
        layer = make_layer(type_name, params, "layer_under_test")
        tensors = [
            make_input({"shape": shape[1:], "dtype": dtype}, f"in_{i}")
            for i, shape in enumerate(shapes)
        ]
        if call_style(type_name) == POSITIONAL:
            output = layer(*tensors)
        elif len(tensors) > 1 or CATALOG[type_name].max_inputs != 1:
            output = layer(tensors)
        else:
            output = layer(tensors[0])
        return tuple(output.shape), layer.count_params(), layer
    except Exception as error:
        return error


def stricter(type_name: str, error: ShapeError) -> bool:
    patterns = (STRICTER.get(type_name), STRICTER["*"])
    return any(pattern and re.search(pattern, str(error)) for pattern in patterns)


@pytest.mark.parametrize("type_name", LAYER_TYPES)
def test_catalog_agrees_with_keras(type_name):
    entry = CATALOG[type_name]

    @settings(
        max_examples=max(MAX_EXAMPLES // 5, 1) if type_name in COSTLY_TYPES else MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    @given(layer_case(entry))
    def check(case):
        params, shapes = case
        ours = catalog_result(entry, params, shapes)
        theirs = keras_result(type_name, params, shapes)
        context = f"{type_name} params={params} inputs={shapes}"
        if isinstance(ours, ShapeError):
            if isinstance(theirs, Exception) or stricter(type_name, ours):
                return
            pytest.fail(f"{context}: catalog rejects ({ours}) but Keras builds {theirs[0]}")
        if isinstance(theirs, Exception):
            pytest.fail(f"{context}: catalog gives {ours[0]} but Keras rejects: {theirs}")
        assert ours[0] == theirs[0], f"{context}: output shape"
        assert ours[1] == theirs[1], f"{context}: parameter count"
        assert_round_trip(type_name, params, theirs[2])

    check()


def assert_round_trip(type_name: str, params: dict, built_layer) -> None:
    """A built layer and its config both give back the params it was made from."""
    expected = canonical(type_name, params)
    # Keras draws a seed for RandomCrop when given none; the import keeps it.
    if type_name == "RandomCrop" and params["seed"] is None:
        assert params_from_layer(built_layer)[1]["seed"] is not None
        return
    if type_name == "Bidirectional":
        # Bidirectional rebuilds its layer from a config, so Keras itself drops those params.
        expected = without_dropped(expected)
    fresh = make_layer(type_name, params, "fresh")
    assert params_from_layer(fresh) == expected
    live = params_from_layer(built_layer)
    recovered = params_from_config(type(built_layer).__name__, built_layer.get_config())
    if type_name == "MultiHeadAttention" and params["attention_axes"] is None:
        # A built layer records the axes it chose; importing keeps them explicit.
        live[1]["attention_axes"] = recovered[1]["attention_axes"] = None
    assert live == expected
    assert recovered == without_dropped(expected)


def canonical(type_name: str, params: dict) -> tuple[str, dict]:
    """(type, params) with values that equal Keras's defaults written as the catalog's None."""
    params = dict(params)
    if type_name == "MultiHeadAttention" and params["value_dim"] == params["key_dim"]:
        params["value_dim"] = None
    if type_name == "MelSpectrogram":
        # Keras records the sizes it fills in for None; equal ones read back as None.
        if params["sequence_length"] == params["fft_length"]:
            params["sequence_length"] = None
        if params["max_freq"] == int(params["sampling_rate"] / 2):
            params["max_freq"] = None
    if "pool_size" in params and params["strides"] == params["pool_size"]:
        params["strides"] = None
    if "layer" in params:
        inner_type, inner_params = canonical(params["layer"]["type"], params["layer"]["params"])
        params["layer"] = {"type": inner_type, "params": inner_params}
    return type_name, params


def without_dropped(case):
    """(type, params) as read back from a config that lacks KERAS_DROPS."""
    type_name, params = case
    params = {**params}
    for name in KERAS_DROPS.get(type_name, ()):
        params[name] = CATALOG[type_name].param_index[name].default
    if "layer" in params:
        params["layer"] = dict(
            zip(("type", "params"), without_dropped(tuple(params["layer"].values())), strict=True)
        )
    return type_name, params


def test_regularizers_map_to_the_simplest_keras_class():
    layer = make_layer("Dense", {"kernel_regularizer": {"l1": 0.0, "l2": 0.01}}, "d")
    assert type(layer.kernel_regularizer).__name__ == "L2"
    layer = make_layer("Dense", {"kernel_regularizer": {"l1": 0.01, "l2": 0.0}}, "d")
    assert type(layer.kernel_regularizer).__name__ == "L1"
    layer = make_layer("Dense", {"kernel_regularizer": {"l1": 0.01, "l2": 0.02}}, "d")
    assert type(layer.kernel_regularizer).__name__ == "L1L2"
    assert params_from_layer(layer)[1]["kernel_regularizer"] == {"l1": 0.01, "l2": 0.02}


def test_wrapped_layer_is_built_inside_its_wrapper():
    params = {"layer": {"type": "GRU", "params": {"units": 3}}, "merge_mode": "sum"}
    layer = make_layer("Bidirectional", params, "encoder")
    assert type(layer.forward_layer).__name__ == "GRU"
    assert layer.forward_layer.units == 3
    type_name, recovered = params_from_layer(layer)
    assert type_name == "Bidirectional"
    assert recovered["layer"]["params"]["units"] == 3


def test_input_round_trip():
    tensor = make_input({"shape": (8, 3), "dtype": "int32"}, "tokens")
    assert tuple(tensor.shape) == (None, 8, 3)
    assert params_from_layer(tensor._keras_history[0]) == (
        "Input",
        {"shape": (8, 3), "dtype": "int32"},
    )


class Crafted(keras.initializers.Initializer):
    """An initializer class of the user's own, which no graph can name."""

    def __call__(self, shape, dtype=None):
        return keras.ops.ones(shape, dtype=dtype)


UNREPRESENTABLE = {
    "conv_3 (Conv2D): kernel_initializer: initializer Crafted is not supported": lambda: (
        keras.layers.Conv2D(4, 3, kernel_initializer=Crafted(), name="conv_3")
    ),
    "d (Dense): kernel_initializer: initializer HeNormal argument input_axes=[0] is not "
    "supported": lambda: keras.layers.Dense(
        3, kernel_initializer=keras.initializers.HeNormal(input_axes=[0]), name="d"
    ),
    "c (Conv2D): data_format 'channels_first' is not supported": lambda: keras.layers.Conv2D(
        4, 3, data_format="channels_first", name="c"
    ),
    "half (Dense): dtype 'mixed_float16' is not supported": lambda: keras.layers.Dense(
        3, dtype="mixed_float16", name="half"
    ),
    "s (LSTM): stateful True": lambda: keras.layers.LSTM(3, stateful=True, name="s"),
    "code (Lambda): layer type Lambda": lambda: keras.layers.Lambda(lambda x: x, name="code"),
    "custom (Dense): activation": lambda: keras.layers.Dense(
        3, activation=lambda x: x, name="custom"
    ),
    "ln (LayerNormalization): axis": lambda: keras.layers.LayerNormalization(
        axis=[1, 2], name="ln"
    ),
}


@pytest.mark.filterwarnings("ignore:The object being serialized includes a `lambda`")
@pytest.mark.parametrize("message", UNREPRESENTABLE)
def test_unrepresentable_layers_are_refused_by_name(message):
    with pytest.raises(UnsupportedLayerError, match=re.escape(message)):
        params_from_layer(UNREPRESENTABLE[message]())


def test_custom_layer_class_is_refused():
    class Scaled(keras.layers.Dense):
        pass

    with pytest.raises(UnsupportedLayerError, match=r"scaled \(Scaled\): custom layer classes"):
        params_from_layer(Scaled(2, name="scaled"))


def test_input_with_open_dimensions_round_trips():
    tensor = keras.Input(shape=(None, None, 3), name="images")
    assert params_from_layer(tensor._keras_history[0]) == (
        "Input",
        {"shape": (None, None, 3), "dtype": "float32"},
    )
    rebuilt = make_input({"shape": (None, None, 3), "dtype": "float32"}, "images")
    assert tuple(rebuilt.shape) == (None, None, None, 3)


def test_normalization_with_fixed_statistics_round_trips():
    params = {"mean": (1.0, 2.0), "variance": (4.0, 9.0)}
    layer = make_layer("Normalization", params, "norm")
    output = layer(keras.Input((2,)))
    assert tuple(output.shape) == (None, 2)
    assert layer.count_params() == 0
    assert params_from_layer(layer)[1] == CATALOG["Normalization"].coerce_params(params)


def test_json_config_from_a_saved_model_reads_like_the_layer():
    layer = make_layer("Conv2D", {"filters": 4, "kernel_size": (3, 1), "padding": "same"}, "c")
    config = json.loads(json.dumps(layer.get_config()))
    assert params_from_config("Conv2D", config) == params_from_layer(layer)


def test_malformed_config_is_refused_with_a_message():
    config = {"name": "pool", "pool_size": "two", "strides": None, "padding": "valid"}
    with pytest.raises(UnsupportedLayerError, match=r"pool \(MaxPooling2D\): "):
        params_from_config("MaxPooling2D", config)


KERAS_OBJECTS = {
    "kernel_initializer": (
        keras.initializers.VarianceScaling(
            scale=2.0, mode="fan_out", distribution="truncated_normal"
        ),
        {"class": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}},
    ),
    "bias_initializer": (
        keras.initializers.Constant(0.5),
        {"class": "Constant", "config": {"value": 0.5}},
    ),
    "kernel_regularizer": (
        keras.regularizers.OrthogonalRegularizer(factor=0.02, mode="columns"),
        {"class": "OrthogonalRegularizer", "config": {"factor": 0.02, "mode": "columns"}},
    ),
    "bias_regularizer": (keras.regularizers.L1L2(l1=0.001, l2=0.1), {"l1": 0.001, "l2": 0.1}),
    "kernel_constraint": (
        keras.constraints.MaxNorm(3),
        {"class": "MaxNorm", "config": {"max_value": 3.0}},
    ),
    "bias_constraint": (keras.constraints.NonNeg(), "non_neg"),
}


def test_initializers_regularizers_and_constraints_with_arguments_round_trip():
    layer = keras.layers.Dense(
        3, name="d", **{name: made for name, (made, _) in KERAS_OBJECTS.items()}
    )
    layer(keras.Input((4,)))
    type_name, params = params_from_layer(layer)
    for name, (_, value) in KERAS_OBJECTS.items():
        assert params[name] == value, name
    rebuilt = make_layer(type_name, params, "d")
    assert rebuilt.get_config() == layer.get_config()
    assert params_from_config("Dense", layer.get_config())[1] == params


@pytest.mark.parametrize("family", ["initializer", "regularizer", "constraint"])
def test_declared_arguments_and_defaults_are_keras_own(family):
    module = importlib.import_module(MODULES[family])
    for cls in CLASSES[family].values():
        made = getattr(module, cls.name)()
        assert keras.saving.serialize_keras_object(made)["class_name"] == cls.name
        config = made.get_config()
        for argument in cls.arguments:
            default = config[argument.name]
            expected = (
                argument.default[0] if isinstance(argument.default, tuple) else argument.default
            )
            assert default == pytest.approx(expected), f"{cls.name}.{argument.name}"
