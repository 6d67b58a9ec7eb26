"""Makes the Keras objects the recipe (graph.recipe) describes."""

from __future__ import annotations

import importlib
from typing import Any

from graph.recipe import Construct, Ref

_ROOTS = {"keras": "keras", "tf": "tensorflow"}


def resolve(path: str) -> Any:
    """The object at a dotted path from keras ("keras.optimizers.Adam") or tf ("tf.x.Y")."""
    root, *names = path.split(".")
    target: Any = importlib.import_module(_ROOTS[root])
    for name in names:
        target = getattr(target, name)
    return target


def instantiate(value: Any, refs: dict[str, Any] | None = None) -> Any:
    """`value` with every Construct made and every Ref replaced by `refs[name]`."""
    if isinstance(value, Construct):
        args = [instantiate(arg, refs) for arg in value.args]
        kwargs = {key: instantiate(arg, refs) for key, arg in value.kwargs}
        return resolve(value.path)(*args, **kwargs)
    if isinstance(value, Ref):
        return (refs or {})[value.name]
    if isinstance(value, list):
        return [instantiate(item, refs) for item in value]
    return value
