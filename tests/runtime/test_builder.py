"""The Keras builder: every valid graph builds, with the node names as layer names."""

from pathlib import Path

import keras
import pytest

from graph.files import load_graph
from graph.generators import branched_graph, chain_graph
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis
from graph.validation import ERROR, validate
from runtime.builder import BuildError, build_model

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def assert_matches_graph(model: keras.Model, graph: NetworkGraph) -> None:
    """Layer names, classes, output shapes and parameter counts agree with the graph."""
    analysis = ShapeAnalysis(graph)
    try:
        layers = {layer.name: layer for layer in model.layers}
        assert set(layers) == {node.name for node in graph.nodes}
        for node in graph.nodes:
            layer = layers[node.name]
            info = analysis.info(node.id)
            expected_class = "InputLayer" if node.type == "Input" else node.type
            assert type(layer).__name__ == expected_class
            assert tuple(layer.output.shape) == info.output_shape, node.label
            assert layer.count_params() == info.param_count, node.label
        assert model.count_params() == analysis.total_params()
    finally:
        analysis.close()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_builds(path):
    graph = load_graph(path)
    assert not [p for p in validate(graph) if p.severity == ERROR]
    model = build_model(graph)
    assert_matches_graph(model, graph)
    assert [t.name for t in model.inputs] == [n.name for n in graph.input_nodes()]
    outputs = [t._keras_history[0].name for t in model.outputs]
    assert outputs == [n.name for n in graph.output_nodes()]


@pytest.mark.parametrize(
    "graph",
    [chain_graph(2), chain_graph(23), branched_graph(7), branched_graph(40)],
    ids=["chain2", "chain23", "branched7", "branched40"],
)
def test_generated_graphs_build(graph):
    assert not [p for p in validate(graph) if p.severity == ERROR]
    assert_matches_graph(build_model(graph), graph)


def test_multiple_outputs_keep_graph_order():
    graph = NetworkGraph("two heads")
    source = graph.add_node("Input", "features", {"shape": [6]})
    second = graph.add_node("Dense", "second", {"units": 2})
    first = graph.add_node("Dense", "first", {"units": 3})
    graph.connect(source.id, second.id)
    graph.connect(source.id, first.id)
    model = build_model(graph)
    assert [tuple(t.shape) for t in model.outputs] == [(None, 2), (None, 3)]
    # TensorFlow refuses spaces in the model's name scope: the name is made safe.
    assert model.name == "two_heads"


def test_merge_inputs_follow_port_order():
    graph = NetworkGraph()
    a = graph.add_node("Input", "a", {"shape": [4]})
    b = graph.add_node("Input", "b", {"shape": [2]})
    merged = graph.add_node("Concatenate", "joined")
    graph.connect(b.id, merged.id, 0)
    graph.connect(a.id, merged.id, 1)
    model = build_model(graph)
    layer = model.get_layer("joined")
    assert [t._keras_history[0].name for t in layer._inbound_nodes[0].input_tensors] == ["b", "a"]


def test_invalid_graph_raises_build_error_with_problems():
    graph = NetworkGraph()
    a = graph.add_node("Input", "a", {"shape": [4]})
    b = graph.add_node("Input", "b", {"shape": [3]})
    add = graph.add_node("Add", "add_1")
    graph.connect(a.id, add.id, 0)
    graph.connect(b.id, add.id, 1)
    with pytest.raises(BuildError) as caught:
        build_model(graph)
    error = caught.value
    assert isinstance(error, ValueError)
    assert [p.node_id for p in error.problems] == [add.id]
    assert "add_1 (Add): input shapes (None, 4) and (None, 3) differ" in str(error)
    assert str(error).startswith("The graph cannot be built: 1 problem\n")


def test_empty_graph_raises_build_error():
    with pytest.raises(BuildError, match="The graph is empty"):
        build_model(NetworkGraph())


def test_layer_names_tensorflow_cannot_run_are_refused():
    graph = NetworkGraph()
    source = graph.add_node("Input", "x", {"shape": [3]})
    node = graph.add_node("Dense", "my dense", {"units": 2})
    graph.connect(source.id, node.id)
    with pytest.raises(BuildError, match=r"my dense \(Dense\): layer names may contain only"):
        build_model(graph)


def test_deep_chains_build():
    # keras.Model maps layers recursively; 400 layers exceed Python's default limit.
    graph = chain_graph(400)
    model = build_model(graph)
    assert len(model.layers) == 400


def test_attention_layers_get_query_value_key_in_port_order():
    graph = NetworkGraph("attention")
    query = graph.add_node("Input", "query", {"shape": [5, 8]})
    value = graph.add_node("Input", "value", {"shape": [7, 8]})
    mha = graph.add_node("MultiHeadAttention", "mha", {"num_heads": 2, "key_dim": 4})
    dot = graph.add_node("Attention", "dot")
    total = graph.add_node("Add", "total")
    for port, source in enumerate((query, value, value)):
        graph.connect(source.id, mha.id, port)
    graph.connect(query.id, dot.id, 0)
    graph.connect(value.id, dot.id, 1)
    graph.connect(mha.id, total.id, 0)
    graph.connect(dot.id, total.id, 1)
    model = build_model(graph)
    assert_matches_graph(model, graph)
    call = model.get_layer("mha")._inbound_nodes[0]
    assert [t._keras_history[0].name for t in call.input_tensors] == ["query", "value", "value"]
    assert tuple(model.output.shape) == (None, 5, 8)
