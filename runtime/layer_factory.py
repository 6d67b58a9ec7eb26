"""Catalog parameters into Keras layers, and back.

`make_layer` instantiates the layer graph.layer_recipe describes for a node's
type and params (the exported code prints the same recipe); `params_from_layer`
recovers them from a Keras layer for model import. The inverse is checked
rather than trusted: after reading a layer's config, the layer is rebuilt from
the recovered params and both configs are compared key by key, so a layer
the catalog cannot represent exactly (a constraint, a seeded initializer, a
data format, a dtype policy, ...) is refused with a message instead of being
imported as a different layer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import keras

from graph import keras_objects
from graph.catalog import CATALOG, REFUSED, type_for_class
from graph.layer_recipe import input_construct, layer_construct
from graph.layer_type import LayerType
from graph.messages import excerpt, printable
from graph.params import OBJECT_KINDS, ParamError
from runtime.recipe import instantiate

# Config keys that never change what a layer computes and have no Param. An adapted
# lookup (TextVectorization, StringLookup) reports the size of the vocabulary it learned
# as vocabulary_size: learned state, which the rebuilt layer learns again from the data.
IGNORED_KEYS = frozenset({"name", "trainable", "vocabulary_size"})
# Keras class of the graph's "Input" type.
INPUT_CLASS = "InputLayer"
# Keys of wrapper configs that hold a whole serialized layer.
WRAPPED_LAYER_KEYS = ("layer", "backward_layer")


class UnsupportedLayerError(ValueError):
    """A Keras layer the catalog cannot represent exactly."""


def make_input(params: Mapping[str, Any], name: str) -> keras.KerasTensor:
    """Builds the symbolic input tensor of an Input node (graph.layer_recipe.input_construct).

    Args:
        params: Canonical Input params (`shape`, `dtype`).
        name: The node's name.
    """
    return instantiate(input_construct(params, name))


def make_layer(type_name: str, params: Mapping[str, Any], name: str) -> keras.layers.Layer:
    """Builds the Keras layer of a node (graph.layer_recipe.layer_construct).

    Args:
        type_name: Catalog type, which is the Keras class name (not "Input":
            use `make_input`).
        params: The node's params; coerced here, so partial dicts get defaults.
        name: The layer name.

    Raises:
        KeyError: for a type the catalog lacks.
        ParamError: for params that do not fit their declarations.
        ValueError: for "Input", and where Keras refuses a combination of
            params (the shape rules report those first in a validated graph).
    """
    _entry(type_name)
    if type_name == "Input":
        raise ValueError(f"{name} (Input): build inputs with make_input, not make_layer")
    return instantiate(layer_construct(type_name, params, name))


def params_from_layer(layer: keras.layers.Layer) -> tuple[str, dict[str, Any]]:
    """Recovers the catalog type and canonical params of a Keras layer.

    Args:
        layer: A layer of a Keras model (an `InputLayer` maps to "Input").

    Returns:
        `(type_name, params)` such that `make_layer(type_name, params, ...)`
        builds a layer with the same configuration.

    Raises:
        UnsupportedLayerError: naming the layer, its class and what the catalog
            cannot represent.
    """
    class_name = type(layer).__name__
    public = getattr(keras.layers, type_for_class(class_name), None)
    if class_name != INPUT_CLASS and type(layer) is not public:
        raise UnsupportedLayerError(
            f"{printable(layer.name)} ({printable(class_name)}): custom layer classes are not "
            "supported; DeepWire knows the built-in keras.layers only"
        )
    return params_from_config(class_name, _full_config(layer, class_name))


def params_from_config(
    class_name: str, config: Mapping[str, Any], known: dict[str, tuple] | None = None
) -> tuple[str, dict[str, Any]]:
    """Like `params_from_layer`, from a class name and a layer config.

    Args:
        class_name: The Keras class name, e.g. "Conv2D" or "InputLayer".
        config: The layer's `get_config()` (or the "config" of its serialized
            form in a saved model).
        known: Results of earlier calls by config, names aside: a model's
            layers are mostly configured alike, and rebuilding each one to
            check it dominates the time of an import.

    Raises:
        UnsupportedLayerError: as `params_from_layer`.
    """
    if known is None:
        return _params_from_config(class_name, config)
    unnamed = {key: value for key, value in config.items() if key != "name"}
    try:
        key = json.dumps([class_name, unnamed], sort_keys=True, default=repr)
    except (TypeError, ValueError):  # keys that are not strings: read it unshared
        return _params_from_config(class_name, config)
    if key not in known:
        known[key] = _params_from_config(class_name, config)
    type_name, params = known[key]
    return type_name, copy.deepcopy(params)


def _params_from_config(class_name: str, config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    label = f"{printable(config.get('name', class_name.lower()))} ({printable(class_name)})"
    if class_name == INPUT_CLASS:
        return "Input", _input_params(config, label)
    class_name = type_for_class(class_name)
    if class_name in REFUSED:
        raise UnsupportedLayerError(f"{label}: not supported: {REFUSED[class_name]}")
    if class_name not in CATALOG or class_name == "Input":
        raise UnsupportedLayerError(
            f"{label}: layer type {printable(class_name)} is not in the catalog"
        )
    entry = CATALOG[class_name]
    try:
        readable = _readable(entry, config)
        params = entry.coerce_params(
            {key: value for key, value in readable.items() if key in entry.param_index}
        )
    except UnsupportedLayerError:
        raise
    except (ParamError, TypeError, KeyError) as error:
        raise UnsupportedLayerError(f"{label}: {error}") from None
    try:
        rebuilt = make_layer(class_name, params, "rebuilt").get_config()
    except ValueError as error:
        raise UnsupportedLayerError(f"{label}: Keras refuses its settings: {error}") from None
    _check_same(entry, config, rebuilt, label)
    return class_name, params


def _full_config(layer: keras.layers.Layer, class_name: str) -> dict[str, Any]:
    """`layer.get_config()` plus params Keras keeps but leaves out of it.

    Keras omits some settings from configs (SimpleRNN's seed, for one); the
    live layer or its recurrent cell still holds them.
    """
    config = layer.get_config()
    entry = CATALOG.get(type_for_class(class_name))
    if entry is None:
        return config
    for param in entry.params:
        if param.kind == "layer":
            inner = getattr(layer, "forward_layer", None) or layer.layer
            inner_class = type(inner).__name__
            config[param.name] = {
                "class_name": inner_class,
                "config": _full_config(inner, inner_class),
            }
            continue
        if param.name in config:
            continue
        for holder in (layer, getattr(layer, "cell", None)):
            if holder is not None and hasattr(holder, param.name):
                value = getattr(holder, param.name)
                if hasattr(value, "get_config"):
                    value = keras.saving.serialize_keras_object(value)
                config[param.name] = value
                break
    return config


def _entry(type_name: str) -> LayerType:
    try:
        return CATALOG[type_name]
    except KeyError:
        raise KeyError(f"Unknown layer type {type_name!r}") from None


def _input_params(config: Mapping[str, Any], label: str) -> dict[str, Any]:
    shape = config.get("batch_shape") or (None, *config.get("shape", ()))
    for flag in ("sparse", "ragged", "optional"):
        if config.get(flag):
            raise UnsupportedLayerError(f"{label}: {flag} inputs are not supported")
    if shape[0] is not None:
        raise UnsupportedLayerError(
            f"{label}: a fixed batch size is not supported. Received: batch_shape {excerpt(shape)}"
        )
    dtype = _dtype_name(config.get("dtype", "float32"))
    try:
        return CATALOG["Input"].coerce_params({"shape": list(shape[1:]), "dtype": dtype})
    except ParamError as error:
        raise UnsupportedLayerError(f"{label}: {error}") from None


def _readable(entry: LayerType, config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with Keras objects turned into catalog values, by kind."""
    config = dict(entry.from_keras(dict(config)) if entry.from_keras else config)
    for key, value in config.items():
        param = entry.param_index.get(key)
        if param is None:
            continue
        if param.kind in OBJECT_KINDS:
            try:
                config[key] = keras_objects.from_keras(param.kind, value)
            except ParamError as error:
                raise ParamError(f"{key}: {error}") from None
        elif param.kind == "layer" and isinstance(value, Mapping):
            # Bidirectional sets zero_output_for_mask on the layer it wraps by itself.
            inner = {k: v for k, v in value["config"].items() if k != "zero_output_for_mask"}
            inner_type, inner_params = params_from_config(value["class_name"], inner)
            config[key] = {"type": inner_type, "params": inner_params}
        elif isinstance(value, list):
            config[key] = tuple(value)
    return config


def _check_same(
    entry: LayerType, imported: Mapping[str, Any], rebuilt: Mapping[str, Any], label: str
) -> None:
    """Raises unless the rebuilt layer's config equals the imported one."""
    imported = _comparable(entry, imported)
    rebuilt = _comparable(entry, rebuilt)
    for key, value in imported.items():
        if key in IGNORED_KEYS or key not in rebuilt or rebuilt[key] == value:
            continue
        if key in WRAPPED_LAYER_KEYS and _same_wrapped(value, rebuilt[key], f"{label} {key}"):
            continue
        raise UnsupportedLayerError(f"{label}: {key} {_describe(key, value)} is not supported")


def _same_wrapped(imported: Any, rebuilt: Any, label: str) -> bool:
    """Whether two serialized wrapped layers match; raises naming a mismatch inside."""
    if not isinstance(imported, Mapping) or not isinstance(rebuilt, Mapping):
        return False
    class_name = imported.get("class_name")
    if class_name != rebuilt.get("class_name") or type_for_class(class_name) not in CATALOG:
        return False
    _check_same(CATALOG[type_for_class(class_name)], imported["config"], rebuilt["config"], label)
    return True


def _comparable(entry: LayerType, config: Mapping[str, Any]) -> dict[str, Any]:
    """A config in a form where equal layers give equal values."""
    config = dict(entry.from_keras(dict(config)) if entry.from_keras else config)
    result = {}
    for key, value in config.items():
        if key == "dtype":
            value = _dtype_name(value)
        elif key in WRAPPED_LAYER_KEYS and isinstance(value, Mapping):
            # Compared key by key in _same_wrapped, like a top-level config.
            result[key] = dict(value)
            continue
        else:
            value = _canonical_object(value)
        result[key] = _plain(value)
    return result


def _canonical_object(value: Any) -> Any:
    """A serialized initializer, regularizer or constraint in canonical form.

    Equal objects then compare equal however Keras spelled them (L2(0.01) and
    L1L2(l1=0, l2=0.01); a float32-rounded strength and its decimal).
    """
    for family, module in keras_objects.MODULES.items():
        if _is_serialized(value, module):
            try:
                return keras_objects.from_keras(family, value)
            except ParamError:
                continue  # configs from .h5 files may not name their module
    return value


def _plain(value: Any) -> Any:
    """Lists and tuples compared alike; JSON configs hold lists."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items() if key != "registered_name"}
    return value


def _dtype_name(value: Any) -> Any:
    if isinstance(value, Mapping):
        return (value.get("config") or {}).get("name", value.get("class_name"))
    return value


def _is_serialized(value: Any, module: str) -> bool:
    return (
        isinstance(value, Mapping)
        and "class_name" in value
        and str(value.get("module", module)).startswith(module)
    )


def _describe(key: str, value: Any) -> str:
    if isinstance(value, Mapping) and "class_name" in value:
        settings = value.get("config") or {}
        shown = ", ".join(f"{k}={excerpt(v)}" for k, v in settings.items() if v is not None)
        text = f"{value['class_name']}({shown})" if shown else str(value["class_name"])
        return printable(text, 200)
    return excerpt(value)
