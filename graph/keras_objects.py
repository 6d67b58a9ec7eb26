"""Keras initializers, regularizers and constraints with their arguments.

The one list of the classes DeepWire knows in each family, with their typed
arguments and Keras's defaults. Param kinds "initializer", "regularizer" and
"constraint" take their values from here; the runtime builds them
(`keras.<module>.<Class>(**arguments)`), the code generator prints the same
call, and model import reads Keras's serialized form back through
:func:`from_keras`.

Values in graphs and files:

- a plain name: Keras's own snake_case shortcut ("he_normal", "max_norm"),
  meaning the class with its defaults;
- ``{"class": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}}``:
  the class with the arguments that differ from Keras's defaults;
- None (no regularizer, no constraint);
- regularizers only: ``{"l1": a, "l2": b}``, the canonical form of L1, L2 and
  L1L2 (the simplest class that equals it is built, see :func:`keras_call`).

Canonical form: a plain name when every argument has its default, otherwise
the mapping with only the arguments that differ, in declaration order.
"""

from __future__ import annotations

import functools
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph.params import Param, ParamError

FAMILIES = ("initializer", "regularizer", "constraint")
MODULES = {
    "initializer": "keras.initializers",
    "regularizer": "keras.regularizers",
    "constraint": "keras.constraints",
}


@dataclass(frozen=True)
class KerasClass:
    """One Keras class of a family, with its arguments.

    Args:
        name: The Keras class name, e.g. "VarianceScaling".
        help: One line for learners.
        arguments: Its constructor arguments, with Keras's defaults.
    """

    name: str
    help: str
    arguments: tuple[Param, ...] = ()

    @functools.cached_property
    def shortcut(self) -> str:
        """Keras's snake_case name for the class with its defaults."""
        return _snake(self.name)

    def argument(self, name: str) -> Param | None:
        return next((a for a in self.arguments if a.name == name), None)


def _snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _seed() -> Param:
    return Param("seed", "int", None, minimum=0, nullable=True, help="Random seed; empty: random")


def _float(name: str, default: float, help_text: str, minimum: float | None = None) -> Param:
    return Param(name, "float", default, minimum=minimum, help=help_text)


def _axis() -> Param:
    return Param("axis", "ints", (0,), help="Axes the norm is taken over (0: per output unit)")


_SEEDED = (_seed(),)

INITIALIZERS: tuple[KerasClass, ...] = (
    KerasClass("GlorotUniform", "Uniform, scaled to fan in + fan out (Xavier)", _SEEDED),
    KerasClass("GlorotNormal", "Normal, scaled to fan in + fan out (Xavier)", _SEEDED),
    KerasClass("HeUniform", "Uniform, scaled to fan in; suits ReLU", _SEEDED),
    KerasClass("HeNormal", "Normal, scaled to fan in; suits ReLU", _SEEDED),
    KerasClass("LecunUniform", "Uniform, scaled to fan in; suits SELU", _SEEDED),
    KerasClass("LecunNormal", "Normal, scaled to fan in; suits SELU", _SEEDED),
    KerasClass(
        "Orthogonal",
        "A random orthogonal matrix; keeps signals from growing or shrinking",
        (_float("gain", 1.0, "Multiplies the matrix"), _seed()),
    ),
    KerasClass(
        "RandomUniform",
        "Uniform between two bounds",
        (
            _float("minval", -0.05, "Lower bound"),
            _float("maxval", 0.05, "Upper bound"),
            _seed(),
        ),
    ),
    KerasClass(
        "RandomNormal",
        "Normal with a given mean and spread",
        (
            _float("mean", 0.0, "Mean"),
            _float("stddev", 0.05, "Standard deviation", minimum=0.0),
            _seed(),
        ),
    ),
    KerasClass(
        "TruncatedNormal",
        "Normal, redrawn beyond two standard deviations",
        (
            _float("mean", 0.0, "Mean"),
            _float("stddev", 0.05, "Standard deviation", minimum=0.0),
            _seed(),
        ),
    ),
    KerasClass(
        "VarianceScaling",
        "The general rule behind Glorot, He and LeCun: pick the scale, fan and distribution",
        (
            _float("scale", 1.0, "Variance multiplier (above 0)", minimum=1e-12),
            Param(
                "mode",
                "choice",
                "fan_in",
                choices=("fan_in", "fan_out", "fan_avg"),
                help="Which fan the variance is divided by",
            ),
            Param(
                "distribution",
                "choice",
                "truncated_normal",
                choices=("truncated_normal", "untruncated_normal", "uniform"),
                help="Shape of the random distribution",
            ),
            _seed(),
        ),
    ),
    KerasClass("Zeros", "All zeros (usual for biases)"),
    KerasClass("Ones", "All ones (usual for normalization scales)"),
    KerasClass("Constant", "Every weight the same value", (_float("value", 0.0, "The value"),)),
)

REGULARIZERS: tuple[KerasClass, ...] = (
    KerasClass(
        "L1",
        "Penalty on absolute weights; drives some to zero",
        (_float("l1", 0.01, "Strength", minimum=0.0),),
    ),
    KerasClass(
        "L2",
        "Penalty on squared weights (weight decay); keeps them small",
        (_float("l2", 0.01, "Strength", minimum=0.0),),
    ),
    KerasClass(
        "L1L2",
        "Both L1 and L2 penalties",
        (
            _float("l1", 0.0, "L1 strength", minimum=0.0),
            _float("l2", 0.0, "L2 strength", minimum=0.0),
        ),
    ),
    KerasClass(
        "OrthogonalRegularizer",
        "Pushes the rows (or columns) of a weight matrix to be orthogonal",
        (
            _float("factor", 0.01, "Strength", minimum=0.0),
            Param("mode", "choice", "rows", choices=("rows", "columns"), help="Rows or columns"),
        ),
    ),
)

CONSTRAINTS: tuple[KerasClass, ...] = (
    KerasClass(
        "MaxNorm",
        "Caps the size (norm) of each unit's incoming weights",
        (_float("max_value", 2.0, "Largest norm allowed", minimum=0.0), _axis()),
    ),
    KerasClass(
        "MinMaxNorm",
        "Keeps the norm of each unit's weights between two bounds",
        (
            _float("min_value", 0.0, "Smallest norm", minimum=0.0),
            _float("max_value", 1.0, "Largest norm", minimum=0.0),
            _float("rate", 1.0, "How far each step moves toward the bounds (0 to 1)", 0.0),
            _axis(),
        ),
    ),
    KerasClass("NonNeg", "Keeps weights zero or positive"),
    KerasClass("UnitNorm", "Keeps each unit's weights at norm 1", (_axis(),)),
)

CLASSES: dict[str, dict[str, KerasClass]] = {
    "initializer": {c.name: c for c in INITIALIZERS},
    "regularizer": {c.name: c for c in REGULARIZERS},
    "constraint": {c.name: c for c in CONSTRAINTS},
}
_BY_SHORTCUT = {
    family: {c.shortcut: c for c in classes.values()} for family, classes in CLASSES.items()
}
# Canonical regularizer mapping {"l1", "l2"}: the classes it stands for.
_STRENGTH_CLASSES = ("L1", "L2", "L1L2")

# Plain names Keras's own lookup cannot build ("constant" fails for want of a
# value); they are built as their class with its defaults instead.
_SHORTCUTS_KERAS_REFUSES = frozenset({"constant"})

INITIALIZER_NAMES = tuple(c.shortcut for c in INITIALIZERS)
"""The plain names of every initializer, as Keras spells its shortcuts."""


def keras_class(family: str, value: Any) -> KerasClass | None:
    """The class a value names (canonical or not), or None for None / unknown."""
    if isinstance(value, str):
        return _BY_SHORTCUT[family].get(value) or CLASSES[family].get(value)
    if isinstance(value, Mapping) and "class" in value:
        return CLASSES[family].get(value["class"])
    if family == "regularizer" and isinstance(value, Mapping):
        return CLASSES[family]["L1L2"]
    return None


def coerce(family: str, value: Any, label: str, allowed: tuple[str, ...] = ()) -> Any:
    """Returns the canonical form of a value of `family`, or raises ParamError.

    Args:
        family: "initializer", "regularizer" or "constraint".
        value: A plain name, a {"class", "config"} mapping, None, or for
            regularizers a {"l1", "l2"} mapping.
        label: The parameter name, for messages.
        allowed: Plain names of the classes allowed here; empty for all.
    """
    if value is None:
        return None
    if isinstance(value, str) and family != "regularizer" and value in _BY_SHORTCUT[family]:
        # The common case, checked on every shape inference: a canonical plain name.
        if not allowed or value in allowed:
            return value
    if family == "regularizer" and isinstance(value, Mapping) and "class" not in value:
        return _strengths(value, label)
    cls = keras_class(family, value)
    if cls is None or (allowed and cls.shortcut not in allowed):
        names = allowed or tuple(c.shortcut for c in CLASSES[family].values())
        raise ParamError(
            f"{label} must be one of {', '.join(names)}, or a mapping with class and config. "
            f"Received: {value!r}"
        )
    config: Mapping[str, Any] = {}
    if isinstance(value, Mapping):
        unknown = set(value) - {"class", "config"}
        if unknown:
            raise ParamError(
                f"{label} takes the keys class and config. Received: {sorted(unknown)[0]!r}"
            )
        config = value.get("config") or {}
        if not isinstance(config, Mapping):
            raise ParamError(f"{label}.config must be a mapping. Received: {config!r}")
    arguments = _arguments(cls, config, label)
    if family == "regularizer" and cls.name in _STRENGTH_CLASSES:
        full = {a.name: a.default for a in cls.arguments} | arguments
        return _strengths({"l1": full.get("l1", 0.0), "l2": full.get("l2", 0.0)}, label)
    if not arguments:
        return cls.shortcut
    return {"class": cls.name, "config": arguments}


def _arguments(cls: KerasClass, config: Mapping[str, Any], label: str) -> dict[str, Any]:
    """The arguments that differ from their defaults, in declaration order."""
    for key in config:
        if cls.argument(key) is None:
            known = ", ".join(a.name for a in cls.arguments) or "none"
            raise ParamError(
                f"{label}: {cls.name} has no argument {key!r} (its arguments: {known})"
            )
    result = {}
    for argument in cls.arguments:
        if argument.name not in config:
            continue
        try:
            value = argument.coerce(config[argument.name])
        except ParamError as error:
            raise ParamError(f"{label}: {cls.name} {error}") from None
        if value != argument.default:
            result[argument.name] = value
    return result


def _strengths(value: Mapping[str, Any], label: str) -> dict[str, float]:
    if not set(value) <= {"l1", "l2"} or not value:
        raise ParamError(
            f"{label} must be null, a mapping with l1 and/or l2 strengths, or a mapping "
            f"with class and config. Received: {dict(value)!r}"
        )
    result = {}
    for key in ("l1", "l2"):
        strength = value.get(key, 0.0)
        if isinstance(strength, bool) or not isinstance(strength, (int, float)):
            raise ParamError(f"{label}.{key} must be a number. Received: {strength!r}")
        if not math.isfinite(strength) or strength < 0:
            raise ParamError(f"{label}.{key} must be a finite number >= 0. Received: {strength!r}")
        result[key] = float(strength)
    return result


def class_form(family: str, value: Any) -> tuple[str, dict[str, Any]] | None:
    """(class name, every argument) of a canonical value; None for None.

    What an editor shows and what the builder and the code generator call.
    A {"l1", "l2"} regularizer gives the simplest class equal to it.
    """
    if value is None:
        return None
    if family == "regularizer" and isinstance(value, Mapping) and "class" not in value:
        l1, l2 = value["l1"], value["l2"]
        if l1 == 0 and l2 != 0:
            return "L2", {"l2": l2}
        if l2 == 0 and l1 != 0:
            return "L1", {"l1": l1}
        return "L1L2", {"l1": l1, "l2": l2}
    cls = keras_class(family, value)
    if cls is None:
        raise ValueError(f"not a canonical {family}: {value!r}")
    config = value.get("config", {}) if isinstance(value, Mapping) else {}
    return cls.name, {a.name: config.get(a.name, a.default) for a in cls.arguments}


def keras_call(family: str, value: Any) -> str | tuple[str, dict[str, Any]] | None:
    """What to give Keras for a canonical value: None, a plain name, or (class, kwargs).

    Plain names are passed as names, as Keras's own layers record them; a class
    gets only the arguments that differ from its defaults (plus both strengths
    of L1L2), so a rebuilt layer's config equals the original's.
    """
    if value is None or (isinstance(value, str) and value not in _SHORTCUTS_KERAS_REFUSES):
        return value
    name, arguments = class_form(family, value)
    cls = CLASSES[family][name]
    if name != "L1L2":
        arguments = {
            key: item
            for key, item in arguments.items()
            if item != cls.argument(key).default or name in ("L1", "L2")
        }
    return name, {key: _keras_value(item) for key, item in arguments.items()}


def _keras_value(value: Any) -> Any:
    # Constraint axes: one axis as Keras's int, several as a list.
    if isinstance(value, tuple):
        return value[0] if len(value) == 1 else list(value)
    return value


def from_keras(family: str, serialized: Any) -> Any:
    """A serialized Keras object ({"class_name", "config"}) as a canonical value.

    Raises:
        ParamError: for a class or an argument DeepWire does not know.
    """
    if serialized is None or isinstance(serialized, str):
        return serialized
    if not isinstance(serialized, Mapping) or "class_name" not in serialized:
        raise ParamError(f"not a serialized Keras {family}: {serialized!r}")
    name = serialized["class_name"]
    cls = CLASSES[family].get(name)
    if cls is None:
        raise ParamError(f"{family} {name} is not supported")
    config = dict(serialized.get("config") or {})
    arguments = {}
    for key, item in config.items():
        argument = cls.argument(key)
        if argument is None:
            if item is None:
                continue  # an optional Keras argument left unset
            raise ParamError(f"{family} {name} argument {key}={item!r} is not supported")
        if argument.kind == "ints" and isinstance(item, int):
            item = (item,)
        if argument.kind == "float" and isinstance(item, (int, float)):
            item = _float32_decimal(item) if family == "regularizer" else float(item)
        arguments[key] = item
    return coerce(family, {"class": name, "config": arguments}, family)


def _float32_decimal(value: float) -> float:
    """The shortest decimal that rounds to the same float32: Keras stores
    regularizer strengths as float32 (0.01 as 0.009999999776)."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 18):
        shown = float(f"{single:.{digits}g}")
        if struct.unpack("f", struct.pack("f", shown))[0] == single:
            return shown
    return single
