"""Where a canvas is inside a document's blocks: a path of instances from the document inwards.

Opening an instance shows its definition; the shapes shown inside are those
arriving at the instance opened through (each level's instance fed by the
level above), so the inside reads as it computes in that place.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.block_inference import entry_shapes, live_inside, port_names
from graph.block_type import BLOCK
from graph.layer_type import Shape
from graph.model import NetworkGraph
from graph.shapes import ShapeAnalysis


@dataclass(frozen=True)
class BlockLevel:
    """One opened instance: its node id in the level above, its name and its block's name."""

    instance_id: str
    instance: str
    block: str


def valid_depth(document: NetworkGraph, levels: list[BlockLevel]) -> int:
    """How many of `levels` still lead somewhere: each instance there, naming its block."""
    graph = document
    for depth, level in enumerate(levels):
        if level.instance_id not in graph:
            return depth
        node = graph.node(level.instance_id)
        if node.type != BLOCK or node.params.get("block") != level.block:
            return depth
        definition = graph.blocks.get(level.block)
        if definition is None:
            return depth
        graph = definition
    return len(levels)


def level_graph(document: NetworkGraph, levels: list[BlockLevel]) -> NetworkGraph:
    """The graph the innermost of `levels` shows (the document when there are none)."""
    return document.blocks.get(levels[-1].block) if levels else document


def arriving_shapes(
    document: NetworkGraph, analysis: ShapeAnalysis, levels: list[BlockLevel]
) -> tuple[Shape, ...] | None:
    """The shapes arriving at the innermost instance of `levels`, or None where unknown.

    Args:
        document: The document graph.
        analysis: The document's live shape analysis.
        levels: A valid path (see `valid_depth`), at least one level.
    """
    library = document.blocks
    shapes: tuple[Shape, ...] | None = None
    for depth, level in enumerate(levels):
        if depth == 0:
            shapes = analysis.info(level.instance_id).input_shapes
        else:
            above = levels[depth - 1].block
            if not _fits(library, above, shapes):
                return None
            inner = live_inside(library, above, shapes).analysis
            shapes = inner.info(level.instance_id).input_shapes
    return shapes if _fits(library, levels[-1].block, shapes) else None


def view_analysis(
    document: NetworkGraph, levels: list[BlockLevel], shapes: tuple[Shape, ...] | None
) -> ShapeAnalysis:
    """A new live analysis of the innermost definition, its Inputs fed `shapes` when known."""
    definition = level_graph(document, levels)
    return ShapeAnalysis(definition, entry_shapes(definition, shapes) if shapes else None)


def _fits(library, block: str, shapes: tuple | None) -> bool:
    return bool(shapes) and None not in shapes and len(shapes) == len(port_names(library, block))
