"""The layer catalog: the single source of truth about every layer type.

The palette, the inspector, shape inference, validation, the Keras builder,
the code generator and model import all read from :data:`CATALOG`.
"""

from __future__ import annotations

from graph.block_type import BLOCK, BLOCK_TYPE
from graph.layer_type import LayerType
from graph.layers import FAMILIES

CATEGORIES = (
    "Core",
    "Convolution",
    "Pooling",
    "Recurrent",
    "Attention",
    "Normalization",
    "Regularization",
    "Merge",
    "Reshaping",
    "Activation",
    "Preprocessing",
)

CATALOG: dict[str, LayerType] = {
    layer.type: layer for family in FAMILIES for layer in family.LAYERS
}


def find_type(type_name: str) -> LayerType | None:
    """The declaration of a node type: a catalog entry, the block type, or None."""
    entry = CATALOG.get(type_name)
    if entry is None and type_name == BLOCK:
        return BLOCK_TYPE
    return entry


def layer_type(type_name: str) -> LayerType:
    """Returns the declaration of `type_name` (a catalog entry or the block type).

    Raises:
        KeyError: with a message naming the unknown type.
    """
    entry = find_type(type_name)
    if entry is None:
        raise KeyError(f"Unknown layer type {type_name!r}")
    return entry


def by_category() -> dict[str, list[LayerType]]:
    """Catalog entries grouped by category, in palette order."""
    groups: dict[str, list[LayerType]] = {category: [] for category in CATEGORIES}
    for layer in CATALOG.values():
        groups.setdefault(layer.category, []).append(layer)
    return {category: layers for category, layers in groups.items() if layers}
