"""What a node outputs for a sample: the learner's view inside the network."""

from __future__ import annotations

import numpy as np

from runtime.explain.errors import ExplainError
from runtime.explain.result import NodeOutput
from runtime.explain.scoring import ModelScorer


def node_output(scorer: ModelScorer, x: np.ndarray, node: str) -> NodeOutput:
    """The output of layer `node` for sample `x`, from a Keras sub-model ending at that layer.

    Raises:
        ExplainError: when the model has no such node.
    """
    model = scorer.model
    try:
        layer = model.get_layer(node)
    except ValueError:
        names = ", ".join(layer.name for layer in model.layers)
        raise ExplainError(
            f"There is no node named {node!r} in the model. Its nodes: {names}", node
        ) from None
    probe = scorer.probe(layer)
    values = np.asarray(probe(scorer.feed(scorer.as_batch(x[None])), training=False))[0]
    return NodeOutput(node, values, float(values.min()), float(values.mean()), float(values.max()))
