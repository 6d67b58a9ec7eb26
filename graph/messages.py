"""How messages quote what they received: short, escaped, never a flood.

Every message that shows a value taken from a file, a setting or a model
quotes it through `excerpt` (Keras style, "Received: ...", but bounded), and
every message that names a node or a file entry prints the name through
`printable`, so a 60 MB value cannot fill the terminal and a name holding
control or bidirectional-override characters (U+202E) cannot rewrite it.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable

EXCERPT_CHARS = 80
"""The most characters of a received value a message quotes."""

NAME_CHARS = 60
"""The most characters of a name a message prints."""

LISTED_ITEMS = 20
"""The most lines of a list (problems, layers) a message shows."""

_REPR = reprlib.Repr()
_REPR.maxstring = EXCERPT_CHARS
_REPR.maxother = EXCERPT_CHARS
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 8
_REPR.maxlevel = 3


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`repr(value)`, cut to about `limit` characters, with its full length when cut.

    Strings are cut before they are represented, so even a huge value costs
    little; `repr` escapes control and bidirectional characters.

    Args:
        value: Any value received from outside.
        limit: The most characters shown of the value itself.
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[: limit - 3]!r}... ({len(value):,} characters)"
    try:
        shown = _REPR.repr(value)
    except Exception:
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= limit + 2 else shown[: limit - 1] + "..."


def printable(name: object, limit: int = NAME_CHARS) -> str:
    """A name as messages print it: unquoted, invisible characters escaped, bounded.

    Control, format (U+202E and the other bidirectional overrides, zero-width
    characters) and separator characters other than the space are written as
    `\\u202e`-style escapes, so what the terminal shows is what the name holds.
    """
    text = name if isinstance(name, str) else str(name)
    if len(text) > limit:
        text = text[:limit]
        cut = True
    else:
        cut = False
    shown = "".join(
        char if char == " " or char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
    return shown + "..." if cut else shown


def bounded_lines(lines: Iterable[str], limit: int = LISTED_ITEMS) -> list[str]:
    """At most `limit` lines, and a last one saying how many more were left out."""
    lines = list(lines)
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"... and {len(lines) - limit:,} more"]


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, bounded, or its type when it has none.

    Library errors can carry a whole file or config in their text; a message
    quotes only the start of it.
    """
    text = str(error).strip()
    if not text:
        return type(error).__name__
    return printable(text.splitlines()[0], limit)
