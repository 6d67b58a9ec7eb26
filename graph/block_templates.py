"""Ready-made blocks the palette offers: residual, inception-style, transformer encoder.

Each template builds a block definition (a small graph whose Inputs are its
ports); placing one adds the definition under the template's name, once per
document, and an instance of it. The explanations are for learners.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graph.block_type import BLOCK
from graph.model import AddBlock, AddNode, Batch, Command, NetworkGraph, Node, Position

# What a palette item of a template carries instead of a layer type.
TEMPLATE_PREFIX = "template:"


@dataclass(frozen=True)
class BlockTemplate:
    """A block the palette offers.

    Args:
        name: The block's name in documents ("residual_block").
        title: How the palette shows it.
        explanation: One or two sentences for a learner.
        build: Makes the definition's graph.
    """

    name: str
    title: str
    explanation: str
    build: Callable[[], NetworkGraph]


def _chain(graph: NetworkGraph, source: Node, *layers: tuple[str, str, dict]) -> Node:
    """Adds `layers` (type, name, params) one after another after `source`; returns the last."""
    for type_name, name, params in layers:
        node = graph.add_node(type_name, name, params, (source.position[0] + 200, 0.0))
        graph.connect(source.id, node.id)
        source = node
    return source


def residual_block() -> NetworkGraph:
    """x -> conv -> conv, added back to x, then relu (He et al., 2016)."""
    graph = NetworkGraph()
    x = graph.add_node("Input", "x", {"shape": (32, 32, 16)})
    conv = {"filters": 16, "kernel_size": (3, 3), "padding": "same"}
    second = _chain(
        graph,
        x,
        ("Conv2D", "conv_1", {**conv, "activation": "relu"}),
        ("Conv2D", "conv_2", conv),
    )
    add = graph.add_node("Add", "add", position=(600.0, 0.0))
    graph.connect(second.id, add.id, 0)
    graph.connect(x.id, add.id, 1)
    _chain(graph, add, ("Activation", "relu", {"activation": "relu"}))
    return graph


def inception_block() -> NetworkGraph:
    """Four branches side by side (1x1, 3x3, 5x5 convolutions, pooling), concatenated."""
    graph = NetworkGraph()
    x = graph.add_node("Input", "x", {"shape": (32, 32, 16)})

    def conv(name: str, filters: int, size: int) -> tuple[str, str, dict]:
        params = {"filters": filters, "kernel_size": (size, size), "padding": "same"}
        return ("Conv2D", name, {**params, "activation": "relu"})

    pool = {"pool_size": (3, 3), "strides": (1, 1), "padding": "same"}
    branches = [
        _chain(graph, x, conv("branch_1x1", 16, 1)),
        _chain(graph, x, conv("reduce_3x3", 16, 1), conv("branch_3x3", 24, 3)),
        _chain(graph, x, conv("reduce_5x5", 8, 1), conv("branch_5x5", 8, 5)),
        _chain(graph, x, ("MaxPooling2D", "pool", pool), conv("pool_proj", 8, 1)),
    ]
    concat = graph.add_node("Concatenate", "concatenate", position=(600.0, 0.0))
    for port, branch in enumerate(branches):
        graph.connect(branch.id, concat.id, port)
    return graph


def transformer_encoder_block() -> NetworkGraph:
    """Self-attention and a feed-forward network, each added back and normalized."""
    graph = NetworkGraph()
    x = graph.add_node("Input", "x", {"shape": (16, 64)})
    attention = graph.add_node(
        "MultiHeadAttention", "attention", {"num_heads": 4, "key_dim": 16}, (200.0, 0.0)
    )
    graph.connect(x.id, attention.id, 0)
    graph.connect(x.id, attention.id, 1)
    add_1 = graph.add_node("Add", "add_1", position=(400.0, 0.0))
    graph.connect(x.id, add_1.id, 0)
    graph.connect(attention.id, add_1.id, 1)
    norm_1 = _chain(graph, add_1, ("LayerNormalization", "norm_1", {}))
    feed = _chain(
        graph,
        norm_1,
        ("Dense", "feed_forward", {"units": 128, "activation": "relu"}),
        ("Dense", "feed_back", {"units": 64}),
    )
    add_2 = graph.add_node("Add", "add_2", position=(1200.0, 0.0))
    graph.connect(norm_1.id, add_2.id, 0)
    graph.connect(feed.id, add_2.id, 1)
    _chain(graph, add_2, ("LayerNormalization", "norm_2", {}))
    return graph


TEMPLATES: dict[str, BlockTemplate] = {
    template.name: template
    for template in (
        BlockTemplate(
            "residual_block",
            "Residual block",
            "Two convolutions whose result is added back to the block's input, so the "
            "block only has to learn a correction; this shortcut lets very deep networks train.",
            residual_block,
        ),
        BlockTemplate(
            "inception_block",
            "Inception block",
            "Looks at the same image through small, medium and large filters and a pooling "
            "step side by side, and stacks what each branch found.",
            inception_block,
        ),
        BlockTemplate(
            "transformer_encoder_block",
            "Transformer encoder block",
            "Lets every position of a sequence look at every other (attention), then "
            "refines each position with a small dense network; both steps are added back "
            "and normalized.",
            transformer_encoder_block,
        ),
    )
}


def template_name(palette_type: str) -> str | None:
    """The template a palette item names (`template:residual_block`), or None for a layer."""
    if palette_type.startswith(TEMPLATE_PREFIX):
        name = palette_type.removeprefix(TEMPLATE_PREFIX)
        return name if name in TEMPLATES else None
    return None


def place_template(graph: NetworkGraph, name: str, position: Position) -> tuple[Node, Command]:
    """An instance of template `name` and the command that adds it.

    The definition is added under the template's name unless the document
    already has it, so every placed copy shares one definition.
    """
    instance = graph.new_node(BLOCK, graph.unique_name(name), {"block": name}, position)
    commands: list[Command] = []
    if name not in graph.blocks:
        commands.append(AddBlock(name, TEMPLATES[name].build()))
    commands.append(AddNode(instance))
    return instance, Batch(commands, f"Add {instance.name}")


def palette_node(
    graph: NetworkGraph, palette_type: str, position: Position
) -> tuple[Node, Command]:
    """A new node for a palette item (a layer type or a template) and the command adding it.

    Raises:
        KeyError: for an unknown layer type.
    """
    name = template_name(palette_type)
    if name is not None:
        return place_template(graph, name, position)
    node = graph.new_node(palette_type, position=position)
    return node, AddNode(node)
