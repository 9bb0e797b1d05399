"""A dark theme that follows the system, on Qt's Fusion style.

Photo editors are dark by default (a grey surround does not bias how colours are judged), so
"no preference" means dark; only a system that explicitly asks for light gets the light palette.
``INPAINT_STUDIO_THEME=light|dark`` overrides both. The theme changes live when the desktop
switches (Qt 6.5+ ``QStyleHints.colorSchemeChanged``).
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEME_ENV = "INPAINT_STUDIO_THEME"

_applied: dict[int, bool] = {}


def wants_dark(app: QGuiApplication | None = None) -> bool:
    forced = os.environ.get(THEME_ENV, "").strip().lower()
    if forced in ("light", "dark"):
        return forced == "dark"
    app = app or QGuiApplication.instance()
    if app is None:
        return True
    scheme = app.styleHints().colorScheme()
    return scheme != Qt.ColorScheme.Light


def dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor(0x23, 0x25, 0x29), QColor(0x2d, 0x30, 0x35), QColor(0xe4, 0xe6, 0xea)
    disabled = QColor(0x7c, 0x80, 0x88)
    accent = QColor(0x3d, 0x7e, 0xf0)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(0x29, 0x2c, 0x31),
        QPalette.ColorRole.ToolTipBase: QColor(0x3a, 0x3e, 0x45),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(0x38, 0x3b, 0x41),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(0xff, 0x5c, 0x5c),
        QPalette.ColorRole.Link: QColor(0x6e, 0xa8, 0xff),
        QPalette.ColorRole.Highlight: accent,
        QPalette.ColorRole.HighlightedText: QColor(0xff, 0xff, 0xff),
        QPalette.ColorRole.Light: QColor(0x4a, 0x4e, 0x56),
        QPalette.ColorRole.Midlight: QColor(0x40, 0x44, 0x4b),
        QPalette.ColorRole.Mid: QColor(0x30, 0x33, 0x38),
        QPalette.ColorRole.Dark: QColor(0x1c, 0x1e, 0x21),
        QPalette.ColorRole.Shadow: QColor(0x10, 0x11, 0x13),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.HighlightedText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(0x45, 0x49, 0x50))
    return palette


def apply_theme(app: QApplication) -> bool:
    """Fusion + the palette for the current scheme; returns True when dark."""
    if app.style().name().lower() != "fusion":
        app.setStyle(QStyleFactory.create("Fusion"))
    dark = wants_dark(app)
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    app.setProperty("inpaint_dark", dark)
    return dark


def install_theme(app: QApplication) -> None:
    """Apply now and again whenever the desktop's colour scheme changes (once per application)."""
    apply_theme(app)
    if _applied.get(id(app)):
        return
    _applied[id(app)] = True
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))


def is_dark(app: QGuiApplication | None = None) -> bool:
    app = app or QGuiApplication.instance()
    return bool(app.property("inpaint_dark")) if app is not None else True
