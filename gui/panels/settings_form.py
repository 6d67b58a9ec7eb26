"""A form over one settings section of the graph (any of graph.settings.SECTIONS), edited undoably.

Editors come from the section's Param tuple (graph/settings.py) through the
inspector's editor factory; each edit is a SetSettings command on the
session's undo stack, and undo, redo or opening another graph refresh the
form.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from graph.model import GraphEvent, SetSettings
from graph.params import Param
from gui.document import EditorSession
from gui.param_editors import ParamEditor, follow_conditions, make_editor, param_tooltip
from gui.theme import ERROR_COLOR


def form_scroll(form: QWidget, minimum_width: int) -> QScrollArea:
    """A scroll area for a panel's side form: it scrolls down, never sideways.

    It is never narrower than the form can be; the form's rows wrap (or their
    editors narrow) to any width above that, so no setting hides past the right edge.
    """
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(form)
    needed = form.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
    scroll.setMinimumWidth(max(minimum_width, needed))
    return scroll


class SettingsForm(QWidget):
    """Edits `graph.<section>` of the session's graph.

    Args:
        session: The editing session.
        section: "training" or "dataset".
        params: The section's parameters in display order (a subset is fine).
        editors: Custom editors for some parameters, by name.

    Signals:
        changed: After the section changed (by this form, undo or a new graph).
    """

    changed = Signal()

    def __init__(
        self,
        session: EditorSession,
        section: str,
        params: Sequence[Param],
        editors: dict[str, ParamEditor] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.section = section
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # A narrow dock puts the editor under its label rather than cutting the label.
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.params = {param.name: param for param in params}
        self.editors: dict[str, ParamEditor] = {}
        self.labels: dict[str, QLabel] = {}
        for param in params:
            editor = (editors or {}).get(param.name) or make_editor(param)
            editor.edited.connect(lambda value, name=param.name: self.apply(name, value))
            label = QLabel(param.name.replace("_", " "))
            label.setToolTip(param_tooltip(param))
            self.form.addRow(label, editor)
            self.editors[param.name] = editor
            self.labels[param.name] = label
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.error_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        # Spare height stays below the form rather than stretching its rows.
        layout.addStretch(1)
        session.graph_replaced.connect(self.refresh)
        session.graph_event.connect(self._on_graph_event)
        self.refresh()

    @property
    def values(self) -> dict:
        return self.session.graph.settings[self.section]

    def apply(self, name: str, value: object) -> str | None:
        """Sets one setting through the undo stack; returns why it was refused, if it was."""
        if self.values.get(name) == value:
            return None
        refused = self.session.execute(
            SetSettings(self.section, {name: value}), f"Set {self.section} {name}"
        )
        if refused:
            self.error_label.setText(refused)
            self.error_label.show()
            self.editors[name].set_value(self.values[name])
        else:
            self.error_label.hide()
        return refused

    def is_row_visible(self, name: str) -> bool:
        return self.form.isRowVisible(self.labels[name])

    def refresh(self) -> None:
        """Shows the graph's current values; rows follow their params' shown_when/enabled_when."""
        values = self.values
        for name, editor in self.editors.items():
            if name in values:
                editor.set_value(values[name])
        follow_conditions(self.form, self.params, self.labels, self.editors, values)
        self.changed.emit()

    def _on_graph_event(self, event: GraphEvent) -> None:
        if event.kind == "settings_changed" and event.section == self.section:
            self.refresh()
