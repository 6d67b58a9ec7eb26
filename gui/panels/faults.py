"""Marks the node a failed run blames on the canvas until the graph changes."""

from __future__ import annotations

from graph.validation import ERROR, Problem


class FaultMarker:
    """Shows a runtime failure on its node, like a validation error.

    The canvas draws the node red with the message as tooltip and centres
    on it; the mark goes as soon as the graph is edited (or replaced).

    Args:
        window: The main window (its session, scene and focus_node are used).
    """

    def __init__(self, window) -> None:
        self.window = window
        self.node_id: str | None = None
        window.session.graph_changed.connect(self.clear)
        window.session.graph_replaced.connect(self.clear)

    def mark(self, node_id: str, message: str) -> None:
        session = self.window.session
        if node_id not in session.graph:
            return
        self.node_id = node_id
        fault = Problem(ERROR, message, node_id)
        self.window.scene.show_problems([fault, *session.problems])
        self.window.focus_node(node_id)

    def clear(self, *_args: object) -> None:
        if self.node_id is not None:
            self.node_id = None
            self.window.scene.show_problems(self.window.session.problems)
