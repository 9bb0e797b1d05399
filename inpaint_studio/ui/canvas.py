"""The canvas: the photo at any zoom, the mask as a tinted overlay, fill previews, compare and tools.

A plain QWidget with its own paintEvent rather than a QGraphicsView: there is exactly one item (the
photo), and what makes a 100 MP frame fluid is choosing *which pixels* to draw — a crop of the
display pyramid level nearest the zoom, only inside the update rectangle — which a scene graph
would hide rather than help with. Everything else (zoom to cursor, pan, the brush outline) is a
handful of lines on one transform: ``widget = offset + image * scale`` with image pixel ``(r, c)``
covering ``[c, c + 1) x [r, r + 1)``.

Compare ("the original"): the photo *as opened* in this session. The document keeps the
as-opened values of the small tiles it has written (copy-on-write); the canvas asks it for an
original 256-pixel tile only when compare is drawn, converts it to 8 bits once and caches it, so a
fill lands without copying anything here. Hold backslash to see it; split mode shows it left of a
draggable divider and the current photo right of it.

Landing a fill refreshes the display pyramid box by box (one box per filled region, not the box
around all of them); building a large frame's levels runs on a pool thread (see canvas_pyramid).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QEnterEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QTabletEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from inpaint_studio.core.types import BBox
from inpaint_studio.ui.background import BackgroundTask, serial_pool
from inpaint_studio.ui.canvas_layers import LayerSource, OverlayLayer, PatchOverlay
from inpaint_studio.ui.canvas_pyramid import Pyramid, downsample2, level_box, to_display_u8

if TYPE_CHECKING:
    from inpaint_studio.ui.document import Document

__all__ = ["MASK_COLOR", "Canvas", "CanvasView", "CompareMode"]

CompareMode = Literal["off", "hold", "split"]

#: the mask tint: a warm red that reads on skin, sky and foliage alike (alpha = default opacity)
MASK_COLOR = QColor(255, 40, 80, 120)
MIN_ZOOM = 1 / 64
MAX_ZOOM = 32.0
#: one wheel notch (120 units) zooms by this factor
WHEEL_STEP = 2 ** 0.25
#: the zoom-in/zoom-out ladder (Photoshop's presets)
ZOOM_LADDER = (1 / 64, 1 / 48, 1 / 32, 1 / 24, 1 / 16, 1 / 12, 1 / 8, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3,
               1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 12.0, 16.0, 32.0)
_FIT_MARGIN = 12
_ORIGINAL_TILE = 256
_DIVIDER_GRAB = 6
_BACKGROUND = QColor(0x2A, 0x2D, 0x32)
#: pyramid builds on their way (see CanvasView._schedule)
_RUNNING_TASKS: set[BackgroundTask] = set()


class CanvasTool(Protocol):
    """What the canvas asks of a tool controller (ui.tools.ToolController)."""

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier,
              pressure: float | None) -> bool: ...
    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float | None) -> None: ...
    def release(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None: ...
    def double_click(self, pos: QPointF) -> None: ...
    def key_press(self, event: QKeyEvent) -> bool: ...
    def paint_overlay(self, painter: QPainter, canvas: CanvasView) -> None: ...
    def cursor_radius(self) -> float | None: ...
    def cancel(self) -> None: ...


def _qimage_rgb(values: np.ndarray) -> QImage:
    """A QImage *viewing* a contiguous H x W x 3 uint8 array: keep the array alive while it is drawn."""
    height, width = values.shape[:2]
    return QImage(values.data, width, height, values.strides[0], QImage.Format.Format_RGB888)


class CanvasView(QWidget):
    """Shows one document's photo and mask at any zoom; forwards editing gestures to a tool."""

    #: a file was dropped on the canvas (local path)
    file_dropped = Signal(str)
    #: the zoom factor (1.0 = 100 %: one image pixel per screen pixel)
    zoom_changed = Signal(float)
    #: the image pixel under the mouse, (-1, -1) when off the image
    cursor_moved = Signal(int, int)
    #: zoom or scroll position changed
    view_changed = Signal()
    compare_mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document: Document | None = None
        # legacy path (a QImage pushed in without a document): numpy copies of what was pushed
        self._static_pixels: np.ndarray | None = None
        self._static_mask: np.ndarray | None = None
        self._pixels: Pyramid | None = None
        self._mask: Pyramid | None = None
        # 8-bit as-opened tiles per (level, ty, tx), made from the document's originals when drawn
        self._original_levels: dict[tuple[int, int, int], np.ndarray] = {}
        #: original 256-pixel tiles converted so far (a counter: tests check only drawn tiles are)
        self.original_tiles_converted = 0
        # one thread builds display levels of large frames, so the GUI thread never does
        self._pool = serial_pool(self)
        self._previews: dict[BBox, QImage] = {}
        # restorer overlays (damage proposal, sampling area, seam heat) and an alternative view
        self._layers: dict[str, OverlayLayer] = {}
        self._patches: dict[str, PatchOverlay] = {}
        self._display_values: np.ndarray | None = None
        self._display: Pyramid | None = None
        self._display_badge: str | None = None
        self._mask_visible = True
        self._overlay_colour = QColor(MASK_COLOR.red(), MASK_COLOR.green(), MASK_COLOR.blue())
        self._overlay_opacity = MASK_COLOR.alphaF()
        self._colour_table: list[int] = []
        self._rebuild_colour_table()
        self._scale = 1.0
        self._offset = QPointF(0.0, 0.0)
        self._fit_mode = True
        self._compare: CompareMode = "off"
        self._holding_original = False
        self._split = 0.5
        self._dragging_divider = False
        self._pan_anchor: QPointF | None = None
        self._space_down = False
        self._tool: CanvasTool | None = None
        self._tool_active = False
        self._cursor_pos: QPointF | None = None
        self._placeholder = "Open a photo (Ctrl+O) or drop one here"
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setTabletTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, _BACKGROUND)
        self.setPalette(palette)

    # document -------------------------------------------------------------------------------

    def set_document(self, document: Document | None) -> None:
        """Show ``document`` and follow its changes (the canvas reads its arrays, never writes them)."""
        if self._document is not None:
            for signal, slot in self._document_connections():
                signal.disconnect(slot)
        self._document = document
        if document is not None:
            for signal, slot in self._document_connections():
                signal.connect(slot)
        self._on_photo_replaced()

    @property
    def document(self) -> Document | None:
        return self._document

    def _document_connections(self) -> list[tuple[object, object]]:
        doc = self._document
        assert doc is not None
        return [(doc.photo_replaced, self._on_photo_replaced),
                (doc.pixels_regions_changed, self._on_pixels_regions_changed),
                (doc.mask_region_changed, self._on_mask_changed)]

    def _pixel_source(self) -> np.ndarray | None:
        if self._document is not None:
            return self._document.pixels
        return self._static_pixels

    def _mask_source(self) -> np.ndarray | None:
        if self._document is not None:
            return self._document.mask
        return self._static_mask

    def _on_photo_replaced(self) -> None:
        pixels, mask = self._pixel_source(), self._mask_source()
        self._pixels = None if pixels is None else self._pyramid(self._current_pixels)
        self._mask = None if mask is None else self._pyramid(self._current_mask)
        self._original_levels.clear()
        self._previews.clear()
        for layer in self._layers.values():
            layer.pyramid, layer.built_on = None, None
        self._patches.clear()
        self._display_values, self._display, self._display_badge = None, None, None
        self._fit_mode = True
        self._apply_fit()
        self.update()

    def _current_pixels(self) -> np.ndarray:
        pixels = self._pixel_source()
        assert pixels is not None
        return pixels

    def _current_mask(self) -> np.ndarray:
        mask = self._mask_source()
        assert mask is not None
        return mask

    def _pyramid(self, source: Callable[[], np.ndarray]) -> Pyramid:
        return Pyramid(source, self._schedule, self._on_levels_ready)

    def _schedule(self, job: Callable[[], list], done: Callable[[list], None],
                  failed: Callable[[BaseException], None]) -> None:
        """Run a pyramid build on the canvas's pool; its result comes back on the GUI thread."""
        task = BackgroundTask(job, self._pool)
        # held at module level, not by the canvas: a canvas deleted mid-build must not take the task
        # (whose signal the pool thread emits) with it; its pool waits for the job when destroyed
        _RUNNING_TASKS.add(task)
        task.done.connect(done)
        task.failed.connect(failed)
        task.ended.connect(lambda: _RUNNING_TASKS.discard(task))
        task.start()

    def _on_levels_ready(self) -> None:
        if shiboken6.isValid(self):  # the canvas may be gone by the time a build lands
            self.update()

    @property
    def display_ready(self) -> bool:
        """No display level is being built in the background (paints are exact, not sampled)."""
        return not any(p is not None and p.building for p in (self._pixels, self._mask))

    def _on_pixels_regions_changed(self, boxes: list[BBox] | None) -> None:
        if self._pixels is None:
            if self._pixel_source() is not None:
                self._on_photo_replaced()
            return
        if boxes is None:
            self._pixels.update(None)
            self.update()
            return
        for box in boxes:  # each region on its own: six strokes cost six strokes, not the frame
            self._pixels.update(box)
            self.update(self._widget_rect_of(box))

    def _on_pixels_changed(self, bbox: BBox | None) -> None:
        """Old single-box entry point (kept for callers that drive the canvas directly)."""
        self._on_pixels_regions_changed(None if bbox is None else [bbox])

    def _on_mask_changed(self, bbox: BBox | None) -> None:
        if self._mask is None:
            if self._mask_source() is not None:
                self._mask = self._pyramid(self._current_mask)
            self.update()
            return
        self._mask.update(bbox)
        if bbox is None:
            self.update()
        else:
            self.update(self._widget_rect_of(bbox))

    # legacy content (before a document is attached) -------------------------------------------

    def set_image(self, image: QImage | None) -> None:
        """Show a QImage without a document (old callers); ignored once a document is attached."""
        if self._document is not None:
            return
        from inpaint_studio.ui.qimage import qimage_to_rgb

        replaced = (image is None) != (self._static_pixels is None) or (
            image is not None and self._static_pixels is not None
            and self._static_pixels.shape[:2] != (image.height(), image.width()))
        self._static_pixels = None if image is None else qimage_to_rgb(image)
        if replaced:
            self._on_photo_replaced()
        else:
            self._pixels = None if self._static_pixels is None else self._pyramid(self._current_pixels)
            self.update()

    def set_mask(self, mask: QImage | None) -> None:
        """Show a mask overlay given as a QImage (its alpha is the coverage) without a document."""
        if self._document is not None:
            return
        if mask is None:
            self._static_mask = None
            self._mask = None
        else:
            argb = mask.convertToFormat(QImage.Format.Format_ARGB32)
            buffer = np.frombuffer(argb.constBits(), np.uint8, argb.bytesPerLine() * argb.height())
            pixels = buffer.reshape(argb.height(), argb.bytesPerLine())[:, :argb.width() * 4]
            alpha = pixels.reshape(argb.height(), argb.width(), 4)[..., 3 if np.little_endian else 0]
            # old callers tint with MASK_COLOR: alpha = coverage * MASK_COLOR.alpha() / 255
            coverage = alpha.astype(np.uint32) * 255 // max(1, MASK_COLOR.alpha())
            self._static_mask = np.minimum(coverage, 255).astype(np.uint8)
            self._mask = self._pyramid(self._current_mask)
        self.update()

    # overlay and visibility -----------------------------------------------------------------

    def set_mask_visible(self, visible: bool) -> None:
        self._mask_visible = bool(visible)
        self.update()

    @property
    def mask_visible(self) -> bool:
        return self._mask_visible

    def set_overlay_colour(self, colour: QColor) -> None:
        """The mask tint (its alpha is ignored: opacity is set on its own)."""
        self._overlay_colour = QColor(colour.red(), colour.green(), colour.blue())
        self._rebuild_colour_table()
        self.update()

    def set_overlay_opacity(self, opacity: float) -> None:
        """How strongly a fully covered pixel is tinted, 0 (invisible) .. 1 (solid)."""
        self._overlay_opacity = min(1.0, max(0.0, float(opacity)))
        self._rebuild_colour_table()
        self.update()

    @property
    def overlay_colour(self) -> QColor:
        return QColor(self._overlay_colour)

    @property
    def overlay_opacity(self) -> float:
        return self._overlay_opacity

    def _rebuild_colour_table(self) -> None:
        colour = self._overlay_colour
        red, green, blue = colour.red(), colour.green(), colour.blue()
        self._colour_table = [
            (round(i * self._overlay_opacity) << 24) | (red << 16) | (green << 8) | blue for i in range(256)]

    # previews -------------------------------------------------------------------------------

    def show_preview(self, bbox: BBox, patch: QImage) -> None:
        """Show ``patch`` over the photo at ``bbox`` (image coordinates) until clear_preview()."""
        self._previews[bbox] = patch
        self.update(self._widget_rect_of(bbox))

    def clear_preview(self) -> None:
        if self._previews:
            self._previews.clear()
            self.update()

    @property
    def has_preview(self) -> bool:
        return bool(self._previews)

    # restorer overlays ----------------------------------------------------------------------

    def set_layer(self, name: str, source: LayerSource, colour: QColor, opacity: float = 0.5, *,
                  with_mask: bool = True) -> None:
        """Tint where ``source()`` (HxW uint8 coverage, or None) is non-zero, drawn above the mask.

        The source is asked on every paint, so a layer follows an array the caller replaces or
        edits; call :meth:`update_layer` with the changed box after editing it in place.
        ``with_mask``: hidden together with the mask (M), as a layer the user paints should be.
        """
        self._layers[name] = OverlayLayer(source, QColor(colour), opacity, with_mask=with_mask)
        self.update()

    def remove_layer(self, name: str) -> None:
        if self._layers.pop(name, None) is not None:
            self.update()

    def update_layer(self, name: str, bbox: BBox | None = None) -> None:
        """The layer's values changed inside ``bbox`` (None: anywhere, or a new array)."""
        layer = self._layers.get(name)
        if layer is None:
            return
        layer.update(bbox)
        if bbox is None:
            self.update()
        else:
            self.update(self._widget_rect_of(bbox))

    def set_layer_visible(self, name: str, visible: bool) -> None:
        layer = self._layers.get(name)
        if layer is not None and layer.visible != bool(visible):
            layer.visible = bool(visible)
            self.update()

    def layer_shown(self, name: str) -> bool:
        """The layer exists, is visible and has something to draw (what the user sees)."""
        layer = self._layers.get(name)
        if layer is None or not layer.visible or self._pixels is None:
            return False
        if layer.with_mask and not self._mask_visible:
            return False
        values = layer.source()
        return values is not None and bool(values.any())

    def set_patch_overlay(self, name: str, overlay: PatchOverlay | None) -> None:
        """Show (None: remove) an image over part of the photo, e.g. the seam check's heat."""
        old = self._patches.pop(name, None)
        if old is not None:
            self.update(self._widget_rect_of(old.bbox).adjusted(-4, -4, 4, 4))
        if overlay is not None:
            self._patches[name] = overlay
            self.update(self._widget_rect_of(overlay.bbox).adjusted(-4, -4, 4, 4))

    def patch_overlay(self, name: str) -> PatchOverlay | None:
        return self._patches.get(name)

    def set_display_pixels(self, values: np.ndarray | None, badge: str | None = None) -> None:
        """Show ``values`` (HxWx3, the photo's size) instead of the photo; None: the photo again.

        For views computed from the photo (the defect view): brushing, the mask and the overlays
        work as usual on top; compare still shows the original photo.
        """
        shape = self._image_shape()
        if values is not None and (shape is None or tuple(values.shape[:2]) != shape):
            values = None  # computed for another photo: never show it over this one
        self._display_values = values
        self._display = None if values is None else self._pyramid(lambda: self._display_values)
        self._display_badge = badge if values is not None else None
        self.update()

    def update_display_pixels(self, bbox: BBox | None) -> None:
        """The alternative view's values changed in place inside ``bbox``."""
        if self._display is not None:
            self._display.update(bbox)
            if bbox is None:
                self.update()
            else:
                self.update(self._widget_rect_of(bbox))

    @property
    def display_pixels(self) -> np.ndarray | None:
        """What is shown instead of the photo (None: the photo itself)."""
        return self._display_values

    def visible_image_box(self) -> BBox | None:
        """The photo pixels currently on screen (None without a photo or when none is visible)."""
        shape = self._image_shape()
        if shape is None:
            return None
        top_left = self.map_to_image(QPointF(0, 0))
        bottom_right = self.map_to_image(QPointF(self.width(), self.height()))
        box = BBox(max(0, math.floor(top_left.y())), max(0, math.floor(top_left.x())),
                   min(shape[0], math.ceil(bottom_right.y())), min(shape[1], math.ceil(bottom_right.x())))
        return None if box.is_empty else box

    # compare --------------------------------------------------------------------------------

    def set_compare_mode(self, mode: CompareMode) -> None:
        """"off": the photo; "hold": the original (as if backslash were held); "split": both, divided."""
        if mode not in ("off", "hold", "split"):
            raise ValueError(f"compare mode is 'off', 'hold' or 'split', got {mode!r}")
        if mode != self._compare:
            self._compare = mode
            self.compare_mode_changed.emit(mode)
            self.update()

    @property
    def compare_mode(self) -> CompareMode:
        return self._compare

    @property
    def showing_original(self) -> bool:
        return self._compare == "hold" or self._holding_original

    @property
    def split_position(self) -> float:
        """The divider's place as a fraction of the canvas width (split mode)."""
        return self._split

    def set_split_position(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, float(fraction)))
        self.update()

    def _divider_x(self) -> float:
        return self._split * self.width()

    # tools ----------------------------------------------------------------------------------

    def set_tool_controller(self, tool: CanvasTool | None) -> None:
        self._tool = tool
        self.update_cursor()

    def update_cursor(self) -> None:
        """Pick the mouse cursor for the current tool / gesture and redraw the brush outline."""
        if self._pan_anchor is not None:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._space_down:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif self._compare == "split" and self._near_divider(self._cursor_pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self._tool is not None and self._tool.cursor_radius() is not None:
            self.setCursor(Qt.CursorShape.BlankCursor)  # the outline is the cursor
        else:
            self.setCursor(Qt.CursorShape.CrossCursor)
        self.update()

    # geometry -------------------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self._scale

    @property
    def image_size(self) -> QSize:
        shape = self._image_shape()
        return QSize(0, 0) if shape is None else QSize(shape[1], shape[0])

    def _image_shape(self) -> tuple[int, int] | None:
        pixels = self._pixel_source()
        return None if pixels is None else (int(pixels.shape[0]), int(pixels.shape[1]))

    def map_to_image(self, pos: QPointF) -> QPointF:
        """Widget position -> continuous image position (x = column, y = row; pixel (r, c) spans [c, c+1))."""
        return (QPointF(pos) - self._offset) / self._scale

    def map_from_image(self, pos: QPointF) -> QPointF:
        return self._offset + QPointF(pos) * self._scale

    def image_rect(self) -> QRectF:
        """Where the whole image is drawn, in widget coordinates."""
        shape = self._image_shape()
        if shape is None:
            return QRectF()
        return QRectF(self._offset, QSize(shape[1], shape[0]).toSizeF() * self._scale)

    def _widget_rect_of(self, bbox: BBox) -> QRect:
        top_left = self.map_from_image(QPointF(bbox.left, bbox.top))
        bottom_right = self.map_from_image(QPointF(bbox.right, bbox.bottom))
        return QRectF(top_left, bottom_right).toAlignedRect().adjusted(-2, -2, 2, 2)

    def fit_zoom(self) -> float:
        shape = self._image_shape()
        if shape is None:
            return 1.0
        width = max(1, self.width() - 2 * _FIT_MARGIN)
        height = max(1, self.height() - 2 * _FIT_MARGIN)
        return max(MIN_ZOOM, min(width / shape[1], height / shape[0], 8.0))

    def fit(self) -> None:
        """The whole photo, centred ("Fit on Screen"); stays fitted while the window is resized."""
        self._fit_mode = True
        self._apply_fit()

    def _apply_fit(self) -> None:
        shape = self._image_shape()
        if shape is None:
            return
        scale = self.fit_zoom()
        offset = QPointF((self.width() - shape[1] * scale) / 2, (self.height() - shape[0] * scale) / 2)
        self._set_view(scale, offset)

    def actual_size(self) -> None:
        """100 %: one photo pixel per screen pixel, keeping the point at the centre of the view."""
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (widget coordinates; default: centre) still."""
        if self._image_shape() is None:
            return
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, float(zoom)))
        anchor = QPointF(self.width() / 2, self.height() / 2) if anchor is None else QPointF(anchor)
        image_point = self.map_to_image(anchor)
        self._fit_mode = False
        self._set_view(zoom, anchor - image_point * zoom)

    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOM_LADDER if z > self._scale * 1.001), MAX_ZOOM))

    def zoom_out(self) -> None:
        self.set_zoom(next((z for z in reversed(ZOOM_LADDER) if z < self._scale / 1.001), MIN_ZOOM))

    def pan(self, dx: float, dy: float) -> None:
        """Scroll the photo by (dx, dy) screen pixels."""
        if self._image_shape() is None:
            return
        self._fit_mode = False
        self._set_view(self._scale, self._offset + QPointF(dx, dy))

    def _set_view(self, scale: float, offset: QPointF) -> None:
        shape = self._image_shape()
        if shape is None:
            return
        # keep the centre of the view over the photo, so it can never be scrolled out of sight
        width, height = shape[1] * scale, shape[0] * scale
        cx, cy = self.width() / 2, self.height() / 2
        if width <= self.width():
            x = (self.width() - width) / 2 if self._fit_mode else min(max(offset.x(), cx - width), cx)
        else:
            x = min(max(offset.x(), cx - width), cx)
        if height <= self.height():
            y = (self.height() - height) / 2 if self._fit_mode else min(max(offset.y(), cy - height), cy)
        else:
            y = min(max(offset.y(), cy - height), cy)
        zoom_changed = not math.isclose(scale, self._scale, rel_tol=1e-12)
        moved = zoom_changed or not (math.isclose(x, self._offset.x()) and math.isclose(y, self._offset.y()))
        self._scale, self._offset = scale, QPointF(x, y)
        if zoom_changed:
            self.zoom_changed.emit(scale)
        if moved:
            self.view_changed.emit()
            self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self._apply_fit()
        else:
            self._set_view(self._scale, self._offset)

    def sizeHint(self) -> QSize:
        return QSize(900, 620)

    # painting -------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(event.rect(), _BACKGROUND)
            if self._pixels is None:
                painter.setPen(QColor(0xB0, 0xB4, 0xBA))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
                return
            dirty = QRectF(event.rect())
            if self.showing_original:
                self._paint_photo(painter, dirty, original=True)
            elif self._compare == "split":
                divider = self._divider_x()
                left = dirty.intersected(QRectF(0, 0, divider, self.height()))
                right = dirty.intersected(QRectF(divider, 0, self.width() - divider, self.height()))
                if not left.isEmpty():
                    painter.save()
                    painter.setClipRect(left)
                    self._paint_photo(painter, left, original=True)
                    painter.restore()
                if not right.isEmpty():
                    painter.save()
                    painter.setClipRect(right)
                    self._paint_photo(painter, right, original=False)
                    painter.restore()
            else:
                self._paint_photo(painter, dirty, original=False)
            if self._tool is not None:
                self._tool.paint_overlay(painter, self)
            if self._compare == "split" and not self.showing_original:
                self._paint_divider(painter)
            if self.showing_original:
                self._paint_badge(painter, "Original")
            elif self._display_badge:
                self._paint_badge(painter, self._display_badge)
            self._paint_brush_cursor(painter)
        finally:
            painter.end()

    def _paint_photo(self, painter: QPainter, dirty: QRectF, *, original: bool) -> None:
        assert self._pixels is not None
        level, box = self._visible_level_box(dirty)
        if box is None:
            return
        smooth = self._scale * self.devicePixelRatioF() < 1.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        source = self._display if self._display is not None and not original else self._pixels
        crop = source.crop(level, box)
        if original and self._document is not None:
            crop = self._with_originals(crop, level, box)
        crop = np.ascontiguousarray(crop)
        target = self._target_rect(level, box)
        painter.drawImage(target, _qimage_rgb(crop))
        if not original:
            for bbox, patch in self._previews.items():
                painter.drawImage(QRectF(self.map_from_image(QPointF(bbox.left, bbox.top)),
                                         self.map_from_image(QPointF(bbox.right, bbox.bottom))), patch)
        if self._mask_visible and self._mask is not None and not original:
            mask = np.ascontiguousarray(self._mask.crop(level, box))
            if mask.any():
                overlay = QImage(mask.data, mask.shape[1], mask.shape[0], mask.strides[0],
                                 QImage.Format.Format_Indexed8)
                overlay.setColorTable(self._colour_table)
                painter.save()
                if self._previews:
                    painter.setOpacity(0.3)  # while a fill previews, the fill is what you watch
                painter.drawImage(target, overlay)
                painter.restore()
        if not original:
            self._paint_layers(painter, level, box, target)

    def _paint_layers(self, painter: QPainter, level: int, box: BBox, target: QRectF) -> None:
        """The restorer overlays: full-frame tinted layers, then patches with their outlines."""
        for layer in self._layers.values():
            if not layer.visible or (layer.with_mask and not self._mask_visible):
                continue
            pyramid = layer.current(self._schedule, self._on_levels_ready)
            if pyramid is None or self._pixels is None or pyramid.shape != self._pixels.shape:
                continue
            values = np.ascontiguousarray(pyramid.crop(level, box))
            if not values.any():
                continue
            image = QImage(values.data, values.shape[1], values.shape[0], values.strides[0],
                           QImage.Format.Format_Indexed8)
            image.setColorTable(layer.table)
            painter.drawImage(target, image)
        for patch in self._patches.values():
            rect = QRectF(self.map_from_image(QPointF(patch.bbox.left, patch.bbox.top)),
                          self.map_from_image(QPointF(patch.bbox.right, patch.bbox.bottom)))
            painter.drawImage(rect, patch.image)
            if patch.outlines:
                painter.save()
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                for colour, width in ((QColor(0, 0, 0, 150), 4.0), (patch.outline_colour, 2.0)):
                    painter.setPen(QPen(colour, width))
                    for outline in patch.outlines:
                        corner = self.map_from_image(QPointF(outline.left, outline.top))
                        far = self.map_from_image(QPointF(outline.right, outline.bottom))
                        painter.drawRect(QRectF(corner, far).adjusted(-2, -2, 2, 2))
                painter.restore()

    def _visible_level_box(self, dirty: QRectF) -> tuple[int, BBox | None]:
        """The pyramid level for the zoom and the box of its pixels that ``dirty`` shows."""
        assert self._pixels is not None
        level = 0
        device_scale = self._scale * self.devicePixelRatioF()  # screen pixels per image pixel
        while level + 1 < self._pixels.count and device_scale * (1 << (level + 1)) <= 1.0:
            level += 1
        top_left = self.map_to_image(dirty.topLeft())
        bottom_right = self.map_to_image(dirty.bottomRight())
        height, width = self._pixels.shape
        box = BBox(max(0, math.floor(top_left.y()) - 1), max(0, math.floor(top_left.x()) - 1),
                   min(height, math.ceil(bottom_right.y()) + 1), min(width, math.ceil(bottom_right.x()) + 1))
        if box.is_empty:
            return level, None
        return level, level_box(box, level)

    def _target_rect(self, level: int, box: BBox) -> QRectF:
        step = 1 << level
        height, width = self._pixels.shape if self._pixels is not None else (0, 0)
        top_left = self.map_from_image(QPointF(box.left * step, box.top * step))
        right, bottom = min(width, box.right * step), min(height, box.bottom * step)
        bottom_right = self.map_from_image(QPointF(right, bottom))
        return QRectF(top_left, bottom_right)

    def _with_originals(self, crop: np.ndarray, level: int, box: BBox) -> np.ndarray:
        """``crop`` (level pixels in ``box``) with the as-opened values pasted where the photo changed.

        Only tiles the document has written are looked at; each is fetched from the document,
        converted to 8 bits and scaled to this level the first time it is drawn, then cached (the
        original of a tile never changes while the photo stays open).
        """
        document = self._document
        assert document is not None
        step = 1 << level
        tile = _ORIGINAL_TILE
        size = tile >> level  # tile size at this level (tiles align with every level <= 8)
        height, width = self._pixels.shape if self._pixels is not None else (0, 0)
        box0 = BBox(box.top * step, box.left * step,
                    min(height, box.bottom * step), min(width, box.right * step))
        result: np.ndarray | None = None
        for ty, tx in document.changed_tiles(box0, tile):
            key = (level, ty, tx)
            scaled = self._original_levels.get(key)
            if scaled is None:
                scaled = self._original_levels.get((0, ty, tx))
                if scaled is None:
                    tile_box0 = BBox(ty * tile, tx * tile,
                                     min(height, (ty + 1) * tile), min(width, (tx + 1) * tile))
                    scaled = to_display_u8(document.original_pixels(tile_box0))
                    self._original_levels[(0, ty, tx)] = scaled
                    self.original_tiles_converted += 1
                for _ in range(level):
                    scaled = downsample2(scaled)
                self._original_levels[key] = scaled
            tile_box = BBox(ty * size, tx * size, ty * size + scaled.shape[0], tx * size + scaled.shape[1])
            if not tile_box.intersects(box):
                continue
            if result is None:
                result = crop.copy()
            inner = BBox(max(tile_box.top, box.top), max(tile_box.left, box.left),
                         min(tile_box.bottom, box.bottom), min(tile_box.right, box.right))
            result[inner.relative_to(box).slices] = scaled[inner.relative_to(tile_box).slices]
        return crop if result is None else result

    def _paint_divider(self, painter: QPainter) -> None:
        x = self._divider_x()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(0, 0, 0, 140), 3))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        centre = QPointF(x, self.height() / 2)
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.setPen(QPen(QColor(0, 0, 0, 160), 1))
        painter.drawEllipse(centre, 9, 9)
        painter.setPen(QPen(QColor(40, 40, 40), 1.5))
        for sign in (-1, 1):
            tip = centre + QPointF(sign * 6, 0)
            painter.drawLine(tip, tip + QPointF(-sign * 3, -3))
            painter.drawLine(tip, tip + QPointF(-sign * 3, 3))
        painter.setPen(QColor(255, 255, 255, 220))
        painter.drawText(QRectF(x - 110, 8, 100, 18), Qt.AlignmentFlag.AlignRight, "Original")
        painter.drawText(QRectF(x + 10, 8, 100, 18), Qt.AlignmentFlag.AlignLeft, "Current")
        painter.restore()

    def _paint_badge(self, painter: QPainter, text: str) -> None:
        """A small label in the corner, so "am I looking at the original?" is never a guess."""
        painter.save()
        metrics = painter.fontMetrics()
        box = QRectF(10, 10, metrics.horizontalAdvance(text) + 16, metrics.height() + 8)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _paint_brush_cursor(self, painter: QPainter) -> None:
        if self._cursor_pos is None or self._tool is None or self._pan_anchor is not None or self._space_down:
            return
        radius_image = self._tool.cursor_radius()
        if radius_image is None:
            return
        radius = radius_image * self._scale
        centre = self._cursor_pos
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, width in ((QColor(0, 0, 0, 160), 3.0), (QColor(255, 255, 255, 230), 1.0)):
            painter.setPen(QPen(colour, width))
            if radius >= 3:
                painter.drawEllipse(centre, radius, radius)
            if radius < 8:  # too small to aim with: add a crosshair, as Photoshop does
                painter.drawLine(centre + QPointF(-6, 0), centre + QPointF(-2, 0))
                painter.drawLine(centre + QPointF(2, 0), centre + QPointF(6, 0))
                painter.drawLine(centre + QPointF(0, -6), centre + QPointF(0, -2))
                painter.drawLine(centre + QPointF(0, 2), centre + QPointF(0, 6))
        painter.restore()

    def _cursor_rect(self, pos: QPointF | None) -> QRect:
        if pos is None:
            return QRect()
        radius = 8.0
        if self._tool is not None and (r := self._tool.cursor_radius()) is not None:
            radius = max(radius, r * self._scale)
        radius += 4
        return QRectF(pos - QPointF(radius, radius), QSize(1, 1).toSizeF() * (2 * radius)).toAlignedRect()

    # input ----------------------------------------------------------------------------------

    def _near_divider(self, pos: QPointF | None) -> bool:
        return pos is not None and abs(pos.x() - self._divider_x()) <= _DIVIDER_GRAB

    def _set_cursor_pos(self, pos: QPointF | None) -> None:
        old = self._cursor_pos
        self._cursor_pos = None if pos is None else QPointF(pos)
        self.update(self._cursor_rect(old))
        self.update(self._cursor_rect(self._cursor_pos))
        shape = self._image_shape()
        if pos is None or shape is None:
            self.cursor_moved.emit(-1, -1)
            return
        point = self.map_to_image(pos)
        row, col = math.floor(point.y()), math.floor(point.x())
        if 0 <= row < shape[0] and 0 <= col < shape[1]:
            self.cursor_moved.emit(row, col)
        else:
            self.cursor_moved.emit(-1, -1)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        button = event.button()
        left = button == Qt.MouseButton.LeftButton
        if button == Qt.MouseButton.MiddleButton or (left and self._space_down):
            self._pan_anchor = pos
            self.update_cursor()
            return
        if (button == Qt.MouseButton.LeftButton and self._compare == "split" and not self.showing_original
                and self._near_divider(pos)):
            self._dragging_divider = True
            return
        if self._tool is not None and self._pixels is not None:
            self._tool_active = self._tool.press(self.map_to_image(pos), button, event.modifiers(), None)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._set_cursor_pos(pos)
        if self._pan_anchor is not None:
            delta = pos - self._pan_anchor
            self._pan_anchor = pos
            self.pan(delta.x(), delta.y())
            return
        if self._dragging_divider:
            self.set_split_position(pos.x() / max(1, self.width()))
            return
        if self._tool is not None and self._pixels is not None:
            self._tool.move(self.map_to_image(pos), event.modifiers(), None)
        if self._compare == "split" and not self._tool_active:
            self.update_cursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._pan_anchor is not None and event.button() in (Qt.MouseButton.MiddleButton,
                                                              Qt.MouseButton.LeftButton):
            self._pan_anchor = None
            self.update_cursor()
            return
        if self._dragging_divider:
            self._dragging_divider = False
            return
        if self._tool is not None and self._pixels is not None:
            self._tool.release(self.map_to_image(pos), event.button(), event.modifiers())
        self._tool_active = False

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        left = event.button() == Qt.MouseButton.LeftButton
        if self._tool is not None and self._pixels is not None and left:
            self._tool.double_click(self.map_to_image(event.position()))

    def tabletEvent(self, event: QTabletEvent) -> None:
        """Pen input with pressure; panning gestures fall through to the synthesised mouse events."""
        if self._tool is None or self._pixels is None or self._space_down or self._pan_anchor is not None:
            event.ignore()
            return
        pos = event.position()
        pressure = float(event.pressure())
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            if self._compare == "split" and self._near_divider(pos):
                event.ignore()
                return
            self._tool_active = self._tool.press(self.map_to_image(pos), Qt.MouseButton.LeftButton,
                                                 event.modifiers(), pressure)
        elif kind == QEvent.Type.TabletMove:
            self._set_cursor_pos(pos)
            self._tool.move(self.map_to_image(pos), event.modifiers(), pressure)
        elif kind == QEvent.Type.TabletRelease:
            self._tool.release(self.map_to_image(pos), Qt.MouseButton.LeftButton, event.modifiers())
            self._tool_active = False
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Wheel: zoom at the cursor. Trackpad scroll: pan; with Ctrl (a pinch, on most systems): zoom."""
        pixel = event.pixelDelta()
        angle = event.angleDelta()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if not pixel.isNull() and not ctrl:
            self.pan(pixel.x(), pixel.y())
        else:
            delta = angle.y() or angle.x()
            if delta == 0 and not pixel.isNull():
                delta = pixel.y()
            if delta:
                self.set_zoom(self._scale * WHEEL_STEP ** (delta / 120), event.position())
        event.accept()

    def event(self, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Backslash, Qt.Key.Key_Space)
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            # hold-to-compare and space-to-pan need the key *release*, which a window QAction never
            # sees: while the canvas has focus it takes these two keys itself
            event.accept()
            return True
        if (isinstance(event, QNativeGestureEvent)
                and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture):
            self.set_zoom(self._scale * (1.0 + event.value()), event.position())
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Backslash:
            if not event.isAutoRepeat():
                self._holding_original = True
                self.update()
            return
        if key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_down = True
                self.update_cursor()
            return
        if self._tool is not None and self._tool.key_press(event):
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat():
            return
        if event.key() == Qt.Key.Key_Backslash:
            self._holding_original = False
            self.update()
            return
        if event.key() == Qt.Key.Key_Space:
            self._space_down = False
            self.update_cursor()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: object) -> None:
        # a key released in another window never reaches us: do not stay stuck in "original" or "pan"
        self._holding_original = self._space_down = False
        self.update_cursor()
        super().focusOutEvent(event)  # type: ignore[arg-type]

    def enterEvent(self, event: QEnterEvent) -> None:
        self._set_cursor_pos(event.position())
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._set_cursor_pos(None)
        super().leaveEvent(event)

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


#: the name the contract uses; CanvasView stays for existing imports
Canvas = CanvasView
