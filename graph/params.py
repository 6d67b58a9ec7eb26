"""Typed layer parameters: declaration, coercion of file values, and validation.

A :class:`Param` describes one constructor argument of a layer type. The same
declaration drives the inspector's editors, the graph-file checks and the
Keras builder, so every rule about a parameter's values lives here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.explanations import choice_explanation, layer_param_explanation
from graph.messages import excerpt

# The kinds a parameter can have. "multichoice" values are tuples of distinct
# choices (e.g. metrics); "initializer", "regularizer" and "constraint" values
# are Keras objects with their arguments (graph/keras_objects.py: a plain name,
# {"class": ..., "config": {...}}, None; regularizers also {"l1", "l2"});
# "layer" values are a wrapped layer {"type": str, "params": dict}
# (Bidirectional, TimeDistributed); "strs" values are tuples of non-empty
# strings (a vocabulary).
KINDS = (
    "int",
    "float",
    "bool",
    "choice",
    "multichoice",
    "str",
    "strs",
    "ints",
    "floats",
    "initializer",
    "regularizer",
    "constraint",
    "layer",
)
# Kinds whose values are Keras objects (graph/keras_objects.py).
OBJECT_KINDS = ("initializer", "regularizer", "constraint")

ACTIVATIONS = (
    "linear",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "elu",
    "selu",
    "gelu",
    "silu",
    "softplus",
    "softsign",
    "leaky_relu",
    "relu6",
    "hard_sigmoid",
    "hard_silu",
    "exponential",
    "mish",
    "log_softmax",
)


class ParamError(ValueError):
    """A parameter value that does not fit its declaration."""


@dataclass(frozen=True)
class When:
    """A condition on another parameter of the same node or settings section.

    Args:
        param: The other parameter's name.
        values: The values of it for which the condition holds.
    """

    param: str
    values: tuple

    def holds(self, values: Mapping[str, Any]) -> bool:
        return values.get(self.param) in self.values


def _all_hold(conditions: When | tuple[When, ...] | None, values: Mapping[str, Any]) -> bool:
    if conditions is None:
        return True
    if isinstance(conditions, When):
        return conditions.holds(values)
    return all(condition.holds(values) for condition in conditions)


def _bound(limit: float) -> str:
    """A range limit as messages print it: whole numbers in full (4294967295, not 4.29e+09)."""
    return str(int(limit)) if float(limit).is_integer() else f"{limit:g}"


@dataclass(frozen=True)
class Param:
    """One typed constructor argument of a layer type.

    Args:
        name: The Keras keyword argument.
        kind: One of :data:`KINDS`.
        default: The value a new node gets.
        minimum: Smallest allowed number (for "ints"/"floats": each item).
        maximum: Largest allowed number (for "ints"/"floats": each item).
        choices: Allowed values of a "choice" parameter; for an "initializer",
            the plain names of the classes allowed (empty: all).
        length: Exact item count of an "ints"/"floats" value; None for any.
        distinct: Whether the items of an "ints"/"strs" value must all differ
            (a vocabulary lists each token once).
        nullable: Whether None is allowed (Keras's "not set").
        help: One line for the inspector's tooltip.
        wrappable: Layer types a "layer" parameter may wrap.
        open_items: Whether items of an "ints" value may be None: a dimension
            left open, its size known only when data flows (Input shapes).
        explanation: One or two sentences for a learner: what it does, a
            sensible range, what too much or too little does. Empty: the
            shared explanation of layer parameters of this name
            (graph.explanations).
        shown_when: Forms show the parameter only when this condition (or
            all of these) holds, e.g. decay settings only with a schedule;
            None: always.
        enabled_when: Forms let it be edited only when this holds (likewise).
        hints: (value, hint) pairs: a "choice" refused for one of these values
            says its hint too, e.g. which choice reads a Parquet file.
    """

    name: str
    kind: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    length: int | None = None
    distinct: bool = False
    nullable: bool = False
    help: str = ""
    wrappable: tuple[str, ...] = field(default=())
    open_items: bool = False
    explanation: str = ""
    shown_when: When | tuple[When, ...] | None = None
    enabled_when: When | tuple[When, ...] | None = None
    hints: tuple[tuple[Any, str], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name}: unknown kind {self.kind!r}")

    def is_shown(self, values: Mapping[str, Any]) -> bool:
        """Whether forms show this parameter, given its node's or section's `values`."""
        return _all_hold(self.shown_when, values)

    def is_enabled(self, values: Mapping[str, Any]) -> bool:
        """Whether forms let the user edit it, given its node's or section's `values`."""
        return _all_hold(self.enabled_when, values)

    def describe(self) -> str:
        """The explanation for a learner: its own, else the shared one of its name."""
        return self.explanation or layer_param_explanation(self.name)

    def tooltip(self) -> str:
        """The help line and the explanation, as plain text for a tooltip."""
        return "\n".join(part for part in (self.help, self.describe()) if part)

    def choice_tooltip(self, choice: Any) -> str:
        """What one of its choices means (an activation, optimizer, ...), or ""."""
        return choice_explanation(self.name, choice)

    def coerce(self, value: Any) -> Any:
        """Returns `value` in its canonical form, or raises ParamError.

        Canonical forms: tuples for "ints"/"floats", floats for "float",
        a fresh dict for "layer", Keras objects as graph/keras_objects.py
        says. A single number given for a fixed-length tuple is repeated, as
        Keras does for `kernel_size=3`.
        """
        if value is None:
            if self.nullable or self.kind in ("regularizer", "constraint"):
                return None
            raise ParamError(f"{self.name} must be set. Received: None")
        kind = self.kind
        if kind == "int":
            return self._number(value, int)
        if kind == "float":
            return float(self._number(value, float))
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"{self.name} must be true or false. Received: {excerpt(value)}")
            return value
        if kind == "choice":
            if value not in self.choices or isinstance(value, bool) != isinstance(
                self.choices[0], bool
            ):
                shown = ", ".join(repr(c) for c in self.choices)
                hint = next((f" ({h})" for v, h in self.hints if v == value), "")
                raise ParamError(
                    f"{self.name} must be one of {shown}. Received: {excerpt(value)}{hint}"
                )
            return value
        if kind == "multichoice":
            return self._multichoice(value)
        if kind == "str":
            # YAML reads `target_column: 2` as a number: a whole number is its own text
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
            if not isinstance(value, str):
                raise ParamError(f"{self.name} must be a string. Received: {excerpt(value)}")
            return value
        if kind in ("ints", "floats"):
            return self._distinct(self._sequence(value, int if kind == "ints" else float))
        if kind == "strs":
            return self._distinct(self._strings(value))
        if kind in OBJECT_KINDS:
            # Imported lazily: graph.keras_objects declares its arguments with Param.
            from graph import keras_objects

            return keras_objects.coerce(kind, value, self.name, self.choices)
        return self._layer(value)

    def _number(self, value: Any, number_type: type) -> int | float:
        accepted = (int,) if number_type is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, accepted):
            what = "an integer" if number_type is int else "a number"
            raise ParamError(f"{self.name} must be {what}. Received: {excerpt(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{self.name} must be a finite number. Received: {excerpt(value)}")
        self._check_range(value, self.name)
        return value

    def _check_range(self, value: float, label: str) -> None:
        if self.minimum is not None and value < self.minimum:
            shown = _bound(self.minimum)
            raise ParamError(f"{label} must be >= {shown}. Received: {excerpt(value)}")
        if self.maximum is not None and value > self.maximum:
            shown = _bound(self.maximum)
            raise ParamError(f"{label} must be <= {shown}. Received: {excerpt(value)}")

    def _sequence(self, value: Any, item_type: type) -> tuple:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.length:
            value = [value] * self.length
        if not isinstance(value, (list, tuple)):
            raise ParamError(f"{self.name} must be a list of numbers. Received: {excerpt(value)}")
        if self.length is not None and len(value) != self.length:
            raise ParamError(
                f"{self.name} must have {self.length} items. Received: {excerpt(list(value))}"
            )
        if self.length is None and not value:
            raise ParamError(f"{self.name} must have at least one item. Received: []")
        items = []
        for item in value:
            if item is None and self.open_items:
                items.append(None)
                continue
            accepted = (int,) if item_type is int else (int, float)
            if isinstance(item, bool) or not isinstance(item, accepted):
                kind = "integers" if item_type is int else "numbers"
                raise ParamError(
                    f"{self.name} must contain {kind}. Received: {excerpt(list(value))}"
                )
            if isinstance(item, float) and not math.isfinite(item):
                raise ParamError(
                    f"{self.name} must contain finite numbers. Received: {excerpt(item)}"
                )
            self._check_range(item, f"each item of {self.name}")
            items.append(item_type(item))
        return tuple(items)

    def _strings(self, value: Any) -> tuple:
        if not isinstance(value, (list, tuple)):
            raise ParamError(f"{self.name} must be a list of strings. Received: {excerpt(value)}")
        if not value:
            raise ParamError(f"{self.name} must have at least one item. Received: []")
        for position, item in enumerate(value, 1):
            if not isinstance(item, str):
                raise ParamError(
                    f"{self.name} must contain strings; item {position} is not. "
                    f"Received: {excerpt(item)}"
                )
            if not item:
                raise ParamError(f"{self.name}: item {position} is empty; every item needs text")
        return tuple(value)

    def _distinct(self, items: tuple) -> tuple:
        if not self.distinct:
            return items
        seen: set = set()
        for item in items:
            if item in seen:
                raise ParamError(
                    f"{self.name} lists {excerpt(item)} more than once; each item may appear "
                    f"once. Received: {excerpt(list(items))}"
                )
            seen.add(item)
        return items

    def _multichoice(self, value: Any) -> tuple:
        if not isinstance(value, (list, tuple)):
            raise ParamError(f"{self.name} must be a list. Received: {excerpt(value)}")
        for item in value:
            if item not in self.choices:
                shown = ", ".join(repr(c) for c in self.choices)
                raise ParamError(
                    f"{self.name} items must be among {shown}. Received: {excerpt(item)}"
                )
        if len(set(value)) != len(value):
            raise ParamError(f"{self.name} lists an item twice. Received: {excerpt(list(value))}")
        return tuple(value)

    def _layer(self, value: Any) -> dict:
        # Imported lazily: the catalog imports this module.
        from graph.catalog import CATALOG

        if not isinstance(value, dict) or set(value) - {"type", "params"} or "type" not in value:
            raise ParamError(
                f"{self.name} must be a mapping with a type and params. Received: {excerpt(value)}"
            )
        inner_type = value["type"]
        if inner_type not in self.wrappable:
            shown = ", ".join(self.wrappable)
            raise ParamError(f"{self.name} can wrap {shown}. Received: {excerpt(inner_type)}")
        params = value.get("params") or {}
        if not isinstance(params, dict):
            raise ParamError(f"{self.name}.params must be a mapping. Received: {excerpt(params)}")
        return {"type": inner_type, "params": CATALOG[inner_type].coerce_params(params)}
