"""Lists typed as text: one item per line, or items separated by commas.

The inspector edits a vocabulary (a "strs" param, or an "ints" one listing
codes) as text. Both directions live here, apart from Qt, so that what the
user types and what a file holds follow one rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_items(text: str, integers: bool = False) -> list | None:
    """The items of `text`; None when it holds nothing (no list given).

    With a line break, each line is an item and blank lines are left out (a
    token may then hold commas); without one, items are separated by commas
    and an empty one stays, for the param to refuse by its position. Spaces
    around an item are dropped.

    Args:
        text: What the user typed.
        integers: Turn items written as whole numbers into ints; others stay
            text, for the param to refuse with its own message.
    """
    if not text.strip():
        return None
    lines = _LINE_BREAK.split(text)
    if len(lines) > 1:
        pieces = [line.strip() for line in lines if line.strip()]
    else:
        pieces = [piece.strip() for piece in text.split(",")]
    if integers:
        return [int(p) if _INTEGER.fullmatch(p) else p for p in pieces]
    return pieces


def items_text(items: Sequence | None) -> str:
    """`items` one per line, so that `parse_items` reads them back (a lone item too)."""
    if not items:
        return ""
    text = "\n".join(str(item) for item in items)
    return text if len(items) > 1 else text + "\n"
