"""The Blocks menu: make a block from the selection, expand, make unique, open.

Thin: each action builds one command from graph/block_commands.py and runs
it through the session, so it is one undo step; a refusal is shown as the
command's message.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from graph.block_commands import expand_block, make_block, make_unique
from graph.block_type import BLOCK
from graph.model import Command, GraphError
from gui.canvas.block_editor import BlockEditor

# The name a new block gets before the user renames it (block, block_2, ...).
NEW_BLOCK_NAME = "block"


class BlockActions(QObject):
    """Block actions of a main window, in its menu bar as "Blocks".

    Args:
        window: The MainWindow (its session, scene, `_action` and `show_message`).
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.editor: BlockEditor | None = None
        self.make_action = window._action(
            "&Make Block", self.make_block, "Ctrl+G", "Collapse the selected layers into a block"
        )
        self.expand_action = window._action(
            "&Expand Block", self.expand, "Ctrl+Shift+G", "Replace a block by its layers"
        )
        self.unique_action = window._action(
            "Make &Unique", self.make_unique, None, "Give a block its own copy of its definition"
        )
        self.open_action = window._action(
            "&Open Block", self.open_selected, None, "Edit the layers inside a block"
        )
        menu = window.menuBar().addMenu("&Blocks")
        for action in (self.make_action, self.expand_action, self.unique_action, self.open_action):
            menu.addAction(action)
        window.scene.block_opened.connect(self.open_block)

    def make_block(self) -> None:
        session = self.window.session
        name = session.graph.blocks.unused_name(NEW_BLOCK_NAME)
        chosen = self.window.scene.selected_node_ids()
        before = set(session.graph.nx_graph)
        if self._run(lambda: make_block(session.graph, chosen, name, session.analysis)):
            added = [node_id for node_id in session.graph.nx_graph if node_id not in before]
            self.window.scene.select_nodes(added)

    def expand(self) -> None:
        node_id = self._selected_instance("Expand")
        if node_id is not None:
            self._run(lambda: expand_block(self.window.session.graph, node_id))

    def make_unique(self) -> None:
        node_id = self._selected_instance("Make unique")
        if node_id is not None:
            self._run(lambda: make_unique(self.window.session.graph, node_id))

    def open_selected(self) -> None:
        node_id = self._selected_instance("Open block")
        if node_id is not None:
            self.open_block(node_id)

    def open_block(self, node_id: str) -> None:
        """Shows the definition of instance `node_id` in the block editor window."""
        if self.editor is None:
            self.editor = BlockEditor(self.window.session, self.window)
        self.editor.open_instance(self.window.session.graph, node_id)
        self.editor.show()
        self.editor.raise_()

    def _selected_instance(self, what: str) -> str | None:
        graph = self.window.session.graph
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
        refused = self.window.session.execute(command)
        if refused:
            self.window.show_message(refused)
        return refused is None
