"""Pick a method and set its parameters; the parameter rows are generated from its params dataclass.

Reads method metadata from the registry only (names, labels, descriptions, params classes); it
never runs a method. Values typed for one method are remembered while switching to another and back.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import param_specs
from inpaint_studio.ui.param_form import ParamForm

#: the method selected when nothing else is asked for (fast, always installed)
DEFAULT_METHOD = "telea"


class MethodPanel(QWidget):
    """Method combo box, its description, its generated settings and a Reset button."""

    method_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._remembered: dict[str, dict[str, Any]] = {}
        self._form: ParamForm | None = None

        self.combo = QComboBox(self)
        self.combo.setObjectName("method_combo")
        self.combo.setToolTip("The inpainting method used by Fill")
        self.description = QLabel(self)
        self.description.setObjectName("method_description")
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_box = QGroupBox("Settings", self)
        self._settings_layout = QVBoxLayout(self.settings_box)
        self.reset_button = QPushButton("Reset to defaults", self)
        self.reset_button.setObjectName("reset_params")
        self.reset_button.setToolTip("Set every setting of this method back to its default")
        self._settings_layout.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignRight)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        method_label = QLabel("&Method:", self)
        method_label.setBuddy(self.combo)
        layout.addWidget(method_label)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        layout.addWidget(self.settings_box)

        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.reset_button.clicked.connect(self.reset)
        self.refresh()

    # public API -----------------------------------------------------------------------------

    @property
    def form(self) -> ParamForm | None:
        return self._form

    def current_method(self) -> str | None:
        data = self.combo.currentData()
        return None if data is None else str(data)

    def values(self) -> dict[str, Any]:
        return {} if self._form is None else self._form.values()

    def select(self, name: str) -> bool:
        index = self.combo.findData(name)
        if index < 0:
            return False
        self.combo.setCurrentIndex(index)
        return True

    def reset(self) -> None:
        if self._form is not None:
            self._form.reset()

    def refresh(self) -> None:
        """Re-read the installed methods (keeps the current choice when it is still there)."""
        current = self.current_method() or DEFAULT_METHOD
        self.combo.blockSignals(True)
        self.combo.clear()
        for info in registry.available():
            suffix = " — live preview" if info.iterative else ""
            self.combo.addItem(info.label + suffix, info.name)
            self.combo.setItemData(self.combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        if not self.select(current) and self.combo.count():
            self.combo.setCurrentIndex(0)
        self.combo.blockSignals(False)
        self._on_combo_changed()

    # internals ------------------------------------------------------------------------------

    def _on_combo_changed(self, _index: int = -1) -> None:
        if self._form is not None:
            self._remembered[self._form.objectName()] = self._form.values()
            self._settings_layout.removeWidget(self._form)
            self._form.hide()
            self._form.deleteLater()
            self._form = None
        name = self.current_method()
        if name is None:
            self.description.setText("No inpainting methods are installed.")
            self.reset_button.setEnabled(False)
            return
        try:
            cls = registry.method_class(name)
            specs = param_specs(cls.Params)
            description = cls.description
        except InpaintStudioError as exc:  # a plug-in that broke after it was listed
            self.description.setText(str(exc))
            self.reset_button.setEnabled(False)
            return
        self.description.setText(description)
        self._form = ParamForm(specs, self.settings_box)
        self._form.setObjectName(name)
        self._form.set_values(self._remembered.get(name, {}))
        self._settings_layout.insertWidget(0, self._form)
        self.reset_button.setEnabled(bool(specs))
        self.method_changed.emit(name)
