"""Hypothesis strategies: parameter values from their declarations, and whole graphs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from graph.catalog import CATALOG
from graph.keras_objects import CLASSES
from graph.model import AddEdge, AddNode, Edge, NetworkGraph, Node, SetSettings
from graph.params import OBJECT_KINDS, Param, ParamError
from graph.settings import SECTIONS

# Text a user could type: any printable character except surrogates, which
# UTF-8 files cannot hold.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def _number(param: Param, integer: bool) -> st.SearchStrategy:
    low = param.minimum if param.minimum is not None else -1000
    high = param.maximum if param.maximum is not None else low + 1000
    if integer:
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def param_values(param: Param) -> st.SearchStrategy:
    """Values `param` accepts, already in canonical form; the default when unsure."""
    kind = param.kind
    if kind == "int":
        values = _number(param, True)
    elif kind == "float":
        values = _number(param, False)
    elif kind == "bool":
        values = st.booleans()
    elif kind == "choice":
        values = st.sampled_from(param.choices)
    elif kind == "multichoice":
        values = st.lists(st.sampled_from(param.choices), unique=True).map(tuple)
    elif kind == "str":
        values = TEXT
    elif kind in ("ints", "floats"):
        size = param.length or 3
        item = _number(param, kind == "ints")
        values = st.lists(item, min_size=size if param.length else 1, max_size=size).map(tuple)
    elif kind == "regularizer":
        strength = st.floats(0, 1, allow_nan=False)
        strengths = st.fixed_dictionaries({"l1": strength, "l2": strength})
        values = strengths | keras_object_values(param, param_values)
    elif kind in OBJECT_KINDS:
        values = keras_object_values(param, param_values)
    else:
        values = st.just(param.default)
    if param.nullable:
        values = st.none() | values
    return values.map(lambda value: _canonical(param, value))


def keras_object_values(
    param: Param,
    argument_values: Callable[[Param], st.SearchStrategy],
    skip: tuple[str, ...] = (),
) -> st.SearchStrategy:
    """Initializers, regularizers or constraints `param` allows, with some arguments set.

    Args:
        param: A parameter of an object kind.
        argument_values: Values of one argument (a Param) of a class.
        skip: Class names left out.
    """
    classes = [
        cls
        for cls in CLASSES[param.kind].values()
        if (not param.choices or cls.shortcut in param.choices) and cls.name not in skip
    ]

    def with_arguments(cls) -> st.SearchStrategy:
        if not cls.arguments:
            return st.just(cls.shortcut)
        optional = {argument.name: argument_values(argument) for argument in cls.arguments}
        config = st.fixed_dictionaries({}, optional=optional)
        return config.map(lambda chosen: {"class": cls.name, "config": chosen})

    values = st.sampled_from(classes).flatmap(with_arguments)
    return values if param.kind == "initializer" else st.none() | values


def _canonical(param: Param, value: Any) -> Any:
    try:
        return param.coerce(value)
    except ParamError:
        return param.coerce(param.default)


@st.composite
def nodes(draw: st.DrawFn, node_id: str) -> Node:
    type_name = draw(st.sampled_from(sorted(CATALOG)))
    spec = CATALOG[type_name]
    chosen = (
        draw(st.lists(st.sampled_from(spec.params), unique_by=lambda p: p.name))
        if spec.params
        else []
    )
    params = spec.default_params()
    for param in chosen:
        params[param.name] = draw(param_values(param))
    coordinate = st.integers(-5000, 5000).map(lambda v: v / 2)
    return Node(
        node_id,
        type_name,
        draw(NAMES | TEXT),
        spec.coerce_params(params),
        (draw(coordinate), draw(coordinate)),
    )


@st.composite
def settings(draw: st.DrawFn, params: tuple[Param, ...]) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(params), unique_by=lambda p: p.name, max_size=6))
    return {param.name: draw(param_values(param)) for param in chosen}


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 8) -> NetworkGraph:
    """Any graph the model allows: random layers, wiring (cycles too) and settings."""
    graph = NetworkGraph(draw(TEXT), draw(TEXT | st.just("two\nlines")))
    count = draw(st.integers(0, max_nodes))
    ids = [f"n{index + 1}" for index in range(count)]
    for node_id in ids:
        graph.apply(AddNode(draw(nodes(node_id))))
    if ids:
        pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids), st.integers(0, 2))
        for source, target, port in draw(st.lists(pairs, max_size=2 * count)):
            if not any(edge.port == port for edge in graph.in_edges(target)):
                graph.apply(AddEdge(Edge(source, target, port)))
    for name, section in SECTIONS.items():  # every registered section, continual too
        graph.apply(SetSettings(name, draw(settings(section.params))))
    return graph
