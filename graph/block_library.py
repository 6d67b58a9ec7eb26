"""A document's block definitions: each reusable subgraph stored once, by name.

A definition is a NetworkGraph of its own: its Input nodes are the block's
entry ports and its output nodes (layers nothing inside consumes) its exits,
both in graph order and named after the nodes. Instances (nodes of type
Block, graph/block_type.py) name a definition; the document and every
definition share one library, so blocks can contain blocks.

Each definition has a version that changes whenever its inside changes, or
the inside of a block it uses; listeners hear which definitions changed, so
shape inference re-infers only their instances; results computed for a
(definition, version, input shapes) are kept in `cache`, and objects that
follow a definition edit by edit (its incremental inference for some input
shapes) in `live`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.model import GraphEvent, NetworkGraph

# Inner edits that change neither shapes nor what the builder makes.
_NEUTRAL = {"nodes_moved", "settings_changed"}

ChangeListener = Callable[[set[str]], None]


class BlockLibrary:
    """Block definitions by name, with versions and change notifications."""

    def __init__(self) -> None:
        self._definitions: dict[str, NetworkGraph] = {}
        self._watchers: dict[str, Callable[[GraphEvent], None]] = {}
        self._versions: dict[str, int] = {}
        self._counter = itertools.count(1)
        self._listeners: list[ChangeListener] = []
        # What each definition's instances name, and its reverse, kept as definitions
        # change: `users` then walks only real users (scanning every definition made
        # loading a file of a few thousand blocks take minutes).
        self._uses_of: dict[str, tuple[str, ...]] = {}
        self._used_by: dict[str, set[str]] = {}
        # (kind, name, version, input shapes) -> a result computed for it.
        self.cache: dict[tuple, Any] = {}
        # (kind, name, ...) -> a live object following a definition (it has close()),
        # e.g. the incremental shape inference of a definition for some input shapes.
        self.live: dict[tuple, Any] = {}

    # Reading ---------------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self._definitions

    def __iter__(self) -> Iterator[str]:
        return iter(self._definitions)

    def __len__(self) -> int:
        return len(self._definitions)

    def get(self, name: str) -> NetworkGraph | None:
        return self._definitions.get(name)

    def items(self) -> list[tuple[str, NetworkGraph]]:
        return list(self._definitions.items())

    def version(self, name: str) -> int:
        return self._versions.get(name, 0)

    def uses(self, name: str) -> list[str]:
        """The block names the instances inside `name` refer to, in graph order, once each."""
        definition = self._definitions.get(name)
        if definition is None:
            return []
        used = (node.params.get("block") for node in definition.nodes if node.type == "Block")
        return list(dict.fromkeys(u for u in used if isinstance(u, str)))

    def cycle(self, name: str) -> list[str] | None:
        """A chain of blocks `name -> ... -> name` when `name` contains itself, else None.

        Walks without recursion: a file may nest blocks hundreds deep.
        """
        path: list[str] = [name]
        pending: list[Iterator[str]] = [iter(self.uses(name))]
        done: set[str] = set()
        while pending:
            used = next(pending[-1], None)
            if used is None:
                pending.pop()
                done.add(path.pop())
                continue
            if used == name:
                return [*path, name]
            if used in done or used in path or used not in self._definitions:
                continue
            path.append(used)
            pending.append(iter(self.uses(used)))
        return None

    def nesting(self, name: str) -> list[str]:
        """The longest chain of blocks inside one another from `name` down: [name, ..., innermost].

        A block that contains itself is followed once around (`cycle` reports it).
        """
        longest: dict[str, list[str]] = {}
        path: list[str] = [name]
        pending: list[Iterator[str]] = [iter(self.uses(name))]
        while pending:
            used = next(pending[-1], None)
            if used is None:
                pending.pop()
                current = path.pop()
                inner = [longest[u] for u in self.uses(current) if u in longest]
                longest[current] = [current, *max(inner, key=len, default=[])]
            elif used not in path and used not in longest and used in self._definitions:
                path.append(used)
                pending.append(iter(self.uses(used)))
        return longest[name]

    def users(self, name: str) -> set[str]:
        """`name` and every definition that contains it, directly or through others."""
        found = {name}
        pending = [name]
        while pending:
            for other in self._used_by.get(pending.pop(), ()):
                if other not in found:
                    found.add(other)
                    pending.append(other)
        return found

    def _index(self, name: str) -> None:
        """Brings the `users` index up to date with definition `name` (or its removal)."""
        for used in self._uses_of.pop(name, ()):
            users = self._used_by[used]
            users.discard(name)
            if not users:
                del self._used_by[used]
        if name in self._definitions:
            self._uses_of[name] = tuple(self.uses(name))
            for used in self._uses_of[name]:
                self._used_by.setdefault(used, set()).add(name)

    def unused_name(self, prefix: str) -> str:
        """`prefix` if free, else `prefix_N` with the smallest free N."""
        if prefix not in self._definitions:
            return prefix
        for number in itertools.count(2):
            candidate = f"{prefix}_{number}"
            if candidate not in self._definitions:
                return candidate
        raise AssertionError("unreachable")

    def forget_results(self) -> None:
        """Drops every cached result and live object (they are remade when next asked)."""
        self.cache.clear()
        for live in self.live.values():
            live.close()
        self.live.clear()

    def copy(self) -> BlockLibrary:
        """A deep copy: every definition copied, sharing the new library."""
        other = BlockLibrary()
        for name, definition in self._definitions.items():
            other._insert(name, definition.copy(blocks=False))
        return other

    # Subscriptions -------------------------------------------------------------------

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)

    def _changed(self, name: str) -> None:
        changed = self.users(name)
        for each in changed:
            self._versions[each] = next(self._counter)
        self.cache = {key: value for key, value in self.cache.items() if key[1] not in changed}
        for listener in list(self._listeners):
            listener(changed)

    # Primitive mutations: used by the block commands (graph/model.py) only ------------

    def _insert(self, name: str, definition: NetworkGraph) -> None:
        if name in self._definitions:
            raise ValueError(f"a block named {name!r} already exists")
        definition.name = name
        definition.blocks = self
        self._definitions[name] = definition

        def watch(event: GraphEvent) -> None:
            if event.kind not in _NEUTRAL:
                self._index(name)
                self._changed(name)

        self._watchers[name] = watch
        definition.subscribe(watch)
        self._index(name)
        self._changed(name)

    def _remove(self, name: str) -> NetworkGraph:
        definition = self._definitions.pop(name)
        for key in [key for key in self.live if key[1] == name]:
            self.live.pop(key).close()
        definition.unsubscribe(self._watchers.pop(name))
        self._index(name)
        self._changed(name)
        self._versions.pop(name, None)
        return definition
