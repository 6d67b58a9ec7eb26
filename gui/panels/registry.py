"""The panel registry: each panel module declares its panel; `install_panels` finds them.

A panel module (`gui/panels/<name>_panel.py`) ends with

    PANEL = PanelSpec(name="federated", title="Federated", order=60, create=..., menu=(...))

and nothing else wires it: the dock, its tab order, its View-menu entry and its
Run-menu entries all follow from the declaration. `create` receives a
PanelContext with what panels share (the session, the run history, the fault
marker, a way to show another panel); `connect`, when given, runs right after
the panel is made, for wiring to the window and to other panels.

Only `eager` panels (the tab a session starts on) are made with the window;
the others are made when first needed (their dock comes up, the Run menu or
code asks for them, a run starts) or while the window is idle just after it
shows, so a panel is never made twice and the window comes up sooner. Wiring
to another panel therefore goes through `context.when_built(name, ...)`, and a
panel made late starts from the document and run history as they are then.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import QDockWidget, QWidget


@dataclass
class PanelContext:
    """What every panel may use.

    Attributes:
        window: The gui.main_window.MainWindow.
        session: The window's gui.document.EditorSession.
        runs: The document's gui.panels.runs.RunHistory.
        faults: The gui.panels.faults.FaultMarker (marks a node a run blames).
        widgets: The panels made so far, by name.
        docks: Every declared panel's dock, by name (made with the window).
        show: Brings the named panel to the front (making it if needed).
        panel: The named panel's widget, made if it was not yet.
        when_built: Calls a function with the named panel's widget once it
            is made (at once when it is already).
    """

    window: Any
    session: Any
    runs: Any
    faults: Any
    widgets: dict[str, QWidget] = field(default_factory=dict)
    docks: dict[str, QDockWidget] = field(default_factory=dict)
    show: Callable[[str], None] = lambda _name: None
    panel: Callable[[str], QWidget] = lambda name: None
    when_built: Callable[[str, Callable[[QWidget], None]], None] = lambda _name, _then: None

    @property
    def base_dir(self):
        """The folder relative data paths start from: the graph file's, or None."""
        path = self.session.path
        return path.parent if path else None


@dataclass(frozen=True)
class MenuEntry:
    """An entry of the Run menu.

    Args:
        text: The entry's text, with & before its mnemonic.
        action: Called with the PanelContext and the panel's widget.
        shortcut: A key sequence ("F5"), or None.
        separator_before: Whether a separator precedes it.
    """

    text: str
    action: Callable[[PanelContext, QWidget], None]
    shortcut: str | None = None
    separator_before: bool = False


@dataclass(frozen=True)
class PanelSpec:
    """A panel's declaration.

    Args:
        name: Its key ("training"), also used by `PanelContext.show`.
        title: The dock's title ("Training").
        order: Position among the bottom tabs and in the Run menu (lower first).
        create: Makes the dock's widget from the PanelContext; None for an
            entry with no dock of its own (a dialog opened from the Run menu).
        menu: Its Run-menu entries (their action gets None as widget when
            there is no dock).
        connect: Wires it, right after it is made (context, widget).
        eager: Made with the window (the tab a session starts on) instead
            of when first needed.
    """

    name: str
    title: str
    order: int
    create: Callable[[PanelContext], QWidget] | None
    menu: tuple[MenuEntry, ...] = ()
    connect: Callable[[PanelContext, QWidget], None] | None = None
    eager: bool = False


def discover_panels() -> list[PanelSpec]:
    """Every `PANEL` declared by a module of gui.panels, in order."""
    import gui.panels as package

    specs = []
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.endswith(("_panel", "_dialog")):
            continue
        spec = getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "PANEL", None)
        if spec is not None:
            specs.append(spec)
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"panels declared twice: {', '.join(duplicates)}")
    return sorted(specs, key=lambda spec: spec.order)
