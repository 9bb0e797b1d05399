"""The options of one save: format (from the file name), JPEG/WebP quality, 8 or 16 bits.

Shown only when there is a choice to make (a lossy format's quality, or a 16-bit photo going into
a format that can hold 16 bits) and it lists, live, what the chosen format and depth cannot keep
(``core.io.metadata_losses``), so accepting it is accepting those losses with eyes open.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.core import io
from inpaint_studio.core.photo import Photo

LOSSY_FORMATS = frozenset({"JPEG", "WEBP"})
DEFAULT_QUALITY = 95


@dataclass(frozen=True)
class SaveOptions:
    format: str
    jpeg_quality: int = DEFAULT_QUALITY
    #: None keeps the photo's depth
    bit_depth: int | None = None


def needs_options(photo: Photo, fmt: str) -> bool:
    return fmt in LOSSY_FORMATS or (photo.bit_depth == 16 and io.can_hold_bit_depth(fmt, 16))


class SaveOptionsDialog(QDialog):
    def __init__(self, photo: Photo, path: Path, fmt: str, parent: QWidget | None = None, *,
                 title: str = "Save Options", quality: int = DEFAULT_QUALITY) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(400)
        self.photo, self.fmt = photo, fmt
        form = QFormLayout()
        form.addRow("File:", QLabel(path.name, self))
        form.addRow("Format:", QLabel(fmt, self))

        self.quality = QSpinBox(self)
        self.quality.setObjectName("save_quality")
        self.quality.setRange(1, 100)
        self.quality.setValue(quality)
        self.quality.setSuffix(" %")
        slider = QSlider(Qt.Orientation.Horizontal, self)
        slider.setRange(1, 100)
        slider.setValue(quality)
        slider.valueChanged.connect(self.quality.setValue)
        self.quality.valueChanged.connect(slider.setValue)
        row = QHBoxLayout()
        row.addWidget(slider, 1)
        row.addWidget(self.quality)
        quality_label = QLabel("&Quality:", self)
        quality_label.setBuddy(self.quality)
        form.addRow(quality_label, row)
        quality_label.setVisible(fmt in LOSSY_FORMATS)
        slider.setVisible(fmt in LOSSY_FORMATS)
        self.quality.setVisible(fmt in LOSSY_FORMATS)

        self.depth = QComboBox(self)
        self.depth.setObjectName("save_depth")
        self.depth.addItem("8 bits per channel", 8)
        if io.can_hold_bit_depth(fmt, 16) and photo.bit_depth == 16:
            self.depth.addItem("16 bits per channel (as opened)", 16)
            self.depth.setCurrentIndex(1)
        depth_label = QLabel("&Depth:", self)
        depth_label.setBuddy(self.depth)
        form.addRow(depth_label, self.depth)

        self.losses = QLabel(self)
        self.losses.setObjectName("save_losses")
        self.losses.setWordWrap(True)
        self.losses.setTextFormat(Qt.TextFormat.PlainText)
        self.depth.currentIndexChanged.connect(self._update_losses)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.losses)
        layout.addWidget(buttons)
        self._update_losses()

    def _update_losses(self, *_args: object) -> None:
        losses = io.metadata_losses(self.photo, self.fmt)
        if self.bit_depth() < self.photo.bit_depth and io.can_hold_bit_depth(self.fmt, self.photo.bit_depth):
            losses.insert(0, "8 bits per channel chosen: the 16-bit photo is reduced to 8 bit")
        self.losses.setText("Cannot keep:\n" + "\n".join(f"• {loss}" for loss in losses) if losses else "")
        self.losses.setVisible(bool(losses))

    def bit_depth(self) -> int:
        return int(self.depth.currentData())

    def options(self) -> SaveOptions:
        return SaveOptions(self.fmt, int(self.quality.value()), self.bit_depth())
