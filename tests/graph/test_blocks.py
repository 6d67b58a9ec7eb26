"""Blocks: definitions stored once, instances seen through by shapes, validation and files."""

from __future__ import annotations

import pytest

from graph.block_commands import expand_block, make_block, make_unique
from graph.block_inference import flat_layer_count
from graph.block_library import BlockLibrary
from graph.cost import graph_cost
from graph.files import GraphFileError, graph_from_yaml, graph_to_yaml
from graph.model import (
    AddBlock,
    AddEdge,
    Edge,
    GraphError,
    NetworkGraph,
    RemoveBlock,
    RemoveEdge,
    RemoveNode,
)
from graph.shapes import ShapeAnalysis
from graph.summary import summary_rows
from graph.validation import validate


def dense_block(units: int = 8) -> NetworkGraph:
    """x -> dense_a -> dense_b (+ x) : a residual block of Dense layers."""
    block = NetworkGraph()
    x = block.add_node("Input", "x", {"shape": (units,)})
    a = block.add_node("Dense", "dense_a", {"units": units, "activation": "relu"})
    b = block.add_node("Dense", "dense_b", {"units": units})
    add = block.add_node("Add", "add")
    block.connect(x.id, a.id)
    block.connect(a.id, b.id)
    block.connect(b.id, add.id, 0)
    block.connect(x.id, add.id, 1)
    return block


def stage_block() -> NetworkGraph:
    """x -> block1, an instance of `res`: a block holding a block."""
    stage = NetworkGraph()
    entry = stage.add_node("Input", "x", {"shape": (8,)})
    inner = stage.add_node("Block", "block1", {"block": "res"})
    stage.connect(entry.id, inner.id)
    return stage


def document(instances: int = 2) -> NetworkGraph:
    """Input(8) -> res_1 -> ... -> res_N -> Dense(3), every res an instance of `res`."""
    graph = NetworkGraph()
    graph.apply(AddBlock("res", dense_block()))
    previous = graph.add_node("Input", "input_1", {"shape": (8,)})
    for number in range(1, instances + 1):
        node = graph.add_node("Block", f"res_{number}", {"block": "res"})
        graph.connect(previous.id, node.id)
        previous = node
    head = graph.add_node("Dense", "head", {"units": 3, "activation": "softmax"})
    graph.connect(previous.id, head.id)
    return graph


def flat_document(instances: int = 2) -> NetworkGraph:
    graph = document(instances)
    for number in range(1, instances + 1):
        graph.apply(expand_block(graph, graph.find(f"res_{number}").id))
    return graph


def messages(graph: NetworkGraph) -> list[str]:
    return [problem.message for problem in validate(graph)]


def test_shapes_params_and_costs_see_through_blocks():
    graph, flat = document(), flat_document()
    analysis = ShapeAnalysis(graph)
    assert analysis.info(graph.find("res_2").id).output_shape == (None, 8)
    assert analysis.info(graph.find("head").id).output_shape == (None, 3)
    assert analysis.total_params() == ShapeAnalysis(flat).total_params() == 2 * 2 * 72 + 27
    assert graph_cost(graph).macs == graph_cost(flat).macs
    assert messages(graph) == [] and messages(flat) == []
    assert {n.name for n in flat.nodes} >= {"res_1.dense_a", "res_2.add"}


def test_editing_a_definition_changes_every_instance_and_only_what_it_reaches():
    graph = document(3)
    analysis = ShapeAnalysis(graph)
    analysis.all()
    definition = graph.blocks.get("res")
    before = analysis.recomputed
    definition.set_params(definition.find("dense_a").id, units=16)
    assert analysis.total_params() == 3 * (8 * 16 + 16 + 16 * 8 + 8) + 27
    # Three instances, each output unchanged: nothing downstream is re-inferred.
    assert analysis.recomputed - before == 3
    definition.set_params(definition.find("dense_b").id, units=4)
    assert "res_1/add (Add): input shapes (None, 4) and (None, 8) differ" in messages(graph)[0]


def test_nested_blocks_name_the_path_of_the_layer_at_fault():
    graph = document(1)
    graph.apply(AddBlock("stage", stage_block()))
    outer = graph.find("res_1")
    graph.set_params(outer.id, block="stage")
    assert messages(graph) == []
    assert ShapeAnalysis(graph).total_params() == 2 * 72 + 27
    res = graph.blocks.get("res")
    res.set_params(res.find("dense_b").id, units=5)
    assert messages(graph)[0].startswith("res_1/block1/add (Add): input shapes (None, 5) and")


def test_a_block_that_contains_itself_is_reported_on_the_instance():
    graph = document(1)
    res = graph.blocks.get("res")
    inner = res.add_node("Block", "again", {"block": "res"})
    res.connect(res.find("add").id, inner.id)
    problems = validate(graph)
    assert problems[0].node_id == graph.find("res_1").id
    assert problems[0].message == "res_1 (Block): block 'res' contains itself: res -> res"


def test_ports_that_no_longer_match_their_uses_are_reported():
    graph = document(1)
    res = graph.blocks.get("res")
    res.add_node("Input", "skip", {"shape": (8,)})
    assert messages(graph)[0] == "res_1 (Block): input skip (port 1) is not connected"
    graph.connect(graph.find("input_1").id, graph.find("res_1").id, 1)
    graph.connect(graph.find("input_1").id, graph.find("res_1").id, 2)
    assert messages(graph)[0] == (
        "res_1 (Block): block 'res' has 2 inputs (x, skip). Received: a connection on port 2"
    )


def test_missing_definition_and_inner_wiring_problems():
    graph = document(1)
    graph.apply(RemoveBlock("res"))
    assert messages(graph)[0] == (
        "res_1 (Block): no block named 'res' in this document (its blocks: none)"
    )
    graph = document(1)
    res = graph.blocks.get("res")
    res.apply(RemoveEdge(Edge(res.find("dense_a").id, res.find("dense_b").id)))
    # dense_a now ends inside (a second output); dense_b is fed by nothing.
    assert messages(graph)[0] == "res_1/dense_b (Dense): has no input; connect a layer to it"


def test_block_edits_undo_and_redo():
    graph = flat_document(1)
    flat = graph_to_yaml(graph)
    params = ShapeAnalysis(graph).total_params()
    chosen = [n.id for n in graph.nodes if n.name.startswith("res_1.")]
    undo_make = graph.apply(make_block(graph, chosen, "res2"))
    blocked = graph_to_yaml(graph)
    assert messages(graph) == [] and ShapeAnalysis(graph).total_params() == params
    instance = graph.find("res2_1")
    undo_unique = graph.apply(make_unique(graph, instance.id))
    unique = graph_to_yaml(graph)
    assert instance.params["block"] == "res2_2" and messages(graph) == []
    undo_expand = graph.apply(expand_block(graph, instance.id))
    expanded = graph_to_yaml(graph)
    assert messages(graph) == [] and ShapeAnalysis(graph).total_params() == params
    steps = [(undo_expand, unique), (undo_unique, blocked), (undo_make, flat)]
    redos = []
    for undo, expected in steps:
        redos.append(undo.apply(graph))
        assert graph_to_yaml(graph) == expected
    for redo, expected in zip(reversed(redos), (blocked, unique, expanded), strict=True):
        redo.apply(graph)
        assert graph_to_yaml(graph) == expected


def test_make_block_refuses_what_a_block_cannot_be():
    graph = flat_document(1)
    with pytest.raises(GraphError, match="is an Input layer"):
        make_block(graph, [graph.find("input_1").id], "b")
    with pytest.raises(GraphError, match="res_1.dense_b takes an output of the selection"):
        make_block(graph, [graph.find("res_1.dense_a").id, graph.find("res_1.add").id], "b")
    with pytest.raises(GraphError, match="already exists"):
        make_block(graph, [graph.find("head").id], "res")


def test_files_store_definitions_once_and_round_trip():
    graph = document(3)
    text = graph_to_yaml(graph)
    assert text.count("name: res\n") == 1 and text.count("dense_a") == 1
    again = graph_from_yaml(text)
    assert graph_to_yaml(again) == text
    assert ShapeAnalysis(again).total_params() == ShapeAnalysis(graph).total_params()


def test_files_refuse_missing_malformed_and_self_containing_blocks():
    text = graph_to_yaml(document(1))
    with pytest.raises(GraphFileError, match=r"nodes\[1\] res_1 \(Block\): no block named 'rez'"):
        graph_from_yaml(text.replace("{block: res}", "{block: rez}"), "t.yaml")
    with pytest.raises(GraphFileError, match=r"t.yaml:\d+:\d+: blocks\[0\].nodes\[1\].type"):
        graph_from_yaml(
            text.replace("type: Dense, name: dense_a", "type: Dens, name: dense_a"), "t.yaml"
        )
    with pytest.raises(GraphFileError, match=r"blocks\[0\] must be a mapping"):
        graph_from_yaml(text.replace("- name: res\n", "- 3\n- name: res\n"), "t.yaml")
    cyclic = text.replace(
        "  edges:\n", "  - {id: n9, type: Block, name: again, params: {block: res}}\n  edges:\n", 1
    )
    with pytest.raises(GraphFileError, match=r"blocks\[0\]: block 'res' contains itself"):
        graph_from_yaml(cyclic, "t.yaml")


def split_document() -> NetworkGraph:
    """input -> trunk -> (left, right) -> join (Concatenate) -> head: two tensors cross the cut."""
    graph = NetworkGraph()
    entry = graph.add_node("Input", "input_1", {"shape": (8,)})
    trunk = graph.add_node("Dense", "trunk", {"units": 6, "activation": "relu"})
    left = graph.add_node("Dense", "left", {"units": 4})
    right = graph.add_node("Dense", "right", {"units": 5})
    join = graph.add_node("Concatenate", "join")
    head = graph.add_node("Dense", "head", {"units": 3})
    graph.connect(entry.id, trunk.id)
    graph.connect(trunk.id, left.id)
    graph.connect(trunk.id, right.id)
    graph.connect(left.id, join.id, 0)
    graph.connect(right.id, join.id, 1)
    graph.connect(join.id, head.id)
    return graph


def split_block() -> NetworkGraph:
    graph = split_document()
    chosen = [graph.find(name).id for name in ("trunk", "left", "right")]
    graph.apply(make_block(graph, chosen, "fork"))
    return graph


def test_a_block_may_have_several_outputs_wired_by_source_port():
    graph = split_block()
    instance = graph.find("fork_1")
    assert [
        (e.source_port, graph.node(e.target).name, e.port) for e in graph.out_edges(instance.id)
    ] == [
        (0, "join", 0),
        (1, "join", 1),
    ]
    analysis = ShapeAnalysis(graph)
    assert analysis.info(instance.id).outputs == ((None, 4), (None, 5))
    assert analysis.info(graph.find("join").id).output_shape == (None, 9)
    assert analysis.total_params() == ShapeAnalysis(split_document()).total_params()
    assert messages(graph) == []
    assert graph_cost(graph).nodes[instance.id].activation_values == 4 + 5
    (row,) = [row for row in summary_rows(graph) if row.name == "join"]
    assert row.connected_to == ("fork_1.left", "fork_1.right")
    # A connection from an output the block does not have is named on the instance.
    graph.apply(RemoveEdge(graph.out_edges(instance.id)[1]))
    graph.connect(instance.id, graph.find("join").id, 1)
    graph.connect(instance.id, graph.find("head").id, 1)
    graph.apply(RemoveEdge(graph.in_edges(graph.find("head").id)[0]))
    graph.apply(RemoveEdge(graph.in_edges(graph.find("head").id)[0]))
    graph.apply(AddEdge(Edge(instance.id, graph.find("head").id, 0, source_port=2)))
    assert messages(graph)[0] == (
        "fork_1 (Block): block 'fork' has 2 outputs (left, right). "
        "Received: a connection from output 2"
    )


def test_make_block_keeps_an_output_also_used_inside_through_an_identity():
    graph = split_document()
    chosen = [graph.find(name).id for name in ("trunk", "left")]
    graph.apply(make_block(graph, chosen, "fork"))
    fork = graph.blocks.get("fork")
    assert [n.name for n in fork.output_nodes()] == ["left", "trunk_out"]
    assert fork.find("trunk_out").type == "Identity"
    assert messages(graph) == []
    expanded = graph.copy()
    expanded.apply(expand_block(expanded, expanded.find("fork_1").id))
    assert messages(expanded) == []
    assert ShapeAnalysis(expanded).info(expanded.find("join").id).output_shape == (None, 9)


def test_several_outputs_round_trip_through_files_expand_and_undo():
    graph = split_document()
    before = graph_to_yaml(graph)
    chosen = [graph.find(name).id for name in ("trunk", "left", "right")]
    undo = graph.apply(make_block(graph, chosen, "fork"))
    text = graph_to_yaml(graph)
    assert "source_port: 1" in text and text.count("source_port") == 1
    again = graph_from_yaml(text)
    assert graph_to_yaml(again) == text and messages(again) == []
    undo_expand = graph.apply(expand_block(graph, graph.find("fork_1").id))
    assert messages(graph) == []
    assert ShapeAnalysis(graph).total_params() == ShapeAnalysis(split_document()).total_params()
    undo_expand.apply(graph)
    assert graph_to_yaml(graph) == text
    undo.apply(graph)
    assert graph_to_yaml(graph) == before
    # Files without source ports load as before; a bad one is refused with its place.
    with pytest.raises(GraphFileError, match=r"edges\[\d+\].source_port must be an integer"):
        graph_from_yaml(text.replace("source_port: 1", "source_port: -1"), "t.yaml")


def test_a_block_with_several_outputs_cannot_end_the_model():
    graph = split_block()
    graph.apply(RemoveNode(graph.find("join").id))
    assert (
        "fork_1 (Block): its outputs (left, right) are not connected; a block with several "
        "outputs cannot end the model, so connect each output to a layer"
    ) in messages(graph)


def nested_blocks(depth: int) -> str:
    """A graph file whose block b0 holds b1, which holds b2, ... down to b{depth - 1}."""
    lines = ["format: deepwire-graph", "version: 1", "blocks:"]
    for level in range(depth):
        inner = (
            f"{{id: x2, type: Block, name: inner, params: {{block: b{level + 1}}}}}"
            if level < depth - 1
            else "{id: x2, type: Dense, name: d, params: {units: 3}}"
        )
        lines += [
            f"- name: b{level}",
            "  nodes:",
            "  - {id: x1, type: Input, name: x, params: {shape: [4]}}",
            f"  - {inner}",
            "  edges: [{source: x1, target: x2, port: 0}]",
        ]
    lines += [
        "nodes:",
        "- {id: n1, type: Input, name: input_1, params: {shape: [4]}}",
        "- {id: n2, type: Block, name: outer, params: {block: b0}}",
        "edges: [{source: n1, target: n2, port: 0}]",
    ]
    return "\n".join(lines) + "\n"


def test_blocks_nested_past_the_limit_are_refused_by_name_not_by_a_crash():
    # 300 levels once overflowed Python's stack in the cycle check and in inference.
    with pytest.raises(
        GraphFileError,
        match=r"t.yaml:4:9: blocks\[0\]: block 'b0' has blocks nested 300 deep "
        r"\(b0 -> b1 -> b2 -> \.\.\. -> b299\); the limit is 32",
    ):
        graph_from_yaml(nested_blocks(300), "t.yaml")
    graph = graph_from_yaml(nested_blocks(32), "t.yaml")
    assert validate(graph) == []
    assert graph.blocks.cycle("b0") is None
    assert len(graph.blocks.nesting("b0")) == 32


def test_nesting_past_the_limit_made_by_editing_is_a_problem_of_the_instance():
    graph = graph_from_yaml(nested_blocks(32), "t.yaml")
    deepest = graph.blocks.get("b31")
    inner = next(node for node in deepest.nodes if node.type == "Dense")
    graph.apply(AddBlock("b32", dense_block(3)))
    deepest.apply(RemoveNode(inner.id))
    extra = deepest.add_node("Block", "deeper", {"block": "b32"})
    deepest.connect(next(n.id for n in deepest.nodes if n.type == "Input"), extra.id)
    (problem,) = validate(graph)
    assert problem.message.startswith("outer (Block): block 'b0' has blocks nested 33 deep")


def test_loading_many_blocks_reads_each_definition_a_few_times_not_once_per_pair(monkeypatch):
    # Every added block once scanned every other definition: 3,000 blocks took 45 s.
    calls = []
    uses = BlockLibrary.uses
    monkeypatch.setattr(
        BlockLibrary, "uses", lambda self, name: calls.append(name) or uses(self, name)
    )
    text = graph_to_yaml(document(1))
    extra = "".join(
        f"- name: spare_{index}\n  nodes:\n"
        f"  - {{id: n1, type: Input, name: x, params: {{shape: [8]}}}}\n"
        for index in range(300)
    )
    graph = graph_from_yaml(text.replace("blocks:\n", "blocks:\n" + extra), "t.yaml")
    assert len(graph.blocks) == 301
    assert len(calls) < 10 * 301


def test_users_follow_instances_as_they_are_retargeted_and_removed():
    graph = document(1)
    graph.apply(AddBlock("stage", stage_block()))
    graph.apply(AddBlock("other", dense_block()))
    library = graph.blocks
    assert library.users("res") == {"res", "stage"}
    library.get("stage").set_params(library.get("stage").find("block1").id, block="other")
    assert library.users("res") == {"res"} and library.users("other") == {"other", "stage"}
    version = library.version("stage")
    library.get("other").set_params(library.get("other").find("dense_a").id, units=4)
    assert library.version("stage") > version
    graph.apply(RemoveBlock("stage"))
    assert library.users("other") == {"other"}


def doubling_blocks(levels: int) -> NetworkGraph:
    """Block b0 is one Dense; each block after it adds two instances of the one before."""
    graph = NetworkGraph()
    graph.apply(AddBlock("b0", dense_block(2)))
    for level in range(1, levels):
        block = NetworkGraph()
        x = block.add_node("Input", "x", {"shape": (2,)})
        left = block.add_node("Block", "left", {"block": f"b{level - 1}"})
        right = block.add_node("Block", "right", {"block": f"b{level - 1}"})
        add = block.add_node("Add", "add")
        for instance in (left, right):
            block.connect(x.id, instance.id)
        block.connect(left.id, add.id, 0)
        block.connect(right.id, add.id, 1)
        graph.apply(AddBlock(f"b{level}", block))
    entry = graph.add_node("Input", "input_1", {"shape": (2,)})
    top = graph.add_node("Block", "top", {"block": f"b{levels - 1}"})
    graph.connect(entry.id, top.id)
    return graph


@pytest.mark.timeout(60, method="signal")
def test_blocks_that_double_each_other_are_counted_at_once_and_refused_past_the_limit():
    # 22 such blocks make 8 million layers: the count took 2**22 steps, export hung on it,
    # and validation let training try to build them all.
    graph = doubling_blocks(22)
    assert flat_layer_count(graph) == 2**23  # the Input, then 2**21 copies of b0 and Adds
    assert [p.message for p in validate(graph)] == [
        "The graph makes 8,388,608 layers once its blocks are expanded; the limit is "
        "100,000: use fewer block instances, above all inside other blocks"
    ]
    assert validate(doubling_blocks(12)) == []
