"""The canvas: the photo fitted to the window, the mask as a tinted overlay, live fill previews on top.

Drawing only; it knows nothing of documents or fills. The owner pushes QImages in (converted once,
in ui.qimage) and the widget scales them at paint time, so resizing the window costs no numpy work.
Zoom, pan and brushes come with the full editor; the image <-> widget mapping lives in one method
(:meth:`CanvasView.image_rect`) so those tools have a single place to build on.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from inpaint_studio.core.types import BBox

#: the mask tint: a warm red that reads on skin, sky and foliage alike
MASK_COLOR = QColor(255, 40, 80, 120)
_MARGIN = 12


class CanvasView(QWidget):
    """Shows one image with an optional mask overlay and an optional preview patch."""

    #: a file was dropped on the canvas (local path)
    file_dropped = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        # the image with the preview patches painted in (a copy made on the first preview of a fill)
        self._shown: QImage | None = None
        self._mask: QImage | None = None
        self._mask_visible = True
        self._placeholder = "Open a photo (Ctrl+O) or drop one here"
        self.setAcceptDrops(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(0x2a, 0x2d, 0x32))
        self.setPalette(palette)

    # content --------------------------------------------------------------------------------

    def set_image(self, image: QImage | None) -> None:
        self._image = self._shown = image
        self.update()

    def set_mask(self, mask: QImage | None) -> None:
        self._mask = mask
        self.update()

    def set_mask_visible(self, visible: bool) -> None:
        self._mask_visible = visible
        self.update()

    @property
    def mask_visible(self) -> bool:
        return self._mask_visible

    def show_preview(self, bbox: BBox, patch: QImage) -> None:
        """Paint ``patch`` over the image at ``bbox`` (image coordinates) until the preview is cleared.

        Patches are composited at native resolution into one copy of the image, so the scaled view
        has no seams at the patch edge and successive previews of different regions accumulate.
        """
        if self._image is None:
            return
        if self._shown is self._image:
            self._shown = self._image.copy()
        painter = QPainter(self._shown)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(QPoint(int(bbox.left), int(bbox.top)), patch)
        painter.end()
        self.update()

    def clear_preview(self) -> None:
        if self._shown is not self._image:
            self._shown = self._image
            self.update()

    @property
    def has_preview(self) -> bool:
        return self._shown is not self._image

    # geometry -------------------------------------------------------------------------------

    def image_rect(self) -> QRectF:
        """Where the whole image is drawn, in widget coordinates (aspect kept, never upscaled past 4x)."""
        if self._image is None or self._image.isNull():
            return QRectF()
        area = QRectF(self.rect()).adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        width, height = self._image.width(), self._image.height()
        scale = min(area.width() / width, area.height() / height, 4.0)
        scale = max(scale, 1e-3)
        size = QSize(max(1, round(width * scale)), max(1, round(height * scale)))
        top_left = area.center() - QPointF(size.width() / 2, size.height() / 2)
        return QRectF(QPointF(round(top_left.x()), round(top_left.y())), size.toSizeF())

    def sizeHint(self) -> QSize:
        return QSize(900, 620)

    # painting -------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            if self._image is None or self._image.isNull():
                painter.setPen(QColor(0xB0, 0xB4, 0xBA))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
                return
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            target = self.image_rect()
            painter.drawImage(target, self._shown if self._shown is not None else self._image)
            if self._mask is not None and self._mask_visible:
                # while a fill shows previews the tint is faint, so the fill itself is what you see
                painter.setOpacity(0.3 if self.has_preview else 1.0)
                painter.drawImage(target, self._mask)
                painter.setOpacity(1.0)
            painter.setPen(QColor(0, 0, 0, 90))
            painter.drawRect(target.toAlignedRect().adjusted(-1, -1, 0, 0))
        finally:
            painter.end()

    # drag and drop --------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.file_dropped.emit(urls[0].toLocalFile())
