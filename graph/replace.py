"""Making a whole other graph the document's, as one undoable edit (restoring a run)."""

from __future__ import annotations

from graph.model import AddEdge, AddNode, Batch, Command, NetworkGraph, RemoveNode, SetSettings


def replace_contents(current: NetworkGraph, target: NetworkGraph, text: str) -> Command:
    """One command that turns `current` into a copy of `target`: nodes, edges and settings.

    Undoing it gives `current` back exactly (ids, order, positions, settings),
    since it is built from the graph model's own invertible commands.

    Args:
        current: The graph being edited.
        target: The graph it should become (not changed).
        text: The undo menu text, e.g. "Restore run 3".
    """
    commands: list[Command] = [RemoveNode(node.id) for node in current.nodes]
    commands += [AddNode(node.copy()) for node in target.nodes]
    commands += [AddEdge(edge) for edge in target.edges]
    commands += [
        SetSettings(section, dict(values))
        for section, values in target.settings.items()
        if values != current.settings.get(section)
    ]
    return Batch(commands, text)
