"""Folding repeated structure: runs of identical consecutive subgraphs become block instances."""

from __future__ import annotations

from graph.block_folding import describe, find_repeats, fold_repeats
from graph.block_type import BLOCK
from graph.model import NetworkGraph, RemoveEdge
from graph.shapes import ShapeAnalysis
from graph.validation import validate


def residual_units(graph: NetworkGraph, previous: str, prefix: str, count: int) -> str:
    """Appends `count` units `prefix<N>_`: dense_a (relu) -> dense_b, + skip, relu."""
    for number in range(1, count + 1):
        name = f"{prefix}{number}_"
        a = graph.add_node("Dense", name + "dense_a", {"units": 8, "activation": "relu"})
        b = graph.add_node("Dense", name + "dense_b", {"units": 8})
        add = graph.add_node("Add", name + "add")
        out = graph.add_node("ReLU", name + "out")
        graph.connect(previous, a.id)
        graph.connect(a.id, b.id)
        graph.connect(b.id, add.id, 0)
        graph.connect(previous, add.id, 1)
        graph.connect(add.id, out.id)
        previous = out.id
    return previous


def model_with_units(count: int = 3, stem_relu: bool = False) -> NetworkGraph:
    """features -> stem (-> ReLU) -> `count` residual units -> head."""
    graph = NetworkGraph("resnet_mini")
    features = graph.add_node("Input", "features", {"shape": (8,)})
    stem = graph.add_node("Dense", "stem", {"units": 8})
    graph.connect(features.id, stem.id)
    if stem_relu:
        relu = graph.add_node("ReLU", "stem_relu")
        graph.connect(stem.id, relu.id)
        stem = relu
    last = residual_units(graph, stem.id, "unit", count)
    head = graph.add_node("Dense", "head", {"units": 3, "activation": "softmax"})
    graph.connect(last, head.id)
    return graph


def names(graph: NetworkGraph, ids) -> list[str]:
    return [graph.node(node_id).name for node_id in ids]


def test_three_identical_residual_units_fold_into_one_block_with_three_instances():
    graph = model_with_units(3)
    repeats = find_repeats(graph)
    assert [len(repeat.instances) for repeat in repeats] == [3]
    assert [names(graph, ids) for ids in repeats[0].instances][1] == [
        "unit2_dense_a",
        "unit2_dense_b",
        "unit2_add",
        "unit2_out",
    ]
    assert describe(graph.name, repeats) == "resnet_mini: 3 repeated blocks of 1 kind found"
    folded = fold_repeats(graph, repeats)
    assert list(folded.graph.blocks) == ["unit"]
    assert [(n.name, n.type) for n in folded.graph.nodes] == [
        ("features", "Input"),
        ("stem", "Dense"),
        ("unit1", BLOCK),
        ("unit2", BLOCK),
        ("unit3", BLOCK),
        ("head", "Dense"),
    ]
    definition = folded.graph.blocks.get("unit")
    assert [n.name for n in definition.nodes] == ["input", "dense_a", "dense_b", "add", "out"]
    assert validate(folded.graph) == []
    assert ShapeAnalysis(folded.graph).total_params() == ShapeAnalysis(graph).total_params()
    assert folded.layer_names["unit3.dense_b"] == "unit3_dense_b"
    assert folded.layer_names["head"] == "head"
    assert find_repeats(graph) == repeats, "the graph itself is left as it was"


def test_runs_of_the_same_unit_share_one_definition_and_blocks_never_hold_one_layer():
    graph = model_with_units(2)
    middle = graph.add_node("Dense", "middle", {"units": 8, "activation": "tanh"})
    graph.connect(graph.find("unit2_out").id, middle.id)
    head = graph.find("head")
    graph.apply(RemoveEdge(graph.in_edges(head.id)[0]))
    graph.connect(residual_units(graph, middle.id, "later", 2), head.id)
    repeats = find_repeats(graph)
    assert [(repeat.kind, len(repeat.instances)) for repeat in repeats] == [(0, 2), (0, 2)]
    assert describe("m", repeats) == "m: 4 repeated blocks of 1 kind found"
    folded = fold_repeats(graph, repeats).graph
    assert len(folded.blocks) == 1 and validate(folded) == []
    assert find_repeats(folded) == [], "a run of single block instances is not folded again"


def test_non_identical_neighbours_are_not_folded():
    graph = model_with_units(3)
    graph.set_params(graph.find("unit2_dense_a").id, activation="tanh")
    assert find_repeats(graph) == []
    chain = NetworkGraph()
    previous = chain.add_node("Input", "x", {"shape": (4,)}).id
    for _ in range(6):
        layer = chain.add_node("Dense", None, {"units": 4})
        chain.connect(previous, layer.id)
        previous = layer.id
    assert find_repeats(chain) == [], "six identical single layers are layers, not blocks"


def test_the_shortest_repeating_unit_is_taken_and_ends_where_the_structure_does():
    """Pieces go [ReLU] [dense_a..add] [ReLU] [dense_a..add] ...: a unit could start with
    either; it ends with its ReLU, as the model names its units."""
    graph = model_with_units(4, stem_relu=True)
    (repeat,) = find_repeats(graph)
    assert [names(graph, ids)[-1] for ids in repeat.instances] == [
        f"unit{number}_out" for number in range(1, 5)
    ]
