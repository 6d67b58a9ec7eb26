"""The node type of a block instance: one node standing for a whole reusable subgraph.

It is not in the layer catalog (no Keras class, no palette entry of its own):
its ports and shapes come from the block definition its `block` param names
(graph/block_library.py), so shape inference, validation, the builder and the
exporter treat it apart.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.params import Param

BLOCK = "Block"


def _shape_from_definition(_params, _inputs):
    raise ShapeError("a block's shape comes from its definition (graph.block_inference)")


BLOCK_TYPE = LayerType(
    type=BLOCK,
    category="Blocks",
    description=(
        "A group of layers you made once and reuse: every copy shares one definition, "
        "so changing the inside changes them all."
    ),
    params=(
        Param(
            "block",
            "str",
            "",
            help="The block definition this node uses",
            explanation=(
                "The name of the block definition this node stands for. Double-click the "
                "node to see and edit the layers inside."
            ),
        ),
    ),
    shape_rule=_shape_from_definition,
    max_inputs=None,
    key_params=("block",),
)
