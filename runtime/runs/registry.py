"""The registry of run kinds: a module in `runtime/runs/kinds/` registers each.

Kinds are found, not wired: every module of the `runtime.runs.kinds` package
is imported on the first look-up, and each registers its classes with
`@register_run_kind`. Kind modules import TensorFlow and other heavy
libraries inside `execute`, never at module level, so the look-up is cheap.
"""

from __future__ import annotations

import importlib
import pkgutil

from runtime.runs.base import RunKind

_KINDS: dict[str, type[RunKind]] = {}
_discovered = False


def register_run_kind(kind: type[RunKind]) -> type[RunKind]:
    """Class decorator: makes `kind` available under `kind.name`."""
    if not kind.name:
        raise ValueError(f"{kind.__qualname__} has no name")
    existing = _KINDS.get(kind.name)
    if existing is not None and existing is not kind:
        raise ValueError(
            f"run kind {kind.name!r} is registered twice: "
            f"{existing.__module__} and {kind.__module__}"
        )
    _KINDS[kind.name] = kind
    return kind


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    from runtime.runs import kinds

    for module in pkgutil.iter_modules(kinds.__path__):
        importlib.import_module(f"{kinds.__name__}.{module.name}")
    _discovered = True


def get_run_kind(name: str) -> RunKind:
    """A new instance of the kind called `name`.

    Raises:
        KeyError: no such kind (the message lists the known ones).
    """
    _discover()
    try:
        return _KINDS[name]()
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise KeyError(f"no run kind {name!r}; known kinds: {known}") from None


def run_kind_names() -> list[str]:
    """Every registered kind's name, sorted."""
    _discover()
    return sorted(_KINDS)
