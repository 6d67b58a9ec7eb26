"""Synthetic graphs of any size, for tests and benchmarks.

Both builders return valid graphs (every shape fits, every port connected)
with exactly `n` nodes, laid out left to right in rows so they look sensible
when opened in the editor.
"""

from __future__ import annotations

from graph.catalog import layer_type
from graph.model import AddEdge, AddNode, Edge, NetworkGraph

FEATURES = 32
CLASSES = 10
COLUMNS = 20
"""Nodes per row of the layout before it wraps to the next row."""
X_STEP = 220
Y_STEP = 150

# The repeating pattern of a chain: (type, params).
_CHAIN_PATTERN = (
    ("Dense", {"units": FEATURES, "activation": "relu"}),
    ("Dropout", {"rate": 0.1}),
    ("Dense", {"units": FEATURES}),
    ("Activation", {"activation": "tanh"}),
)


class _Builder:
    """Adds numbered nodes and edges to a graph, naming them as Keras would."""

    def __init__(self, name: str) -> None:
        self.graph = NetworkGraph(name)
        self.counts: dict[str, int] = {}

    def add(self, type_name: str, params: dict, *sources: str) -> str:
        prefix = layer_type(type_name).name_prefix
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        index = len(self.graph)
        position = ((index % COLUMNS) * X_STEP, (index // COLUMNS) * Y_STEP)
        # An explicit name avoids unique_name's scan of all names: linear, not quadratic.
        node = self.graph.new_node(type_name, f"{prefix}_{self.counts[prefix]}", params, position)
        edges = tuple(Edge(source, node.id, port) for port, source in enumerate(sources))
        self.graph.apply(AddNode(node))
        for edge in edges:
            self.graph.apply(AddEdge(edge))
        return node.id


def chain_graph(n: int) -> NetworkGraph:
    """Input -> Dense -> Dropout -> Dense -> Activation -> ... -> Dense(10, softmax).

    Args:
        n: Total number of nodes, at least 2.
    """
    _check_size(n)
    builder = _Builder(f"Chain of {n}")
    previous = builder.add("Input", {"shape": (FEATURES,)})
    for index in range(n - 2):
        type_name, params = _CHAIN_PATTERN[index % len(_CHAIN_PATTERN)]
        previous = builder.add(type_name, params, previous)
    builder.add("Dense", {"units": CLASSES, "activation": "softmax"}, previous)
    return builder.graph


def branched_graph(n: int) -> NetworkGraph:
    """Input, then blocks of two parallel branches merged by Add and by Concatenate.

    Each block of six nodes is: two Dense branches joined by Add (a residual
    style merge), then two narrower Dense branches joined by Concatenate back
    to the block's width. A Dense chain fills up to `n` nodes, ending in a
    softmax output.

    Args:
        n: Total number of nodes, at least 2.
    """
    _check_size(n)
    builder = _Builder(f"Branched graph of {n}")
    previous = builder.add("Input", {"shape": (FEATURES,)})
    block = 6
    blocks, rest = divmod(n - 2, block)
    half = FEATURES // 2
    for _ in range(blocks):
        left = builder.add("Dense", {"units": FEATURES, "activation": "relu"}, previous)
        right = builder.add("Dense", {"units": FEATURES}, previous)
        added = builder.add("Add", {}, left, right)
        narrow_left = builder.add("Dense", {"units": half, "activation": "relu"}, added)
        narrow_right = builder.add("Dense", {"units": half}, added)
        previous = builder.add("Concatenate", {}, narrow_left, narrow_right)
    for _ in range(rest):
        previous = builder.add("Dense", {"units": FEATURES, "activation": "relu"}, previous)
    builder.add("Dense", {"units": CLASSES, "activation": "softmax"}, previous)
    return builder.graph


def _check_size(n: int) -> None:
    if n < 2:
        raise ValueError(f"A generated graph needs an Input and an output: n >= 2. Received: {n}")
