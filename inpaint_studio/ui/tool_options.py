"""The Tool Options dock: brush size and hardness, tablet pressure, mask overlay colour and opacity.

Layout plus binding only: the values live in the ToolController (brush) and the canvas (overlay);
this panel mirrors them both ways (``[``/``]`` on the canvas move the slider, the slider sets the
brush) and remembers them in the preferences, so the brush is the size it was yesterday.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from inpaint_studio.ui.settings import Preferences

MIN_SIZE, MAX_SIZE = 1, 2000
DEFAULT_SIZE = 40
DEFAULT_HARDNESS = 80
DEFAULT_OPACITY = 47
DEFAULT_COLOUR = "#ff2850"
_SLIDER_STEPS = 1000


def _size_to_slider(size: int) -> int:
    """The slider is logarithmic: fine control for small brushes, still reaches 2000 px."""
    span = math.log(MAX_SIZE / MIN_SIZE)
    return round(math.log(max(MIN_SIZE, size) / MIN_SIZE) / span * _SLIDER_STEPS)


def _slider_to_size(value: int) -> int:
    span = math.log(MAX_SIZE / MIN_SIZE)
    return max(MIN_SIZE, min(MAX_SIZE, round(MIN_SIZE * math.exp(value / _SLIDER_STEPS * span))))


def _slider(maximum: int, parent: QWidget) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(0, maximum)
    return slider


class ToolOptionsPanel(QWidget):
    size_changed = Signal(int)
    hardness_changed = Signal(float)
    pressure_changed = Signal(bool)
    overlay_colour_changed = Signal(QColor)
    overlay_opacity_changed = Signal(float)

    def __init__(self, prefs: Preferences | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs if prefs is not None else Preferences()
        self.size_slider = _slider(_SLIDER_STEPS, self)
        self.size_slider.setObjectName("brush_size_slider")
        self.size_spin = QSpinBox(self)
        self.size_spin.setObjectName("brush_size")
        self.size_spin.setRange(MIN_SIZE, MAX_SIZE)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush diameter in photo pixels ([ smaller, ] larger)")
        self.hardness = _slider(100, self)
        self.hardness.setObjectName("brush_hardness")
        self.hardness.setToolTip("100 %: a crisp edge; lower: a soft edge that blends the fill in")
        self.pressure = QCheckBox("Pen pressure sets the size", self)
        self.pressure.setObjectName("brush_pressure")
        self.pressure.setToolTip("With a graphics tablet, pressing harder paints a larger dab")
        self.colour_button = QPushButton(self)
        self.colour_button.setObjectName("overlay_colour")
        self.colour_button.setToolTip("Colour of the mask overlay")
        self.opacity = _slider(100, self)
        self.opacity.setObjectName("overlay_opacity")
        self.opacity.setToolTip("How strongly the mask tints the photo (M hides it)")

        size_row = QHBoxLayout()
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_spin)
        form = QFormLayout(self)
        form.setContentsMargins(10, 8, 10, 10)
        form.addRow("Size:", size_row)
        form.addRow("Hardness:", self.hardness)
        form.addRow("", self.pressure)
        form.addRow("Mask colour:", self.colour_button)
        form.addRow("Mask opacity:", self.opacity)

        self._colour = QColor(str(self.prefs.get("tool.overlay_colour", DEFAULT_COLOUR)))
        if not self._colour.isValid():
            self._colour = QColor(DEFAULT_COLOUR)
        self._update_swatch()
        self.set_size(int(self.prefs.get("tool.size", DEFAULT_SIZE)))
        self.hardness.setValue(int(self.prefs.get("tool.hardness", DEFAULT_HARDNESS)))
        self.pressure.setChecked(bool(self.prefs.get("tool.pressure", True)))
        self.opacity.setValue(int(self.prefs.get("tool.overlay_opacity", DEFAULT_OPACITY)))

        self.size_slider.valueChanged.connect(lambda v: self.set_size(_slider_to_size(v)))
        self.size_spin.valueChanged.connect(self.set_size)
        self.hardness.valueChanged.connect(self._on_hardness)
        self.pressure.toggled.connect(self._on_pressure)
        self.colour_button.clicked.connect(self._pick_colour)
        self.opacity.valueChanged.connect(self._on_opacity)

    # values ---------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return int(self.size_spin.value())

    @property
    def colour(self) -> QColor:
        return QColor(self._colour)

    def set_size(self, size: int) -> None:
        size = max(MIN_SIZE, min(MAX_SIZE, int(size)))
        changed = size != self.size_spin.value()
        for widget, value in ((self.size_spin, size), (self.size_slider, _size_to_slider(size))):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.prefs.set("tool.size", size)
        if changed:
            self.size_changed.emit(size)

    def set_colour(self, colour: QColor) -> None:
        if not colour.isValid():
            return
        self._colour = QColor(colour)
        self._colour.setAlpha(255)
        self._update_swatch()
        self.prefs.set("tool.overlay_colour", self._colour.name())
        self.overlay_colour_changed.emit(QColor(self._colour))

    # binding --------------------------------------------------------------------------------

    def bind(self, tools: Any | None, canvas: Any | None) -> None:
        """Push the remembered values into the tools and canvas, then keep both sides in sync."""
        if tools is not None:
            if hasattr(tools, "brush_size_changed"):
                tools.brush_size_changed.connect(self.set_size)
            self.size_changed.connect(lambda v: _set(tools, "brush_size", v))
            self.hardness_changed.connect(lambda v: _set(tools, "hardness", v))
            self.pressure_changed.connect(lambda v: _set(tools, "pressure_enabled", v))
            _set(tools, "brush_size", self.size)
            _set(tools, "hardness", self.hardness.value() / 100)
            _set(tools, "pressure_enabled", self.pressure.isChecked())
        if canvas is not None:
            if hasattr(canvas, "set_overlay_colour"):
                self.overlay_colour_changed.connect(canvas.set_overlay_colour)
                canvas.set_overlay_colour(self.colour)
            if hasattr(canvas, "set_overlay_opacity"):
                self.overlay_opacity_changed.connect(canvas.set_overlay_opacity)
                canvas.set_overlay_opacity(self.opacity.value() / 100)

    # internals ------------------------------------------------------------------------------

    def _on_hardness(self, value: int) -> None:
        self.prefs.set("tool.hardness", int(value))
        self.hardness_changed.emit(value / 100)

    def _on_pressure(self, checked: bool) -> None:
        self.prefs.set("tool.pressure", bool(checked))
        self.pressure_changed.emit(bool(checked))

    def _on_opacity(self, value: int) -> None:
        self.prefs.set("tool.overlay_opacity", int(value))
        self.overlay_opacity_changed.emit(value / 100)

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(self._colour, self, "Mask Overlay Colour")
        if colour.isValid():
            self.set_colour(colour)

    def _update_swatch(self) -> None:
        pixmap = QPixmap(36, 16)
        pixmap.fill(self._colour)
        self.colour_button.setIcon(QIcon(pixmap))
        self.colour_button.setIconSize(pixmap.size())
        self.colour_button.setText(self._colour.name())


def _set(target: Any, name: str, value: Any) -> None:
    """Set a property if the target has it (tools from an older or newer canvas may lack one)."""
    if hasattr(target, name):
        with contextlib.suppress(AttributeError):
            setattr(target, name, value)
