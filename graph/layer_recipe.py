"""Which Keras layer a node stands for, with which arguments: written once.

`layer_construct` maps a node's type and params to a `Construct` (graph.recipe):
the Keras class by its path and its keyword arguments as plain values or nested
Constructs (initializers, regularizers, constraints, wrapped layers).
`runtime.layer_factory` instantiates it and `codegen.model_code` prints it, so
the app's model and the exported script's cannot drift apart. This module
imports neither Keras nor Qt.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from graph import keras_objects
from graph.catalog import CATALOG
from graph.layer_type import LayerType
from graph.params import OBJECT_KINDS
from graph.recipe import Construct

# keras.Input's dtype when none is given (Keras's floatx).
DEFAULT_INPUT_DTYPE = "float32"
_MISSING = object()


def input_construct(params: Mapping[str, Any], name: str, readable: bool = False) -> Construct:
    """`keras.Input(shape=..., dtype=..., name=...)` of an Input node.

    Args:
        params: Canonical Input params (`shape`, `dtype`).
        name: The node's name.
        readable: Leave out the default dtype, as a person writes the call.
    """
    kwargs: list[tuple[str, Any]] = [("shape", tuple(params["shape"]))]
    if not readable or params["dtype"] != DEFAULT_INPUT_DTYPE:
        kwargs.append(("dtype", params["dtype"]))
    kwargs.append(("name", name))
    return Construct("keras.Input", kwargs=tuple(kwargs))


def layer_construct(
    type_name: str, params: Mapping[str, Any], name: str, readable: bool = False
) -> Construct:
    """`keras.layers.<Class>(..., name=name)` of a node (not an Input).

    Args:
        type_name: Catalog type.
        params: The node's params; coerced here, so partial dicts get defaults.
        name: The layer name; a wrapped layer is named after it.
        readable: Leave out arguments equal to their catalog default (catalog
            defaults are Keras's; a test checks every type), except the key
            params and wrapped layers, as a person writes the call.

    Raises:
        KeyError: for a type the catalog lacks.
        ParamError: for params that do not fit their declarations.
    """
    entry = CATALOG[type_name]
    kwargs = _kwargs(entry, entry.coerce_params(params), name, readable)
    if readable:
        defaults = _default_kwargs(type_name)
        kwargs = {
            key: value
            for key, value in kwargs.items()
            if key in entry.key_params
            or _kind(entry, key) == "layer"
            or defaults.get(key, _MISSING) != value
        }
    return Construct(f"keras.layers.{entry.keras_class}", kwargs=(*kwargs.items(), ("name", name)))


def keras_object(family: str, value: Any) -> str | Construct | None:
    """An initializer, regularizer or constraint: None, a plain name or a Construct.

    Plain names stay names, as Keras's own layers record them; classes get the
    arguments graph.keras_objects.keras_call gives. A class with a single
    argument takes it by position: `keras.regularizers.L2(0.01)`.

    Args:
        family: "initializer", "regularizer" or "constraint".
        value: The canonical value (see graph/keras_objects.py).
    """
    call = keras_objects.keras_call(family, value)
    if call is None or isinstance(call, str):
        return call
    class_name, kwargs = call
    path = f"{keras_objects.MODULES[family]}.{class_name}"
    if len(keras_objects.CLASSES[family][class_name].arguments) == 1:
        return Construct(path, tuple(kwargs.values()))
    return Construct(path, kwargs=tuple(kwargs.items()))


def _kwargs(
    entry: LayerType, params: Mapping[str, Any], name: str, readable: bool
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for param in entry.params:
        value = params[param.name]
        if param.kind in OBJECT_KINDS:
            value = keras_object(param.kind, value)
        elif param.kind == "layer":
            inner = CATALOG[value["type"]]
            value = layer_construct(
                value["type"], value["params"], f"{name}_{inner.name_prefix}", readable
            )
        elif param.kind in ("ints", "floats") and value is not None:
            value = tuple(value)
        kwargs[param.name] = value
    return entry.to_keras(kwargs) if entry.to_keras else kwargs


@functools.cache
def _default_kwargs(type_name: str) -> dict[str, Any]:
    entry = CATALOG[type_name]
    return _kwargs(entry, entry.default_params(), "", readable=False)


def _kind(entry: LayerType, key: str) -> str | None:
    param = entry.param_index.get(key)
    return param.kind if param else None
