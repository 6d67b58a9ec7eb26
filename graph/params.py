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

# The kinds a parameter can have. "multichoice" values are tuples of distinct
# choices (e.g. metrics); "regularizer" values are None or a mapping
# {"l1": float, "l2": float}; "layer" values are a wrapped layer
# {"type": str, "params": dict} (Bidirectional, TimeDistributed).
KINDS = (
    "int",
    "float",
    "bool",
    "choice",
    "multichoice",
    "str",
    "ints",
    "floats",
    "regularizer",
    "layer",
)

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
    "exponential",
    "mish",
    "log_softmax",
)

INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "variance_scaling",
    "zeros",
    "ones",
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


@dataclass(frozen=True)
class Param:
    """One typed constructor argument of a layer type.

    Args:
        name: The Keras keyword argument.
        kind: One of :data:`KINDS`.
        default: The value a new node gets.
        minimum: Smallest allowed number (for "ints"/"floats": each item).
        maximum: Largest allowed number (for "ints"/"floats": each item).
        choices: Allowed values of a "choice" parameter.
        length: Exact item count of an "ints"/"floats" value; None for any.
        nullable: Whether None is allowed (Keras's "not set").
        help: One line for the inspector's tooltip.
        explanation: One or two sentences for a learner: what it does, a
            sensible range, what too much or too little does. Empty: the
            shared explanation of layer parameters of this name
            (graph.explanations).
        shown_when: Forms show the parameter only when this condition (or
            all of these) holds, e.g. decay settings only with a schedule;
            None: always.
        enabled_when: Forms let it be edited only when this holds (likewise).
    """

    name: str
    kind: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    length: int | None = None
    nullable: bool = False
    help: str = ""
    wrappable: tuple[str, ...] = field(default=())
    explanation: str = ""
    shown_when: When | tuple[When, ...] | None = None
    enabled_when: When | tuple[When, ...] | None = None

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
        a fresh dict for "regularizer" and "layer". A single number given for
        a fixed-length tuple is repeated, as Keras does for `kernel_size=3`.
        """
        if value is None:
            if self.nullable or (self.kind == "regularizer"):
                return None
            raise ParamError(f"{self.name} must be set. Received: None")
        kind = self.kind
        if kind == "int":
            return self._number(value, int)
        if kind == "float":
            return float(self._number(value, float))
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"{self.name} must be true or false. Received: {value!r}")
            return value
        if kind == "choice":
            if value not in self.choices or isinstance(value, bool) != isinstance(
                self.choices[0], bool
            ):
                shown = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"{self.name} must be one of {shown}. Received: {value!r}")
            return value
        if kind == "multichoice":
            return self._multichoice(value)
        if kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"{self.name} must be a string. Received: {value!r}")
            return value
        if kind in ("ints", "floats"):
            return self._sequence(value, int if kind == "ints" else float)
        if kind == "regularizer":
            return self._regularizer(value)
        return self._layer(value)

    def _number(self, value: Any, number_type: type) -> int | float:
        accepted = (int,) if number_type is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, accepted):
            what = "an integer" if number_type is int else "a number"
            raise ParamError(f"{self.name} must be {what}. Received: {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{self.name} must be a finite number. Received: {value!r}")
        self._check_range(value, self.name)
        return value

    def _check_range(self, value: float, label: str) -> None:
        if self.minimum is not None and value < self.minimum:
            raise ParamError(f"{label} must be >= {self.minimum:g}. Received: {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise ParamError(f"{label} must be <= {self.maximum:g}. Received: {value!r}")

    def _sequence(self, value: Any, item_type: type) -> tuple:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.length:
            value = [value] * self.length
        if not isinstance(value, (list, tuple)):
            raise ParamError(f"{self.name} must be a list of numbers. Received: {value!r}")
        if self.length is not None and len(value) != self.length:
            raise ParamError(
                f"{self.name} must have {self.length} items. Received: {list(value)!r}"
            )
        if self.length is None and not value:
            raise ParamError(f"{self.name} must have at least one item. Received: []")
        items = []
        for item in value:
            accepted = (int,) if item_type is int else (int, float)
            if isinstance(item, bool) or not isinstance(item, accepted):
                kind = "integers" if item_type is int else "numbers"
                raise ParamError(f"{self.name} must contain {kind}. Received: {list(value)!r}")
            if isinstance(item, float) and not math.isfinite(item):
                raise ParamError(f"{self.name} must contain finite numbers. Received: {item!r}")
            self._check_range(item, f"each item of {self.name}")
            items.append(item_type(item))
        return tuple(items)

    def _multichoice(self, value: Any) -> tuple:
        if not isinstance(value, (list, tuple)):
            raise ParamError(f"{self.name} must be a list. Received: {value!r}")
        for item in value:
            if item not in self.choices:
                shown = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"{self.name} items must be among {shown}. Received: {item!r}")
        if len(set(value)) != len(value):
            raise ParamError(f"{self.name} lists an item twice. Received: {list(value)!r}")
        return tuple(value)

    def _regularizer(self, value: Any) -> dict:
        if not isinstance(value, dict) or not set(value) <= {"l1", "l2"} or not value:
            raise ParamError(
                f"{self.name} must be null or a mapping with l1 and/or l2 strengths. "
                f"Received: {value!r}"
            )
        result = {}
        for key in ("l1", "l2"):
            strength = value.get(key, 0.0)
            if isinstance(strength, bool) or not isinstance(strength, (int, float)):
                raise ParamError(f"{self.name}.{key} must be a number. Received: {strength!r}")
            if not math.isfinite(strength) or strength < 0:
                raise ParamError(
                    f"{self.name}.{key} must be a finite number >= 0. Received: {strength!r}"
                )
            result[key] = float(strength)
        return result

    def _layer(self, value: Any) -> dict:
        # Imported lazily: the catalog imports this module.
        from graph.catalog import CATALOG

        if not isinstance(value, dict) or set(value) - {"type", "params"} or "type" not in value:
            raise ParamError(
                f"{self.name} must be a mapping with a type and params. Received: {value!r}"
            )
        inner_type = value["type"]
        if inner_type not in self.wrappable:
            shown = ", ".join(self.wrappable)
            raise ParamError(f"{self.name} can wrap {shown}. Received: {inner_type!r}")
        params = value.get("params") or {}
        if not isinstance(params, dict):
            raise ParamError(f"{self.name}.params must be a mapping. Received: {params!r}")
        return {"type": inner_type, "params": CATALOG[inner_type].coerce_params(params)}
