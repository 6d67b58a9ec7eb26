"""The layers added for issue 12 build, export as code that runs, import, and adapt.

Each case is a small graph on inputs the layer is made for (strings for
StringLookup, ids for IntegerLookup and HashedCrossing, sound for the
spectrograms). The built model, the model of the exported code and the graph
imported back from the built model must agree.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from codegen.python_source import export_model_code
from graph.catalog import CATALOG
from graph.model import NetworkGraph
from runtime.builder import build_model
from runtime.importer import ImportModelError, check_config, import_model
from runtime.trainer import adapt_normalization

# type -> (input shapes and dtypes, params)
CASES = {
    "EinsumDense": (
        [((5, 8), "float32")],
        {"equation": "abc,cd->abd", "output_shape": (None, 4), "bias_axes": "d"},
    ),
    "GroupQueryAttention": (
        [((5, 8), "float32"), ((7, 8), "float32"), ((7, 3), "float32")],
        {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "use_gate": True},
    ),
    "SpectralNormalization": (
        [((6, 6, 2), "float32")],
        {"layer": {"type": "Conv2D", "params": {"filters": 3}}, "power_iterations": 2},
    ),
    "StringLookup": ([((1,), "string")], {"max_tokens": 5, "oov_token": "?"}),
    "IntegerLookup": (
        [((3,), "int64")],
        {"max_tokens": 6, "output_mode": "multi_hot", "pad_to_max_tokens": True},
    ),
    "HashedCrossing": ([((1,), "int64"), ((1,), "int64")], {"num_bins": 7}),
    "Discretization": ([((2,), "float32")], {"num_bins": None, "bin_boundaries": (0.0, 1.0, 2.5)}),
    "MelSpectrogram": (
        [((800,), "float32")],
        {"fft_length": 256, "sequence_stride": 128, "num_mel_bins": 16, "sampling_rate": 8000},
    ),
    "STFTSpectrogram": (
        [((400, 1), "float32")],
        {"frame_length": 64, "frame_step": 32, "mode": "magnitude", "expand_dims": True},
    ),
}


def single_layer(type_name: str) -> NetworkGraph:
    inputs, params = CASES[type_name]
    graph = NetworkGraph(type_name)
    sources = [
        graph.add_node("Input", f"in_{i}", {"shape": list(shape), "dtype": dtype})
        for i, (shape, dtype) in enumerate(inputs)
    ]
    node = graph.add_node(type_name, "layer", params)
    for port, source in enumerate(sources):
        graph.connect(source.id, node.id, port)
    return graph


def test_every_new_layer_has_a_case():
    assert set(CASES) <= set(CATALOG)


@pytest.mark.parametrize("type_name", sorted(CASES))
def test_new_layer_builds_exports_and_imports(type_name):
    graph = single_layer(type_name)
    built = build_model(graph)
    namespace = {"__name__": "exported_model"}
    exec(compile(export_model_code(graph), "exported_model.py", "exec"), namespace)
    exported = namespace["build_model"]()
    layer = built.get_layer("layer")
    assert type(exported.get_layer("layer")) is type(layer)
    assert exported.count_params() == built.count_params()
    entry = CATALOG[type_name]
    params = entry.coerce_params(CASES[type_name][1])
    shapes = [(None, *shape) for shape, _ in CASES[type_name][0]]
    output = entry.shape_rule(params, shapes)
    assert tuple(built.outputs[0].shape) == output
    assert built.count_params() == entry.count_params(params, shapes, output)
    imported = import_model(built)
    assert imported.find("layer").params == params


def test_grouped_query_attention_imports_under_its_class_name():
    graph = import_model(build_model(single_layer("GroupQueryAttention")))
    node = graph.find("layer")
    assert node.type == "GroupQueryAttention"
    assert [graph.node(edge.source).name for edge in graph.in_edges(node.id)] == [
        "in_0",
        "in_1",
        "in_2",
    ]


def test_lookup_and_bins_are_learned_from_the_data():
    graph = NetworkGraph("adapted")
    words = graph.add_node("Input", "words", {"shape": [1], "dtype": "string"})
    lookup = graph.add_node("StringLookup", "lookup")
    values = graph.add_node("Input", "values", {"shape": [1]})
    bins = graph.add_node("Discretization", "bins", {"num_bins": 2})
    graph.connect(words.id, lookup.id)
    graph.connect(values.id, bins.id)
    model = build_model(graph)
    texts = np.array([["cat"], ["dog"], ["cat"], ["cat"]], dtype=object)
    numbers = np.array([[0.0], [1.0], [10.0], [11.0]], dtype="float32")
    adapt_normalization(model, [texts, numbers])
    assert model.get_layer("lookup").get_vocabulary() == ["[UNK]", "cat", "dog"]
    ids, binned = model([keras.ops.convert_to_tensor(texts), keras.ops.convert_to_tensor(numbers)])
    assert keras.ops.convert_to_numpy(ids).ravel().tolist() == [1, 2, 1, 1]
    (edge,) = model.get_layer("bins").bin_boundaries  # learned between the two groups
    assert 0.0 < edge <= 10.0
    binned = keras.ops.convert_to_numpy(binned).ravel().tolist()
    assert binned == sorted(binned) and binned[0] == 0 and binned[-1] == 1


def test_equalization_is_refused_with_the_reason():
    images = keras.Input((8, 8, 3), name="images")
    model = keras.Model(images, keras.layers.Rescaling(1.0, name="scale")(images))
    config = model.get_config()
    config["layers"][1]["class_name"] = "Equalization"
    with pytest.raises(ImportModelError, match=r"scale \(Equalization\): not supported: .*cycle"):
        check_config({"class_name": "Functional", "config": config})
