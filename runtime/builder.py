"""Graph -> `keras.Model` through the catalog and the functional API.

What you draw is what you run: every node becomes the Keras layer of its
catalog type, named after the node, called on its inputs in port order.
The builder only ever sees a valid graph: it validates first and refuses an
invalid one with the validator's problems.

A block instance becomes a nested functional model named after the node, or
(the build setting `blocks: flatten`) its inner layers inline, named
`instance.layer`; both compute the same numbers with the same weights. A block
with several outputs gives a tuple; edges pick theirs by source port.
"""

from __future__ import annotations

import sys

import keras

from graph.block_inference import flat_layer_count
from graph.block_library import BlockLibrary
from graph.block_type import BLOCK
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


def build_model(graph: NetworkGraph, nested_blocks: bool | None = None) -> keras.Model:
    """Builds the Keras functional model of `graph`.

    Layer names in the model are the node names, so weights can be matched
    by name between the graph, exported code and imported models.

    Args:
        graph: The graph to build.
        nested_blocks: Build block instances as nested models (True) or
            flattened (False); None follows the graph's build setting `blocks`.

    Raises:
        BuildError: when validation reports errors.
    """
    check_valid(graph, BuildError)
    if nested_blocks is None:
        nested_blocks = graph.settings["build"]["blocks"] == "nested"
    _allow_depth(flat_layer_count(graph))
    tensors = _call_graph(graph, {}, "", nested_blocks)
    inputs = [tensors[node.id] for node in graph.input_nodes()]
    outputs = [tensors[node.id] for node in graph.output_nodes()]
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=model_name(graph),
    )


def _call_graph(graph: NetworkGraph, feeds: dict, prefix: str, nested: bool) -> dict:
    """The output tensor of every node of `graph`; `feeds` replace Input nodes by id.

    Layers are named `prefix + node name`.
    """
    tensors = dict(feeds)
    for node in topological_nodes(graph):
        if node.id in tensors:
            continue
        if node.type == "Input":
            tensors[node.id] = make_input(node.params, prefix + node.name)
            continue
        inputs = [_output(tensors[source], port) for source, port in input_sources(graph, node)]
        if node.type == BLOCK:
            tensors[node.id] = _call_block(graph.blocks, node, inputs, prefix, nested)
        else:
            layer = make_layer(node.type, node.params, prefix + node.name)
            tensors[node.id] = call_layer(node, layer, inputs)
    return tensors


def _output(value, port: int):
    """Output `port` of a node's result: a block with several outputs gives a tuple."""
    return value[port] if isinstance(value, tuple) else value


def _call_block(library: BlockLibrary, node: Node, inputs: list, prefix: str, nested: bool):
    """The output of block instance `node` on `inputs` (a tuple when it has several)."""
    definition = library.get(node.params["block"])
    entries = [entry.id for entry in definition.input_nodes()]
    exits = [exit_node.id for exit_node in definition.output_nodes()]
    if not nested:
        feeds = dict(zip(entries, inputs, strict=True))
        inner = _call_graph(definition, feeds, f"{prefix}{node.name}.", False)
        outputs = [inner[exit_id] for exit_id in exits]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
    # Each instance is a model of its own: its inputs take the shapes arriving here.
    ports = [
        keras.Input(shape=tensor.shape[1:], dtype=tensor.dtype, name=entry.name)
        for tensor, entry in zip(inputs, definition.input_nodes(), strict=True)
    ]
    inner = _call_graph(definition, dict(zip(entries, ports, strict=True)), "", True)
    outputs = [inner[exit_id] for exit_id in exits]
    model = keras.Model(
        inputs=ports[0] if len(ports) == 1 else ports,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=prefix + node.name,
    )
    result = model(inputs[0] if len(inputs) == 1 else inputs)
    return tuple(result) if len(outputs) > 1 else result


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
