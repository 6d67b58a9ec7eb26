"""Finds runs of identical consecutive subgraphs and folds them into block instances.

An imported ResNet is a flat sheet of layers in which the same identity
block appears several times in a row. The graph is cut where exactly one
tensor crosses from the layers before to the layers after (a *cut*); the
pieces between cuts each take one tensor and give one. Pieces with the same
layer types, params (names aside) and internal wiring get the same id, and a
run of two or more repeats of the same sequence of ids is a repeat: each
repeat becomes an instance of one block definition, runs of the same sequence
sharing it. Pure Python: linear in the graph apart from the run search.
"""

from __future__ import annotations

import bisect
import copy
import os
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from graph.block_type import BLOCK
from graph.formatting import plural
from graph.layout import layered_layout
from graph.model import AddBlock, AddEdge, AddNode, Edge, MoveNodes, NetworkGraph, Node
from graph.names import name_error
from graph.shapes import ShapeAnalysis

# A block of one layer is that layer: repeats must hold at least this many.
MIN_LAYERS = 2
SEPARATORS = "_.-"


@dataclass(frozen=True)
class Repeat:
    """Consecutive identical subgraphs: each instance's node ids, in graph order.

    Attributes:
        kind: Index of the block definition; repeats of the same subgraph share it.
        instances: Node ids of each repeat, in chain order (each feeds the next).
    """

    kind: int
    instances: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Folded:
    """A folded graph and, for weight copying, where each flattened layer came from.

    Attributes:
        graph: The graph with block instances in place of the repeats.
        layer_names: Name of each layer as the builder flattens it
            (`instance.layer`, or the node name outside blocks) -> the name
            of the layer it replaces in the unfolded graph.
    """

    graph: NetworkGraph
    layer_names: dict[str, str]


def find_repeats(graph: NetworkGraph) -> list[Repeat]:
    """The runs of two or more identical consecutive single-entry, single-exit subgraphs."""
    order = _topological(graph)
    if not order:
        return []
    pieces = _pieces(graph, order)
    ids, sizes = _piece_ids(graph, order, pieces)
    kinds: dict[tuple[int, ...], int] = {}
    repeats = []
    for start, period, count in _runs(ids, sizes):
        unit = tuple(ids[start : start + period])
        kind = kinds.setdefault(unit, len(kinds))
        instances = []
        for number in range(count):
            first = pieces[start + number * period][0]
            last = pieces[start + (number + 1) * period - 1][1]
            instances.append(tuple(node.id for node in order[first : last + 1]))
        repeats.append(Repeat(kind, tuple(instances)))
    return repeats


def describe(name: str, repeats: list[Repeat]) -> str:
    """What was found, as the import prompt and the command say it."""
    if not repeats:
        return f"{name}: no repeated blocks found"
    blocks = sum(len(repeat.instances) for repeat in repeats)
    kinds = len({repeat.kind for repeat in repeats})
    return f"{name}: {plural(blocks, 'repeated block')} of {plural(kinds, 'kind')} found"


def _topological(graph: NetworkGraph) -> list[Node]:
    """Graph order when it is topological (imports are), else a topological order."""
    nodes = graph.nodes
    position = {node.id: index for index, node in enumerate(nodes)}
    successors = graph.nx_graph._succ
    if all(position[t] > position[s] for s in position for t in successors[s]):
        return nodes
    try:
        ordered = nx.lexicographical_topological_sort(graph.nx_graph, key=position.__getitem__)
        return [graph.node(node_id) for node_id in ordered]
    except nx.NetworkXUnfeasible:
        return []  # a cycle: validation reports it, there is nothing to fold


def _pieces(graph: NetworkGraph, order: list[Node]) -> list[tuple[int, int]]:
    """(first, last) positions in `order` of the pieces between cuts, the tail included."""
    position = {node.id: index for index, node in enumerate(order)}
    successors = graph.nx_graph._succ
    last_use = [max((position[t] for t in successors[n.id]), default=-1) for n in order]
    closing = [0] * len(order)
    for index, last in enumerate(last_use):
        if last > index:
            closing[last] += 1
    pieces, first, still_open = [], 0, 0
    for index, last in enumerate(last_use):
        still_open -= closing[index]
        if last > index:
            still_open += 1
            if still_open == 1:
                pieces.append((first, index))
                first = index + 1
    if first < len(order):
        pieces.append((first, len(order) - 1))
    return pieces


def _piece_ids(
    graph: NetworkGraph, order: list[Node], pieces: list[tuple[int, int]]
) -> tuple[list[int], list[int]]:
    """An id per piece, equal for identical pieces (unique for unfoldable ones); sizes."""
    position = {node.id: index for index, node in enumerate(order)}
    predecessors = graph.nx_graph._pred
    successors = graph.nx_graph._succ
    known: dict[tuple, int] = {}
    ids, sizes = [], []
    for number, (first, last) in enumerate(pieces):
        signature = _signature(order, first, last, position, predecessors, successors)
        if signature is None:
            ids.append(-1 - number)
        else:
            ids.append(known.setdefault(signature, len(known)))
        sizes.append(last - first + 1)
    return ids, sizes


def _signature(order, first, last, position, predecessors, successors) -> tuple | None:
    """Types, params and wiring of order[first..last] fed by order[first - 1]; None if
    the piece cannot be a block (it holds an Input, has no entry or a second exit)."""
    if first == 0:
        return None
    parts = []
    for index in range(first, last + 1):
        node = order[index]
        if node.type == "Input" or (index < last and not successors[node.id]):
            return None
        inputs = []
        for source, edges in predecessors[node.id].items():
            local = position[source] - first
            if local < -1:
                return None
            inputs += [(port, local) for port in edges]
        parts.append((node.type, repr(sorted(node.params.items())), tuple(sorted(inputs))))
    return tuple(parts)


def _runs(ids: list[int], sizes: list[int]) -> list[tuple[int, int, int]]:
    """(start, period, count) of each run of `count` >= 2 repeats, left to right.

    At each piece the shortest repeating unit is taken (ResNet's identity block,
    not two of them), then moved right as far as it repeats as often, so a unit
    ends where the repeated structure ends (at the block's output activation).
    """
    where = defaultdict(list)
    for index, piece in enumerate(ids):
        where[piece].append(index)
    runs, start = [], 0
    while start < len(ids):
        found = _shortest_repeat(ids, start, where[ids[start]])
        if found is None or sum(sizes[start : start + found[0]]) < MIN_LAYERS:
            start += 1
            continue
        period, count = found
        while start + count * period < len(ids) and ids[start + count * period] == ids[start]:
            start += 1
        runs.append((start, period, count))
        start += count * period
    return runs


def _shortest_repeat(ids: list[int], start: int, same: list[int]) -> tuple[int, int] | None:
    """(period, count) of the shortest unit at `start` that repeats at least twice."""
    if ids[start] < 0:
        return None
    for later in same[bisect.bisect_right(same, start) :]:
        period = later - start
        if start + 2 * period > len(ids):
            return None
        unit = ids[start:later]
        if ids[later : later + period] == unit:
            count = 2
            while ids[start + count * period : start + (count + 1) * period] == unit:
                count += 1
            return period, count
    return None


# Folding --------------------------------------------------------------------------


def fold_repeats(graph: NetworkGraph, repeats: list[Repeat]) -> Folded:
    """A copy of `graph` with each repeat replaced by an instance of its kind's block.

    Instances are named after what their layers' names share (`conv2_block2`
    for `conv2_block2_1_conv`, ..., `conv2_block2_out`), definitions after
    what their instances' names share (`conv2_block`), inner layers by what
    is left (`1_conv`); where names share nothing, `block` and `block_1`,
    `block_2`, ... The folded graph builds the same model (each instance is
    its own layers); it and the definitions are laid out.

    Args:
        graph: The graph `repeats` were found in (unchanged).
        repeats: From `find_repeats(graph)`.
    """
    bases = {
        members: _shared_prefix([graph.node(m).name for m in members]).rstrip(SEPARATORS)
        for repeat in repeats
        for members in repeat.instances
    }
    kinds = _kind_names(graph, repeats, bases)
    definitions = _definitions(graph, repeats)
    folded = NetworkGraph(graph.name, graph.description)
    folded.settings = copy.deepcopy(graph.settings)
    folded.blocks = graph.blocks.copy()
    for kind, (definition, _) in definitions.items():
        folded.apply(AddBlock(kinds[kind], definition))
    taken = {node.name for node in graph.nodes}
    numbered: dict[int, int] = defaultdict(int)
    exits: dict[str, Node] = {}  # exit node id -> the instance node replacing its repeat
    instance_of: dict[str, str] = {}  # member node id -> the instance's node id
    layer_names: dict[str, str] = {}
    for repeat in repeats:
        for members in repeat.instances:
            numbered[repeat.kind] += 1
            name = _instance_name(bases[members], kinds[repeat.kind], numbered[repeat.kind], taken)
            taken.add(name)
            exits[members[-1]] = Node(members[-1], BLOCK, name, {"block": kinds[repeat.kind]})
            for member, inner in zip(members, definitions[repeat.kind][1], strict=True):
                instance_of[member] = members[-1]
                layer_names[f"{name}.{inner}"] = graph.node(member).name
    for node in graph.nodes:
        if node.id not in instance_of:
            folded.apply(AddNode(node.copy()))
            layer_names[node.name] = node.name
        elif node.id in exits:
            folded.apply(AddNode(exits[node.id]))
    for edge in graph.edges:
        source = instance_of.get(edge.source, edge.source)
        target = instance_of.get(edge.target, edge.target)
        port = 0 if edge.target in instance_of else edge.port
        if source != target and not folded.nx_graph.has_edge(source, target, key=port):
            folded.apply(AddEdge(Edge(source, target, port)))
    for laid_out in (folded, *(definition for definition, _ in definitions.values())):
        laid_out.apply(MoveNodes(layered_layout(laid_out)))
    return Folded(folded, layer_names)


def _kind_names(
    graph: NetworkGraph, repeats: list[Repeat], bases: dict[tuple[str, ...], str]
) -> dict[int, str]:
    """Each kind's block name: what its instances' names share, else `block`; unused."""
    names: dict[int, str] = {}
    for kind in dict.fromkeys(repeat.kind for repeat in repeats):
        instance_bases = [
            bases[members]
            for repeat in repeats
            if repeat.kind == kind
            for members in repeat.instances
        ]
        name = os.path.commonprefix(instance_bases).rstrip(SEPARATORS)
        if not all(instance_bases) or not name or name_error(name) is not None:
            name = "block"
        names[kind] = _free(name, set(graph.blocks) | set(names.values()))
    return names


def _definitions(
    graph: NetworkGraph, repeats: list[Repeat]
) -> dict[int, tuple[NetworkGraph, list[str]]]:
    """Each kind's definition, made from its first repeat, and its inner layer names."""
    firsts = {}
    for repeat in repeats:
        firsts.setdefault(repeat.kind, repeat.instances[0])
    analysis = ShapeAnalysis(graph)
    try:
        return {kind: _definition(graph, members, analysis) for kind, members in firsts.items()}
    finally:
        analysis.close()


def _definition(
    graph: NetworkGraph, members: tuple[str, ...], analysis: ShapeAnalysis
) -> tuple[NetworkGraph, list[str]]:
    """The definition made from one repeat, and its inner layer names in member order.

    Its Input takes the shape arriving at this repeat (instances take their own).
    """
    nodes = [graph.node(member) for member in members]
    prefix = _shared_prefix([node.name for node in nodes])
    inner_names = [node.name[len(prefix) :].lstrip(SEPARATORS) for node in nodes]
    if prefix == "" or any(name_error(name) for name in inner_names):
        inner_names = [node.name for node in nodes]
    inside = set(members)
    entry = next(e.source for m in members for e in graph.in_edges(m) if e.source not in inside)
    shape = analysis.info(entry).output_shape
    definition = NetworkGraph()
    port = definition.add_node(
        "Input",
        _free("input", set(inner_names)),
        {"shape": tuple(shape[1:]) if shape is not None else (1,)},
    )
    ids = {}
    for node, name in zip(nodes, inner_names, strict=True):
        copied = node.copy()
        copied.id, copied.name = definition.new_id(), name
        ids[node.id] = copied.id
        definition.apply(AddNode(copied))
    for node in nodes:
        for edge in graph.in_edges(node.id):
            source = ids.get(edge.source, port.id)
            definition.apply(AddEdge(Edge(source, ids[node.id], edge.port)))
    return definition, inner_names


def _instance_name(base: str, kind: str, number: int, taken: set[str]) -> str:
    """`base` (what its layers' names share) if usable, else `kind_N`, N its number."""
    if base and name_error(base) is None and base not in taken:
        return base
    while f"{kind}_{number}" in taken:
        number += 1
    return f"{kind}_{number}"


def _shared_prefix(names: list[str]) -> str:
    """The common start of `names`, up to and including its last separator."""
    common = os.path.commonprefix(names)
    cut = max(common.rfind(separator) for separator in SEPARATORS)
    return common[: cut + 1]


def _free(name: str, taken: set[str]) -> str:
    """`name`, else `name_N` with the smallest N not taken."""
    if name not in taken:
        return name
    number = 1
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"
