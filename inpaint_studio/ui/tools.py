"""Mask tools: brush, eraser, rectangle, lasso and polygon selection, driven by the canvas.

The canvas turns mouse/tablet gestures into image positions and hands them here; the tools turn
them into document edits — one undo step per stroke or selection — and draw their in-progress
shapes. Photoshop conventions: ``[`` / ``]`` change the brush size; holding Alt when a selection
starts subtracts it from the mask (Shift adds, which is also the default); Shift+click with the
brush draws a straight line from the end of the previous stroke; Esc cancels what is in progress.

Coordinates: the canvas gives continuous image positions (x = column, y = row, pixel ``(r, c)``
spanning ``[c, c + 1) x [r, r + 1)``); core.mask_ops centres pixel ``(r, c)`` on ``(r, c)``, so
brush points are shifted by -0.5 on the way in.

Brushing never waits for anything: a running fill works on its own snapshot of the mask.

Two layers can be painted with the same tools: the mask (what to remove, red) and the sampling
area (where content-aware fills may copy from, green; issue 5). :meth:`ToolController.set_paint_layer`
switches between them; each stroke or selection is one undo step on the layer it painted.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import cv2
import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPen, QPolygonF

from inpaint_studio.core.types import BBox
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.document import Document

__all__ = ["TOOLS", "ToolController", "ToolName"]

ToolName = Literal["brush", "eraser", "rect", "lasso", "polygon"]
TOOLS: tuple[ToolName, ...] = ("brush", "eraser", "rect", "lasso", "polygon")
PaintLayer = Literal["mask", "sampling"]
MIN_BRUSH = 1
MAX_BRUSH = 5000
#: closing a polygon by clicking its first point: within this many screen pixels
_CLOSE_DISTANCE = 8.0
_FIXED_BITS = 4  # cv2.fillPoly sub-pixel precision: 1/16 px


def size_step(size: int, bigger: bool) -> int:
    """The next brush size for ``]`` / ``[``: fine steps for small brushes, coarse for large ones."""
    ladder = ((10, 1), (50, 5), (100, 10), (200, 25), (500, 50))
    probe = size if bigger else size - 1
    step = next((inc for limit, inc in ladder if probe < limit), 100)
    if bigger:
        return min(MAX_BRUSH, (size // step + 1) * step)
    return max(MIN_BRUSH, (probe // step) * step)


class ToolController(QObject):
    """The current mask tool and its settings, for one canvas and its document."""

    tool_changed = Signal(str)
    #: "mask" or "sampling": which layer the tools paint
    paint_layer_changed = Signal(str)
    #: brush diameter in image pixels
    brush_size_changed = Signal(int)
    hardness_changed = Signal(float)
    pressure_enabled_changed = Signal(bool)

    def __init__(self, document: Document, canvas: CanvasView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self._tool: ToolName = "brush"
        self._layer: PaintLayer = "mask"
        self._size = 40
        self._hardness = 0.8
        self._pressure_enabled = True
        # brush state
        self._last: tuple[float, float] | None = None  # last dab, mask_ops coordinates
        self._last_stroke_end: tuple[float, float] | None = None
        self._last_radius: float | None = None
        # selection state (image coordinates)
        self._points: list[QPointF] = []
        self._hover: QPointF | None = None
        self._subtract = False
        self._selecting = False
        canvas.set_tool_controller(self)

    # settings -------------------------------------------------------------------------------

    @property
    def tool(self) -> ToolName:
        return self._tool

    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}; expected one of {', '.join(TOOLS)}")
        if name != self._tool:
            self.cancel()
            self._tool = name  # type: ignore[assignment]
            self.tool_changed.emit(name)
            self.canvas.update_cursor()

    @property
    def paint_layer(self) -> PaintLayer:
        return self._layer

    def set_paint_layer(self, layer: str) -> None:
        """Paint the mask ("mask") or the sampling area ("sampling") from now on."""
        if layer not in ("mask", "sampling"):
            raise ValueError(f"the tools paint the 'mask' or the 'sampling' layer, not {layer!r}")
        if layer != self._layer:
            self.cancel()
            self._layer = layer  # type: ignore[assignment]
            self.paint_layer_changed.emit(layer)
            self.canvas.update_cursor()

    @property
    def brush_size(self) -> int:
        return self._size

    @brush_size.setter
    def brush_size(self, size: int) -> None:
        self.set_brush_size(size)

    def set_brush_size(self, size: float) -> None:
        size = int(min(MAX_BRUSH, max(MIN_BRUSH, round(float(size)))))
        if size != self._size:
            self._size = size
            self.brush_size_changed.emit(size)
            self.canvas.update_cursor()

    def bigger(self) -> None:
        self.set_brush_size(size_step(self._size, True))

    def smaller(self) -> None:
        self.set_brush_size(size_step(self._size, False))

    @property
    def hardness(self) -> float:
        return self._hardness

    @hardness.setter
    def hardness(self, value: float) -> None:
        self.set_hardness(value)

    def set_hardness(self, value: float) -> None:
        value = min(1.0, max(0.0, float(value)))
        if value != self._hardness:
            self._hardness = value
            self.hardness_changed.emit(value)

    @property
    def pressure_enabled(self) -> bool:
        return self._pressure_enabled

    @pressure_enabled.setter
    def pressure_enabled(self, enabled: bool) -> None:
        self.set_pressure_enabled(enabled)

    def set_pressure_enabled(self, enabled: bool) -> None:
        if bool(enabled) != self._pressure_enabled:
            self._pressure_enabled = bool(enabled)
            self.pressure_enabled_changed.emit(self._pressure_enabled)

    @property
    def busy(self) -> bool:
        """A stroke or selection is in progress."""
        return self._last is not None or self._selecting or bool(self._points)

    # canvas protocol ------------------------------------------------------------------------

    def cursor_radius(self) -> float | None:
        return self._size / 2 if self._tool in ("brush", "eraser") else None

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier,
              pressure: float | None) -> bool:
        if button != Qt.MouseButton.LeftButton or self.document.mask is None:
            return False
        if self._tool in ("brush", "eraser"):
            point = (pos.y() - 0.5, pos.x() - 0.5)
            label = "Brush stroke" if self._tool == "brush" else "Eraser stroke"
            if self._layer == "sampling":
                label = "Sampling area stroke" if self._tool == "brush" else "Sampling area erase"
                _core(self.document).begin_stroke(label, layer="sampling")
            else:
                self.document.begin_stroke(label)
            start = point
            if modifiers & Qt.KeyboardModifier.ShiftModifier and self._last_stroke_end is not None:
                start = self._last_stroke_end
            self._last = point
            self._last_radius = None
            self._dab(start, point, pressure)
            return True
        if self._tool == "polygon":
            if self._points and self._near_first(pos):
                self._commit_selection()
                return True
            if not self._points:
                self._subtract = bool(modifiers & Qt.KeyboardModifier.AltModifier)
            self._points.append(QPointF(pos))
            self._hover = QPointF(pos)
            self.canvas.update()
            return True
        self._subtract = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        self._selecting = True
        self._points = [QPointF(pos), QPointF(pos)] if self._tool == "rect" else [QPointF(pos)]
        self.canvas.update()
        return True

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float | None) -> None:
        if self._tool in ("brush", "eraser"):
            if self._last is not None:
                point = (pos.y() - 0.5, pos.x() - 0.5)
                self._dab(self._last, point, pressure)
                self._last = point
            return
        if self._tool == "polygon":
            if self._points:
                self._hover = QPointF(pos)
                self.canvas.update()
            return
        if not self._selecting:
            return
        if self._tool == "rect":
            self._points[1] = QPointF(pos)
        else:
            self._points.append(QPointF(pos))
        self.canvas.update()

    def release(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if button != Qt.MouseButton.LeftButton:
            return
        if self._tool in ("brush", "eraser"):
            if self._last is not None:
                self._last_stroke_end = self._last
                self._last = None
                self.document.end_stroke()
            return
        if self._tool == "polygon" or not self._selecting:
            return
        self.move(pos, modifiers, None)
        self._commit_selection()

    def double_click(self, pos: QPointF) -> None:
        if self._tool == "polygon" and self._points:
            last = self._points[-1]
            if abs(last.x() - pos.x()) + abs(last.y() - pos.y()) > 0.5:
                self._points.append(QPointF(pos))  # the double-click's own point closes the shape
            self._commit_selection()
        elif self._tool in ("brush", "eraser"):
            # Qt sends the second click of a double-click here instead of as a press: paint it too
            self.press(pos, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, None)

    def key_press(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key.Key_BracketRight:
            self.bigger()
            return True
        if key == Qt.Key.Key_BracketLeft:
            self.smaller()
            return True
        if key == Qt.Key.Key_Escape and self.busy:
            self.cancel()
            return True
        if self._tool == "polygon" and self._points:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._commit_selection()
                return True
            if key == Qt.Key.Key_Backspace:
                self._points.pop()
                self.canvas.update()
                return True
        return False

    def cancel(self) -> None:
        """Drop whatever is in progress: a stroke is rolled back, a selection forgotten."""
        if self._last is not None:
            self._last = None
            self.document.abort_stroke()
        self._points = []
        self._hover = None
        self._selecting = False
        self.canvas.update()

    # brush ----------------------------------------------------------------------------------

    def _dab(self, p0: tuple[float, float], p1: tuple[float, float], pressure: float | None) -> None:
        """Paint p0 -> p1; with a pen, the radius ramps from the last dab's to this one's along the way."""
        scale = 1.0
        if self._pressure_enabled and pressure is not None:
            scale = min(1.0, max(0.05, pressure))
        radius = max(0.5, self._size / 2 * scale)
        start_radius = radius if p0 == p1 or self._last_radius is None else self._last_radius
        value = 255 if self._tool == "brush" else 0
        # one piece per pixel of radius change (at most 16): no visible steps, few numpy calls
        pieces = min(16, max(1, math.ceil(abs(radius - start_radius))))
        for k in range(pieces):
            a = (p0[0] + (p1[0] - p0[0]) * k / pieces, p0[1] + (p1[1] - p0[1]) * k / pieces)
            b = (p0[0] + (p1[0] - p0[0]) * (k + 1) / pieces, p0[1] + (p1[1] - p0[1]) * (k + 1) / pieces)
            piece_radius = start_radius + (radius - start_radius) * (k + 1) / pieces
            self.document.stroke_to(a, b, piece_radius, value, self._hardness)
        self._last_radius = radius

    # selections -----------------------------------------------------------------------------

    def _near_first(self, pos: QPointF) -> bool:
        first = self.canvas.map_from_image(self._points[0])
        here = self.canvas.map_from_image(pos)
        distance = math.hypot(first.x() - here.x(), first.y() - here.y())
        return len(self._points) >= 3 and distance <= _CLOSE_DISTANCE

    def _commit_selection(self) -> None:
        points, tool, subtract = self._points, self._tool, self._subtract
        self._points, self._hover, self._selecting = [], None, False
        self.canvas.update()
        mask = self.document.mask
        if mask is None:
            return
        layer = self._layer
        height, width = mask.shape
        if tool == "rect":
            if len(points) < 2:
                return
            x0, x1 = sorted((points[0].x(), points[1].x()))
            y0, y1 = sorted((points[0].y(), points[1].y()))
            # the pixels whose centres lie inside the rectangle
            box = BBox(max(0, math.ceil(y0 - 0.5)), max(0, math.ceil(x0 - 0.5)),
                       min(height, math.ceil(y1 - 0.5)), min(width, math.ceil(x1 - 0.5)))
            if box.is_empty:
                return
            inside = np.ones((box.height, box.width), bool)
        else:
            if len(points) < 3:
                return
            xs = np.array([p.x() for p in points])
            ys = np.array([p.y() for p in points])
            box = BBox(max(0, math.floor(ys.min())), max(0, math.floor(xs.min())),
                       min(height, math.ceil(ys.max()) + 1), min(width, math.ceil(xs.max()) + 1))
            if box.is_empty:
                return
            # pixel (r, c) is centred on (r + 0.5, c + 0.5) here and on (r, c) for OpenCV
            fixed = np.stack([(xs - 0.5 - box.left), (ys - 0.5 - box.top)], axis=1) * (1 << _FIXED_BITS)
            shape = np.zeros((box.height, box.width), np.uint8)
            cv2.fillPoly(shape, [np.round(fixed).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=_FIXED_BITS)
            inside = shape.astype(bool)
        names = {"rect": "Rectangle", "lasso": "Lasso", "polygon": "Polygon"}
        label = f"{names[tool]} selection" + (" (subtract)" if subtract else "")
        if layer == "sampling":
            label = f"Sampling area: {label.lower()}"
        current = mask if layer == "mask" else _core(self.document).sampling  # None: never painted
        old = current[box.slices] if current is not None else np.zeros((box.height, box.width), np.uint8)
        new = np.where(inside, np.uint8(0), old) if subtract else np.where(inside, np.uint8(255), old)
        self.document.set_mask_region(box, new, label, layer=layer)

    def paint_overlay(self, painter: QPainter, canvas: CanvasView) -> None:
        """The selection being drawn, as a black-and-white dashed outline (readable on any photo)."""
        if not self._points or self._tool not in ("rect", "lasso", "polygon"):
            return
        widget_points = [canvas.map_from_image(p) for p in self._points]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QColor(255, 255, 255, 30) if not self._subtract else QColor(0, 0, 0, 40))
        for pen in (QPen(QColor(255, 255, 255), 1.0), QPen(QColor(0, 0, 0), 1.0, Qt.PenStyle.DashLine)):
            painter.setPen(pen)
            if self._tool == "rect":
                painter.drawRect(QRectF(widget_points[0], widget_points[1]).normalized())
            elif self._tool == "lasso":
                painter.drawPolygon(QPolygonF(widget_points))
            else:
                chain = widget_points + ([canvas.map_from_image(self._hover)] if self._hover else [])
                painter.drawPolyline(QPolygonF(chain))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        if self._tool == "polygon":
            painter.setPen(QPen(QColor(255, 255, 255), 1.0))
            painter.setBrush(QColor(0, 0, 0))
            for point in widget_points:
                painter.drawRect(QRectF(point - QPointF(2.5, 2.5), point + QPointF(2.5, 2.5)))
        painter.restore()


def _core(document: Any) -> Any:
    """The Qt-free document behind the Qt adapter (the sampling layer lives there)."""
    return getattr(document, "core", document)
