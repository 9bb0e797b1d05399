"""The status bar: messages on the left; busy indicator, pixel under the cursor, position, zoom and
the photo's size/depth/format on the right (as in every photo editor).

The pixel value is read from the document (the real 8- or 16-bit numbers, not the 8-bit display
copy), so a restorer checking a 16-bit scan sees 0-65535 values.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QStatusBar


def pixel_text(pixels: Any, mask: Any, row: int, col: int) -> str:
    """"R 12 G 200 B 255 · mask 100 %" for one pixel (16-bit values as stored)."""
    r, g, b = (int(v) for v in pixels[row, col, :3])
    text = f"R {r}  G {g}  B {b}"
    if mask is not None and mask[row, col]:
        text += f"  · mask {round(int(mask[row, col]) * 100 / 255)} %"
    return text


def _separator(parent: QStatusBar) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


class StatusBarController(QObject):
    def __init__(self, bar: QStatusBar, document: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bar = bar
        self.document = document
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.busy = QProgressBar(bar)
        self.busy.setObjectName("busy_indicator")
        self.busy.setRange(0, 0)  # indeterminate: "working", no fake percentage
        self.busy.setMaximumWidth(140)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.pixel = QLabel(bar)
        self.pixel.setObjectName("pixel_value")
        self.pixel.setFont(mono)
        self.pixel.setToolTip("Value of the photo pixel under the cursor (as stored: 0-255 or 0-65535)")
        self.position = QLabel(bar)
        self.position.setObjectName("cursor_position")
        self.position.setFont(mono)
        self.position.setToolTip("Cursor position in photo pixels (x, y from the top left)")
        self.zoom = QLabel(bar)
        self.zoom.setObjectName("zoom_level")
        self.zoom.setToolTip("Zoom (Ctrl+0 fit, Ctrl+1 100 %)")
        self.info = QLabel(bar)
        self.info.setObjectName("photo_info")
        metrics = self.pixel.fontMetrics()
        # fixed widths: the bar must not jitter as the cursor moves over the photo
        self.pixel.setMinimumWidth(metrics.horizontalAdvance("R 65535  G 65535  B 65535  · mask 100 %"))
        self.position.setMinimumWidth(metrics.horizontalAdvance("x 00000, y 00000"))
        self.zoom.setMinimumWidth(self.zoom.fontMetrics().horizontalAdvance("0000.0 %"))
        for widget in (self.pixel, self.position, self.zoom, self.info):
            widget.setContentsMargins(8, 0, 8, 0)
        bar.addPermanentWidget(self.busy)
        for index, widget in enumerate((self.pixel, self.position, self.zoom, self.info)):
            if index:
                bar.addPermanentWidget(_separator(bar))
            bar.addPermanentWidget(widget)
        self._busy_keys: set[str] = set()
        self.set_cursor(-1, -1)
        self.zoom.setText("Fit")

    def set_busy(self, key: str, busy: bool, text: str = "") -> None:
        if busy:
            self._busy_keys.add(key)
            self.busy.setToolTip(text)
        else:
            self._busy_keys.discard(key)
        self.busy.setVisible(bool(self._busy_keys))

    def set_zoom(self, zoom: float) -> None:
        self.zoom.setText(f"{zoom * 100:.0f} %" if zoom * 100 >= 10 else f"{zoom * 100:.1f} %")

    def set_cursor(self, row: int, col: int) -> None:
        pixels = self.document.pixels
        if pixels is None or not (0 <= row < pixels.shape[0] and 0 <= col < pixels.shape[1]):
            self.position.setText("")
            self.pixel.setText("")
            return
        self.position.setText(f"x {col}, y {row}")
        self.pixel.setText(pixel_text(pixels, self.document.mask, row, col))

    def update_info(self) -> None:
        photo = self.document.photo
        if photo is None:
            self.info.setText("")
            return
        fmt = photo.source_format or "new"
        extras = []
        if photo.greyscale:
            extras.append("grey")
        if photo.alpha is not None:
            extras.append("alpha")
        if photo.icc_profile:
            extras.append("ICC")
        megapixels = photo.width * photo.height / 1e6
        text = f"{photo.width} × {photo.height} ({megapixels:.1f} MP) · {photo.bit_depth}-bit · {fmt}"
        if extras:
            text += " · " + ", ".join(extras)
        self.info.setText(text)
