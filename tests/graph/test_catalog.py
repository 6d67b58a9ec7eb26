"""The layer catalog: complete, well-formed, and clear when shapes do not fit."""

from __future__ import annotations

import re

import pytest

from graph.catalog import CATALOG, CATEGORIES, by_category, layer_type
from graph.layer_type import LayerType, ShapeError
from graph.params import KINDS, ParamError

REQUIRED = """
Input Dense Activation Dropout Flatten Reshape Permute RepeatVector Identity
Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose SeparableConv1D
SeparableConv2D DepthwiseConv1D DepthwiseConv2D MaxPooling1D MaxPooling2D MaxPooling3D
AveragePooling1D AveragePooling2D AveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D
GlobalMaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D
Cropping2D Cropping3D BatchNormalization LayerNormalization GroupNormalization
UnitNormalization Normalization SimpleRNN LSTM GRU ConvLSTM1D ConvLSTM2D Bidirectional
TimeDistributed Embedding Masking Add Subtract Multiply Average Maximum Minimum Concatenate
Dot MultiHeadAttention Attention AdditiveAttention ReLU LeakyReLU PReLU ELU Softmax
SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout AlphaDropout
ActivityRegularization Rescaling Resizing CenterCrop RandomFlip RandomRotation RandomZoom
RandomTranslation RandomContrast RandomCrop
""".split()

ENTRIES = list(CATALOG.values())


def ids(entry: LayerType) -> str:
    return entry.type


def test_catalog_has_at_least_80_types():
    assert len(CATALOG) >= 80


def test_every_required_type_is_present():
    missing = [name for name in REQUIRED if name not in CATALOG]
    assert missing == []


def test_no_code_carrying_layers():
    assert "Lambda" not in CATALOG


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_entry_is_well_formed(entry):
    assert entry.category in CATEGORIES
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", entry.type)
    # One plain sentence: starts with a capital, ends with a full stop.
    assert re.fullmatch(r"[A-Z].{20,110}\.", entry.description), entry.description
    assert callable(entry.shape_rule) and callable(entry.count_params)
    assert entry.min_inputs >= 0
    assert entry.max_inputs is None or entry.max_inputs >= entry.min_inputs
    names = [param.name for param in entry.params]
    assert len(names) == len(set(names))
    assert set(entry.key_params) <= set(names)
    if entry.params:
        assert entry.key_params, f"{entry.type} shows no parameter on its node face"
    for param in entry.params:
        assert param.kind in KINDS
        assert param.help, f"{entry.type}.{param.name} has no help text"
        if param.kind == "layer":
            assert param.wrappable and set(param.wrappable) <= set(CATALOG)


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_defaults_coerce_to_themselves(entry):
    params = entry.coerce_params({})
    assert entry.coerce_params(params) == params
    assert set(params) == {param.name for param in entry.params}


def test_unknown_parameter_is_named():
    with pytest.raises(ParamError, match="Dense has no parameter 'unit'"):
        CATALOG["Dense"].coerce_params({"unit": 3})


def test_unknown_type_is_named():
    with pytest.raises(KeyError, match="Unknown layer type 'Dense2'"):
        layer_type("Dense2")


def test_palette_groups_follow_category_order():
    groups = by_category()
    assert list(groups) == [c for c in CATEGORIES if c in groups]
    assert sum(len(entries) for entries in groups.values()) == len(CATALOG)


def shape_of(type_name: str, inputs: list, **params):
    entry = CATALOG[type_name]
    return entry.shape_rule(entry.coerce_params(params), inputs)


def count_of(type_name: str, inputs: list, **params):
    entry = CATALOG[type_name]
    coerced = entry.coerce_params(params)
    return entry.count_params(coerced, inputs, entry.shape_rule(coerced, inputs))


@pytest.mark.parametrize(
    ("type_name", "inputs", "params", "expected"),
    [
        ("Conv2D", [(None, 28, 28, 3)], {"filters": 8, "kernel_size": 3}, (None, 26, 26, 8)),
        (
            "Conv2DTranspose",
            [(None, 7, 7, 4)],
            {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
            (None, 14, 14, 2),
        ),
        ("DepthwiseConv2D", [(None, 8, 8, 3)], {"depth_multiplier": 2}, (None, 6, 6, 6)),
        ("SeparableConv1D", [(None, 10, 4)], {"filters": 5}, (None, 8, 5)),
        ("UpSampling2D", [(None, 4, None, 3)], {"size": (2, 3)}, (None, 8, None, 3)),
        ("ZeroPadding2D", [(None, 4, 4, 1)], {"padding": (1, 2, 0, 3)}, (None, 7, 7, 1)),
        ("Cropping1D", [(None, 10, 2)], {"cropping": (2, 3)}, (None, 5, 2)),
        ("ConvLSTM2D", [(None, 5, 8, 8, 1)], {"filters": 4}, (None, 6, 6, 4)),
        (
            "Bidirectional",
            [(None, 12, 6)],
            {"layer": {"type": "LSTM", "params": {"units": 5, "return_sequences": True}}},
            (None, 12, 10),
        ),
        (
            "TimeDistributed",
            [(None, 5, 8, 8, 3)],
            {"layer": {"type": "Conv2D", "params": {"filters": 4}}},
            (None, 5, 6, 6, 4),
        ),
        ("Embedding", [(None, 20)], {"input_dim": 100, "output_dim": 8}, (None, 20, 8)),
        (
            "MultiHeadAttention",
            [(None, 5, 16), (None, 7, 12)],
            {"num_heads": 2, "key_dim": 4},
            (None, 5, 16),
        ),
        ("Attention", [(None, 5, 8), (None, 7, 6), (None, 7, 8)], {}, (None, 5, 6)),
        ("Resizing", [(None, 32, 32, 3)], {"height": 16, "width": 20}, (None, 16, 20, 3)),
        ("RandomFlip", [(None, 32, 32, 3)], {}, (None, 32, 32, 3)),
    ],
)
def test_shape_rules(type_name, inputs, params, expected):
    assert shape_of(type_name, inputs, **params) == expected


@pytest.mark.parametrize(
    ("type_name", "inputs", "params", "expected"),
    [
        ("Conv2D", [(None, 28, 28, 3)], {"filters": 8, "kernel_size": 3}, 3 * 3 * 3 * 8 + 8),
        ("SeparableConv1D", [(None, 10, 4)], {"filters": 5}, 3 * 4 + 4 * 5 + 5),
        ("BatchNormalization", [(None, 10)], {}, 40),
        ("LayerNormalization", [(None, 10)], {"center": False}, 10),
        ("Normalization", [(None, 6)], {}, 13),
        ("Normalization", [(None, 2)], {"mean": (0.0, 1.0), "variance": (1.0, 2.0)}, 0),
        ("Embedding", [(None, 20)], {"input_dim": 100, "output_dim": 8}, 800),
        (
            "Bidirectional",
            [(None, 12, 6)],
            {"layer": {"type": "GRU", "params": {"units": 4}}},
            2 * (3 * 4 * (6 + 4) + 2 * 3 * 4),
        ),
        ("PReLU", [(None, 4, 4, 3)], {"shared_axes": (1, 2)}, 3),
        ("MultiHeadAttention", [(None, 5, 4), (None, 7, 6)], {"num_heads": 2, "key_dim": 3}, 142),
    ],
)
def test_parameter_counts(type_name, inputs, params, expected):
    assert count_of(type_name, inputs, **params) == expected


@pytest.mark.parametrize(
    ("type_name", "inputs", "params", "message"),
    [
        (
            "Conv2D",
            [(None, 2, 2, 3)],
            {"kernel_size": 3},
            "kernel of size 3 is larger than the input's 2",
        ),
        (
            "Conv2D",
            [(None, 28, 28)],
            {},
            "expects an input of rank 4, like (None, 28, 28, 3). Received: input shape "
            "(None, 28, 28)",
        ),
        (
            "Conv1D",
            [(None, 20, 4)],
            {"strides": 2, "dilation_rate": 2},
            "strides > 1 cannot be combined with dilation_rate > 1",
        ),
        (
            "Conv2DTranspose",
            [(None, 4, 4, 1)],
            {"strides": 2, "output_padding": 2},
            "each output_padding must be smaller than its stride",
        ),
        ("Cropping1D", [(None, 4, 2)], {"cropping": (2, 2)}, "removes all of an axis"),
        (
            "GroupNormalization",
            [(None, 10)],
            {"groups": 4},
            "the 10 channels on axis -1 are not divisible by groups=4",
        ),
        (
            "Normalization",
            [(None, 3)],
            {"mean": (1.0, 2.0), "variance": (1.0, 1.0)},
            "mean needs 1 or 3 values",
        ),
        ("Normalization", [(None, 3)], {"mean": (1.0,)}, "must be set together"),
        (
            "Bidirectional",
            [(None, 8)],
            {},
            "wrapped LSTM: expects an input of rank 3",
        ),
        ("Softmax", [(None, 8)], {"axis": 0}, "axis 0 is the batch dimension"),
        ("BatchNormalization", [(None, None)], {}, "needs a known size on axis -1"),
        (
            "Attention",
            [(None, 5, 8), (None, 7, 6)],
            {},
            "query and key need the same last dimension",
        ),
        (
            "MultiHeadAttention",
            [(None, 5, 8), (None, 7, 6), (None, 6, 6)],
            {},
            "value and key must match in all but the last dimension",
        ),
        ("Resizing", [(None, 8)], {}, "expects an input of rank 4"),
        ("Dot", [(None, 3, 4), (None, 5, 4)], {"axes": (1, 1)}, "dimension 3 of (None, 3, 4)"),
        ("ConvLSTM1D", [(None, 5, None, 2)], {}, "needs known sizes"),
    ],
)
def test_shape_errors_name_the_bad_values(type_name, inputs, params, message):
    with pytest.raises(ShapeError) as caught:
        count_of(type_name, inputs, **params)
    assert message in str(caught.value)


def test_wrapper_refuses_layers_it_cannot_wrap():
    with pytest.raises(ParamError, match="layer can wrap SimpleRNN, LSTM.*Received: 'Dense'"):
        CATALOG["Bidirectional"].coerce_params({"layer": {"type": "Dense", "params": {}}})


def test_vector_initializers_exclude_orthogonal():
    dense = CATALOG["Dense"].param_index
    assert "orthogonal" in dense["kernel_initializer"].choices
    assert "orthogonal" not in dense["bias_initializer"].choices
