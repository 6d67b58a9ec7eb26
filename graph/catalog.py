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

# Keras class names that differ from their catalog type (the class behind a public alias).
ALIASES: dict[str, str] = {
    name: layer.type for layer in CATALOG.values() for name in layer.class_names
}

# Keras layers left out of the catalog on purpose, and why (import names the reason).
REFUSED: dict[str, str] = {
    "Equalization": "Keras 3.15's Equalization returns its input tensor unchanged in a "
    "functional model, which Keras then refuses as a cycle",
}


def type_for_class(class_name: str) -> str:
    """The catalog type of a Keras class name (GroupedQueryAttention -> GroupQueryAttention)."""
    return ALIASES.get(class_name, class_name)


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
