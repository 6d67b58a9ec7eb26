"""A tiny expression tree and a formatter that writes it the way `ruff format` does.

The exporter builds statements from these nodes instead of pasting text, then
lays them out already formatted: an expression stays on one line when it fits
in `LINE_LENGTH`; otherwise its brackets open one item per line with a
trailing comma (which ruff keeps as a "magic trailing comma"), and a string
too long for any line is split into parenthesised implicit concatenation.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.literals import escaped_chars, literal, preferred_quote

LINE_LENGTH = 100
INDENT = 4


@dataclass(frozen=True)
class Code:
    """Trusted source text written by the exporter itself (never graph content)."""

    text: str


@dataclass(frozen=True)
class Value:
    """A graph value, emitted only through `literal`."""

    value: object


@dataclass(frozen=True)
class Keyword:
    """`name=value` in a call; `name` is a parameter name from the catalog."""

    name: str
    value: Expr


@dataclass(frozen=True)
class Call:
    """`func(args...)`; `func` may itself be a Call (`Dense(...)(x)`)."""

    func: Code | Call
    args: tuple[Expr | Keyword, ...] = ()


@dataclass(frozen=True)
class Sequence:
    """A list (`brackets="[]"`) or tuple (`"()"`) of expressions."""

    items: tuple[Expr, ...]
    brackets: str = "[]"


Expr = Code | Value | Call | Sequence


def flat(node: Expr | Keyword) -> str:
    """`node` written on a single line."""
    if isinstance(node, Code):
        return node.text
    if isinstance(node, Value):
        return literal(node.value)
    if isinstance(node, Keyword):
        return f"{node.name}={flat(node.value)}"
    if isinstance(node, Call):
        return f"{flat(node.func)}({', '.join(flat(arg) for arg in node.args)})"
    items = [flat(item) for item in node.items]
    if node.brackets == "()" and len(items) == 1:
        return f"({items[0]},)"
    return node.brackets[0] + ", ".join(items) + node.brackets[1]


def statement(node: Expr, indent: int = 0, prefix: str = "") -> list[str]:
    """The lines of the statement `prefix + node` at `indent` spaces, formatted."""
    return _lines(node, indent, prefix, "")


def _fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def _lines(node: Expr | Keyword, indent: int, prefix: str, suffix: str) -> list[str]:
    pad = " " * indent
    one_line = pad + prefix + flat(node) + suffix
    if _fits(one_line):
        return [one_line]
    if isinstance(node, Keyword):
        return _lines(node.value, indent, prefix + node.name + "=", suffix)
    if isinstance(node, Value) and isinstance(node.value, str):
        return _split_string(node.value, indent, prefix, suffix)
    if isinstance(node, Call):
        return _call_lines(node, indent, prefix, suffix)
    if isinstance(node, Sequence) and node.items:
        return _bracket_lines(node.brackets, node.items, indent, prefix, suffix)
    return [one_line]


def _call_lines(node: Call, indent: int, prefix: str, suffix: str) -> list[str]:
    pad = " " * indent
    if isinstance(node.func, Call):
        # As ruff: a too-long `f(a)(b)` splits inside the first brackets.
        inner = node.func
        if inner.args and isinstance(inner.func, Code):
            head = _bracket_lines("()", inner.args, indent, prefix + inner.func.text, "")
        else:
            head = _lines(inner, indent, prefix, "")
        trailer = "(" + ", ".join(flat(arg) for arg in node.args) + ")" + suffix
        if _fits(head[-1] + trailer) or not node.args:
            return [*head[:-1], head[-1] + trailer]
        return [*head[:-1], *_bracket_lines("()", node.args, indent, head[-1][indent:], suffix)]
    if not node.args:
        return [pad + prefix + flat(node) + suffix]
    return _bracket_lines("()", node.args, indent, prefix + node.func.text, suffix)


def _bracket_lines(brackets: str, items: tuple, indent: int, prefix: str, suffix: str) -> list[str]:
    pad = " " * indent
    lines = [pad + prefix + brackets[0]]
    for item in items:
        lines += _lines(item, indent + INDENT, "", ",")
    lines.append(pad + brackets[1] + suffix)
    return lines


def _split_string(text: str, indent: int, prefix: str, suffix: str) -> list[str]:
    """A string too long for its line, as parenthesised implicit concatenation."""
    pad = " " * indent
    inner = indent + INDENT
    room = LINE_LENGTH - inner - 2
    parts: list[str] = []
    start, size = 0, 0
    for index, width in enumerate(_widths(text)):
        if index > start and size + width > room:
            parts.append(text[start:index])
            start, size = index, 0
        size += width
    parts.append(text[start:])
    lines = [pad + prefix + "("]
    for part in parts:
        quote = preferred_quote(part)
        lines.append(" " * inner + quote + "".join(escaped_chars(part, quote)) + quote)
    lines.append(pad + ")" + suffix)
    return lines


def _widths(text: str) -> list[int]:
    """Escaped width of each character, for the worse of the two quotes."""
    double, single = escaped_chars(text, '"'), escaped_chars(text, "'")
    return [max(len(a), len(b)) for a, b in zip(double, single, strict=True)]
