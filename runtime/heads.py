"""The model's outputs as the loss sees them: shape, final activation and loss."""

from __future__ import annotations

from dataclasses import dataclass

from graph.layer_type import Shape
from graph.model import NetworkGraph, Node
from graph.shapes import ShapeAnalysis
from graph.task import LossChoice, output_activation, resolve_loss


@dataclass(frozen=True)
class OutputHead:
    """One output node of a graph.

    Attributes:
        node: The output node.
        shape: Its inferred output shape, or None when inference fails.
        activation: The activation it applies last ("linear" when none).
        loss: The loss for it under the graph's training settings and the task.
    """

    node: Node
    shape: Shape | None
    activation: str
    loss: LossChoice

    @property
    def units(self) -> int | None:
        return None if not self.shape else self.shape[-1]


def output_heads(graph: NetworkGraph, task: str) -> list[OutputHead]:
    """Every output node of `graph` with its shape and resolved loss.

    Args:
        graph: The graph.
        task: "classification" or "regression".
    """
    analysis = ShapeAnalysis(graph)
    try:
        heads = []
        for node in graph.output_nodes():
            shape = analysis.info(node.id).output_shape
            activation = output_activation(node.type, node.params)
            units = None if not shape else shape[-1]
            loss = resolve_loss(graph.training["loss"], task, units, activation)
            heads.append(OutputHead(node, shape, activation, loss))
        return heads
    finally:
        analysis.close()


def input_shapes(graph: NetworkGraph) -> list[tuple[int, ...]]:
    """Each Input node's shape (without the batch dimension), in graph order."""
    return [tuple(node.params["shape"]) for node in graph.input_nodes()]
