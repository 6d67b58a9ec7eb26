"""Prints the recipe's constructs (graph.recipe) as source, the way runtime.recipe makes them."""

from __future__ import annotations

from typing import Any

from codegen.layout_code import Call, Code, Expr, Keyword, Sequence, Value
from graph.recipe import Construct, Ref


def construct_expr(value: Any) -> Expr:
    """`value` as an expression: Constructs as calls, Refs as names, the rest as literals."""
    if isinstance(value, Construct):
        args = tuple(construct_expr(arg) for arg in value.args)
        kwargs = tuple(Keyword(key, construct_expr(arg)) for key, arg in value.kwargs)
        return Call(Code(value.path), args + kwargs)
    if isinstance(value, Ref):
        return Code(value.name)
    if isinstance(value, list):
        return Sequence(tuple(construct_expr(item) for item in value))
    return Value(value)
