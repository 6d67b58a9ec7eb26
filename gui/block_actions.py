"""The Blocks menu: make a block from the selection, expand, make unique, open, go up.

Thin: each edit builds one command from graph/block_commands.py and runs it
through the session on the canvas's level, so it is one undo step; a
refusal is shown as the command's message. Opening a block shows its inside
in the main canvas (the session's view), with the breadcrumb above it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from graph.block_type import BLOCK
from graph.model import Command, GraphError

# The name a new block gets before the user renames it (block, block_2, ...).
NEW_BLOCK_NAME = "block"


class BlockActions(QObject):
    """Block actions of a main window, in its menu bar as "Blocks".

    Args:
        window: The MainWindow (its session, scene, view, `_action` and `show_message`).
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.make_action = window._action(
            "&Make Block", self.make_block, "Ctrl+G", "Collapse the selected layers into a block"
        )
        self.expand_action = window._action(
            "&Expand Block", self.expand, "Ctrl+Shift+G", "Replace a block by its layers"
        )
        self.unique_action = window._action(
            "Make &Unique", self.make_unique, None, "Give a block its own copy of its definition"
        )
        # Enter and Esc on the canvas do these too (gui/canvas/view.py): as shortcuts
        # they would take the keys from fields and lists.
        self.open_action = window._action(
            "&Open Block", self.open_selected, None, "Edit the layers inside a block (Enter)"
        )
        self.up_action = window._action(
            "&Up a Level", self.window.session.go_up, None, "Leave the block (Esc, Backspace)"
        )
        menu = window.menuBar().addMenu("&Blocks")
        for action in (
            self.make_action,
            self.expand_action,
            self.unique_action,
            self.open_action,
            self.up_action,
        ):
            menu.addAction(action)
        window.scene.block_opened.connect(self.open_block)
        self._levels_shown = list(window.session.levels)
        window.session.view_replaced.connect(self._on_view_replaced)

    def _on_view_replaced(self) -> None:
        # A new level fills the canvas; the same level redrawn (an undo) keeps its zoom.
        levels = self.window.session.levels
        if levels != self._levels_shown:
            self._levels_shown = list(levels)
            self.window.view.fit_to_view()

    def make_block(self) -> None:
        # The block edits load with the first one, not while the window is built.
        from graph.block_commands import make_block

        session = self.window.session
        view = session.view
        name = session.graph.blocks.unused_name(NEW_BLOCK_NAME)
        chosen = self.window.scene.selected_node_ids()
        before = set(view.nx_graph)
        if self._run(lambda: make_block(view, chosen, name, session.view_analysis)):
            added = [node_id for node_id in view.nx_graph if node_id not in before]
            self.window.scene.select_nodes(added)

    def expand(self) -> None:
        from graph.block_commands import expand_block

        node_id = self._selected_instance("Expand")
        if node_id is not None:
            self._run(lambda: expand_block(self.window.session.view, node_id))

    def make_unique(self) -> None:
        from graph.block_commands import make_unique

        node_id = self._selected_instance("Make unique")
        if node_id is not None:
            self._run(lambda: make_unique(self.window.session.view, node_id))

    def open_selected(self) -> None:
        node_id = self._selected_instance("Open block")
        if node_id is not None:
            self.open_block(node_id)

    def open_block(self, node_id: str) -> None:
        """Shows the inside of instance `node_id` in the canvas."""
        if not self.window.session.open_block(node_id):
            self.window.show_message("Open block: its definition is missing")

    def _selected_instance(self, what: str) -> str | None:
        graph = self.window.session.view
        chosen = [
            node_id
            for node_id in self.window.scene.selected_node_ids()
            if graph.node(node_id).type == BLOCK
        ]
        if len(chosen) != 1:
            self.window.show_message(f"{what}: select one block")
            return None
        return chosen[0]

    def _run(self, make) -> bool:
        """Builds a command with `make` and executes it; shows why when refused."""
        try:
            command: Command = make()
        except GraphError as error:
            self.window.show_message(str(error))
            return False
        refused = self.window.session.execute_in_view(command)
        if refused:
            self.window.show_message(refused)
        return refused is None
