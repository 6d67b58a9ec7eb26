"""Undo/redo: QUndoCommands around the graph model's own invertible commands.

A graph command is applied before it is pushed (so a refused edit never
reaches the stack); `redo` after an `undo` re-applies it. Each application
returns the inverse, which is what the next `undo` applies.
"""

from __future__ import annotations

import time

from PySide6.QtGui import QUndoCommand

from graph.model import Command, MoveNodes, NetworkGraph, SetParams

_MOVE_ID = 1
_PARAMS_ID = 2
# Moves of the same nodes closer together than this merge into one step
# (arrow-key nudges); separate drags stay separate.
_MOVE_MERGE_SECONDS = 1.0


class GraphUndoCommand(QUndoCommand):
    """One undo step wrapping an already-applied graph command.

    Args:
        graph: The graph the command was applied to.
        command: The command that was applied.
        inverse: What `command.apply` returned.
        text: The Edit menu's text; the command's own when None.
    """

    def __init__(
        self, graph: NetworkGraph, command: Command, inverse: Command, text: str | None = None
    ) -> None:
        super().__init__(text or command.text)
        self._graph = graph
        self._command = command
        self._inverse = inverse
        self._already_applied = True
        self._stamp = time.monotonic()

    @property
    def command(self) -> Command:
        return self._command

    def redo(self) -> None:
        if self._already_applied:
            self._already_applied = False
            return
        self._inverse = self._command.apply(self._graph)

    def undo(self) -> None:
        # Applying the inverse returns the forward command again, complete
        # with what it needs (a re-added node's edges, for instance).
        self._command = self._inverse.apply(self._graph)

    def id(self) -> int:
        if isinstance(self._command, MoveNodes):
            return _MOVE_ID
        if isinstance(self._command, SetParams):
            return _PARAMS_ID
        return -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, GraphUndoCommand) or other.id() != self.id():
            return False
        if other._graph is not self._graph:
            return False  # a block's inside and the document reuse node ids
        mine, theirs = self._command, other._command
        if isinstance(mine, MoveNodes):
            recent = other._stamp - self._stamp < _MOVE_MERGE_SECONDS
            if set(mine.positions) != set(theirs.positions) or not recent:
                return False
        elif mine.node_id != theirs.node_id or set(mine.changes) != set(theirs.changes):
            return False
        # Keep our inverse (the state before the first edit), take their result.
        self._command = theirs
        self._stamp = other._stamp
        self.setText(other.text())
        if isinstance(mine, SetParams) and theirs.changes == self._inverse.changes:
            self.setObsolete(True)
        return True
