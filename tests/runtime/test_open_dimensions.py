"""Open dimensions: Inputs whose sizes are known only when data flows.

A fully convolutional network takes images of any height and width
(shape ?, ?, 1) and a recurrent one sequences of any length. Each part of the
app carries the open sizes: shape inference, validation, graph files, the
builder, the exported code, the trainer, deployment exports and the importer.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from codegen.python_source import export_model_code, export_training_script
from graph.files import graph_from_yaml, graph_to_yaml
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis, shape_text
from graph.validation import validate
from runtime.builder import build_model
from runtime.data import load_dataset
from runtime.data_check import check_data
from runtime.deploy import export_model, export_path
from runtime.events import TrainingFinished
from runtime.importer import import_model, transfer_weights
from runtime.trainer import Trainer
from tests.codegen.test_script import script_namespace
from tests.runtime.test_builder import assert_matches_graph


def fully_convolutional() -> NetworkGraph:
    """Images of any size -> Conv2D -> MaxPooling2D -> GlobalAveragePooling2D -> Dense."""
    graph = NetworkGraph("fcn")
    previous = None
    for type_name, params in [
        ("Input", {"shape": [None, None, 1]}),
        ("Conv2D", {"filters": 6, "kernel_size": 3, "padding": "same", "activation": "relu"}),
        ("MaxPooling2D", {}),
        ("GlobalAveragePooling2D", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    ]:
        node = graph.add_node(type_name, params=params)
        if previous is not None:
            graph.connect(previous.id, node.id)
        previous = node
    graph.dataset.update({"source": "builtin", "name": "digits_images"})
    graph.training.update({"epochs": 1, "batch_size": 64})
    return graph


def sequence_model() -> NetworkGraph:
    """Token ids of any length -> Embedding -> LSTM -> Dense."""
    graph = NetworkGraph("sequences")
    previous = None
    for type_name, params in [
        ("Input", {"shape": [None], "dtype": "int32"}),
        ("Embedding", {"input_dim": 20, "output_dim": 4}),
        ("LSTM", {"units": 3}),
        ("Dense", {"units": 2, "activation": "softmax"}),
    ]:
        node = graph.add_node(type_name, params=params)
        if previous is not None:
            graph.connect(previous.id, node.id)
        previous = node
    return graph


def test_shapes_carry_open_sizes_and_the_canvas_shows_them_as_question_marks():
    graph = fully_convolutional()
    analysis = ShapeAnalysis(graph)
    shapes = [analysis.info(node.id).output_shape for node in graph.nodes]
    assert shapes == [
        (None, None, None, 1),
        (None, None, None, 6),
        (None, None, None, 6),
        (None, 6),
        (None, 10),
    ]
    assert analysis.total_params() == 6 * 9 + 6 + 6 * 10 + 10
    assert [shape_text(shape) for shape in shapes[1:4]] == [
        "(None, ?, ?, 6)",
        "(None, ?, ?, 6)",
        "(None, 6)",
    ]
    assert shape_text(None) == "?"
    assert validate(graph) == []


def test_graph_files_keep_open_sizes():
    graph = fully_convolutional()
    text = graph_to_yaml(graph)
    assert "- null" in text or "[null, null, 1]" in text
    loaded = graph_from_yaml(text)
    assert loaded.nodes[0].params["shape"] == (None, None, 1)


def test_validation_reports_only_what_is_certainly_wrong():
    graph = NetworkGraph()
    wide = graph.add_node("Input", params={"shape": [None, 5, 3]})
    narrow = graph.add_node("Input", params={"shape": [7, 5, 3]})
    add = graph.add_node("Add")
    graph.connect(wide.id, add.id, 0)
    graph.connect(narrow.id, add.id, 1)
    assert validate(graph) == []
    graph.set_params(narrow.id, shape=[7, 4, 3])
    assert [p.message for p in validate(graph)] == [
        "add_1 (Add): input shapes (None, None, 5, 3) and (None, 7, 4, 3) differ"
    ]
    dense = graph.add_node("Dense")
    graph.connect(add.id, dense.id)
    graph.set_params(wide.id, shape=[None, 4, None])
    assert "needs a known last dimension" in validate(graph)[-1].message


@pytest.mark.parametrize("make", [fully_convolutional, sequence_model])
def test_builder_and_exported_code_agree_on_every_size(make):
    graph = make()
    built = build_model(graph)
    assert_matches_graph(built, graph)
    namespace: dict = {}
    exec(compile(export_model_code(graph), "exported", "exec"), namespace)
    exported = namespace["build_model"]()
    for layer in built.layers:
        exported.get_layer(layer.name).set_weights(layer.get_weights())
    rng = np.random.default_rng(0)
    sizes = [(8, 8, 1), (12, 5, 1)] if make is fully_convolutional else [(3,), (9,)]
    for size in sizes:
        if make is sequence_model:
            x = rng.integers(0, 20, size=(2, *size)).astype("int32")
        else:
            x = rng.normal(size=(2, *size)).astype("float32")
        want = np.asarray(built(x, training=False))
        assert want.shape == (2, 10 if make is fully_convolutional else 2)
        np.testing.assert_array_equal(np.asarray(exported(x, training=False)), want)


def test_trainer_takes_the_sizes_from_the_data():
    graph = fully_convolutional()
    dataset = load_dataset(graph.dataset)
    assert check_data(graph, dataset) == []
    result = Trainer(graph, dataset).run()
    assert isinstance(result, TrainingFinished), result
    flat = load_dataset({"source": "builtin", "name": "digits"})
    (problem,) = check_data(graph, flat)
    assert problem.message == (
        "input_1 (Input): shape (None, None, 1) leaves sizes open but digits samples of "
        "shape (64,) do not fit it: an open shape needs samples of its rank (3 dimensions) "
        "whose other sizes match"
    )


@pytest.mark.parametrize("fmt", ["keras", "saved_model", "tflite", "onnx"])
def test_deployment_exports_keep_open_sizes(tmp_path, fmt):
    model = build_model(fully_convolutional())
    sample = [np.random.default_rng(1).normal(size=(2, 11, 9, 1)).astype("float32")]
    report = export_model(model, fmt, export_path(tmp_path, "fcn", fmt), sample)
    assert report.max_abs_diff < 1e-4
    default = export_model(model, fmt, export_path(tmp_path / "default", "fcn", fmt))
    assert default.max_abs_diff < 1e-4


@pytest.mark.parametrize("shape", [(None, None, 3), (None, 6)])
def test_models_with_open_inputs_import_and_rebuild(shape):
    inputs = keras.Input(shape=shape, name="features")
    hidden = keras.layers.Dense(4, name="hidden")(inputs)
    outputs = keras.layers.GlobalAveragePooling1D(name="pool")(
        keras.layers.Reshape((-1, 4), name="rows")(hidden)
    )
    original = keras.Model(inputs, outputs)
    graph = import_model(original)
    assert graph.input_nodes()[0].params["shape"] == shape
    assert validate(graph) == []
    rebuilt = build_model(graph)
    transfer_weights(original, rebuilt)
    sample = (5, 4, 3) if len(shape) == 3 else (5, 6)
    x = np.random.default_rng(2).normal(size=(2, *sample)).astype("float32")
    np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(original(x)), rtol=1e-6)


def test_exported_script_feeds_data_to_an_open_input_as_it_is():
    graph = fully_convolutional()
    namespace = script_namespace(export_training_script(graph))
    (x_train, _), _, _, _ = namespace["load_data"]()
    assert x_train.shape[1:] == (8, 8, 1)
    assert namespace["model_inputs"](x_train, namespace["INPUT_SHAPES"]) is x_train
