"""Which node first produced a non-finite value when the loss became NaN or infinite.

By the time the trainer sees a NaN loss, the optimizer has already applied
the NaN gradients and every weight is NaN, so the model as it is points at
nothing. The trace therefore goes back to the weights and optimizer state of
the start of the failing epoch, replays that epoch batch by batch (in order,
with the same batch size) until a batch's loss is not finite, and runs that
batch, with the weights it met, through the model once with every node's
output exposed. The first node in graph order whose output holds a NaN or an
infinity is the node at fault; the Input nodes stand for the data itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from graph.model import NetworkGraph, Node
from graph.wiring import topological_nodes

# The replay is a diagnosis: it stops after this many batches whatever happens.
MAX_REPLAY_BATCHES = 2_000


@dataclass(frozen=True)
class NanSource:
    """Where the first non-finite value appeared.

    Attributes:
        node: The first node whose output is not finite or, when every
            output stayed finite and only the loss overflowed, the output
            node with the largest values.
        batch: 1-based index of the replayed batch that failed.
        largest: The largest absolute output value of `node` when its output
            is finite (the loss overflowed on it); None otherwise.
    """

    node: Node
    batch: int
    largest: float | None = None


def model_state(model: keras.Model) -> list[np.ndarray]:
    """The values of the model's weights and its optimizer's variables."""
    optimizer = getattr(model, "optimizer", None)
    variables = [*model.weights, *(optimizer.variables if optimizer is not None else ())]
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def _restore(model: keras.Model, state: list[np.ndarray]) -> None:
    optimizer = getattr(model, "optimizer", None)
    variables = [*model.weights, *(optimizer.variables if optimizer is not None else ())]
    for variable, value in zip(variables, state, strict=True):
        variable.assign(value)


def _finite(value) -> bool:
    return all(np.all(np.isfinite(np.asarray(part))) for part in tf.nest.flatten(value))


def _take(data, start: int, stop: int):
    return tf.nest.map_structure(lambda array: array[start:stop], data)


def _node_outputs(graph: NetworkGraph, model: keras.Model, x) -> list[tuple[Node, object]]:
    """Every node with its output on the batch `x`, in graph order (Inputs: the data)."""
    parts = list(x) if isinstance(x, (list, tuple)) else [x]
    pairs: list[tuple[Node, object]] = list(zip(graph.input_nodes(), parts, strict=False))
    nodes = [node for node in topological_nodes(graph) if node.type != "Input"]
    probe = keras.Model(model.inputs, [model.get_layer(node.name).output for node in nodes])
    outputs = probe(parts, training=True)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return pairs + list(zip(nodes, outputs, strict=True))


def first_non_finite_node(graph: NetworkGraph, model: keras.Model, x) -> Node | None:
    """The first node (graph order) whose output on `x` is not finite, or None.

    Args:
        graph: The graph the model was built from (layer names are node names).
        model: The built model.
        x: One batch of model inputs (an array, or a list for several Inputs).
    """
    for node, output in _node_outputs(graph, model, x):
        if not _finite(output):
            return node
    return None


def _largest_output(graph: NetworkGraph, model: keras.Model, x) -> tuple[Node, float]:
    """The output node with the largest absolute value on `x`, and that value."""
    outputs = {node.id for node in graph.output_nodes()}
    sizes = [
        (node, max(float(np.max(np.abs(np.asarray(part)))) for part in tf.nest.flatten(output)))
        for node, output in _node_outputs(graph, model, x)
        if node.id in outputs
    ]
    return max(sizes, key=lambda pair: pair[1])


def trace_nan(
    graph: NetworkGraph, model: keras.Model, x, y, batch_size: int, epoch_start: list[np.ndarray]
) -> NanSource | None:
    """Replays an epoch from `epoch_start` to find the node where values stop being finite.

    Args:
        graph: The graph the model was built from.
        model: The compiled model (its state is overwritten).
        x: The training inputs, as `fit` received them.
        y: The training targets, as `fit` received them.
        batch_size: The batch size of the run.
        epoch_start: `model_state(model)` at the start of the failing epoch.

    Returns:
        Where the first non-finite value appeared, or None when the replay
        stays finite (the shuffled order of the real run mattered).
    """
    _restore(model, epoch_start)
    samples = len(tf.nest.flatten(x)[0])
    for index, start in enumerate(range(0, samples, batch_size)):
        if index >= MAX_REPLAY_BATCHES:
            return None
        batch_x = _take(x, start, start + batch_size)
        batch_y = _take(y, start, start + batch_size)
        before = model_state(model)
        logs = model.train_on_batch(batch_x, batch_y, return_dict=True)
        if np.isfinite(float(logs.get("loss", 0.0))):
            continue
        _restore(model, before)
        node = first_non_finite_node(graph, model, batch_x)
        if node is not None:
            return NanSource(node, index + 1)
        node, largest = _largest_output(graph, model, batch_x)
        return NanSource(node, index + 1, largest)
    return None
