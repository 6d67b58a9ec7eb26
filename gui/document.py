"""The editing session: one graph, its file, its undo stack and what is known about it.

Views (canvas, inspector, problems, status bar, later panels) observe an
:class:`EditorSession` through its signals and change the graph only through
:meth:`EditorSession.execute`, so every edit is undoable.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from graph.model import Command, GraphError, GraphEvent, NetworkGraph
from graph.params import ParamError
from graph.shapes import NodeInfo, ShapeAnalysis
from graph.validation import ERROR, LiveValidation, Problem
from gui.undo import GraphUndoCommand


def _zero_timer(parent: QObject, slot) -> QTimer:
    """A single-shot timer for "once, at the next event-loop turn"."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(0)
    timer.timeout.connect(slot)
    return timer


class EditorSession(QObject):
    """A graph being edited.

    Signals:
        graph_replaced: A different graph is now edited (new, open, import).
        graph_event: Relays every GraphEvent of the current graph, synchronously.
        graph_changed: After edits settle (once per event-loop turn): the set
            of node ids whose shape, parameter count, parameters, name,
            position or wiring changed. Shapes are up to date when it fires.
        problems_changed: The validation problems after an edit (checked
            right after graph_changed, in the next event-loop turn, so the
            canvas repaints first).
        edits_settled: After every settled edit, once validation has run and
            the canvas has repainted: where panels do heavier work (checks
            against the data, previews) without delaying the canvas.
        dirty_changed: Whether there are unsaved changes.
        path_changed: The file the graph is saved in (a Path or None).
        selection_changed: The ids of the selected nodes.
    """

    graph_replaced = Signal()
    graph_event = Signal(object)
    graph_changed = Signal(object)
    problems_changed = Signal(object)
    edits_settled = Signal()
    dirty_changed = Signal(bool)
    path_changed = Signal(object)
    selection_changed = Signal(object)

    def __init__(self, graph: NetworkGraph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.graph = NetworkGraph()
        self.graph.subscribe(self._on_graph_event)
        self.analysis = ShapeAnalysis(self.graph)
        self.validation = LiveValidation(self.graph, self.analysis)
        self.path: Path | None = None
        self.problems: list[Problem] = []
        self.selected_ids: list[str] = []
        self._unsaved_without_edits = False
        self._pending: set[str] = set()
        self._seen_info: dict[str, NodeInfo] = {}
        self._flush_timer = _zero_timer(self, self._settle_shapes)
        self._validate_timer = _zero_timer(self, self._validate)
        self.replace_graph(graph or NetworkGraph())

    # State -------------------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        return self._unsaved_without_edits or not self.undo_stack.isClean()

    @property
    def busy(self) -> bool:
        """Whether edits are waiting to be settled (shapes) or validated."""
        return self._flush_timer.isActive() or self._validate_timer.isActive()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self.graph.name or "Untitled"

    def replace_graph(
        self, graph: NetworkGraph, path: Path | None = None, dirty: bool = False
    ) -> None:
        """Edits `graph` from now on; the undo history starts afresh.

        Args:
            graph: The new graph.
            path: Its file, or None for an unsaved graph.
            dirty: Whether it holds work not saved anywhere (recovered, imported).
        """
        was_dirty = self.is_dirty
        self.graph.unsubscribe(self._on_graph_event)
        self.validation.close()
        self.analysis.close()
        self.graph = graph
        self.analysis = ShapeAnalysis(graph)
        self.validation = LiveValidation(graph, self.analysis)
        graph.subscribe(self._on_graph_event)
        self.undo_stack.clear()
        self._pending.clear()
        self._flush_timer.stop()
        self._validate_timer.stop()
        self._seen_info = dict(self.analysis.all())
        self._unsaved_without_edits = dirty
        self.path = path
        self.selected_ids = []
        self.problems = self.validation.problems()
        self.graph_replaced.emit()
        self.problems_changed.emit(self.problems)
        self.path_changed.emit(path)
        if was_dirty != self.is_dirty:
            self.dirty_changed.emit(self.is_dirty)

    def mark_saved(self, path: Path) -> None:
        """Records that the graph now lives, unchanged, in `path`."""
        was_dirty = self.is_dirty
        self._unsaved_without_edits = False
        self.undo_stack.setClean()
        if path != self.path:
            self.path = path
            self.path_changed.emit(path)
        if was_dirty:
            self.dirty_changed.emit(False)

    def set_selection(self, node_ids: list[str]) -> None:
        if node_ids != self.selected_ids:
            self.selected_ids = list(node_ids)
            self.selection_changed.emit(self.selected_ids)

    # Editing -----------------------------------------------------------------

    def execute(self, command: Command, text: str | None = None) -> str | None:
        """Applies `command` as one undo step.

        Args:
            command: A graph.model command.
            text: The undo menu text; the command's own when None.

        Returns:
            None when applied, else why the edit was refused (the graph is unchanged).
        """
        try:
            inverse = command.apply(self.graph)
        except (ParamError, GraphError, KeyError, ValueError) as error:
            return str(error.args[0]) if isinstance(error, KeyError) else str(error)
        self.undo_stack.push(GraphUndoCommand(self.graph, command, inverse, text))
        return None

    def note_outside_edit(self) -> None:
        """Something this graph uses changed elsewhere (a block definition): refresh, unsaved."""
        was_dirty = self.is_dirty
        self._unsaved_without_edits = True
        if not was_dirty:
            self.dirty_changed.emit(True)
        self._flush_timer.start()

    # Change propagation ----------------------------------------------------------

    def _on_graph_event(self, event: GraphEvent) -> None:
        self._pending.update(event.node_ids)
        if event.edge is not None:
            # The source's output now feeds one edge more or fewer.
            self._pending.add(event.edge.source)
        self.graph_event.emit(event)
        self._flush_timer.start()

    def flush(self) -> None:
        """Brings shapes and problems up to date and notifies views now.

        Normally runs by itself in the event-loop turns after edits.
        """
        self._settle_shapes()
        self._validate()

    def build_errors(self) -> list[Problem]:
        """The graph's errors, brought up to date first: a run starts only when there are none."""
        self.flush()
        return [p for p in self.problems if p.severity == ERROR]

    def build_refusal(self) -> str:
        """Why a run cannot start on the graph ("" when it can), naming its first error."""
        errors = self.build_errors()
        return f"The graph does not build yet: {errors[0].message}" if errors else ""

    def _settle_shapes(self) -> None:
        self._flush_timer.stop()
        infos = self.analysis.all()
        changed = {node_id for node_id in self._pending if node_id in infos}
        self._pending = set()
        # Shape inference replaces the NodeInfo of every node it recomputed;
        # only those whose result differs look different.
        seen = self._seen_info
        for node_id, info in infos.items():
            old = seen.get(node_id)
            if old is not info:
                seen[node_id] = info
                if old != info:
                    changed.add(node_id)
        for node_id in [n for n in seen if n not in infos]:
            del seen[node_id]
        self.graph_changed.emit(changed)
        self._validate_timer.start()

    def _validate(self) -> None:
        self._validate_timer.stop()
        problems = self.validation.problems()
        if problems != self.problems:
            self.problems = problems
            self.problems_changed.emit(problems)
        self.edits_settled.emit()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.dirty_changed.emit(self.is_dirty)
