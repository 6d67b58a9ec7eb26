"""The editing session: one graph, its file, its undo stack and what is known about it.

Views (canvas, inspector, problems, status bar, later panels) observe an
:class:`EditorSession` through its signals and change the graph only through
:meth:`EditorSession.execute`, so every edit is undoable.

The document graph stays the model every panel reads (training, summary,
problems, data check). The canvas shows a *view*: the document, or the
definition of a block instance opened from it (`open_block`, `go_up`), with
its own shapes (those arriving at the instance opened through) and problems.
Edits in the view (`execute_in_view`) go on the document's undo stack.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from graph.block_path import BlockLevel, arriving_shapes, level_graph, valid_depth, view_analysis
from graph.block_type import BLOCK
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
        selection_changed: The ids of the selected nodes (of the view).
        view_replaced: The canvas shows another level (the document or a block).
        view_event: Relays every GraphEvent of the view's graph, synchronously.
        view_changed: Like graph_changed, for the view's nodes.
        view_problems_changed: The problems of the view's graph.
    """

    graph_replaced = Signal()
    graph_event = Signal(object)
    graph_changed = Signal(object)
    problems_changed = Signal(object)
    edits_settled = Signal()
    dirty_changed = Signal(bool)
    path_changed = Signal(object)
    selection_changed = Signal(object)
    view_replaced = Signal()
    view_event = Signal(object)
    view_changed = Signal(object)
    view_problems_changed = Signal(object)

    def __init__(self, graph: NetworkGraph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.graph = NetworkGraph()
        self.graph.subscribe(self._on_graph_event)
        self.graph.blocks.subscribe(self._on_blocks_changed)
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
        # The opened block instances, from the document inwards; empty: the document.
        self.levels: list[BlockLevel] = []
        self._inside: _Inside | None = None
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
        self._leave_blocks()
        self.graph.unsubscribe(self._on_graph_event)
        self.graph.blocks.unsubscribe(self._on_blocks_changed)
        self.validation.close()
        self.analysis.close()
        self.graph = graph
        self.analysis = ShapeAnalysis(graph)
        self.validation = LiveValidation(graph, self.analysis)
        graph.subscribe(self._on_graph_event)
        graph.blocks.subscribe(self._on_blocks_changed)
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
        self.view_replaced.emit()
        self.problems_changed.emit(self.problems)
        self.view_problems_changed.emit(self.problems)
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
        """Applies `command` to the document as one undo step.

        Args:
            command: A graph.model command.
            text: The undo menu text; the command's own when None.

        Returns:
            None when applied, else why the edit was refused (the graph is unchanged).
        """
        return self._execute_on(self.graph, command, text)

    def execute_in_view(self, command: Command, text: str | None = None) -> str | None:
        """Like `execute`, on the view's graph (the canvas's level: a block's inside)."""
        return self._execute_on(self.view, command, text)

    def _execute_on(self, graph: NetworkGraph, command: Command, text: str | None) -> str | None:
        try:
            inverse = command.apply(graph)
        except (ParamError, GraphError, KeyError, ValueError) as error:
            return str(error.args[0]) if isinstance(error, KeyError) else str(error)
        self.undo_stack.push(GraphUndoCommand(graph, command, inverse, text))
        return None

    # The view: which level the canvas shows ------------------------------------------

    @property
    def view(self) -> NetworkGraph:
        """The graph the canvas shows: the document, or an opened block's definition."""
        return self._inside.graph if self._inside else self.graph

    @property
    def view_analysis(self) -> ShapeAnalysis:
        return self._inside.analysis if self._inside else self.analysis

    @property
    def view_problems(self) -> list[Problem]:
        return self._inside.problems if self._inside else self.problems

    def open_block(self, node_id: str) -> bool:
        """Shows the definition of instance `node_id` of the view; False if it has none."""
        node = self.view.node(node_id)
        if node.type != BLOCK or node.params.get("block") not in self.graph.blocks:
            return False
        self.flush()
        self._show_levels([*self.levels, BlockLevel(node.id, node.name, node.params["block"])])
        return True

    def go_to_level(self, depth: int) -> None:
        """Shows level `depth`: 0 the document, 1 the first opened block, ..."""
        if 0 <= depth < len(self.levels):
            self._show_levels(self.levels[:depth])

    def go_up(self) -> bool:
        """Shows the level above; False at the document."""
        if not self.levels:
            return False
        self.go_to_level(len(self.levels) - 1)
        return True

    def _show_levels(self, levels: list[BlockLevel]) -> None:
        self._leave_blocks()
        self.levels = levels
        if levels:
            shapes = arriving_shapes(self.graph, self.analysis, levels)
            self._inside = _Inside(level_graph(self.graph, levels), shapes, self)
            self._inside.problems = self._inside.validation.problems()
        self.set_selection([])
        self.view_replaced.emit()
        self.view_problems_changed.emit(self.view_problems)

    def _leave_blocks(self) -> None:
        if self._inside is not None:
            self._inside.close()
            self._inside = None
        self.levels = []

    def _follow_levels(self) -> None:
        """After edits (an undo, say): the path may be gone, or feed the inside other shapes."""
        if not self.levels:
            return
        depth = valid_depth(self.graph, self.levels)
        if depth < len(self.levels):
            self._show_levels(self.levels[:depth])
            return
        if arriving_shapes(self.graph, self.analysis, self.levels) != self._inside.shapes:
            self._show_levels(self.levels)

    # Change propagation ----------------------------------------------------------

    def _on_graph_event(self, event: GraphEvent) -> None:
        self._pending.update(event.node_ids)
        if event.edge is not None:
            # The source's output now feeds one edge more or fewer.
            self._pending.add(event.edge.source)
        self.graph_event.emit(event)
        if self._inside is None:
            self.view_event.emit(event)
        self._flush_timer.start()

    def _on_blocks_changed(self, _names: set[str]) -> None:
        # A definition changed (from the canvas inside it, or an undo): instances re-infer.
        self._flush_timer.start()

    def flush(self) -> None:
        """Brings shapes and problems up to date and notifies views now, if edits wait.

        Normally runs by itself in the event-loop turns after edits. With
        nothing waiting (not `busy`), everything is up to date and nothing
        is redone: a Train click would otherwise make every view of the
        graph (status bar, summary, probe-cache look-up) redo its work while
        the run starts.
        """
        if self._flush_timer.isActive():
            self._settle_shapes()  # starts the validation timer
        if self._validate_timer.isActive():
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
        if self.levels:
            self._follow_levels()
        if self._inside is not None:
            self.view_changed.emit(self._inside.settle())
        else:
            self.view_changed.emit(changed)
        self._validate_timer.start()

    def _validate(self) -> None:
        self._validate_timer.stop()
        problems = self.validation.problems()
        if problems != self.problems:
            self.problems = problems
            self.problems_changed.emit(problems)
            if self._inside is None:
                self.view_problems_changed.emit(problems)
        inside = self._inside
        if inside is not None:
            problems = inside.validation.problems()
            if problems != inside.problems:
                inside.problems = problems
                self.view_problems_changed.emit(problems)
        self.edits_settled.emit()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.dirty_changed.emit(self.is_dirty)


class _Inside:
    """An opened block definition: its own shapes (fed as at the instance) and problems."""

    def __init__(self, graph: NetworkGraph, shapes, session: EditorSession) -> None:
        self.graph = graph
        self.shapes = shapes
        self.session = session
        self.analysis = view_analysis(session.graph, session.levels, shapes)
        self.validation = LiveValidation(graph, self.analysis)
        self.problems: list[Problem] = []
        self.pending: set[str] = set()
        self.seen: dict[str, NodeInfo] = dict(self.analysis.all())
        graph.subscribe(self._on_event)

    def _on_event(self, event: GraphEvent) -> None:
        self.pending.update(event.node_ids)
        if event.edge is not None:
            self.pending.add(event.edge.source)
        self.session.view_event.emit(event)
        self.session._flush_timer.start()

    def settle(self) -> set[str]:
        """The view's nodes that may look different since the last settle."""
        infos = self.analysis.all()
        changed = {node_id for node_id in self.pending if node_id in infos}
        self.pending = set()
        for node_id, info in infos.items():
            if self.seen.get(node_id) != info:
                self.seen[node_id] = info
                changed.add(node_id)
        for node_id in [n for n in self.seen if n not in infos]:
            del self.seen[node_id]
        return changed

    def close(self) -> None:
        self.graph.unsubscribe(self._on_event)
        self.validation.close()
        self.analysis.close()
