"""A form generated from a method's params dataclass: no method ever writes UI code.

Each :class:`~inpaint_studio.methods.base.ParamSpec` becomes one row: choices -> combo box, bool ->
check box, int -> spin box, float -> double spin box, anything else -> line edit; ranges, steps and
tooltips come from the spec. Values read back are plain Python values that ``make_params`` accepts.
Specs marked ``advanced`` come last, behind a "More settings" toggle.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from inpaint_studio.methods.base import ParamSpec

_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e12


def _choice_text(choice: Any) -> str:
    return str(choice.value if isinstance(choice, enum.Enum) else choice)


def _decimals_for(step: float | None, spec: ParamSpec) -> int:
    """Enough decimals to show the step and the default exactly (at least 1, at most 6)."""
    wanted = 1
    for value in (step, spec.default, spec.min, spec.max):
        if value is None or not math.isfinite(float(value)):
            continue
        text = f"{float(value):.6f}".rstrip("0")
        wanted = max(wanted, len(text.partition(".")[2]))
    return min(wanted, 6)


def _tooltip(spec: ParamSpec) -> str:
    parts = [spec.help] if spec.help else []
    bounds = []
    if spec.min is not None:
        bounds.append(f"min {spec.min:g}")
    if spec.max is not None:
        bounds.append(f"max {spec.max:g}")
    default = _choice_text(spec.default) if spec.choices else spec.default
    bounds.append(f"default {default}")
    parts.append("(" + ", ".join(bounds) + ")")
    return " ".join(parts)


def make_editor(spec: ParamSpec, parent: QWidget | None = None) -> QWidget:
    """The widget for one parameter, set to its default."""
    if spec.choices is not None:
        combo = QComboBox(parent)
        for choice in spec.choices:
            combo.addItem(_choice_text(choice), choice)
        editor: QWidget = combo
    elif spec.type is bool:
        editor = QCheckBox(parent)
    elif spec.type is int:
        spin = QSpinBox(parent)
        spin.setRange(int(spec.min) if spec.min is not None else -_INT_LIMIT,
                      int(spec.max) if spec.max is not None else _INT_LIMIT)
        spin.setSingleStep(max(1, int(spec.step or 1)))
        editor = spin
    elif spec.type is float:
        dspin = QDoubleSpinBox(parent)
        step = spec.step
        if step is None:
            span = (spec.max - spec.min) if spec.min is not None and spec.max is not None else None
            step = span / 100 if span else 0.1
        dspin.setDecimals(_decimals_for(step, spec))
        dspin.setRange(float(spec.min) if spec.min is not None else -_FLOAT_LIMIT,
                       float(spec.max) if spec.max is not None else _FLOAT_LIMIT)
        dspin.setSingleStep(float(step))
        dspin.setStepType(QAbstractSpinBox.StepType.DefaultStepType)
        editor = dspin
    else:
        editor = QLineEdit(parent)
    if spec.auto and isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.setSpecialValueText(spec.auto)  # Qt shows it while the value is the minimum
    editor.setObjectName(f"param_{spec.name}")
    editor.setToolTip(_tooltip(spec))
    set_editor_value(editor, spec.default)
    return editor


def set_editor_value(editor: QWidget, value: Any) -> None:
    if isinstance(editor, QComboBox):
        for index in range(editor.count()):
            if editor.itemData(index) == value or editor.itemText(index) == _choice_text(value):
                editor.setCurrentIndex(index)
                return
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QSpinBox):
        editor.setValue(int(value))
    elif isinstance(editor, QDoubleSpinBox):
        editor.setValue(float(value))
    elif isinstance(editor, QLineEdit):
        editor.setText("" if value is None else str(value))


def editor_value(editor: QWidget) -> Any:
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        return editor.value()
    if isinstance(editor, QLineEdit):
        return editor.text()
    raise TypeError(f"not a parameter editor: {editor!r}")


def _changed_signal(editor: QWidget) -> Any:
    if isinstance(editor, QComboBox):
        return editor.currentIndexChanged
    if isinstance(editor, QCheckBox):
        return editor.toggled
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        return editor.valueChanged
    return editor.textChanged


class ParamForm(QWidget):
    """Rows of editors for a list of specs; ``values()`` gives ``{name: value}``.

    Advanced specs follow the everyday ones behind a "More settings" toggle (collapsed unless one of
    them is set away from its default, so a changed value is never hidden)."""

    changed = Signal()

    def __init__(self, specs: list[ParamSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = [s for s in specs if not s.advanced] + [s for s in specs if s.advanced]
        self.editors: dict[str, QWidget] = {}
        self.more_button: QToolButton | None = None
        self._advanced_rows: list[int] = []
        layout = self._layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(3)  # a dock's form: a dozen rows must fit a laptop screen
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in self.specs:
            if spec.advanced and self.more_button is None:
                self.more_button = self._make_more_button()
                layout.addRow(self.more_button)
            editor = make_editor(spec, self)
            label = QLabel(spec.label + ":", self)
            label.setToolTip(editor.toolTip())
            label.setBuddy(editor)
            layout.addRow(label, editor)
            if spec.advanced:
                self._advanced_rows.append(layout.rowCount() - 1)
            _changed_signal(editor).connect(self.changed)
            self.editors[spec.name] = editor
        if not self.specs:
            note = QLabel("This method has no settings.", self)
            note.setEnabled(False)
            layout.addRow(note)
        self.show_advanced(False)

    def _make_more_button(self) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName("more_settings")
        button.setCheckable(True)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setToolTip("Tuning settings most photos never need: solver steps, preview pacing.")
        button.toggled.connect(self.show_advanced)
        return button

    def advanced_shown(self) -> bool:
        return self.more_button is not None and self.more_button.isChecked()

    def show_advanced(self, shown: bool) -> None:
        """Show or fold away the advanced rows (the toggle follows)."""
        if self.more_button is None:
            return
        if self.more_button.isChecked() != shown:
            self.more_button.setChecked(shown)  # re-enters through toggled
            return
        self.more_button.setText("Fewer settings" if shown else "More settings")
        self.more_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        for row in self._advanced_rows:
            self._layout.setRowVisible(row, shown)

    def values(self) -> dict[str, Any]:
        return {name: editor_value(editor) for name, editor in self.editors.items()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            if name in self.editors:
                set_editor_value(self.editors[name], value)
        if self._advanced_changed():
            self.show_advanced(True)

    def _advanced_changed(self) -> bool:
        current = self.values()
        return any(current[s.name] != s.default for s in self.specs if s.advanced)

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.specs}

    def reset(self) -> None:
        """Every editor back to its spec's default."""
        self.set_values(self.defaults())
