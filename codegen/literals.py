"""Safe Python literals and identifiers for values that come from a graph.

Nothing from a graph is ever pasted into code as text: strings become escaped
literals (quoted the way `ruff format` quotes them, every non-ASCII or
invisible character written as an escape, so exported files are plain ASCII
with no look-alike or bidirectional-control characters), and names become
sanitised, unique identifiers.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from collections.abc import Iterable

_SIMPLE_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NOT_IDENTIFIER = re.compile(r"[^0-9a-zA-Z_]+")
MAX_IDENTIFIER = 40

# Names the exported code defines or imports itself; variables never shadow them.
RESERVED = frozenset(
    {
        *keyword.kwlist,
        *keyword.softkwlist,
        *dir(builtins),
        "keras",
        "np",
        "sys",
        "datasets",
        "build_model",
        "load_data",
        "main",
        "model",
        # Ambiguous single letters (pycodestyle E741).
        "l",
        "o",
        "i",
    }
)


def escaped_chars(text: str, quote: str) -> list[str]:
    """`text` as a list of escaped pieces, one per character, for a `quote`-quoted literal."""
    pieces = []
    for char in text:
        if char in _SIMPLE_ESCAPES:
            pieces.append(_SIMPLE_ESCAPES[char])
        elif char == quote:
            pieces.append("\\" + char)
        elif " " <= char <= "~":
            pieces.append(char)
        else:
            # \x.., \u.... or \U........: the file stays ASCII.
            pieces.append(char.encode("unicode_escape").decode("ascii"))
    return pieces


def preferred_quote(text: str) -> str:
    """The quote ruff format picks: double, unless single needs fewer escapes."""
    return "'" if text.count('"') > text.count("'") else '"'


def string_literal(text: str) -> str:
    """A Python string literal that evaluates to `text` exactly."""
    quote = preferred_quote(text)
    return quote + "".join(escaped_chars(text, quote)) + quote


def docstring_text(text: str) -> str:
    """`text` escaped for the inside of a triple-double-quoted docstring.

    The docstring then reads back as `text` exactly: quotes, backslashes
    (`\\N` included), line breaks and non-ASCII characters are escaped, so
    no file name or graph string can close the docstring or break the file.
    """
    return "".join(escaped_chars(text, '"'))


def literal(value: object) -> str:
    """A Python literal for a plain graph value (None, bool, number, str, tuple, list).

    Raises:
        TypeError: for any other value, so nothing is ever emitted as raw text.
        ValueError: for a non-finite float (graphs hold finite numbers only).
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Cannot export a non-finite number. Received: {value!r}")
        return repr(float(value))
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, tuple):
        items = [literal(item) for item in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    raise TypeError(f"Cannot export a value of type {type(value).__name__}. Received: {value!r}")


def identifier(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, readable, unused Python identifier derived from a layer name.

    Args:
        name: Any string, hostile ones included.
        taken: Identifiers already in use; the result differs from all of them.
            Pass a set when calling often: other iterables are copied into one.
    """
    base = _NOT_IDENTIFIER.sub("_", name).strip("_").lower()[:MAX_IDENTIFIER].rstrip("_")
    if not base:
        base = "layer"
    elif base[0].isdigit():
        base = f"layer_{base}"
    if base in RESERVED:
        base = f"{base}_layer"
    used = taken if isinstance(taken, (set, frozenset)) else set(taken)
    candidate, number = base, 1
    while candidate in used:
        number += 1
        candidate = f"{base}_{number}"
    return candidate
