"""Validation: every reason a graph would not build, as data, never raised.

Messages read like Keras's: they name the node and show the bad values, e.g.
`add_1 (Add): input shapes (None, 64) and (None, 32) differ`. The canvas
tooltip, the problems panel, the CLI and the tests all show the same text.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

from graph.catalog import CATALOG
from graph.fixes import Fix, InsertBefore, RenameTo, SetNodeParams, shape_of_rank, shape_text
from graph.model import Edge, NetworkGraph, Node
from graph.names import name_error, suggested_name
from graph.shapes import CYCLE_ERROR, ShapeAnalysis

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph.

    Attributes:
        severity: "error" (the graph will not build) or "warning".
        message: Keras-style text naming the node and the bad values.
        node_id: The node at fault, when there is one.
        edge: The edge at fault, when there is one.
        fixes: Known remedies, the likeliest first (views offer them as actions).
    """

    severity: str
    message: str
    node_id: str | None = None
    edge: Edge | None = None
    fixes: tuple[Fix, ...] = field(default=(), compare=False)


def validate(graph: NetworkGraph, analysis: ShapeAnalysis | None = None) -> list[Problem]:
    """Returns every problem of `graph`; an empty list means it will build in Keras.

    Args:
        graph: The graph to check.
        analysis: A live ShapeAnalysis of `graph` to reuse; one is made if None.
    """
    owned = analysis is None
    if analysis is None:
        analysis = ShapeAnalysis(graph)
    try:
        problems = _graph_problems(graph, analysis) + _node_problems(graph, analysis)
    finally:
        if owned:
            analysis.close()
    return problems


def is_valid(problems: list[Problem]) -> bool:
    return not any(p.severity == ERROR for p in problems)


def _graph_problems(graph: NetworkGraph, analysis: ShapeAnalysis) -> list[Problem]:
    if len(graph) == 0:
        return [Problem(ERROR, "The graph is empty: add an Input layer and an output layer")]
    problems = []
    if not graph.input_nodes():
        problems.append(Problem(ERROR, "The graph has no Input layer: data has nowhere to enter"))
    if not graph.output_nodes():
        problems.append(
            Problem(ERROR, "The graph has no output layer: connect a layer after Input")
        )
    # Shape inference already found any cycle: skip the search on the common acyclic graph.
    for cycle in _cycles(graph) if analysis.has_cycle() else []:
        names = " -> ".join(graph.node(n).name for n in [*cycle, cycle[0]])
        first = graph.node(cycle[0])
        problems.append(
            Problem(ERROR, f"{first.label}: is part of a cycle {names}", node_id=first.id)
        )
    counts = Counter(node.name for node in graph.nodes)
    seen: set[str] = set()
    for node in graph.nodes:
        if counts[node.name] > 1 and node.name in seen:
            new_name = graph.unique_name(node.name)
            problems.append(
                Problem(
                    ERROR,
                    f"{node.label}: the name {node.name!r} is used by {counts[node.name]} layers; "
                    "layer names must be unique",
                    node_id=node.id,
                    fixes=(
                        Fix(
                            f"Rename {node.name} to {new_name}",
                            (RenameTo(node.id, new_name),),
                        ),
                    ),
                )
            )
        seen.add(node.name)
    return problems


def _cycles(graph: NetworkGraph) -> list[list[str]]:
    cycles = []
    for component in nx.strongly_connected_components(graph.nx_graph):
        if len(component) > 1 or graph.nx_graph.has_edge(*(2 * tuple(component))):
            cycle = nx.find_cycle(graph.nx_graph.subgraph(component))
            cycles.append([edge[0] for edge in cycle])
    return cycles


def _node_problems(graph: NetworkGraph, analysis: ShapeAnalysis) -> list[Problem]:
    problems = []
    infos = analysis.all()
    for node in graph.nodes:
        problem = _name_problem(graph, node) or _param_problem(node) or _wiring_problem(graph, node)
        if problem is None:
            info = infos[node.id]
            if info.error and info.error != CYCLE_ERROR:
                problem = Problem(
                    ERROR,
                    f"{node.label}: {info.error}",
                    node_id=node.id,
                    fixes=_rank_fixes(graph, node, info),
                )
        if problem is not None:
            problems.append(problem)
    return problems


def _name_problem(graph: NetworkGraph, node: Node) -> Problem | None:
    error = name_error(node.name)
    if error is None:
        return None
    label = f"{node.id} ({node.type})" if not node.name.strip() else node.label
    cleaned = suggested_name(node.name)
    new_name = cleaned if cleaned not in graph.names() else graph.unique_name(cleaned)
    fix = Fix(
        f"Rename {node.name.strip() or node.id} to {new_name}", (RenameTo(node.id, new_name),)
    )
    return Problem(ERROR, f"{label}: {error}", node_id=node.id, fixes=(fix,))


def _rank_fixes(graph: NetworkGraph, node: Node, info) -> tuple[Fix, ...]:
    """Reshapes that give a layer the input rank it needs: at the Input, or inserted."""
    if info.needed_rank is None or not info.input_shapes or info.input_shapes[0] is None:
        return ()
    received = info.input_shapes[0][1:]
    if any(dim is None for dim in received):
        return ()
    target = shape_of_rank(math.prod(received), info.needed_rank - 1)
    if target is None:
        return ()
    fixes = []
    feeding = [edge.source for edge in graph.in_edges(node.id) if edge.port == 0]
    source = graph.node(feeding[0]) if feeding else None
    if source is not None and source.type == "Input" and len(graph.out_edges(source.id)) == 1:
        fixes.append(
            Fix(
                f"Set {source.name} shape to {shape_text(target)}",
                (SetNodeParams(source.id, {"shape": target}),),
            )
        )
    fixes.append(
        Fix(
            f"Insert a Reshape to {shape_text(target)} before {node.name}",
            (InsertBefore(node.id, "Reshape", {"target_shape": target}),),
        )
    )
    return tuple(fixes)


def _param_problem(node: Node) -> Problem | None:
    spec = CATALOG.get(node.type)
    if spec is None:
        return Problem(ERROR, f"{node.label}: unknown layer type {node.type!r}", node_id=node.id)
    # Parameter values are checked by shape inference, which reports them as
    # the node's error, so that an edit re-checks only the nodes it touches.
    return None


def _wiring_problem(graph: NetworkGraph, node: Node) -> Problem | None:
    spec = CATALOG[node.type]
    # The adjacency dicts directly: this runs for every node on every edit.
    nx_graph = graph.nx_graph
    ports = [port for keys in nx_graph._pred[node.id].values() for port in keys]
    if spec.max_inputs == 0:
        if ports:
            return Problem(
                ERROR,
                f"{node.label}: an Input layer takes no inputs",
                node.id,
                graph.in_edges(node.id)[0],
            )
        if not nx_graph._succ[node.id]:
            return Problem(ERROR, f"{node.label}: is not connected to anything", node.id)
        return None
    if not ports:
        return Problem(ERROR, f"{node.label}: has no input; connect a layer to it", node.id)
    missing = [p for p in range(max(ports) + 1) if p not in ports]
    if missing:
        return Problem(
            ERROR, f"{node.label}: {spec.port_name(missing[0])} is not connected", node.id
        )
    if not spec.accepts_inputs(len(ports)):
        if spec.max_inputs is None:
            expected = f"at least {spec.min_inputs}"
        elif spec.min_inputs == spec.max_inputs:
            expected = str(spec.min_inputs)
        else:
            expected = f"{spec.min_inputs} to {spec.max_inputs}"
        plural = "input" if expected == "1" else "inputs"
        return Problem(
            ERROR,
            f"{node.label}: expects {expected} {plural}. Received: {len(ports)}",
            node.id,
        )
    return None


class InvalidGraphError(ValueError):
    """A graph that cannot be turned into something; `problems` holds the errors.

    Args:
        problems: The errors (Problem) that block the work.
        what: The work refused, as in "The graph cannot be {what}".
    """

    def __init__(self, problems: list[Problem], what: str) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem.message}" for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"The graph cannot be {what}: {count} {noun}\n{lines}")


def check_valid(graph: NetworkGraph, error_type: type[InvalidGraphError]) -> None:
    """Raises `error_type` with every error `validate` finds in `graph`, if any."""
    errors = [problem for problem in validate(graph) if problem.severity == ERROR]
    if errors:
        raise error_type(errors)
