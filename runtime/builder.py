"""Graph -> `keras.Model` through the catalog and the functional API.

What you draw is what you run: every node becomes the Keras layer of its
catalog type, named after the node, called on its inputs in port order.
The builder only ever sees a valid graph: it validates first and refuses an
invalid one with the validator's problems.
"""

from __future__ import annotations

import sys

import keras

from graph.model import NetworkGraph, Node
from graph.validation import InvalidGraphError, Problem, check_valid
from graph.wiring import (
    LIST,
    POSITIONAL,
    call_style,
    input_sources,
    model_name,
    recursion_limit,
    topological_nodes,
)
from runtime.layer_factory import make_input, make_layer


class BuildError(InvalidGraphError):
    """A graph that cannot be built; `problems` holds the validator's errors."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "built")


def build_model(graph: NetworkGraph) -> keras.Model:
    """Builds the Keras functional model of `graph`.

    Layer names in the model are the node names, so weights can be matched
    by name between the graph, exported code and imported models.

    Args:
        graph: The graph to build.

    Raises:
        BuildError: when validation reports errors.
    """
    check_valid(graph, BuildError)
    tensors = {}
    for node in topological_nodes(graph):
        if node.type == "Input":
            tensors[node.id] = make_input(node.params, node.name)
        else:
            inputs = [tensors[source] for source in input_sources(graph, node)]
            tensors[node.id] = call_layer(
                node, make_layer(node.type, node.params, node.name), inputs
            )
    inputs = [tensors[node.id] for node in graph.input_nodes()]
    outputs = [tensors[node.id] for node in graph.output_nodes()]
    _allow_depth(len(graph))
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=model_name(graph),
    )


def _allow_depth(layers: int) -> None:
    """Raises Python's recursion limit so Keras can map a model `layers` deep.

    The limit is only ever raised, never lowered, since other threads may rely on it.
    """
    needed = recursion_limit(layers)
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)


def call_layer(node: Node, layer: keras.layers.Layer, inputs: list) -> object:
    """Calls `layer` on its input tensors the way its type expects (graph.wiring)."""
    style = call_style(node.type)
    if style == POSITIONAL:
        return layer(*inputs)
    if style == LIST:
        return layer(inputs)
    return layer(inputs[0])
