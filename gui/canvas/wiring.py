"""Which input ports a dragged connection may land on, and why not elsewhere.

Qt-free on purpose: it answers from the graph and its shape analysis, so the
canvas can highlight compatible ports and refuse a drop with a clear reason.
"""

from __future__ import annotations

import networkx as nx

from graph.block_inference import node_type
from graph.layer_type import ShapeError
from graph.layers._common import fmt
from graph.messages import printable
from graph.model import NetworkGraph, Node
from graph.params import ParamError
from graph.shapes import ShapeAnalysis


def input_port_count(graph: NetworkGraph, node_id: str) -> int:
    """How many input ports a node shows: a free one more than connected for merges."""
    spec = node_type(graph, graph.node(node_id))
    if spec.max_inputs is not None:
        return spec.max_inputs
    ports = [edge.port for edge in graph.in_edges(node_id)]
    return max(spec.min_inputs, (max(ports) + 2) if ports else 0)


class ConnectionChecker:
    """Answers "may `source` feed this port?" for one drag, quickly.

    Args:
        graph: The graph being edited.
        analysis: Its shape analysis (for the shape check).
        source_id: The node whose output is being dragged.
        source_port: Which of its outputs (a block may have several).
    """

    def __init__(
        self, graph: NetworkGraph, analysis: ShapeAnalysis, source_id: str, source_port: int = 0
    ) -> None:
        self.graph = graph
        self.analysis = analysis
        self.source = graph.node(source_id)
        # Computed once per drag: a target among these would close a cycle.
        self._upstream = nx.ancestors(graph.nx_graph, source_id) | {source_id}
        self.source_port = source_port
        self._source_shape = analysis.info(source_id).shape_at(source_port)

    def problem(self, target_id: str, port: int) -> str | None:
        """Why the connection into `port` of `target_id` is refused, or None."""
        target = self.graph.node(target_id)
        spec = node_type(self.graph, target)
        connect = f"Cannot connect {printable(self.source.name)} to {target.label}"
        if spec.max_inputs == 0:
            return f"{connect}: an {target.type} layer takes no inputs"
        if target_id in self._upstream:
            if target_id == self.source.id:
                return f"{connect}: a layer cannot feed itself"
            return f"{connect}: it would create a cycle"
        if spec.max_inputs is not None and port >= spec.max_inputs:
            return f"{connect}: it has only {spec.max_inputs} inputs. Received: port {port}"
        edges = self.graph.in_edges(target_id)
        if any(edge.port == port for edge in edges):
            return f"{connect}: {spec.port_name(port)} is already connected"
        shape_error = self._shape_problem(target_id, port, edges)
        if shape_error:
            return f"{connect}: {shape_error}"
        return None

    def first_free_port(self, target_id: str) -> int:
        """The port a drop on the node's body means: its first unconnected input."""
        taken = {edge.port for edge in self.graph.in_edges(target_id)}
        port = 0
        while port in taken:
            port += 1
        return port

    def _shape_problem(self, target_id: str, port: int, edges: list) -> str | None:
        if self._source_shape is None:
            return None
        target = self.graph.node(target_id)
        spec = node_type(self.graph, target)
        shapes = {
            edge.port: self.analysis.info(edge.source).shape_at(edge.source_port) for edge in edges
        }
        shapes[port] = self._source_shape
        count = max(shapes) + 1
        if count < spec.min_inputs or any(shapes.get(p) is None for p in range(count)):
            # Not all inputs known yet: judge when the rest are wired.
            return None
        inputs = [shapes[p] for p in range(count)]
        try:
            spec.shape_rule(target.params, inputs)
        except (ShapeError, ParamError) as error:
            return str(error)
        except (ArithmeticError, IndexError, TypeError, ValueError) as error:
            shown = ", ".join(fmt(shape) for shape in inputs)
            return f"cannot take inputs {shown}: {error}"
        return None

    def problem_for_new(self, node: Node) -> str | None:
        """Why a node not yet in the graph could not take the source as its first input."""
        spec = node_type(self.graph, node)
        if spec.max_inputs == 0:
            return (
                f"Cannot connect {printable(self.source.name)} to {node.label}: it takes no inputs"
            )
        if self._source_shape is None or spec.min_inputs > 1:
            return None
        try:
            spec.shape_rule(node.params, [self._source_shape])
        except (ShapeError, ParamError, ArithmeticError, IndexError, TypeError, ValueError) as e:
            return f"Cannot connect {printable(self.source.name)} to {node.label}: {e}"
        return None
