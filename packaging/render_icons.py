"""Render resources/icon.svg into the PNG sizes the app and the desktop entry use.

Run after editing the SVG: ``python packaging/render_icons.py`` (needs only PySide6, offscreen).
Rendered with QtSvg so the PNGs match what Qt itself draws from the SVG.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icon.svg"
HICOLOR = ROOT / "packaging" / "icons" / "hicolor"
APP_ID = "inpaint-studio"
SIZES = (16, 32, 48, 64, 128, 256)


def render(size: int, out: Path) -> None:
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"cannot write {out}")


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    render(256, ROOT / "resources" / "icon-256.png")
    for size in SIZES:
        render(size, HICOLOR / f"{size}x{size}" / "apps" / f"{APP_ID}.png")
    scalable = HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, scalable)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
