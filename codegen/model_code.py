"""Graph -> the source of a `build_model()` function in the Keras functional API.

Layers and inputs are graph.layer_recipe's constructs, which the app's builder
instantiates; call style and names follow graph.wiring as the builder does, so
executing the exported function gives the model the app builds.
"""

from __future__ import annotations

from typing import Any

from codegen.layout_code import Call, Code, Expr, Keyword, Sequence, Value, statement
from codegen.literals import identifier
from codegen.recipe_code import construct_expr
from graph.layer_recipe import input_construct, layer_construct
from graph.model import NetworkGraph, Node
from graph.validation import InvalidGraphError, Problem, check_valid
from graph.wiring import (
    LIST,
    POSITIONAL,
    call_style,
    input_sources,
    model_name,
    recursion_limit,
    topological_nodes,
)

# Above this many layers the exported code raises the recursion limit.
DEEP_GRAPH = 100
FUNCTION_DOC = '    """Builds the Keras model drawn in DeepWire (functional API)."""'


class ExportError(InvalidGraphError):
    """A graph that cannot be exported; `problems` holds the validator's errors."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "exported")


def check_exportable(graph: NetworkGraph) -> None:
    """Raises ExportError unless `graph` validates (code is exported only for valid graphs)."""
    check_valid(graph, ExportError)


def build_model_function(graph: NetworkGraph) -> list[str]:
    """The lines of `def build_model():` for a valid `graph`."""
    variables: dict[str, str] = {}
    used: set[str] = set()
    body = [FUNCTION_DOC]
    if needs_deep_recursion(graph):
        limit = recursion_limit(len(graph))
        body += [
            "    # keras.Model walks the layers recursively; this model is deep.",
            f"    sys.setrecursionlimit(max(sys.getrecursionlimit(), {limit}))",
        ]
    for node in topological_nodes(graph):
        variable = identifier(node.name, used)
        used.add(variable)
        if node.type == "Input":
            body += statement(input_expr(node), 4, f"{variable} = ")
        else:
            sources = [Code(variables[source]) for source in input_sources(graph, node)]
            expr = Call(layer_expr(node.type, node.params, node.name), _call_args(node, sources))
            body += statement(expr, 4, f"{variable} = ")
        variables[node.id] = variable
    inputs = [Code(variables[node.id]) for node in graph.input_nodes()]
    outputs = [Code(variables[node.id]) for node in graph.output_nodes()]
    model = Call(
        Code("keras.Model"),
        (
            Keyword("inputs", inputs[0] if len(inputs) == 1 else Sequence(tuple(inputs))),
            Keyword("outputs", outputs[0] if len(outputs) == 1 else Sequence(tuple(outputs))),
            Keyword("name", Value(model_name(graph))),
        ),
    )
    return ["def build_model():", *body, *statement(model, 4, "return ")]


def needs_deep_recursion(graph: NetworkGraph) -> bool:
    """Whether building the model may exceed Python's default recursion limit."""
    return len(graph) > DEEP_GRAPH


def _call_args(node: Node, sources: list[Code]) -> tuple[Expr, ...]:
    style = call_style(node.type)
    if style == POSITIONAL:
        return tuple(sources)
    if style == LIST:
        return (Sequence(tuple(sources)),)
    return (sources[0],)


def input_expr(node: Node) -> Expr:
    """`keras.Input(shape=..., name=...)`: graph.layer_recipe's input, printed."""
    return construct_expr(input_construct(node.params, node.name, readable=True))


def layer_expr(type_name: str, params: dict[str, Any], name: str) -> Expr:
    """`keras.layers.Type(...)` of a node: graph.layer_recipe's layer, printed.

    Arguments equal to their defaults are left out for readability, except the
    key parameters, which are always shown.
    """
    return construct_expr(layer_construct(type_name, params, name, readable=True))
