"""Shapes, parameter counts and costs of block instances, seen through their definitions.

An instance's outputs are its definition's exits, inferred for the shapes that
arrive at the instance (the definition's own Input shapes are only examples
for editing it alone). Results are cached per (definition, version, input
shapes) in the library, so a hundred instances of one block fed alike cost
one inference of its inside.
"""

from __future__ import annotations

from dataclasses import replace

from graph.block_library import BlockLibrary
from graph.block_type import BLOCK, BLOCK_TYPE
from graph.catalog import layer_type
from graph.layer_type import LayerType, Shape, ShapeError
from graph.messages import excerpt, printable
from graph.model import NetworkGraph, Node
from graph.shapes import CYCLE_ERROR, NodeInfo, ShapeAnalysis


def definition_problem(library: BlockLibrary, name: object) -> str | None:
    """Why the definition called `name` cannot be used at all, or None.

    Cached per version: every instance asks on every re-inference.
    """
    if not isinstance(name, str) or name not in library:
        known = ", ".join(printable(n) for n in library) or "none"
        return f"no block named {excerpt(name)} in this document (its blocks: {known})"
    key = ("definition", name, library.version(name))
    if key not in library.cache:
        library.cache[key] = _definition_problem(library, name)
    return library.cache[key]


MAX_NESTING = 32
"""How deep blocks may sit inside one another; inference and building recurse per level."""


def _definition_problem(library: BlockLibrary, name: str) -> str | None:
    cycle = library.cycle(name)
    if cycle:
        chain = " -> ".join(printable(n) for n in cycle)
        return f"block {excerpt(name)} contains itself: {chain}"
    nesting = library.nesting(name)
    if len(nesting) > MAX_NESTING:
        names = [printable(n) for n in nesting]
        chain = " -> ".join([*names[:3], "...", names[-1]])
        return (
            f"block {excerpt(name)} has blocks nested {len(nesting)} deep ({chain}); "
            f"the limit is {MAX_NESTING}: expand some of the blocks inside it"
        )
    definition = library.get(name)
    if not definition.input_nodes():
        return f"block {excerpt(name)} has no Input layer for data to enter"
    if not definition.output_nodes():
        return f"block {excerpt(name)} has no output: every layer in it feeds another"
    return None


def port_names(library: BlockLibrary, name: object) -> tuple[str, ...]:
    """The entry ports of block `name`: its Input nodes' names, in graph order."""
    definition = library.get(name) if isinstance(name, str) else None
    if definition is None:
        return ()
    key = ("ports", name, library.version(name))
    if key not in library.cache:
        library.cache[key] = tuple(node.name for node in definition.input_nodes())
    return library.cache[key]


def output_names(library: BlockLibrary, name: object) -> tuple[str, ...]:
    """The exits of block `name`: its output layers' names, in graph order (one port each)."""
    definition = library.get(name) if isinstance(name, str) else None
    if definition is None:
        return ()
    key = ("outputs", name, library.version(name))
    if key not in library.cache:
        library.cache[key] = tuple(node.name for node in definition.output_nodes())
    return library.cache[key]


def output_count(graph: NetworkGraph, node: Node) -> int:
    """How many outputs `node` has: its block's exits for an instance, else one."""
    if node.type != BLOCK:
        return 1
    return max(1, len(output_names(graph.blocks, node.params.get("block"))))


def outputs_problem(library: BlockLibrary, node: Node, used: list[int]) -> str | None:
    """Why connections leaving `node`'s outputs `used` do not match its block's outputs, or None."""
    names = output_names(library, node.params["block"])
    extra = [port for port in used if port >= len(names)]
    if not extra:
        return None
    plural = "output" if len(names) == 1 else "outputs"
    return (
        f"block {excerpt(node.params['block'])} has {len(names)} {plural} "
        f"({', '.join(printable(n) for n in names)}). "
        f"Received: a connection from output {extra[0]}"
    )


def ports_problem(library: BlockLibrary, node: Node, ports: list[int]) -> str | None:
    """Why the connections on `ports` do not match the ports of `node`'s block, or None."""
    names = port_names(library, node.params["block"])
    extra = [port for port in ports if port >= len(names)]
    if extra:
        plural = "input" if len(names) == 1 else "inputs"
        return (
            f"block {excerpt(node.params['block'])} has {len(names)} {plural} "
            f"({', '.join(printable(n) for n in names)}). "
            f"Received: a connection on port {extra[0]}"
        )
    missing = [port for port in range(len(names)) if port not in ports]
    if missing:
        return f"input {printable(names[missing[0]])} (port {missing[0]}) is not connected"
    return None


def inner_message(node: Node, error: str, inside: bool) -> str:
    """An error of a node inside a block, starting with its path: `block1/conv_2 (Conv2D): ...`."""
    return f"{printable(node.name)}/{error}" if inside else f"{node.label}: {error}"


def infer_instance(
    library: BlockLibrary, node: Node, input_shapes: tuple[Shape | None, ...]
) -> NodeInfo:
    """What inference knows about block instance `node`, fed `input_shapes` in port order."""
    name = node.params.get("block")
    problem = definition_problem(library, name)
    if problem is not None:
        return NodeInfo(None, error=problem, input_shapes=input_shapes)
    if len(input_shapes) != len(port_names(library, name)) or None in input_shapes:
        return NodeInfo(None, input_shapes=input_shapes)  # validation names the port
    key = ("shapes", name, library.version(name), input_shapes)
    info = library.cache.get(key)
    if info is None:
        info = library.cache[key] = _infer_inside(library, name, input_shapes)
    return info


def entry_shapes(definition: NetworkGraph, input_shapes: tuple[Shape, ...]) -> dict[str, Shape]:
    """The shapes arriving at an instance, by the id of the definition's Input they replace."""
    entries = definition.input_nodes()
    return dict(zip((entry.id for entry in entries), input_shapes, strict=True))


# Live inferences kept per document: one per definition and distinct input shapes in use.
MAX_LIVE = 256


class LiveInside:
    """A definition's incremental inference (and validation, once asked) for some input shapes.

    Kept in the library while the definition lives, so an edit inside it
    re-infers only what the edit reaches, as in any graph.
    """

    def __init__(self, definition: NetworkGraph, input_shapes: tuple[Shape, ...]) -> None:
        self.definition = definition
        self.analysis = ShapeAnalysis(definition, entry_shapes(definition, input_shapes))
        self.validation = None  # a LiveValidation, made by graph.validation when needed

    def close(self) -> None:
        if self.validation is not None:
            self.validation.close()
        self.analysis.close()


def live_inside(library: BlockLibrary, name: str, input_shapes: tuple[Shape, ...]) -> LiveInside:
    """The live inference of block `name` fed `input_shapes`, made on first use."""
    definition = library.get(name)
    entries = tuple(entry.id for entry in definition.input_nodes())
    key = ("inside", name, entries, input_shapes)
    live = library.live.get(key)
    if live is None:
        if len(library.live) >= MAX_LIVE:
            library.live.pop(next(iter(library.live))).close()
        live = library.live[key] = LiveInside(definition, input_shapes)
    return live


def _infer_inside(library: BlockLibrary, name: str, input_shapes: tuple[Shape, ...]) -> NodeInfo:
    definition = library.get(name)
    infos = live_inside(library, name, input_shapes).analysis.all()
    error = None
    for inner in definition.nodes:
        info = infos[inner.id]
        if info.error and info.error != CYCLE_ERROR:
            error = inner_message(inner, info.error, info.inside)
            break
    shapes = tuple(infos[exit_node.id].output_shape for exit_node in definition.output_nodes())
    if None in shapes or error is not None:
        return NodeInfo(None, error=error, input_shapes=input_shapes, inside=error is not None)
    macs = [info.macs for info in infos.values()]
    return NodeInfo(
        shapes[0],
        sum(info.param_count for info in infos.values()),
        input_shapes=input_shapes,
        macs=None if None in macs else sum(macs),
        outputs=shapes if len(shapes) > 1 else (),
    )


MAX_FLAT_LAYERS = 100_000
"""The most layers a graph may make once its blocks are flattened (Keras builds each one)."""


def flat_layer_count(graph: NetworkGraph, _counts: dict[str, int] | None = None) -> int:
    """The layers a graph makes with every block flattened (each instance's inside counted).

    Each definition is counted once: blocks of two instances of the block before them
    make 2**n layers, counted in n steps. A block inside itself counts as one layer.
    """
    counts: dict[str, int] = {} if _counts is None else _counts
    count = 0
    for node in graph.nodes:
        name = node.params["block"] if node.type == "Block" else None
        definition = graph.blocks.get(name) if isinstance(name, str) else None
        if definition is None:
            count += 1
            continue
        if name not in counts:
            counts[name] = 1 + len(definition.input_nodes())  # while it is being counted
            inner = flat_layer_count(definition, counts)
            counts[name] = inner
        count += counts[name] - len(definition.input_nodes())
    return count


def node_type(graph: NetworkGraph, node: Node) -> LayerType:
    """The declaration of `node`: its catalog entry, or for an instance its block's ports.

    An instance's declaration names its ports after the definition's Inputs
    and takes exactly that many; its shape rule infers through the definition.

    Raises:
        KeyError: for a type neither the catalog nor blocks know.
    """
    if node.type != BLOCK:
        return layer_type(node.type)
    library = graph.blocks
    names = port_names(library, node.params.get("block"))
    count = len(names) or 1

    def through_definition(params, inputs: list[Shape]) -> Shape:
        instance = Node(node.id, BLOCK, node.name, dict(params))
        info = infer_instance(library, instance, tuple(inputs))
        if info.output_shape is None:
            raise ShapeError(info.error or "the block cannot take these inputs")
        return info.output_shape

    return replace(
        BLOCK_TYPE,
        input_names=names,
        min_inputs=count,
        max_inputs=count,
        shape_rule=through_definition,
    )
