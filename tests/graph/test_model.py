"""The graph model: commands and their inverses, events, port rules, Batch atomicity."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.model import (
    AddEdge,
    AddNode,
    Batch,
    Command,
    Edge,
    GraphError,
    GraphEvent,
    MoveNodes,
    NetworkGraph,
    Node,
    RemoveEdge,
    RemoveNode,
    RenameNode,
    SetParams,
    SetSettings,
)
from graph.params import ParamError
from tests.graph.graph_state import snapshot
from tests.graph.strategies import graphs


def two_inputs() -> NetworkGraph:
    """input_1, input_2 -> concatenate_1 -> dense_1."""
    graph = NetworkGraph("Two inputs")
    first = graph.add_node("Input", params={"shape": (4,)})
    second = graph.add_node("Input", params={"shape": (6,)})
    merge = graph.add_node("Concatenate")
    head = graph.add_node("Dense", params={"units": 2})
    graph.connect(first.id, merge.id, 0)
    graph.connect(second.id, merge.id, 1)
    graph.connect(merge.id, head.id)
    return graph


def commands_for(graph: NetworkGraph) -> list[Command]:
    """One of every command, applicable to two_inputs()."""
    spare = graph.new_node("Dense", params={"units": 3}, position=(10, 20))
    return [
        AddNode(spare),
        AddNode(spare, (Edge("n4", spare.id, 0),)),
        RemoveNode("n1"),
        RemoveNode("n3"),
        AddEdge(Edge("n4", "n3", 2)),
        RemoveEdge(Edge("n2", "n3", 1)),
        SetParams("n4", {"units": 7, "activation": "relu"}),
        RenameNode("n4", "head"),
        MoveNodes({"n1": (5.5, -3), "n4": (100, 100)}),
        SetSettings("training", {"epochs": 3, "optimizer": "sgd"}),
        SetSettings("dataset", {"name": "iris"}),
        Batch([RemoveEdge(Edge("n3", "n4", 0)), RemoveNode("n3")], "Cut"),
    ]


@pytest.mark.parametrize("index", range(12))
def test_every_command_changes_the_graph_and_its_inverse_restores_it_exactly(index):
    graph = two_inputs()
    command = commands_for(graph)[index]
    before = snapshot(graph)
    inverse = graph.apply(command)
    after = snapshot(graph)
    assert after != before
    redo = graph.apply(inverse)
    assert snapshot(graph) == before
    graph.apply(redo)
    assert snapshot(graph) == after


def test_undoing_a_deletion_keeps_the_order_of_inputs():
    graph = two_inputs()
    inverse = graph.apply(RemoveNode("n1"))
    assert [n.name for n in graph.input_nodes()] == ["input_2"]
    graph.apply(inverse)
    assert [n.name for n in graph.input_nodes()] == ["input_1", "input_2"]


def test_removing_a_node_with_a_self_loop_is_undoable():
    graph = NetworkGraph()
    node = graph.add_node("Dense")
    graph.connect(node.id, node.id)
    before = snapshot(graph)
    inverse = graph.apply(RemoveNode(node.id))
    assert len(graph) == 0
    graph.apply(inverse)
    assert snapshot(graph) == before


def test_events_name_what_changed():
    graph = two_inputs()
    events: list[GraphEvent] = []
    graph.subscribe(events.append)
    graph.apply(SetParams("n4", {"units": 3}))
    graph.apply(RenameNode("n4", "out"))
    graph.apply(MoveNodes({"n1": (1, 2)}))
    graph.apply(SetSettings("training", {"epochs": 2}))
    graph.apply(RemoveEdge(Edge("n3", "n4", 0)))
    graph.apply(AddEdge(Edge("n3", "n4", 0)))
    graph.apply(RemoveNode("n2"))
    assert events == [
        GraphEvent("params_changed", ("n4",)),
        GraphEvent("node_renamed", ("n4",)),
        GraphEvent("nodes_moved", ("n1",)),
        GraphEvent("settings_changed", section="training"),
        GraphEvent("edge_removed", ("n4",), edge=Edge("n3", "n4", 0)),
        GraphEvent("edge_added", ("n4",), edge=Edge("n3", "n4", 0)),
        GraphEvent("edge_removed", ("n3",), edge=Edge("n2", "n3", 1)),
        GraphEvent("node_removed", ("n2",)),
    ]
    graph.unsubscribe(events.append)
    graph.apply(RenameNode("n4", "again"))
    assert len(events) == 8


def test_adding_a_node_with_edges_emits_the_node_then_its_edges():
    graph = two_inputs()
    events: list[GraphEvent] = []
    graph.subscribe(events.append)
    node = graph.new_node("Dense")
    graph.apply(AddNode(node, (Edge("n4", node.id, 0),)))
    assert [event.kind for event in events] == ["node_added", "edge_added"]


def test_a_port_takes_one_edge():
    graph = two_inputs()
    with pytest.raises(GraphError, match=r"^concatenate_1 \(Concatenate\): input 1 is already "):
        graph.connect("n4", "n3", 1)
    with pytest.raises(GraphError, match=r"^Port must be >= 0\. Received: -1$"):
        graph.connect("n4", "n3", -1)
    with pytest.raises(GraphError, match=r"^No node with id 'n9'$"):
        graph.connect("n9", "n3", 2)
    with pytest.raises(
        GraphError, match=r"^Ports are numbered 0 to 4095\. Received: input 4096, output 0$"
    ):
        graph.connect("n4", "n3", 4096)
    graph.connect("n4", "n3", 2)
    assert [edge.port for edge in graph.in_edges("n3")] == [0, 1, 2]


def test_in_edges_are_ordered_by_port():
    graph = NetworkGraph()
    merge = graph.add_node("Subtract")
    first = graph.add_node("Input")
    second = graph.add_node("Input")
    graph.connect(second.id, merge.id, 1)
    graph.connect(first.id, merge.id, 0)
    assert graph.in_edges(merge.id) == [Edge(first.id, merge.id, 0), Edge(second.id, merge.id, 1)]


def test_invalid_params_are_refused_naming_the_node_and_change_nothing():
    graph = two_inputs()
    before = snapshot(graph)
    with pytest.raises(ParamError, match=r"^dense_1 \(Dense\): units must be >= 1\. Received: 0$"):
        graph.set_params("n4", units=0)
    with pytest.raises(ParamError, match=r"^dense_1 \(Dense\): Dense has no parameter 'size'"):
        graph.set_params("n4", size=3)
    with pytest.raises(ParamError, match=r"^training: epochs must be >= 1\. Received: 0$"):
        graph.apply(SetSettings("training", {"epochs": 0}))
    assert snapshot(graph) == before


def test_batch_is_all_or_nothing():
    graph = two_inputs()
    before = snapshot(graph)
    node = graph.new_node("Dense")
    batch = Batch(
        [
            AddNode(node),
            AddEdge(Edge("n4", node.id, 0)),
            RenameNode("n1", "renamed"),
            AddEdge(Edge("n1", "n3", 0)),  # port 0 is taken: the batch fails here
        ]
    )
    with pytest.raises(GraphError, match="input 0 is already connected"):
        graph.apply(batch)
    assert snapshot(graph) == before


def test_add_node_with_a_bad_edge_adds_nothing():
    graph = two_inputs()
    before = snapshot(graph)
    node = graph.new_node("Dense")
    with pytest.raises(GraphError, match="No node with id 'n42'"):
        graph.apply(AddNode(node, (Edge("n4", node.id, 0), Edge("n42", node.id, 1))))
    assert snapshot(graph) == before


def test_new_nodes_get_keras_style_unique_names_and_fresh_ids():
    graph = two_inputs()
    node = graph.add_node("Dense")
    assert (node.id, node.name, node.label) == ("n5", "dense_2", "dense_2 (Dense)")
    graph.apply(RenameNode("n4", "dense_9"))
    assert graph.add_node("Dense").name == "dense_1"
    assert graph.find("dense_9").id == "n4"
    assert graph.find("missing") is None


def test_copy_is_deep_and_has_no_listeners():
    graph = two_inputs()
    events: list[GraphEvent] = []
    graph.subscribe(events.append)
    other = graph.copy()
    assert snapshot(other) == snapshot(graph)
    other.set_params("n4", units=9)
    other.training["epochs"] = 1
    assert graph.node("n4").params["units"] == 2
    assert graph.training["epochs"] != 1
    assert events == []


def test_inputs_and_outputs():
    graph = two_inputs()
    assert [n.name for n in graph.input_nodes()] == ["input_1", "input_2"]
    assert [n.name for n in graph.output_nodes()] == ["dense_1"]


@st.composite
def edit_sequences(draw: st.DrawFn) -> tuple[NetworkGraph, list[Command]]:
    graph = draw(graphs(max_nodes=6))
    ids = [node.id for node in graph.nodes]
    commands: list[Command] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["add", "remove", "connect", "disconnect", "move", "rename"]))
        if kind == "add":
            commands.append(AddNode(graph.new_node("Dense", name=draw(st.text(max_size=5)))))
        elif kind == "remove" and ids:
            commands.append(RemoveNode(draw(st.sampled_from(ids))))
        elif kind == "connect" and ids:
            source, target = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
            commands.append(AddEdge(Edge(source, target, draw(st.integers(0, 3)))))
        elif kind == "disconnect" and graph.edges:
            commands.append(RemoveEdge(draw(st.sampled_from(graph.edges))))
        elif kind == "move" and ids:
            commands.append(MoveNodes({draw(st.sampled_from(ids)): (1.5, 2.5)}))
        elif kind == "rename" and ids:
            commands.append(RenameNode(draw(st.sampled_from(ids)), draw(st.text(max_size=5))))
    return graph, commands


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit_sequences())
def test_undoing_any_edit_sequence_restores_the_graph(case):
    graph, commands = case
    states = [snapshot(graph)]
    inverses = []
    for command in commands:
        try:
            inverses.append(graph.apply(command))
        except GraphError:
            # A refused edit (occupied port, node already deleted) changes nothing.
            assert snapshot(graph) == states[-1]
            continue
        states.append(snapshot(graph))
    for inverse in reversed(inverses):
        states.pop()
        graph.apply(inverse)
        assert snapshot(graph) == states[-1]


def test_node_copy_does_not_share_params():
    node = Node("n1", "Dense", "dense_1", {"units": 3, "kernel_regularizer": {"l1": 0.1}})
    other = node.copy()
    other.params["kernel_regularizer"]["l1"] = 0.5
    assert node.params["kernel_regularizer"] == {"l1": 0.1}
