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

from graph.block_inference import (
    MAX_FLAT_LAYERS,
    definition_problem,
    flat_layer_count,
    inner_message,
    live_inside,
    output_names,
    outputs_problem,
    ports_problem,
)
from graph.block_type import BLOCK
from graph.catalog import CATALOG, find_type
from graph.cost import graph_cost, memory_verdict, training_memory
from graph.fixes import Fix, InsertBefore, RenameTo, SetNodeParams, shape_of_rank, shape_text
from graph.messages import bounded_lines, excerpt, printable
from graph.model import Edge, GraphEvent, NetworkGraph, Node, source_port
from graph.names import name_error, suggested_name
from graph.shapes import CYCLE_ERROR, NodeInfo, ShapeAnalysis

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
        return problems + memory_problems(graph, analysis)
    finally:
        if owned:
            analysis.close()
    return problems


class LiveValidation:
    """What :func:`validate` returns, kept up to date edit by edit.

    An edit re-checks only the nodes it touches and those whose shapes it
    changed, so validating after each keystroke stays cheap on large graphs.
    Gives the same problems, in the same order, as ``validate(graph)`` but the
    training-memory check (``memory_problems``, which ``validate`` ends with): it
    costs a pass over the whole graph (30 ms on 10,000 nodes, twice an edit's
    budget), and the app shows training memory with the cost in its status bar.

    Args:
        graph: The graph to check; followed through its events.
        analysis: A live ShapeAnalysis of `graph`; followed through its refreshes.
    """

    def __init__(self, graph: NetworkGraph, analysis: ShapeAnalysis) -> None:
        self.graph = graph
        self.analysis = analysis
        self._problems: dict[str, Problem] = {}
        self._dirty: set[str] = set(graph.nx_graph)
        self._names: dict[str, str] = {}
        self._name_counts: Counter[str] = Counter()
        for node in graph.nodes:
            self._track_name(node.id, node.name)
        self._inputs = {node.id for node in graph.input_nodes()}
        self._outputs: set[str] = set()
        graph.subscribe(self._on_event)
        analysis.watch(self._on_recomputed)

    def close(self) -> None:
        self.graph.unsubscribe(self._on_event)
        self.analysis.unwatch(self._on_recomputed)

    def _on_recomputed(self, node_ids: set[str]) -> None:
        self._dirty |= node_ids

    def _track_name(self, node_id: str, name: str | None) -> None:
        old = self._names.pop(node_id, None)
        if old is not None:
            self._name_counts[old] -= 1
            if not self._name_counts[old]:
                del self._name_counts[old]
        if name is not None:
            self._names[node_id] = name
            self._name_counts[name] += 1

    def _on_event(self, event: GraphEvent) -> None:
        if event.kind in ("nodes_moved", "settings_changed"):
            return
        graph = self.graph
        touched = list(event.node_ids)
        if event.edge is not None:
            touched.append(event.edge.source)
        for node_id in touched:
            if node_id in graph:
                node = graph.node(node_id)
                self._dirty.add(node_id)
                self._track_name(node_id, node.name)
                if node.type == "Input":
                    self._inputs.add(node_id)
            else:
                self._dirty.discard(node_id)
                self._track_name(node_id, None)
                self._inputs.discard(node_id)
                self._outputs.discard(node_id)
                self._problems.pop(node_id, None)

    def problems(self) -> list[Problem]:
        """Every problem of the graph, as ``validate(graph)`` lists them."""
        graph, infos = self.graph, self.analysis.all()
        successors = graph.nx_graph._succ
        for node_id in self._dirty:
            node = graph.node(node_id)
            problem = _node_problem(graph, node, infos[node_id])
            if problem is None:
                self._problems.pop(node_id, None)
            else:
                self._problems[node_id] = problem
            if node.type != "Input" and not successors[node_id]:
                self._outputs.add(node_id)
            else:
                self._outputs.discard(node_id)
        self._dirty = set()
        problems = _structure_problems(
            graph,
            self.analysis,
            has_inputs=bool(self._inputs),
            has_outputs=bool(self._outputs),
            names_clash=len(self._name_counts) < len(self._names),
        )
        if self._problems:
            # In graph order, as validate() gives them.
            problems += [self._problems[n] for n in graph.nx_graph if n in self._problems]
        return problems


def is_valid(problems: list[Problem]) -> bool:
    return not any(p.severity == ERROR for p in problems)


def _graph_problems(graph: NetworkGraph, analysis: ShapeAnalysis) -> list[Problem]:
    return _structure_problems(
        graph,
        analysis,
        has_inputs=bool(graph.input_nodes()),
        has_outputs=bool(graph.output_nodes()),
        names_clash=len(graph.names()) < len(graph),
    )


def _structure_problems(
    graph: NetworkGraph,
    analysis: ShapeAnalysis,
    has_inputs: bool,
    has_outputs: bool,
    names_clash: bool,
) -> list[Problem]:
    if len(graph) == 0:
        return [Problem(ERROR, "The graph is empty: add an Input layer and an output layer")]
    problems = []
    if not has_inputs:
        problems.append(Problem(ERROR, "The graph has no Input layer: data has nowhere to enter"))
    if not has_outputs:
        problems.append(
            Problem(ERROR, "The graph has no output layer: connect a layer after Input")
        )
    # Shape inference already found any cycle: skip the search on the common acyclic graph.
    for cycle in _cycles(graph) if analysis.has_cycle() else []:
        names = " -> ".join(printable(graph.node(n).name) for n in [*cycle, cycle[0]])
        first = graph.node(cycle[0])
        problems.append(
            Problem(ERROR, f"{first.label}: is part of a cycle {names}", node_id=first.id)
        )
    # Blocks of two instances of the block before them make 2**n layers from n blocks.
    # Counted for the document only: each instance would repeat it for its definition.
    document = graph.blocks.get(graph.name) is not graph
    flat = flat_layer_count(graph) if len(graph.blocks) and document else 0
    if flat > MAX_FLAT_LAYERS:
        problems.append(
            Problem(
                ERROR,
                f"The graph makes {flat:,} layers once its blocks are expanded; the limit is "
                f"{MAX_FLAT_LAYERS:,}: use fewer block instances, above all inside other blocks",
            )
        )
    if names_clash:
        problems += _name_clashes(graph)
    return problems


def _name_clashes(graph: NetworkGraph) -> list[Problem]:
    problems = []
    counts = Counter(node.name for node in graph.nodes)
    seen: set[str] = set()
    for node in graph.nodes:
        if counts[node.name] > 1 and node.name in seen:
            new_name = graph.unique_name(node.name)
            problems.append(
                Problem(
                    ERROR,
                    f"{node.label}: the name {excerpt(node.name)} is used by "
                    f"{counts[node.name]} layers; "
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


def memory_problems(graph: NetworkGraph, analysis: ShapeAnalysis) -> list[Problem]:
    """A training run that would not fit this machine's memory, or fill over half of it.

    `validate` ends with it; `LiveValidation` leaves it out (see there).
    """
    cost = graph_cost(graph, analysis)
    verdict = memory_verdict(training_memory(cost, graph.training))
    if verdict.severity is None:
        return []
    # Blame the layer that holds the most: its weights, or its activations per batch.
    batch = int(graph.training.get("batch_size", 32))

    def held(node_id: str) -> int:
        node = cost.nodes[node_id]
        return node.weight_bytes() + (node.activation_bytes or 0) * batch

    culprit = graph.node(max(cost.nodes, key=held))
    return [Problem(verdict.severity, f"{culprit.label}: {verdict.message}", node_id=culprit.id)]


def _cycles(graph: NetworkGraph) -> list[list[str]]:
    cycles = []
    for component in nx.strongly_connected_components(graph.nx_graph):
        if len(component) > 1 or graph.nx_graph.has_edge(*(2 * tuple(component))):
            cycle = nx.find_cycle(graph.nx_graph.subgraph(component))
            cycles.append([edge[0] for edge in cycle])
    return cycles


def _node_problems(graph: NetworkGraph, analysis: ShapeAnalysis) -> list[Problem]:
    infos = analysis.all()
    problems = (_node_problem(graph, node, infos[node.id]) for node in graph.nodes)
    return [problem for problem in problems if problem is not None]


def _node_problem(graph: NetworkGraph, node: Node, info: NodeInfo) -> Problem | None:
    """The first thing wrong with `node` itself: name, type, wiring, then shapes."""
    problem = _name_problem(graph, node) or _param_problem(node) or _wiring_problem(graph, node)
    if problem is None and info.error and info.error != CYCLE_ERROR:
        if info.inside:
            return Problem(ERROR, inner_message(node, info.error, True), node_id=node.id)
        problem = Problem(
            ERROR,
            f"{node.label}: {info.error}",
            node_id=node.id,
            fixes=_rank_fixes(graph, node, info),
        )
    if problem is None and node.type == BLOCK and _all_known(info.input_shapes):
        problem = _inside_problem(graph, node, info)
    return problem


def _all_known(shapes: tuple) -> bool:
    return bool(shapes) and None not in shapes


def _inside_problem(graph: NetworkGraph, node: Node, info: NodeInfo) -> Problem | None:
    """The first error inside a block instance's definition that shapes alone do not show.

    Checked by a live validation of the definition for these input shapes
    (edit by edit, like the document's) and cached per version.
    """
    library, name = graph.blocks, node.params["block"]
    key = ("problems", name, library.version(name), info.input_shapes)
    if key not in library.cache:
        live = live_inside(library, name, info.input_shapes)
        if live.validation is None:
            live.validation = LiveValidation(live.definition, live.analysis)
        errors = [problem for problem in live.validation.problems() if problem.severity == ERROR]
        library.cache[key] = errors[0] if errors else None
    inner = library.cache[key]
    if inner is None:
        return None
    if inner.node_id is not None:  # the message starts with the inner layer's path
        return Problem(ERROR, f"{printable(node.name)}/{inner.message}", node_id=node.id)
    return Problem(ERROR, f"{node.label}: inside block {excerpt(name)}: {inner.message}", node.id)


def _name_problem(graph: NetworkGraph, node: Node) -> Problem | None:
    error = name_error(node.name)
    if error is None:
        return None
    label = f"{printable(node.id)} ({node.type})" if not node.name.strip() else node.label
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
    spec = find_type(node.type)
    if spec is None:
        return Problem(
            ERROR, f"{node.label}: unknown layer type {excerpt(node.type)}", node_id=node.id
        )
    # Parameter values are checked by shape inference, which reports them as
    # the node's error, so that an edit re-checks only the nodes it touches.
    return None


def _wiring_problem(graph: NetworkGraph, node: Node) -> Problem | None:
    # The adjacency dicts directly: this runs for every node on every edit.
    nx_graph = graph.nx_graph
    ports = [port for keys in nx_graph._pred[node.id].values() for port in keys]
    used = [
        source_port(data) for keys in nx_graph._succ[node.id].values() for data in keys.values()
    ]
    if node.type == BLOCK:
        library = graph.blocks
        error = (
            definition_problem(library, node.params["block"])
            or ports_problem(library, node, ports)
            or outputs_problem(library, node, used)
        )
        if error is None and not used and len(output_names(library, node.params["block"])) > 1:
            names = ", ".join(printable(n) for n in output_names(library, node.params["block"]))
            error = (
                f"its outputs ({names}) are not connected; a block with several outputs "
                "cannot end the model, so connect each output to a layer"
            )
        return None if error is None else Problem(ERROR, f"{node.label}: {error}", node.id)
    if any(used):
        return Problem(
            ERROR,
            f"{node.label}: has one output. Received: a connection from output {max(used)}",
            node.id,
        )
    spec = CATALOG[node.type]
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
    # The first free port below len(taken), if any: a file may name port 10**20.
    taken = set(ports)
    missing = next((port for port in range(len(taken)) if port not in taken), None)
    if missing is not None:
        return Problem(ERROR, f"{node.label}: {spec.port_name(missing)} is not connected", node.id)
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
        lines = "\n".join(bounded_lines(f"  - {problem.message}" for problem in self.problems))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"The graph cannot be {what}: {count} {noun}\n{lines}")


def check_valid(graph: NetworkGraph, error_type: type[InvalidGraphError]) -> None:
    """Raises `error_type` with every error `validate` finds in `graph`, if any."""
    errors = [problem for problem in validate(graph) if problem.severity == ERROR]
    if errors:
        raise error_type(errors)
