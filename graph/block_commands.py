"""The block edits, each one undoable command: make a block, expand an instance, make unique.

Each returns a `Batch` of the model's primitive commands (graph/model.py), so
undo and redo come from their inverses and a refused step leaves the graph
as it was. Editing a definition needs no command of its own: the usual
commands applied to the definition's graph change every instance.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from graph.block_inference import definition_problem, output_count, outputs_problem, ports_problem
from graph.block_type import BLOCK
from graph.messages import excerpt, printable
from graph.model import (
    AddBlock,
    AddEdge,
    AddNode,
    Batch,
    Command,
    Edge,
    GraphError,
    NetworkGraph,
    Node,
    RemoveNode,
    SetParams,
)
from graph.names import name_error
from graph.shapes import ShapeAnalysis

# How far left of the selection a new block's Input ports are placed.
ENTRY_OFFSET = 260.0


def make_block(
    graph: NetworkGraph,
    node_ids: Iterable[str],
    name: str,
    analysis: ShapeAnalysis | None = None,
) -> Command:
    """The command that moves the selected nodes into a new block `name`.

    They are replaced by one instance node, wired as they were: each distinct
    tensor entering the selection becomes an entry port (an Input named after
    the layer it came from), and each selected layer whose output leaves the
    selection becomes one of the block's outputs (through an Identity when
    its output is also used inside).

    Args:
        graph: The graph holding the nodes.
        node_ids: The nodes to collapse.
        name: The new block's name (a layer-name-like word, not yet used).
        analysis: A live ShapeAnalysis of `graph`: the entry Inputs take the
            shapes arriving now (made if None).

    Raises:
        GraphError: naming why these nodes cannot become a block.
    """
    selected = [graph.node(node_id) for node_id in dict.fromkeys(node_ids)]
    chosen = {node.id for node in selected}
    _check_block_name(graph, name)
    if not selected:
        raise GraphError("Make block: select the layers to put in the block")
    inputs = [node.name for node in selected if node.type == "Input"]
    if inputs:
        raise GraphError(
            f"Make block: {printable(inputs[0])} is an Input layer; a block's inputs come "
            "from the layers feeding it, so leave Inputs out of the selection"
        )
    entering = [e for n in selected for e in graph.in_edges(n.id) if e.source not in chosen]
    leaving = [e for n in selected for e in graph.out_edges(n.id) if e.target not in chosen]
    exit_ids = _check_exits(graph, selected, chosen, leaving)
    if not entering:
        raise GraphError("Make block: nothing feeds the selected layers; a block needs an input")
    sources = list(dict.fromkeys((edge.source, edge.source_port) for edge in entering))
    definition, inner_exits = _definition(graph, selected, sources, exit_ids, analysis)
    ports = {node.id: port for port, node in enumerate(definition.output_nodes())}
    x = sum(n.position[0] for n in selected) / len(selected)
    y = sum(n.position[1] for n in selected) / len(selected)
    instance = graph.new_node(BLOCK, graph.unique_name(name), {"block": name}, (x, y))
    edges = [Edge(source, instance.id, port, out) for port, (source, out) in enumerate(sources)]
    edges += [Edge(instance.id, e.target, e.port, ports[inner_exits[e.source]]) for e in leaving]
    commands: list[Command] = [AddBlock(name, definition)]
    commands += [RemoveNode(node.id) for node in selected]
    commands.append(AddNode(instance, tuple(edges)))
    return Batch(commands, f"Make block {name}")


def _check_block_name(graph: NetworkGraph, name: str) -> None:
    error = name_error(name)
    if error is not None:
        raise GraphError(f"Block {excerpt(name)}: {error.replace('layer', 'block')}")
    if name in graph.blocks:
        raise GraphError(f"A block named {excerpt(name)} already exists")


def _check_exits(
    graph: NetworkGraph, selected: list[Node], chosen: set[str], leaving: list[Edge]
) -> None:
    """Refuses a selection whose outputs a block could not keep as they are.

    Each selected layer whose output leaves the selection (or ends the model)
    becomes an output of the block; a layer ending the model must be the
    block's only output (the instance then ends the model as it did).

    Returns:
        The ids of those layers.
    """
    successors = graph.nx_graph._succ
    ends = [n.id for n in selected if not successors[n.id]]
    exits = list(dict.fromkeys([e.source for e in leaving] + ends))
    for node_id in exits:
        node = graph.node(node_id)
        if output_count(graph, node) > 1:
            raise GraphError(
                f"Make block: {node.label} has several outputs used outside the selection; "
                "a block's outputs are single layers, so leave it out of the selection"
            )
    outside = {e.target for e in leaving}
    for target in list(outside):
        outside |= nx.descendants(graph.nx_graph, target)
    back = [graph.node(t).name for t in outside if set(graph.nx_graph._succ[t]) & chosen]
    if back:
        raise GraphError(
            f"Make block: {printable(back[0])} takes an output of the selection and feeds "
            "back into it, so the block would be wired in a cycle; add it to the selection"
        )
    if ends and len(exits) > 1:
        names = ", ".join(printable(graph.node(node_id).name) for node_id in exits)
        raise GraphError(
            f"Make block: {printable(graph.node(ends[0]).name)} ends the model, so it must be "
            f"the block's only output, but the output of {len(exits)} selected layers is "
            f"used outside it ({names})"
        )
    return exits


def _definition(
    graph: NetworkGraph,
    selected: list[Node],
    sources: list[tuple[str, int]],
    exit_ids: list[str],
    analysis: ShapeAnalysis | None,
) -> tuple[NetworkGraph, dict[str, str]]:
    """The new block's graph, and the inner node giving each exit's output, by exit id.

    An exit whose output is also used inside gets an Identity after it: a
    block's outputs are the layers nothing inside consumes.
    """
    owned = analysis is None
    analysis = analysis or ShapeAnalysis(graph)
    try:
        shapes = [analysis.info(source).shape_at(out) for source, out in sources]
    finally:
        if owned:
            analysis.close()
    definition = NetworkGraph()
    left = min(node.position[0] for node in selected) - ENTRY_OFFSET
    entry_ids = {}
    taken = {node.name for node in selected}
    for index, ((source, out), shape) in enumerate(zip(sources, shapes, strict=True)):
        top = graph.node(source)
        wanted = top.name if not out else f"{top.name}_{out}"
        entry_name = wanted if wanted not in taken else f"{wanted}_in"
        taken.add(entry_name)
        entry = definition.add_node(
            "Input",
            entry_name,
            {"shape": shape[1:] if shape is not None else (1,)},
            (left, top.position[1] + 60.0 * index),
        )
        entry_ids[source, out] = entry.id
    for node in selected:
        definition.apply(AddNode(_renumbered(definition, node)))
    ids = {node.id: definition.find(node.name).id for node in selected}
    for node in selected:
        for edge in graph.in_edges(node.id):
            if edge.source in ids:
                inner = Edge(ids[edge.source], ids[node.id], edge.port, edge.source_port)
            else:
                inner = Edge(entry_ids[edge.source, edge.source_port], ids[node.id], edge.port)
            definition.apply(AddEdge(inner))
    inner_exits = {}
    for exit_id in exit_ids:
        inner_exits[exit_id] = ids[exit_id]
        if definition.nx_graph._succ[ids[exit_id]]:
            node = graph.node(exit_id)
            wanted = f"{node.name}_out"
            out = definition.add_node(
                "Identity",
                wanted if definition.find(wanted) is None else definition.unique_name(wanted),
                position=(node.position[0] + 240.0, node.position[1]),
            )
            definition.connect(ids[exit_id], out.id)
            inner_exits[exit_id] = out.id
    return definition, inner_exits


def _renumbered(definition: NetworkGraph, node: Node) -> Node:
    copied = node.copy()
    copied.id = definition.new_id()
    return copied


def expand_block(graph: NetworkGraph, node_id: str) -> Command:
    """The command that replaces block instance `node_id` by the layers inside it.

    The inner layers are named `instance.layer` (as the builder names them when
    it flattens blocks), so the expanded graph builds the same Keras model.

    Raises:
        GraphError: the node is no usable block instance.
    """
    instance = graph.node(node_id)
    if instance.type != BLOCK:
        raise GraphError(f"Expand: {instance.label} is not a block")
    name = instance.params["block"]
    feeding = graph.in_edges(node_id)
    problem = (
        definition_problem(graph.blocks, name)
        or ports_problem(graph.blocks, instance, [edge.port for edge in feeding])
        or outputs_problem(
            graph.blocks, instance, [edge.source_port for edge in graph.out_edges(node_id)]
        )
    )
    if problem is not None:
        raise GraphError(f"Expand: {instance.label}: {problem}")
    definition = graph.blocks.get(name)
    entries = definition.input_nodes()
    outer_source = {entry.id: feeding[index] for index, entry in enumerate(entries)}
    inner = [node for node in definition.nodes if node.type != "Input"]
    cx = sum(n.position[0] for n in inner) / len(inner)
    cy = sum(n.position[1] for n in inner) / len(inner)
    new_ids: dict[str, str] = {}
    taken: set[str] = set()
    added: list[Command] = []
    for node in inner:
        copied = node.copy()
        copied.id = graph.new_id()
        wanted = f"{instance.name}.{node.name}"
        clash = wanted in taken or graph.find(wanted) is not None
        copied.name = graph.unique_name(wanted, taken) if clash else wanted
        taken.add(copied.name)
        copied.position = (
            instance.position[0] + node.position[0] - cx,
            instance.position[1] + node.position[1] - cy,
        )
        new_ids[node.id] = copied.id
        added.append(AddNode(copied))
    exits = [new_ids[node.id] for node in definition.output_nodes()]
    edges = [
        Edge(new_ids[e.source], new_ids[e.target], e.port, e.source_port)
        if e.source in new_ids
        else Edge(
            outer_source[e.source].source,
            new_ids[e.target],
            e.port,
            outer_source[e.source].source_port,
        )
        for e in definition.edges
    ]
    edges += [Edge(exits[e.source_port], e.target, e.port) for e in graph.out_edges(node_id)]
    commands: list[Command] = [RemoveNode(node_id), *added, *(AddEdge(e) for e in edges)]
    return Batch(commands, f"Expand {instance.name}")


def make_unique(graph: NetworkGraph, node_id: str, name: str | None = None) -> Command:
    """The command that gives instance `node_id` its own copy of its definition.

    Later edits of the copy change this instance only.

    Args:
        graph: The graph holding the instance.
        node_id: The instance.
        name: The copy's name; `<block>_2` (the first free number) if None.
    """
    instance = graph.node(node_id)
    if instance.type != BLOCK:
        raise GraphError(f"Make unique: {instance.label} is not a block")
    old = instance.params["block"]
    definition = graph.blocks.get(old)
    if definition is None:
        raise GraphError(f"Make unique: {instance.label}: {definition_problem(graph.blocks, old)}")
    name = name or graph.blocks.unused_name(old)
    _check_block_name(graph, name)
    return Batch(
        [AddBlock(name, definition.copy(blocks=False)), SetParams(node_id, {"block": name})],
        f"Make {instance.name} unique",
    )
