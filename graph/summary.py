"""A Keras-style summary of a graph: one row per layer, then parameter totals.

:func:`summary_rows` and :func:`summary_totals` give the data (the GUI's
summary view shows them in a table); :func:`summary_table` formats them as
text the way Keras's `model.summary()` does, for the command line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph.block_inference import output_names
from graph.block_type import BLOCK
from graph.cost import format_bytes, graph_cost, node_cost, training_memory
from graph.layer_type import Shape
from graph.layers._common import fmt
from graph.messages import printable
from graph.model import Edge, NetworkGraph, Node
from graph.shapes import NodeInfo, ShapeAnalysis
from graph.validation import validate

UNKNOWN = "?"
COLUMNS = (
    "Layer",
    "Type",
    "Output Shape",
    "Param #",
    "MACs",
    "Weights",
    "Act./sample",
    "Connected to",
)
# Columns of numbers, right-aligned as Keras prints Param #.
NUMERIC_COLUMNS = (3, 4, 5, 6)


@dataclass(frozen=True)
class SummaryRow:
    """One layer of the summary.

    Attributes:
        node_id: The node's id.
        name: The layer name, e.g. "dense_1".
        type: The layer type, e.g. "Dense".
        output_shape: The shape as Keras prints it, or "?" when unknown.
        param_count: Weights in the layer, or None when its shape is unknown.
        connected_to: Names of the layers feeding it, in input-port order.
        macs: Multiply-accumulates per sample, or None when unknown.
        weight_bytes: Bytes of its weights in float32, or None when unknown.
        activation_bytes: Bytes of its output per sample (float32), or None when unknown.
    """

    node_id: str
    name: str
    type: str
    output_shape: str
    param_count: int | None
    connected_to: tuple[str, ...]
    macs: int | None = None
    weight_bytes: int | None = None
    activation_bytes: int | None = None


@dataclass(frozen=True)
class ParamTotals:
    """Parameter counts of the whole graph, as Keras reports them.

    Attributes:
        total: Every weight of every layer whose shape is known.
        trainable: Weights that training updates.
        non_trainable: Weights it does not (BatchNormalization's moving statistics).
    """

    total: int
    trainable: int
    non_trainable: int


def summary_rows(graph: NetworkGraph, analysis: ShapeAnalysis | None = None) -> list[SummaryRow]:
    """The summary's rows, one per node, in topological order.

    Args:
        graph: The graph to summarise.
        analysis: A live ShapeAnalysis of `graph` to reuse; one is made if None.
    """
    infos = _infos(graph, analysis)
    rows = []
    for node in topological_nodes(graph):
        info = infos[node.id]
        known = info.output_shape is not None
        cost = node_cost(info)
        rows.append(
            SummaryRow(
                node_id=node.id,
                name=node.name,
                type=node.type,
                output_shape=", ".join(fmt(s) for s in info.outputs)
                if info.outputs
                else fmt(info.output_shape)
                if known
                else UNKNOWN,
                param_count=info.param_count if known else None,
                connected_to=tuple(_source_name(graph, e) for e in graph.in_edges(node.id)),
                macs=cost.macs if cost else None,
                weight_bytes=cost.weight_bytes() if cost else None,
                activation_bytes=cost.activation_bytes if cost else None,
            )
        )
    return rows


def _source_name(graph: NetworkGraph, edge: Edge) -> str:
    """The layer an edge comes from; for a block with several outputs, `block1.right`."""
    source = graph.node(edge.source)
    names = output_names(graph.blocks, source.params.get("block")) if source.type == BLOCK else ()
    return f"{source.name}.{names[edge.source_port]}" if len(names) > 1 else source.name


def summary_totals(graph: NetworkGraph, analysis: ShapeAnalysis | None = None) -> ParamTotals:
    """Total, trainable and non-trainable parameters of `graph`."""
    infos = _infos(graph, analysis)
    total = non_trainable = 0
    for node in graph.nodes:
        info = infos[node.id]
        if info.output_shape is None:
            continue
        total += info.param_count
        non_trainable += non_trainable_count(node, info)
    return ParamTotals(total, total - non_trainable, non_trainable)


def non_trainable_count(node: Node, info: NodeInfo) -> int:
    """Weights of `node` that training leaves alone.

    BatchNormalization keeps a moving mean and variance per feature; Keras
    counts them as non-trainable.
    """
    if node.type != "BatchNormalization" or not info.input_shapes:
        return 0
    features = _axis_size(node.params, info.input_shapes[0])
    return 2 * features if features is not None else 0


def _axis_size(params: Mapping[str, Any], shape: Shape | None) -> int | None:
    if shape is None:
        return None
    axis = params.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        axis = axis[0] if len(axis) == 1 else None
    if not isinstance(axis, int) or not -len(shape) <= axis < len(shape):
        return None
    return shape[axis]


def topological_nodes(graph: NetworkGraph) -> list[Node]:
    """Nodes with every layer after its inputs, ties in graph order; graph order on a cycle."""
    nx_graph = graph.nx_graph
    order = {node_id: index for index, node_id in enumerate(nx_graph.nodes)}
    try:
        ids = list(nx.lexicographical_topological_sort(nx_graph, key=order.__getitem__))
    except nx.NetworkXUnfeasible:
        ids = list(order)
    return [graph.node(node_id) for node_id in ids]


def summary_table(
    graph: NetworkGraph,
    analysis: ShapeAnalysis | None = None,
    more_totals: Sequence[str] = (),
) -> str:
    """The summary as text, like Keras's `model.summary()`, problems listed below.

    Args:
        graph: The graph to summarise.
        analysis: A live ShapeAnalysis of `graph` to reuse; one is made if None.
        more_totals: Lines added under the totals, e.g. the time per epoch measured
            by runtime/ (which graph/ cannot import).
    """
    owned = analysis is None
    analysis = analysis or ShapeAnalysis(graph)
    try:
        rows = summary_rows(graph, analysis)
        totals = summary_totals(graph, analysis)
        cost = graph_cost(graph, analysis)
        problems = validate(graph, analysis)
    finally:
        if owned:
            analysis.close()
    cells = [
        (
            printable(row.name),
            row.type,
            row.output_shape,
            UNKNOWN if row.param_count is None else f"{row.param_count:,}",
            UNKNOWN if row.macs is None else f"{row.macs:,}",
            format_bytes(row.weight_bytes),
            format_bytes(row.activation_bytes),
            ", ".join(printable(name) for name in row.connected_to) or "-",
        )
        for row in rows
    ]
    widths = [max(len(text) for text in column) for column in zip(COLUMNS, *cells, strict=False)]
    rule = "  ".join("-" * width for width in widths)

    def line(texts: tuple[str, ...]) -> str:
        parts = [
            text.rjust(width) if index in NUMERIC_COLUMNS else text.ljust(width)
            for index, (text, width) in enumerate(zip(texts, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    double = "=" * len(rule)
    lines = [f'Model: "{printable(graph.name)}"', double, line(COLUMNS), double]
    lines += [line(cell) for cell in cells]
    lines += [
        double,
        f"Total params: {totals.total:,}",
        f"Trainable params: {totals.trainable:,}",
        f"Non-trainable params: {totals.non_trainable:,}",
        *cost_lines(graph, cost, totals),
        *more_totals,
    ]
    if any(row.param_count is None for row in rows):
        lines.append(f"({UNKNOWN}: shape unknown; the totals leave these layers out)")
    if problems:
        lines += ["", f"Problems ({len(problems)}):"]
        lines += [f"  {problem.severity}: {problem.message}" for problem in problems]
    return "\n".join(lines)


def cost_lines(graph: NetworkGraph, cost, totals: ParamTotals) -> list[str]:
    """The cost totals under the table: MACs, weight sizes, activations, training memory."""
    memory = training_memory(cost, graph.training, trainable_params=totals.trainable)
    sizes = ", ".join(
        f"{format_bytes(cost.weight_bytes(dtype))} {dtype}"
        for dtype in ("float32", "float16", "int8")
    )
    return [
        f"MACs per sample: {cost.macs:,}",
        f"Weights: {sizes}",
        f"Activations per sample: {format_bytes(cost.activation_bytes)}",
        f"Training memory (estimate): {format_bytes(memory.total)} ({memory.breakdown()})",
    ]


def _infos(graph: NetworkGraph, analysis: ShapeAnalysis | None) -> dict[str, NodeInfo]:
    if analysis is not None:
        return analysis.all()
    analysis = ShapeAnalysis(graph)
    try:
        return dict(analysis.all())
    finally:
        analysis.close()
