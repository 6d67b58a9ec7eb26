"""The inspector: the selected layer's name and parameters, edited live.

Editors come from the catalog's typed parameters (gui.param_editors). Every
change is a SetParams/RenameNode command on the undo stack; a value the
catalog refuses is not applied, and the reason is shown under the form.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from graph.block_inference import node_type
from graph.cost import NodeCost, format_bytes, node_cost
from graph.hints import activation_hint
from graph.model import RenameNode, SetParams
from gui.canvas.node_item import format_shape
from gui.document import EditorSession
from gui.param_editors import ParamForm
from gui.theme import ERROR_COLOR


class Inspector(QWidget):
    """Edits the one selected node.

    Args:
        session: The editing session.
    """

    def __init__(self, session: EditorSession) -> None:
        super().__init__()
        self.session = session
        self.node_id: str | None = None
        self._forms: dict[str, ParamForm] = {}

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.editingFinished.connect(self._on_name_edited)
        self.shape_label = QLabel()
        self.shape_label.setWordWrap(True)
        self.shape_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.error_label.hide()
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet("color: #5f6368;")
        self.hint_button = QPushButton()
        self.hint_button.clicked.connect(self.apply_hint)
        self.hint = None
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.problem_label.hide()
        self.forms = QStackedWidget()
        self.empty = QLabel("Select a layer to edit its parameters.")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.forms.addWidget(self.empty)

        header = QFormLayout()
        header.addRow("Name", self.name_edit)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.title)
        layout.addLayout(header)
        layout.addWidget(self.shape_label)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.hint_button)
        layout.addWidget(self.forms)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # Editors shrink to the dock's width rather than hide behind a scroll bar.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        session.selection_changed.connect(self._on_selection_changed)
        # The canvas's level: the document, or an opened block's inside.
        session.view_changed.connect(self._on_graph_changed)
        session.view_replaced.connect(lambda: self.show_node(None))
        session.view_problems_changed.connect(lambda _problems: self._show_problem())
        self.show_node(None)

    @property
    def form(self) -> ParamForm | None:
        """The form of the node shown, if any."""
        widget = self.forms.currentWidget()
        return widget if isinstance(widget, ParamForm) else None

    def show_node(self, node_id: str | None) -> None:
        """Shows `node_id`'s parameters, or a hint when None."""
        graph = self.session.view
        self.node_id = node_id if node_id in graph else None
        self.error_label.hide()
        has_node = self.node_id is not None
        self.name_edit.setEnabled(has_node)
        if not has_node:
            self.title.setText("<b>No layer selected</b>")
            self.name_edit.clear()
            self.shape_label.clear()
            self.problem_label.hide()
            self.hint = None
            self.hint_label.hide()
            self.hint_button.hide()
            self.forms.setCurrentWidget(self.empty)
            return
        node = graph.node(self.node_id)
        spec = node_type(graph, node)
        self.title.setText(f"<b>{node.type}</b> · {spec.category}<br>{spec.description}")
        form = self._forms.get(node.type)
        if form is None:
            form = ParamForm(spec.params)
            form.edited.connect(self._on_param_edited)
            self._forms[node.type] = form
            self.forms.addWidget(form)
        self.forms.setCurrentWidget(form)
        form.clear_refusals()
        self._refresh()

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _refresh(self) -> None:
        node = self.session.view.node(self.node_id)
        self.name_edit.setText(node.name)
        self.form.set_values(node.params)
        info = self.session.view_analysis.info(self.node_id)
        inputs = ", ".join(format_shape(s) for s in info.input_shapes) or "none"
        outputs = ", ".join(format_shape(s) for s in info.outputs or (info.output_shape,))
        self.shape_label.setText(
            f"Input: {inputs}\nOutput: {outputs}"
            f"\nParameters: {info.param_count:,}{cost_text(node_cost(info))}"
        )
        self._show_problem()
        self._show_hint()

    def _show_hint(self) -> None:
        self.hint = activation_hint(self.session.view, self.node_id) if self.node_id else None
        self.hint_label.setText(f"Hint: {self.hint.text}" if self.hint else "")
        self.hint_button.setText(self.hint.fix.text if self.hint else "")
        self.hint_label.setVisible(self.hint is not None)
        self.hint_button.setVisible(self.hint is not None)

    def apply_hint(self) -> str | None:
        """Applies the shown hint's fix as one undo step; returns why not, if refused."""
        if self.hint is None:
            return "No hint."
        fix = self.hint.fix
        return self.session.execute_in_view(fix.command(self.session.view), fix.text)

    def _show_problem(self) -> None:
        messages = [p.message for p in self.session.view_problems if p.node_id == self.node_id]
        self.problem_label.setText("\n".join(messages))
        self.problem_label.setVisible(bool(messages) and self.node_id is not None)

    def _on_selection_changed(self, node_ids: list[str]) -> None:
        self.show_node(node_ids[0] if len(node_ids) == 1 else None)

    def _on_graph_changed(self, node_ids: set[str]) -> None:
        if self.node_id is not None and self.node_id not in self.session.view:
            self.show_node(None)
        elif self.node_id in node_ids:
            self._refresh()

    def _on_param_edited(self, name: str, value: Any) -> None:
        if self.node_id is None:
            return
        refused = self.session.execute_in_view(SetParams(self.node_id, {name: value}))
        # The reason shows beside the field, which keeps what was typed until
        # the user corrects it or selects another layer.
        self.form.show_refusal(name, refused)
        if not refused:
            self.error_label.hide()

    def _on_name_edited(self) -> None:
        if self.node_id is None:
            return
        graph = self.session.view
        node = graph.node(self.node_id)
        name = self.name_edit.text().strip()
        if name == node.name:
            return
        # RenameNode refuses names the layer-name rule (graph.names) refuses.
        refused = self.session.execute_in_view(RenameNode(self.node_id, name))
        if refused:
            self.show_error(refused)
            self.name_edit.setText(node.name)
        else:
            self.error_label.hide()


def cost_text(cost: NodeCost | None) -> str:
    """MACs, weight sizes and activation memory of a node, as lines under its parameters."""
    if cost is None:
        return ""
    sizes = " / ".join(
        format_bytes(cost.weight_bytes(dtype)) for dtype in ("float32", "float16", "int8")
    )
    macs = "?" if cost.macs is None else f"{cost.macs:,}"
    return (
        f"\nMACs per sample: {macs}"
        f"\nWeights (float32 / float16 / int8): {sizes}"
        f"\nActivations per sample: {format_bytes(cost.activation_bytes)}"
    )
