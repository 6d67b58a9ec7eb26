"""Hints for learners: not problems (the graph builds), but likely mistakes, each with a fix.

Files keep Keras's defaults; hints only suggest.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.fixes import Fix, SetNodeParams
from graph.model import NetworkGraph

# Layers after which a missing activation is deliberate (they add their own).
_ACTIVATING = {"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "BatchNormalization"}


@dataclass(frozen=True)
class Hint:
    """A suggestion about one node.

    Attributes:
        node_id: The node.
        text: Why, in a sentence.
        fix: The change it suggests.
    """

    node_id: str
    text: str
    fix: Fix


def activation_hint(graph: NetworkGraph, node_id: str) -> Hint | None:
    """Suggests relu for a hidden layer that has no activation (Keras's default: linear).

    Without one, stacked layers compute no more than a single linear layer.
    """
    node = graph.node(node_id)
    if (
        node.params.get("activation") != "linear"
        or "units" not in node.params
        and ("filters" not in node.params)
    ):
        return None
    following = [graph.node(edge.target) for edge in graph.out_edges(node_id)]
    if not following or any(after.type in _ACTIVATING for after in following):
        return None
    return Hint(
        node_id,
        "A hidden layer with activation linear adds nothing a single layer could not do; "
        "hidden layers usually use relu.",
        Fix(f"Use relu in {node.name}", (SetNodeParams(node_id, {"activation": "relu"}),)),
    )
