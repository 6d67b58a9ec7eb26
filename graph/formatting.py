"""How numbers, counts and durations read to the user: significant digits, plurals, units."""

from __future__ import annotations

import math


def format_number(value: float, digits: int = 4) -> str:
    """`value` to `digits` significant digits: 0.000731, 0.978, 1.235e+05, 32.

    Args:
        value: Any finite or infinite number.
        digits: Significant digits kept.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 layer", "2 layers" (or the given plural)."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def format_latency(milliseconds: float) -> str:
    """A latency in the unit that reads best: 850 ns, 3.2 µs, 12.5 ms, 1.25 s."""
    if milliseconds < 0.001:
        return f"{format_number(milliseconds * 1e6, 3)} ns"
    if milliseconds < 1:
        return f"{format_number(milliseconds * 1e3, 3)} µs"
    if milliseconds < 1000:
        return f"{format_number(milliseconds, 3)} ms"
    return f"{format_number(milliseconds / 1000, 3)} s"
