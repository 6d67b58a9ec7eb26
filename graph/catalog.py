"""The layer catalog: the single source of truth about every layer type.

The palette, the inspector, shape inference, validation, the Keras builder,
the code generator and model import all read from :data:`CATALOG`.
"""

from __future__ import annotations

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


def layer_type(type_name: str) -> LayerType:
    """Returns the catalog entry for `type_name`.

    Raises:
        KeyError: with a message naming the unknown type.
    """
    try:
        return CATALOG[type_name]
    except KeyError:
        raise KeyError(f"Unknown layer type {type_name!r}") from None


def by_category() -> dict[str, list[LayerType]]:
    """Catalog entries grouped by category, in palette order."""
    groups: dict[str, list[LayerType]] = {category: [] for category in CATEGORIES}
    for layer in CATALOG.values():
        groups.setdefault(layer.category, []).append(layer)
    return {category: layers for category, layers in groups.items() if layers}
