"""The rule for layer names, written once: validation reports it, RenameNode enforces it.

TensorFlow uses layer names as name scopes: it refuses '/' (which nests
scopes) and other characters when the model runs (predict/fit), long after
Keras built it, so the rule is checked while the user edits.
"""

from __future__ import annotations

import re

from graph.messages import excerpt

# What TensorFlow accepts in a name scope (without '/', which nests scopes).
_KERAS_NAME = re.compile(r"[A-Za-z0-9_.>-]+")


def name_error(name: str) -> str | None:
    """Why `name` cannot name a layer (a sentence without the node), or None."""
    if not name.strip():
        return "the layer has no name"
    if "/" in name:
        return f"layer names cannot contain '/'. Received: {excerpt(name)}"
    if not _KERAS_NAME.fullmatch(name):
        return (
            "layer names may contain only letters A-Z, a-z, digits and "
            f"_ . - > (no spaces). Received: {excerpt(name)}"
        )
    return None


def suggested_name(name: str) -> str:
    """`name` with every character the rule refuses replaced by '_' ("layer" if empty)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.>-]", "_", name.strip())
    return cleaned or "layer"
