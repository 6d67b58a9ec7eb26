"""The mask operations Keras records in a functional config, which a graph leaves out.

Keras 3 saves the mask that a Masking layer or an Embedding with mask_zero=True
makes as operations of the model (`not_equal`, then `any` for Masking) whose
result reaches later layers as `mask=`. A graph has no such operations, and
needs none: the model rebuilt from it makes the same mask in the same layer
and Keras hands it on to the layers downstream. So those operations are left
out, and only those: an operation that computes anything else, or a mask
that no Masking or mask_zero Embedding of the model makes, is still refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

TENSOR_CLASS = "__keras_tensor__"
# Modules of Keras operations (x + 3.0 on a tensor) that a functional config records like layers.
OPS_MODULES = ("keras.src.ops", "keras.ops")
MASK_KEYWORD = "mask"
# The operations Keras records to make a mask (an Embedding's, a Masking layer's).
MASK_OPERATIONS = frozenset({"NotEqual", "Any"})

TensorKey = tuple[str, int, int]
"""(layer name, call index, output index): Keras's `keras_history` of a tensor."""


def tensor_keys(value: Any) -> Iterator[TensorKey]:
    """The tensors a call record's argument holds, in order."""
    if isinstance(value, Mapping):
        if value.get("class_name") == TENSOR_CLASS:
            layer, call_index, output_index = value["config"]["keras_history"]
            yield (layer, call_index, output_index)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from tensor_keys(item)


def is_operation(entry: Mapping[str, Any]) -> bool:
    return str(entry.get("module") or "").startswith(OPS_MODULES)


def recorded_masks(layers: list[Any], outputs: list[TensorKey]) -> set[str]:
    """Names of the operations among one functional config's `layers` that only make a
    mask its Masking layers or mask_zero Embeddings make again (see the module docstring):
    `not_equal(input, mask value)`, then `any` over the last axis for Masking.

    Args:
        layers: The config's layer entries.
        outputs: The model's output tensors (an operation giving one is no mask).

    Returns:
        Those names, or none at all when any candidate computes something else.
    """
    entries = {entry_name(e): e for e in layers if isinstance(e, Mapping)}
    kinds = {name: e.get("class_name") for name, e in entries.items() if is_operation(e)}
    masks = {name for name, kind in kinds.items() if kind in MASK_OPERATIONS}
    data = {name: _data_inputs(entry) for name, entry in entries.items()}
    while True:  # an operation whose result is used as more than a mask is none
        kept = {key[0] for key in outputs} & masks
        for name, keys in data.items():
            if name not in masks:
                kept |= {key[0] for key in keys} & masks
        if not kept:
            break
        masks -= kept
    values = _mask_values(entries, data)
    for name in masks:
        if kinds[name] == "NotEqual":
            compared = set(_constants(entries[name]))
            made = len(data[name]) == 1 and bool(values.get(data[name][0], set()) & compared)
        else:  # any(not_equal(...)): reads only masks
            made = all(key[0] in masks for key in data[name])
        if not made:
            return set()
    return masks


def _mask_values(entries: dict, data: dict) -> dict[TensorKey, set[float]]:
    """For each tensor a mask-making layer reads, the values its mask leaves out."""
    values: dict[TensorKey, set[float]] = {}
    for name, entry in entries.items():
        class_name, config = entry.get("class_name"), entry.get("config") or {}
        if class_name == "Masking":
            value = config.get("mask_value", 0.0)
        elif class_name == "Embedding" and config.get("mask_zero"):
            value = 0
        else:
            continue
        for key in data[name][:1]:
            values.setdefault(key, set()).add(value)
    return values


def _call(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """The entry's first call record (a graph node is called once), or {}."""
    calls = entry.get("inbound_nodes") or []
    return calls[0] if calls and isinstance(calls[0], Mapping) else {}


def _constants(entry: Mapping[str, Any]) -> list:
    """The numbers among an operation call's arguments."""
    args = _call(entry).get("args", ())
    return [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]


def entry_name(entry: Mapping[str, Any]) -> str:
    """The name a layer or operation entry's tensors carry in their keras_history."""
    return str(entry.get("name") or (entry.get("config") or {}).get("name"))


def _data_inputs(entry: Mapping[str, Any]) -> list[TensorKey]:
    """The tensors the entry's call takes as data: all but a mask=."""
    call = _call(entry)
    kwargs = call.get("kwargs") or {}
    keys = list(tensor_keys(call.get("args", ())))
    for keyword, value in kwargs.items() if isinstance(kwargs, Mapping) else ():
        if keyword != MASK_KEYWORD:
            keys += tensor_keys(value)
    return keys
