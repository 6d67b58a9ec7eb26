"""Initializers, regularizers and constraints with arguments as param values."""

from __future__ import annotations

import pytest
import yaml

from graph import keras_objects
from graph.catalog import CATALOG
from graph.files import GraphFileError, graph_from_yaml, graph_to_yaml
from graph.model import NetworkGraph
from graph.params import ParamError

DENSE = CATALOG["Dense"]


def coerce(**params):
    return DENSE.coerce_params(params)


def test_plain_names_and_defaults_stay_plain_names():
    params = coerce(
        kernel_initializer={"class": "HeNormal", "config": {"seed": None}},
        bias_initializer="Zeros",
        kernel_constraint="max_norm",
        bias_constraint={"class": "NonNeg"},
    )
    assert params["kernel_initializer"] == "he_normal"
    assert params["bias_initializer"] == "zeros"
    assert params["kernel_constraint"] == "max_norm"
    assert params["bias_constraint"] == "non_neg"


def test_arguments_keep_only_what_differs_from_keras_defaults_in_declared_order():
    params = coerce(
        kernel_initializer={
            "class": "VarianceScaling",
            "config": {"distribution": "uniform", "scale": 2, "mode": "fan_in", "seed": 4},
        },
        kernel_constraint={"class": "MinMaxNorm", "config": {"axis": [0, 1], "max_value": 2}},
    )
    assert params["kernel_initializer"] == {
        "class": "VarianceScaling",
        "config": {"scale": 2.0, "distribution": "uniform", "seed": 4},
    }
    assert list(params["kernel_initializer"]["config"]) == ["scale", "distribution", "seed"]
    assert params["kernel_constraint"] == {
        "class": "MinMaxNorm",
        "config": {"max_value": 2.0, "axis": (0, 1)},
    }


def test_regularizers_keep_their_strength_mapping_and_take_classes():
    assert coerce(kernel_regularizer={"l2": 0.01})["kernel_regularizer"] == {"l1": 0.0, "l2": 0.01}
    assert coerce(kernel_regularizer={"class": "L1", "config": {"l1": 0.2}})[
        "kernel_regularizer"
    ] == {"l1": 0.2, "l2": 0.0}
    assert coerce(kernel_regularizer="l2")["kernel_regularizer"] == {"l1": 0.0, "l2": 0.01}
    orthogonal = {"class": "OrthogonalRegularizer", "config": {"mode": "columns"}}
    assert coerce(kernel_regularizer=orthogonal)["kernel_regularizer"] == orthogonal
    assert keras_objects.class_form("regularizer", {"l1": 0.0, "l2": 0.5}) == ("L2", {"l2": 0.5})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"kernel_initializer": "nope"},
            "kernel_initializer must be one of glorot_uniform, glorot_normal",
        ),
        (
            {"bias_initializer": "orthogonal"},
            "bias_initializer must be one of glorot_uniform",
        ),
        (
            {"kernel_initializer": {"class": "HeNormal", "config": {"scale": 2}}},
            "kernel_initializer: HeNormal has no argument 'scale' (its arguments: seed)",
        ),
        (
            {"kernel_initializer": {"class": "VarianceScaling", "config": {"mode": "fan"}}},
            "kernel_initializer: VarianceScaling mode must be one of 'fan_in', 'fan_out', "
            "'fan_avg'. Received: 'fan'",
        ),
        (
            {"kernel_constraint": {"class": "MaxNorm", "confg": {}}},
            "kernel_constraint takes the keys class and config. Received: 'confg'",
        ),
        (
            {"kernel_constraint": {"class": "MaxNorm", "config": [3]}},
            "kernel_constraint.config must be a mapping. Received: [3]",
        ),
        (
            {"kernel_regularizer": {"l3": 1}},
            "kernel_regularizer must be null, a mapping with l1 and/or l2 strengths",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_param_and_the_value(params, message):
    with pytest.raises(ParamError) as caught:
        DENSE.coerce_params(params)
    assert message in str(caught.value)


def test_files_store_classes_as_class_and_config_and_read_plain_names():
    graph = NetworkGraph()
    source = graph.add_node("Input", params={"shape": [4]})
    dense = graph.add_node(
        "Dense",
        params={
            "kernel_initializer": {
                "class": "VarianceScaling",
                "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
            },
            "kernel_constraint": {"class": "MaxNorm", "config": {"max_value": 3}},
            "bias_constraint": "non_neg",
        },
    )
    graph.connect(source.id, dense.id)
    text = graph_to_yaml(graph)
    stored = yaml.safe_load(text)["nodes"][1]["params"]
    assert stored["kernel_initializer"] == {
        "class": "VarianceScaling",
        "config": {"scale": 2.0, "mode": "fan_out"},
    }
    assert stored["kernel_constraint"] == {"class": "MaxNorm", "config": {"max_value": 3.0}}
    assert stored["bias_constraint"] == "non_neg"
    loaded = graph_from_yaml(text)
    assert loaded.node(dense.id).params == graph.node(dense.id).params


def test_a_bad_object_in_a_file_is_located():
    graph = NetworkGraph()
    graph.add_node("Dense", params={"kernel_constraint": "max_norm"})
    text = graph_to_yaml(graph).replace("max_norm", "{class: MaxNorm, config: {max_value: x}}")
    with pytest.raises(GraphFileError, match=r"kernel_constraint: MaxNorm max_value must be a"):
        graph_from_yaml(text, "t.yaml")
