"""The block edits, each one undoable command: make a block, expand an instance, make unique.

Each returns a `Batch` of the model's primitive commands (graph/model.py), so
undo and redo come from their inverses and a refused step leaves the graph
as it was. Editing a definition needs no command of its own: the usual
commands applied to the definition's graph change every instance.
"""

from __future__ import annotations

from collections.abc import Iterable

from graph.block_inference import definition_problem, ports_problem
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
    the layer it came from), and the one tensor leaving it is the block's
    output.

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
    exit_node = _exit_of(graph, selected, chosen, leaving)
    if not entering:
        raise GraphError("Make block: nothing feeds the selected layers; a block needs an input")
    sources = list(dict.fromkeys(edge.source for edge in entering))
    definition = _definition(graph, selected, chosen, sources, analysis)
    x = sum(n.position[0] for n in selected) / len(selected)
    y = sum(n.position[1] for n in selected) / len(selected)
    instance = graph.new_node(BLOCK, graph.unique_name(name), {"block": name}, (x, y))
    edges = [Edge(source, instance.id, port) for port, source in enumerate(sources)]
    edges += [Edge(instance.id, e.target, e.port) for e in leaving if e.source == exit_node.id]
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


def _exit_of(
    graph: NetworkGraph, selected: list[Node], chosen: set[str], leaving: list[Edge]
) -> Node:
    """The one selected node whose output leaves the selection (or ends the model)."""
    successors = graph.nx_graph._succ
    ends = [n for n in selected if not successors[n.id]]
    exits = list(dict.fromkeys([e.source for e in leaving] + [n.id for n in ends]))
    if len(exits) != 1:
        names = ", ".join(printable(graph.node(node_id).name) for node_id in exits) or "none"
        raise GraphError(
            "Make block: a block has exactly one output, but the output of "
            f"{len(exits)} selected layers is used outside it ({names})"
        )
    return graph.node(exits[0])


def _definition(
    graph: NetworkGraph,
    selected: list[Node],
    chosen: set[str],
    sources: list[str],
    analysis: ShapeAnalysis | None,
) -> NetworkGraph:
    owned = analysis is None
    analysis = analysis or ShapeAnalysis(graph)
    try:
        shapes = [analysis.info(source).output_shape for source in sources]
    finally:
        if owned:
            analysis.close()
    definition = NetworkGraph()
    left = min(node.position[0] for node in selected) - ENTRY_OFFSET
    entry_ids = {}
    taken = {node.name for node in selected}
    for index, (source, shape) in enumerate(zip(sources, shapes, strict=True)):
        top = graph.node(source)
        entry_name = top.name if top.name not in taken else f"{top.name}_in"
        taken.add(entry_name)
        entry = definition.add_node(
            "Input",
            entry_name,
            {"shape": shape[1:] if shape is not None else (1,)},
            (left, top.position[1] + 60.0 * index),
        )
        entry_ids[source] = entry.id
    for node in selected:
        definition.apply(AddNode(_renumbered(definition, node)))
    ids = {node.id: definition.find(node.name).id for node in selected}
    for node in selected:
        for edge in graph.in_edges(node.id):
            source = ids.get(edge.source) or entry_ids[edge.source]
            definition.apply(AddEdge(Edge(source, ids[node.id], edge.port)))
    return definition


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
    problem = definition_problem(graph.blocks, name) or ports_problem(
        graph.blocks, instance, [edge.port for edge in feeding]
    )
    if problem is not None:
        raise GraphError(f"Expand: {instance.label}: {problem}")
    definition = graph.blocks.get(name)
    entries = definition.input_nodes()
    outer_source = {entry.id: feeding[index].source for index, entry in enumerate(entries)}
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
    (exit_node,) = definition.output_nodes()
    edges = [
        Edge(new_ids.get(e.source) or outer_source[e.source], new_ids[e.target], e.port)
        for e in definition.edges
    ]
    edges += [Edge(new_ids[exit_node.id], e.target, e.port) for e in graph.out_edges(node_id)]
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
