"""Graph -> the source of a `build_model()` function in the Keras functional API.

Layers and inputs are graph.layer_recipe's constructs, which the app's builder
instantiates; call style and names follow graph.wiring as the builder does, so
executing the exported function gives the model the app builds.
Each block definition becomes one function, called where an instance is,
whose layers are named `prefix + layer name` as the builder names them when
it flattens blocks; a block with several outputs returns a tuple, unpacked
into one variable per output.
"""

from __future__ import annotations

from typing import Any

from codegen.layout_code import Call, Code, Expr, Keyword, Sequence, Value, statement
from codegen.literals import docstring_text, identifier, string_literal
from codegen.recipe_code import construct_expr
from graph.block_inference import flat_layer_count, output_names
from graph.block_type import BLOCK
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
    """The lines of the block functions (if any) and `def build_model():` for a valid `graph`."""
    functions = _block_function_names(graph)
    lines: list[str] = []
    for name, definition in graph.blocks.items():
        lines += [*_block_function(definition, functions[name], functions), "", ""]
    variables: dict[str, str] = {}
    used: set[str] = set()
    body = [FUNCTION_DOC]
    if needs_deep_recursion(graph):
        limit = recursion_limit(flat_layer_count(graph))
        body += [
            "    # keras.Model walks the layers recursively; this model is deep.",
            f"    sys.setrecursionlimit(max(sys.getrecursionlimit(), {limit}))",
        ]
    body += _body(graph, None, variables, used, functions)
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
    return [*lines, "def build_model():", *body, *statement(model, 4, "return ")]


def _block_function_names(graph: NetworkGraph) -> dict[str, str]:
    """A function name per block definition: `res` -> `res_block`."""
    names: dict[str, str] = {}
    taken = {"build_model"}
    for name in graph.blocks:
        base = identifier(name)
        function = identifier(base if base.endswith("block") else f"{base}_block", taken)
        taken.add(function)
        names[name] = function
    return names


def _block_function(
    definition: NetworkGraph, function: str, functions: dict[str, str]
) -> list[str]:
    """`def res_block(x, prefix):` returning the block's output for its inputs."""
    variables: dict[str, str] = {}
    used = {"prefix"}
    for entry in definition.input_nodes():
        variables[entry.id] = identifier(entry.name, used)
        used.add(variables[entry.id])
    arguments = ", ".join([*(variables[e.id] for e in definition.input_nodes()), "prefix"])
    name = docstring_text(definition.name)
    exits = definition.output_nodes()
    body = [f'    """Block {name}: its layers are named prefix + their name."""']
    if len(exits) > 1:
        names = ", ".join(docstring_text(exit_node.name) for exit_node in exits)
        body = [body[0][:-3], "", f"    Returns its outputs, in this order: {names}.", '    """']
    body += _body(definition, "prefix", variables, used, functions)
    results = ", ".join(variables[exit_node.id] for exit_node in exits)
    return [f"def {function}({arguments}):", *body, f"    return {results}"]


def _body(
    graph: NetworkGraph,
    prefix: str | None,
    variables: dict[str, str | tuple[str, ...]],
    used: set[str],
    functions: dict[str, str],
) -> list[str]:
    """One statement per node not yet in `variables`, in topological order.

    Args:
        prefix: The variable holding the name prefix of the layers (inside a
            block function), or None for plain names.
    """
    body: list[str] = []
    for node in topological_nodes(graph):
        if node.id in variables:
            continue
        if node.type == "Input":
            expr = input_expr(node)
        else:
            sources = [
                Code(_variable(variables[source], port))
                for source, port in input_sources(graph, node)
            ]
            if node.type == BLOCK:
                inner = _prefixed(prefix, node.name + ".")
                expr = Call(
                    Code(functions[node.params["block"]]), (*sources, Keyword("prefix", inner))
                )
            else:
                call = layer_expr(node.type, node.params, node.name, prefix)
                expr = Call(call, _call_args(node, sources))
        exits = output_names(graph.blocks, node.params["block"]) if node.type == BLOCK else ()
        # A block with several outputs: one variable each, unpacked from its tuple.
        wanted = [f"{node.name}_{name}" for name in exits] if len(exits) > 1 else [node.name]
        names = []
        for name in wanted:
            names.append(identifier(name, used))
            used.add(names[-1])
        body += statement(expr, 4, f"{', '.join(names)} = ")
        variables[node.id] = names[0] if len(names) == 1 else tuple(names)
    return body


def _variable(held: str | tuple[str, ...], port: int) -> str:
    """The variable of output `port` of a node (a tuple of names for several outputs)."""
    return held[port] if isinstance(held, tuple) else held


def _prefixed(prefix: str | None, name: str) -> Expr:
    """A layer name, after the prefix variable when there is one: `prefix + "conv_1"`."""
    return Value(name) if prefix is None else Code(f"{prefix} + {string_literal(name)}")


def needs_deep_recursion(graph: NetworkGraph) -> bool:
    """Whether building the model may exceed Python's default recursion limit."""
    return flat_layer_count(graph) > DEEP_GRAPH


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


def layer_expr(
    type_name: str, params: dict[str, Any], name: str, prefix: str | None = None
) -> Expr:
    """`keras.layers.Type(...)` of a node: graph.layer_recipe's layer, printed.

    Arguments equal to their defaults are left out for readability, except the
    key parameters, which are always shown.

    Args:
        type_name: The catalog type.
        params: The node's params.
        name: The layer's name.
        prefix: The variable every layer name in it follows, inside a block function.
    """
    expr = construct_expr(layer_construct(type_name, params, name, readable=True))
    return expr if prefix is None else _with_prefix(expr, prefix)


def _with_prefix(expr: Expr, prefix: str) -> Expr:
    """`expr` with every `name="..."` (the layer's and a wrapped layer's) after `prefix`."""
    if not isinstance(expr, Call):
        return expr
    args = tuple(
        Keyword(arg.name, _prefixed(prefix, arg.value.value))
        if isinstance(arg, Keyword) and arg.name == "name" and isinstance(arg.value, Value)
        else Keyword(arg.name, _with_prefix(arg.value, prefix))
        if isinstance(arg, Keyword)
        else _with_prefix(arg, prefix)
        for arg in expr.args
    )
    return Call(expr.func, args)
