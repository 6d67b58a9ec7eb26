"""Editors generated from typed parameters (graph.params.Param).

:func:`make_editor` builds one editor per Param kind; :class:`ParamForm` lays
out a whole parameter list. Both only report what the user typed: the owner
applies it through a command, and the catalog's coercion decides whether it is
accepted, so every rule about values stays in graph/params.py. The inspector
uses them for layers, the settings panels for training and dataset settings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from graph import keras_objects
from graph.item_lists import items_text, parse_items
from graph.params import Param

_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e12


def rich_tooltip(title: str, text: str) -> str:
    """A tooltip Qt wraps to a readable width (rich text wraps, plain text does not)."""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line)
    return f"<b>{escape(title)}</b>{paragraphs}"


def param_tooltip(param: Param) -> str:
    """The learner's tooltip of a parameter, from its declaration (graph.explanations)."""
    return rich_tooltip(param.name.replace("_", " "), param.tooltip())


def choice_tooltip(param: Param, choice: Any) -> str:
    """The tooltip of one choice (an activation, optimizer, loss, ...), or ""."""
    text = param.choice_tooltip(choice)
    return rich_tooltip(str(choice), text) if text else ""


class ParamEditor(QWidget):
    """Base of every editor: `edited` carries the value the user entered.

    Args:
        param: The parameter edited.
    """

    edited = Signal(object)

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.param = param
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.setToolTip(param_tooltip(param))

    def set_value(self, value: Any) -> None:
        """Shows `value` without emitting `edited`."""
        self.blockSignals(True)
        try:
            self._show(value)
        finally:
            self.blockSignals(False)

    def value(self) -> Any:
        raise NotImplementedError

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def _emit(self, *_args: object) -> None:
        self.edited.emit(self.value())


def _step_within(spin: QSpinBox | QDoubleSpinBox, steps: int, param: Param) -> None:
    """Steps `spin` like Qt does, but never past the param's range.

    The spin box's own range is left wide on purpose: a value typed beyond the
    param's range reaches the catalog, which refuses it with a reason shown
    beside the field. A spin box range would snap it back without a word.
    """
    current = spin.value()
    target = current + steps * spin.singleStep()
    if param.minimum is not None:
        target = max(target, param.minimum)
    if param.maximum is not None:
        target = min(target, param.maximum)
    if target != current:
        spin.setValue(type(current)(target))


class WheelWhenFocused:
    """Mixed into spin boxes, drop-downs and sliders: the wheel changes them only once clicked.

    Otherwise scrolling a form whose rows pass under the pointer would change (and
    save) whatever setting it crosses; unfocused, the wheel scrolls the form instead.
    """

    def take_wheel_only_when_focused(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone gives no focus

    def wheelEvent(self, event) -> None:  # Qt override
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # passed on to the scroll area around the form


class ChoiceCombo(WheelWhenFocused, QComboBox):
    """A drop-down of choices that the wheel changes only once it has been clicked."""

    def __init__(self) -> None:
        super().__init__()
        self.take_wheel_only_when_focused()


class IntSpinBox(WheelWhenFocused, QSpinBox):
    """An int spin box whose arrows stay in the param's range and whose typed values do not."""

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.param = param
        self.setRange(-_INT_LIMIT, _INT_LIMIT)
        self.take_wheel_only_when_focused()

    def stepBy(self, steps: int) -> None:  # Qt override
        _step_within(self, steps, self.param)


class FloatSpinBox(WheelWhenFocused, QDoubleSpinBox):
    """A spin box that shows floats compactly (0.001, 1e-07), not as 0.0010000000.

    Like IntSpinBox, its arrows stay in the param's range (when it has one) and
    typed values are left for the catalog to accept or refuse.
    """

    def __init__(self, param: Param | None = None) -> None:
        super().__init__()
        self.param = param
        # No rounding: the spin box must hold exactly the value the graph holds.
        self.setDecimals(320)
        self.setRange(-_FLOAT_LIMIT, _FLOAT_LIMIT)
        self.take_wheel_only_when_focused()

    def stepBy(self, steps: int) -> None:  # Qt override
        if self.param is None:
            super().stepBy(steps)
        else:
            _step_within(self, steps, self.param)

    def textFromValue(self, value: float) -> str:
        short = f"{value:.6g}"
        return short if float(short) == value else repr(value)

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # Qt override
        if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d*)?([eE][-+]?\d*)?", text):
            try:
                float(text)
                return QValidator.State.Acceptable, text, pos
            except ValueError:
                return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos


class IntEditor(ParamEditor):
    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.spin = IntSpinBox(param)
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(self._emit)
        self._layout.addWidget(self.spin)

    def value(self) -> int:
        return self.spin.value()

    def _show(self, value: Any) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(int(value))
        self.spin.blockSignals(False)


class FloatEditor(ParamEditor):
    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.spin = FloatSpinBox(param)
        small_range = param.maximum is not None and param.maximum <= 1.0
        self.spin.setSingleStep(0.05 if small_range else 0.1)
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(self._emit)
        self._layout.addWidget(self.spin)

    def value(self) -> float:
        return self.spin.value()

    def _show(self, value: Any) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(float(value))
        self.spin.blockSignals(False)


class BoolEditor(ParamEditor):
    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.check = QCheckBox()
        self.check.toggled.connect(self._emit)
        self._layout.addWidget(self.check)

    def value(self) -> bool:
        return self.check.isChecked()

    def _show(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.combo = ChoiceCombo()
        for index, choice in enumerate(param.choices):
            self.combo.addItem(str(choice))
            tip = choice_tooltip(param, choice)
            if tip:
                self.combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        self.combo.currentIndexChanged.connect(self._emit)
        self._layout.addWidget(self.combo)

    def value(self) -> Any:
        return self.param.choices[max(0, self.combo.currentIndex())]

    def _show(self, value: Any) -> None:
        self.combo.blockSignals(True)
        if value in self.param.choices:
            self.combo.setCurrentIndex(self.param.choices.index(value))
        self.combo.blockSignals(False)


class MultiChoiceEditor(ParamEditor):
    """A short checkable list: it fits a narrow panel however many choices there are."""

    _VISIBLE_ROWS = 4

    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.list = QListWidget()
        for choice in param.choices:
            item = QListWidgetItem(str(choice))
            item.setToolTip(choice_tooltip(param, choice))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        rows = min(self._VISIBLE_ROWS, len(param.choices))
        self.list.setFixedHeight(rows * self.list.sizeHintForRow(0) + 2 * self.list.frameWidth())
        self.list.itemChanged.connect(self._emit)
        self._layout.addWidget(self.list)

    def is_checked(self, choice: Any) -> bool:
        item = self.list.item(self.param.choices.index(choice))
        return item.checkState() == Qt.CheckState.Checked

    def set_checked(self, choice: Any, checked: bool) -> None:
        """Checks or unchecks `choice` as the user would (emits `edited`)."""
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self.list.item(self.param.choices.index(choice)).setCheckState(state)

    def value(self) -> tuple:
        return tuple(c for c in self.param.choices if self.is_checked(c))

    def _show(self, value: Any) -> None:
        self.list.blockSignals(True)
        for index, choice in enumerate(self.param.choices):
            checked = choice in (value or ())
            state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
            self.list.item(index).setCheckState(state)
        self.list.blockSignals(False)


class TextEditor(ParamEditor):
    """Free text; also the editor of tuples ("3, 3"), parsed when the user is done."""

    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.line = QLineEdit()
        if param.kind in ("ints", "floats"):
            size = f"{param.length} " if param.length else ""
            self.line.setPlaceholderText(f"{size}numbers, e.g. 3, 3")
        self.line.editingFinished.connect(self._on_finished)
        self._layout.addWidget(self.line)
        self._shown = ""

    def _on_finished(self) -> None:
        if self.line.text() != self._shown:
            self._shown = self.line.text()
            self._emit()

    def value(self) -> Any:
        text = self.line.text().strip()
        if not text and self.param.nullable:
            return None  # an optional string or tuple left empty is unset
        if self.param.kind == "str":
            return self.line.text()
        number_type = int if self.param.kind == "ints" else float
        return parse_numbers(text, number_type, open_items=self.param.open_items)

    def _show(self, value: Any) -> None:
        if value is None:
            text = ""
        elif isinstance(value, (tuple, list)):
            text = ", ".join(_item_text(v) for v in value)
        else:
            text = str(value)
        self._shown = text
        self.line.setText(text)


class _ListText(QPlainTextEdit):
    """A text box that reports when the user leaves it, like QLineEdit's editingFinished."""

    editing_finished = Signal()

    def focusOutEvent(self, event) -> None:  # Qt override
        super().focusOutEvent(event)
        self.editing_finished.emit()


class ItemListEditor(ParamEditor):
    """A list typed one item per line or comma separated (a vocabulary), read when left.

    graph.item_lists parses the text; the catalog refuses what does not fit.
    """

    _VISIBLE_LINES = 5

    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.text = _ListText()
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText("one per line, or separated by commas; empty: learned")
        lines = self.text.fontMetrics().lineSpacing() * self._VISIBLE_LINES
        self.text.setFixedHeight(lines + 2 * self.text.frameWidth() + 8)
        self.text.editing_finished.connect(self._on_finished)
        self._layout.addWidget(self.text)
        self._shown = ""

    def _on_finished(self) -> None:
        if self.text.toPlainText() != self._shown:
            self._shown = self.text.toPlainText()
            self._emit()

    def value(self) -> list | None:
        return parse_items(self.text.toPlainText(), integers=self.param.kind == "ints")

    def _show(self, value: Any) -> None:
        self._shown = items_text(value)
        self.text.setPlainText(self._shown)


def _item_text(value: Any) -> str:
    if value is None:
        return OPEN_ITEM
    return f"{value:g}" if isinstance(value, float) else str(value)


OPEN_ITEM = "?"
_OPEN_WORDS = {OPEN_ITEM, "none", "null"}


def parse_numbers(text: str, number_type: type, open_items: bool = False) -> Any:
    """Parses "3, 3" or "3x3" into (3, 3); returns the text itself when it is not numbers.

    Returning the raw text lets the catalog refuse it with its own message.

    Args:
        text: What the user typed.
        number_type: int or float.
        open_items: Whether "?" (or None) stands for an open size, parsed as None.
    """
    parts = [p for p in re.split(r"[,\s×x()\[\]]+", text) if p]
    numbers: list[float | None] = []
    for part in parts:
        if open_items and part.lower() in _OPEN_WORDS:
            numbers.append(None)
            continue
        try:
            numbers.append(float(part))
        except ValueError:
            return text
    if number_type is int:
        if not all(n is None or (math.isfinite(n) and n == int(n)) for n in numbers):
            return text
        return tuple(None if n is None else int(n) for n in numbers)
    return tuple(numbers)


class KerasObjectEditor(ParamEditor):
    """An initializer, regularizer or constraint: the class, then its arguments.

    The class list comes from graph.keras_objects (only the classes the
    parameter allows); "none" leads it where the parameter may be unset.
    """

    NONE = "none"

    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.family = param.kind
        classes = keras_objects.CLASSES[self.family].values()
        allowed = [c.name for c in classes if not param.choices or c.shortcut in param.choices]
        self._layout.setDirection(QHBoxLayout.Direction.TopToBottom)
        self.class_combo = ChoiceCombo()
        if param.kind != "initializer":
            self.class_combo.addItem(self.NONE)
        self.class_combo.addItems(allowed)
        for index, name in enumerate(allowed, start=self.class_combo.count() - len(allowed)):
            self.class_combo.setItemData(
                index, keras_objects.CLASSES[self.family][name].help, Qt.ItemDataRole.ToolTipRole
            )
        self.class_combo.currentIndexChanged.connect(self._on_class)
        self._layout.addWidget(self.class_combo)
        self.form: ParamForm | None = None
        self._class: str | None = None

    def _build_form(self, class_name: str) -> None:
        if self._class == class_name:
            return
        if self.form is not None:
            self.form.setParent(None)
            self.form.deleteLater()
            self.form = None
        self._class = class_name
        if class_name == self.NONE:
            return
        arguments = keras_objects.CLASSES[self.family][class_name].arguments
        if arguments:
            self.form = ParamForm(arguments)
            self.form.edited.connect(self._emit)
            self._layout.addWidget(self.form)

    def _on_class(self) -> None:
        class_name = self.class_combo.currentText()
        self._build_form(class_name)
        if self.form is not None:
            cls = keras_objects.CLASSES[self.family][class_name]
            self.form.set_values({a.name: a.default for a in cls.arguments})
        self._emit()

    def value(self) -> Any:
        class_name = self.class_combo.currentText()
        if class_name == self.NONE:
            return None
        config = self.form.values() if self.form is not None else {}
        return {"class": class_name, "config": config}

    def _show(self, value: Any) -> None:
        form = keras_objects.class_form(self.family, value)
        class_name, arguments = form if form is not None else (self.NONE, {})
        self.class_combo.blockSignals(True)
        self.class_combo.setCurrentText(class_name)
        self.class_combo.blockSignals(False)
        self._build_form(class_name)
        if self.form is not None:
            self.form.set_values(arguments)


class WrappedLayerEditor(ParamEditor):
    """The inner layer of a wrapper (Bidirectional, TimeDistributed): type + its params."""

    def __init__(self, param: Param) -> None:
        from graph.catalog import CATALOG

        super().__init__(param)
        self._catalog = CATALOG
        self._layout.setDirection(QHBoxLayout.Direction.TopToBottom)
        self.type_combo = ChoiceCombo()
        self.type_combo.addItems(list(param.wrappable))
        self.type_combo.currentIndexChanged.connect(self._on_type)
        self._layout.addWidget(self.type_combo)
        self.form: ParamForm | None = None
        self._inner_type: str | None = None

    def _build_form(self, type_name: str) -> None:
        if self._inner_type == type_name and self.form is not None:
            return
        if self.form is not None:
            self.form.setParent(None)
            self.form.deleteLater()
        self._inner_type = type_name
        self.form = ParamForm(self._catalog[type_name].params)
        self.form.edited.connect(self._emit)
        self._layout.addWidget(self.form)

    def _on_type(self) -> None:
        type_name = self.type_combo.currentText()
        self._build_form(type_name)
        self.form.set_values(self._catalog[type_name].default_params())
        self._emit()

    def value(self) -> dict:
        return {"type": self.type_combo.currentText(), "params": self.form.values()}

    def _show(self, value: Any) -> None:
        type_name = value["type"]
        self.type_combo.blockSignals(True)
        self.type_combo.setCurrentText(type_name)
        self.type_combo.blockSignals(False)
        self._build_form(type_name)
        spec = self._catalog[type_name]
        self.form.set_values(spec.coerce_params(value.get("params") or {}))


class NullableEditor(ParamEditor):
    """Wraps an editor with a checkbox; unchecked means None (Keras's "not set")."""

    def __init__(self, param: Param, inner: ParamEditor) -> None:
        super().__init__(param)
        self.enabled = QCheckBox()
        self.enabled.setToolTip("Unchecked: not set (None)")
        self.inner = inner
        self.enabled.toggled.connect(self._on_toggled)
        inner.edited.connect(self._emit)
        self._layout.addWidget(self.enabled)
        self._layout.addWidget(inner, 1)

    def _on_toggled(self, checked: bool) -> None:
        self.inner.setEnabled(checked)
        self._emit()

    def value(self) -> Any:
        return self.inner.value() if self.enabled.isChecked() else None

    def _show(self, value: Any) -> None:
        self.enabled.blockSignals(True)
        self.enabled.setChecked(value is not None)
        self.enabled.blockSignals(False)
        self.inner.setEnabled(value is not None)
        if value is not None:
            self.inner.set_value(value)


_EDITORS = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "multichoice": MultiChoiceEditor,
    "str": TextEditor,
    "strs": ItemListEditor,
    "ints": TextEditor,
    "floats": TextEditor,
    "initializer": KerasObjectEditor,
    "regularizer": KerasObjectEditor,
    "constraint": KerasObjectEditor,
    "layer": WrappedLayerEditor,
}


def make_editor(param: Param) -> ParamEditor:
    """The editor for one parameter, chosen by its kind (a list of distinct codes: as a list)."""
    editor = (ItemListEditor if param.distinct else _EDITORS[param.kind])(param)
    if param.nullable and param.kind in ("int", "float", "choice"):
        return NullableEditor(param, editor)
    return editor


class ParamForm(QWidget):
    """A form with one editor per parameter.

    Args:
        params: The parameters, in display order.

    Signals:
        edited: (parameter name, value entered) each time the user changes one.
    """

    edited = Signal(str, object)

    def __init__(self, params: Sequence[Param]) -> None:
        super().__init__()
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # A narrow dock puts the editor under its label rather than cutting the label.
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.params = {param.name: param for param in params}
        self.editors: dict[str, ParamEditor] = {}
        self.labels: dict[str, QLabel] = {}
        self.refusals: dict[str, QLabel] = {}
        for param in params:
            editor = make_editor(param)
            editor.edited.connect(lambda value, name=param.name: self.edited.emit(name, value))
            label = QLabel(param.name)
            label.setToolTip(param_tooltip(param))
            refusal = QLabel()
            refusal.setWordWrap(True)
            refusal.setStyleSheet("color: #d93025;")
            refusal.hide()
            field = QWidget()
            field_layout = QVBoxLayout(field)
            field_layout.setContentsMargins(0, 0, 0, 0)
            field_layout.setSpacing(1)
            field_layout.addWidget(editor)
            field_layout.addWidget(refusal)
            self.form.addRow(label, field)
            self.editors[param.name] = editor
            self.labels[param.name] = label
            self.refusals[param.name] = refusal

    def show_refusal(self, name: str, reason: str | None) -> None:
        """Shows why the value typed for `name` was refused, beside it (None: clears it).

        The editor keeps the typed text, so the user can correct it.
        """
        refusal = self.refusals[name]
        refusal.setText(reason or "")
        refusal.setVisible(bool(reason))

    def clear_refusals(self) -> None:
        for name in self.refusals:
            self.show_refusal(name, None)

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Shows `values` without emitting `edited`; rows follow their params' conditions.

        A field whose typed value was refused keeps the typed text.
        """
        for name, editor in self.editors.items():
            if name in values and not self.refusals[name].isVisibleTo(self):
                editor.set_value(values[name])
        follow_conditions(self.form, self.params, self.labels, self.editors, values)

    def values(self) -> dict[str, Any]:
        return {name: editor.value() for name, editor in self.editors.items()}


def follow_conditions(
    form: QFormLayout,
    params: Mapping[str, Param],
    labels: Mapping[str, QLabel],
    editors: Mapping[str, QWidget],
    values: Mapping[str, Any],
) -> None:
    """Shows and enables each row as its Param's shown_when / enabled_when say."""
    for name, param in params.items():
        form.setRowVisible(labels[name], param.is_shown(values))
        enabled = param.is_enabled(values)
        labels[name].setEnabled(enabled)
        editors[name].setEnabled(enabled)
