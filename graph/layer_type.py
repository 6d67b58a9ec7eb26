"""The declaration of one layer type: everything the app knows about it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.messages import excerpt
from graph.params import Param, ParamError

Shape = tuple[int | None, ...]
"""A tensor shape including the batch dimension, which is None: (None, 64)."""

ShapeRule = Callable[[Mapping[str, Any], list[Shape]], Shape]
CountRule = Callable[[Mapping[str, Any], list[Shape], Shape], int]
MacRule = Callable[[Mapping[str, Any], list[Shape], Shape], "int | None"]
"""Multiply-accumulates per sample from params, input shapes and output shape; None if unknown."""


class ShapeError(ValueError):
    """Raised by a shape rule when its inputs cannot feed the layer.

    The message names the offending values; the caller prefixes the node.

    Args:
        message: What does not fit.
        needed_rank: The input rank (batch included) the layer needs, when a
            wrong rank is the reason; validation offers a reshape from it.
    """

    def __init__(self, message: str, needed_rank: int | None = None) -> None:
        super().__init__(message)
        self.needed_rank = needed_rank


def keras_snake_case(class_name: str) -> str:
    """Keras's own default layer-name prefix for a class (Conv2D -> conv2d)."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def no_params(_params: Mapping[str, Any], _inputs: list[Shape], _output: Shape) -> int:
    return 0


def no_macs(_params: Mapping[str, Any], _inputs: list[Shape], _output: Shape) -> int:
    """Cost rule of layers that only move data or work element by element: no MACs."""
    return 0


@dataclass(frozen=True)
class LayerType:
    """One entry of the layer catalog.

    Args:
        type: The name used in graph files; the Keras class name.
        category: Palette group (Core, Convolution, ...).
        description: One sentence a beginner understands.
        params: The typed constructor arguments, in the order shown.
        shape_rule: Pure-Python output shape from params and input shapes.
        count_params: Trainable plus non-trainable weights, as Keras counts.
        min_inputs: Fewest incoming edges (0 for Input).
        max_inputs: Most incoming edges; None for unbounded (merges).
        key_params: Parameters shown on the node face.
        input_names: Names of the ordered input ports, where they matter.
        to_keras: Turns params into Keras keyword arguments, where they differ.
        from_keras: Turns a Keras layer config into params; inverse of to_keras.
        count_macs: Multiply-accumulates per sample (graph.cost); the default
            counts none, right for layers that only move data or work element
            by element.
        class_names: Other names Keras gives the class (its `__name__` and
            saved `class_name`, where `type` is a public alias of it).
    """

    type: str
    category: str
    description: str
    params: tuple[Param, ...]
    shape_rule: ShapeRule
    count_params: CountRule = no_params
    min_inputs: int = 1
    max_inputs: int | None = 1
    key_params: tuple[str, ...] = ()
    input_names: tuple[str, ...] = ()
    to_keras: Callable[[dict], dict] | None = None
    from_keras: Callable[[dict], dict] | None = None
    count_macs: MacRule = no_macs
    class_names: tuple[str, ...] = ()
    param_index: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_index", {p.name: p for p in self.params})

    @property
    def keras_class(self) -> str:
        return self.type

    @property
    def name_prefix(self) -> str:
        return keras_snake_case(self.type)

    def default_params(self) -> dict[str, Any]:
        return {p.name: _copy(p.default) for p in self.params}

    def coerce_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Returns a complete, canonical parameter dict, defaults filled in.

        Raises:
            ParamError: naming the first unknown or invalid parameter.
        """
        unknown = [name for name in params if name not in self.param_index]
        if unknown:
            known = ", ".join(self.param_index) or "none"
            raise ParamError(
                f"{self.type} has no parameter {excerpt(unknown[0])} (its parameters: {known})"
            )
        result = {}
        for param in self.params:
            value = params[param.name] if param.name in params else _copy(param.default)
            result[param.name] = param.coerce(value)
        return result

    def port_name(self, port: int) -> str:
        if port < len(self.input_names):
            return self.input_names[port]
        return f"input {port}"

    def accepts_inputs(self, count: int) -> bool:
        upper = self.max_inputs if self.max_inputs is not None else count
        return self.min_inputs <= count <= upper


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value
