"""Pick a method and set its parameters; the parameter rows are generated from its params dataclass.

Reads method metadata from the registry only (names, labels, descriptions, params classes); it
never runs a method. The chosen method and every method's values are remembered in the preferences,
across switching and across sessions. A method whose trained weights are not installed is listed
(so users know it exists) with a "Get weights…" button instead of a Fill that would fail.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.methods import DEFAULT_METHOD, registry
from inpaint_studio.methods.base import param_specs
from inpaint_studio.methods.registry import MethodInfo
from inpaint_studio.runtime.weights import weights_status
from inpaint_studio.ui.param_form import ParamForm
from inpaint_studio.ui.settings import Preferences

log = logging.getLogger(__name__)

#: the built-in methods in the order a user reaches for them: object removal, scratches and dust,
#: structure, then the slower fitted networks; anything else follows by label
BUILT_IN_ORDER = ("patchmatch", "telea", "ns", "criminisi", "dip", "siren")
_READY, _INSTALLED_NETWORK, _NEEDS_WEIGHTS = 0, 1, 2


def method_order(infos: list[MethodInfo]) -> list[tuple[int, MethodInfo]]:
    """(group, info) in menu order: methods that work now (no weights), learned networks whose weights
    are installed, then those still waiting for weights — so the list opens on what can run."""

    def key(info: MethodInfo) -> tuple[int, int, str]:
        if not info.weights:
            group = _READY
        else:
            group = _INSTALLED_NETWORK if weights_installed(info) else _NEEDS_WEIGHTS
        rank = BUILT_IN_ORDER.index(info.name) if info.name in BUILT_IN_ORDER else len(BUILT_IN_ORDER)
        return group, rank, info.label.lower()

    keyed = sorted(((key(info), info) for info in infos), key=lambda pair: pair[0])
    return [(k[0], info) for k, info in keyed]


def weights_installed(info: MethodInfo) -> bool:
    """False when the method declares weights that are not installed (or cannot be checked).

    A method whose weights the catalogue does not know, or a broken check, counts as "not installed":
    offering "Get weights…" is better than a fill that fails half-way.
    """
    if not info.weights:
        return True
    try:
        return bool(weights_status(info.name).installed)
    except InpaintStudioError:  # unknown method or weights the catalogue does not list
        return False
    except Exception:  # a broken weights check must not break the panel
        log.exception("weights_status(%r) failed", info.name)
        return False


class MethodPanel(QWidget):
    """Method combo box, its description, its generated settings and a Reset button."""

    method_changed = Signal(str)
    #: the user asked how to get the weights of this method
    get_weights_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, prefs: Preferences | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs if prefs is not None else Preferences()
        remembered = self.prefs.get("method.params", {})
        self._remembered: dict[str, dict[str, Any]] = (
            {k: dict(v) for k, v in remembered.items() if isinstance(v, dict)}
            if isinstance(remembered, dict) else {})
        self._infos: dict[str, MethodInfo] = {}
        self._form: ParamForm | None = None

        self.combo = QComboBox(self)
        self.combo.setObjectName("method_combo")
        self.combo.setToolTip("The inpainting method used by Fill")
        # long labels ("… — weights not installed") are elided: the panel stays as narrow as its dock
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(18)
        self.description = QLabel(self)
        self.description.setObjectName("method_description")
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the Reset button shares the "Settings" heading's row instead of taking a row of its own,
        # and the rows sit a little closer than Qt's default: PatchMatch's settings then fit a
        # 1280 x 800 screen without scrolling
        settings_label = QLabel("Settings", self)
        settings_label.setObjectName("settings_heading")
        font = settings_label.font()
        font.setBold(True)
        settings_label.setFont(font)
        self.reset_button = QPushButton("Reset to defaults", self)
        self.reset_button.setObjectName("reset_params")
        self.reset_button.setToolTip("Set every setting of this method back to its default")
        heading = QHBoxLayout()
        heading.setContentsMargins(0, 0, 0, 0)
        heading.addWidget(settings_label)
        heading.addStretch(1)
        heading.addWidget(self.reset_button)
        self.settings_box = QGroupBox(self)
        self._settings_layout = QVBoxLayout(self.settings_box)
        self._settings_layout.setContentsMargins(8, 6, 8, 6)
        self.weights_box = QFrame(self)
        self.weights_box.setObjectName("weights_box")
        self.weights_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.weights_note = QLabel(self.weights_box)
        self.weights_note.setWordWrap(True)
        self.weights_button = QPushButton("Get weights…", self.weights_box)
        self.weights_button.setObjectName("get_weights")
        self.weights_button.setToolTip("How to install the trained model this method needs")
        weights_layout = QVBoxLayout(self.weights_box)
        weights_layout.addWidget(self.weights_note)
        weights_layout.addWidget(self.weights_button, 0, Qt.AlignmentFlag.AlignRight)
        self.weights_box.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        method_label = QLabel("&Method:", self)
        method_label.setBuddy(self.combo)
        layout.addWidget(method_label)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        layout.addWidget(self.weights_box)
        layout.addLayout(heading)
        layout.addWidget(self.settings_box)

        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.reset_button.clicked.connect(self.reset)
        self.weights_button.clicked.connect(
            lambda: self.get_weights_requested.emit(self.current_method() or ""))
        self.refresh(initial=str(self.prefs.get("method.name", DEFAULT_METHOD)))

    # public API -----------------------------------------------------------------------------

    @property
    def form(self) -> ParamForm | None:
        return self._form

    def current_method(self) -> str | None:
        data = self.combo.currentData()
        return None if data is None else str(data)

    def current_info(self) -> MethodInfo | None:
        name = self.current_method()
        return None if name is None else self._infos.get(name)

    def current_ready(self) -> bool:
        """The chosen method can run now (its weights, if any, are installed)."""
        info = self.current_info()
        return info is not None and weights_installed(info)

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

    def refresh(self, initial: str | None = None) -> None:
        """Re-read the installed methods (keeps the current choice when it is still there)."""
        current = initial or self.current_method() or DEFAULT_METHOD
        self._save_form_values()
        self.combo.blockSignals(True)
        self.combo.clear()
        self._infos = {}
        previous_group: int | None = None
        for group, info in method_order(registry.available()):
            if previous_group is not None and group != previous_group:
                self.combo.insertSeparator(self.combo.count())
            previous_group = group
            self._infos[info.name] = info
            suffix = " — live preview" if info.iterative else ""
            if group == _NEEDS_WEIGHTS:
                suffix += " — weights not installed"
            self.combo.addItem(info.label + suffix, info.name)
            self.combo.setItemData(self.combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        if not self.select(current) and not self.select(DEFAULT_METHOD) and self.combo.count():
            self.combo.setCurrentIndex(0)
        self.combo.blockSignals(False)
        self._on_combo_changed()

    # internals ------------------------------------------------------------------------------

    def _save_form_values(self) -> None:
        if self._form is not None:
            self._remembered[self._form.objectName()] = self._form.values()
            self.prefs.set("method.params", _jsonable(self._remembered))

    def _on_combo_changed(self, _index: int = -1) -> None:
        if self._form is not None:
            self._save_form_values()
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
        info = self._infos.get(name)
        missing = info is not None and not weights_installed(info)
        if missing and info is not None:
            files = ", ".join(info.weights)
            self.weights_note.setText(f"<b>Weights not installed.</b> {info.label} needs its trained "
                                      f"model ({files}) before it can fill.")
        self.weights_box.setVisible(missing)
        self._form = ParamForm(specs, self.settings_box)
        self._form.setObjectName(name)
        try:
            self._form.set_values(self._remembered.get(name, {}))
        except (TypeError, ValueError):  # values saved by an older version of the method
            self._form.reset()
        self._form.changed.connect(self._save_form_values)
        self._settings_layout.insertWidget(0, self._form)
        self.reset_button.setEnabled(bool(specs))
        self.prefs.set("method.name", name)
        self.method_changed.emit(name)


def _jsonable(values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Parameter values as JSON can hold them (enums by value)."""
    out: dict[str, dict[str, Any]] = {}
    for method, params in values.items():
        out[method] = {k: getattr(v, "value", v) for k, v in params.items()}
    return out
