"""The canvas as a user drives it: zoom to cursor, fit/100 %, pan, overlay, compare, cheap repaints."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from inpaint_studio.core.photo import Photo
from inpaint_studio.core.types import BBox
from inpaint_studio.ui import canvas_pyramid
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.document import Document
from inpaint_studio.ui.tools import ToolController

pytestmark = pytest.mark.gui

GREY = (90, 120, 150)


def _photo(height: int = 200, width: int = 300, dtype: type = np.uint8) -> Photo:
    pixels = np.empty((height, width, 3), dtype)
    pixels[...] = np.array(GREY, dtype) * (257 if dtype == np.uint16 else 1)
    return Photo(pixels=pixels)


@pytest.fixture
def editor(make_editor):
    return make_editor(_photo())


def _colour_at(canvas: CanvasView, image_x: float, image_y: float) -> tuple[int, int, int]:
    pos = canvas.map_from_image(QPointF(image_x, image_y)).toPoint()
    colour = canvas.grab().toImage().pixelColor(pos)
    return colour.red(), colour.green(), colour.blue()


def _wheel(canvas: CanvasView, pos: QPointF, angle: int, *, pixel: QPoint | None = None,
           modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    event = QWheelEvent(pos, canvas.mapToGlobal(pos), pixel or QPoint(), QPoint(0, angle),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)


def test_opening_fits_the_photo_and_100_percent_shows_one_pixel_per_pixel(editor):
    canvas = editor.canvas
    assert canvas.zoom == pytest.approx(min(376 / 300, 276 / 200))
    rect = canvas.image_rect()
    assert rect.center().x() == pytest.approx(200) and rect.center().y() == pytest.approx(150)
    canvas.actual_size()
    assert canvas.zoom == 1.0
    assert canvas.image_rect().width() == pytest.approx(300)
    canvas.fit()
    assert canvas.zoom == pytest.approx(canvas.fit_zoom())


def test_wheel_zooms_keeping_the_image_point_under_the_cursor(editor, qtbot):
    canvas = editor.canvas
    cursor = QPointF(120, 90)
    before = canvas.map_to_image(cursor)
    zoom = canvas.zoom
    with qtbot.waitSignal(canvas.zoom_changed):
        _wheel(canvas, cursor, 240)
    assert canvas.zoom > zoom * 1.3
    after = canvas.map_to_image(cursor)
    assert after.x() == pytest.approx(before.x(), abs=1e-6)
    assert after.y() == pytest.approx(before.y(), abs=1e-6)
    _wheel(canvas, cursor, 120, modifiers=Qt.KeyboardModifier.ControlModifier)  # Ctrl+wheel zooms too
    assert canvas.map_to_image(cursor).x() == pytest.approx(before.x(), abs=1e-6)


def test_trackpad_scroll_pans_instead_of_zooming(editor):
    canvas = editor.canvas
    canvas.set_zoom(4.0)
    zoom, origin = canvas.zoom, canvas.map_to_image(QPointF(0, 0))
    _wheel(canvas, QPointF(100, 100), 0, pixel=QPoint(-30, -20))
    assert canvas.zoom == zoom
    moved = canvas.map_to_image(QPointF(0, 0))
    assert moved.x() == pytest.approx(origin.x() + 30 / 4) and moved.y() == pytest.approx(origin.y() + 20 / 4)


def test_space_drag_and_middle_drag_pan_without_painting(editor, qtbot):
    canvas = editor.canvas
    canvas.set_zoom(4.0)
    start = canvas.map_to_image(QPointF(200, 150))
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(canvas, QPoint(160, 130))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(160, 130))
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    here = canvas.map_to_image(QPointF(160, 130))
    assert here.x() == pytest.approx(start.x()) and here.y() == pytest.approx(start.y())
    assert not editor.doc.mask.any(), "panning must not paint"

    start = canvas.map_to_image(QPointF(200, 150))
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(200, 150))
    qtbot.mouseMove(canvas, QPoint(230, 170))
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(230, 170))
    here = canvas.map_to_image(QPointF(230, 170))
    assert here.x() == pytest.approx(start.x()) and here.y() == pytest.approx(start.y())
    assert not editor.doc.mask.any()


def test_cursor_moved_reports_the_pixel_under_the_mouse(editor, qtbot):
    canvas = editor.canvas
    canvas.actual_size()
    pos = canvas.map_from_image(QPointF(40.5, 25.5)).toPoint()
    with qtbot.waitSignal(canvas.cursor_moved) as moved:
        qtbot.mouseMove(canvas, pos)
    point = canvas.map_to_image(QPointF(pos))
    assert moved.args == [int(point.y()), int(point.x())]
    assert abs(moved.args[0] - 25) <= 1 and abs(moved.args[1] - 40) <= 1
    with qtbot.waitSignal(canvas.cursor_moved) as moved:
        qtbot.mouseMove(canvas, QPoint(2, 2))
    assert moved.args == [-1, -1]


def test_mask_overlay_colour_and_opacity_are_settable(editor):
    doc, canvas = editor.doc, editor.canvas
    doc.set_mask_region(BBox(50, 50, 150, 150), np.full((100, 100), 255, np.uint8), "Select")
    canvas.set_overlay_colour(QColor(0, 0, 255))
    canvas.set_overlay_opacity(1.0)
    assert _colour_at(canvas, 100, 100) == (0, 0, 255)
    assert _colour_at(canvas, 250, 30) == GREY, "outside the mask the photo shows"
    canvas.set_overlay_opacity(0.5)
    red, _green, blue = _colour_at(canvas, 100, 100)
    assert abs(red - GREY[0] / 2) <= 2 and abs(blue - (GREY[2] + 255) / 2) <= 2
    canvas.set_overlay_opacity(0.0)
    assert _colour_at(canvas, 100, 100) == GREY
    canvas.set_overlay_opacity(1.0)
    canvas.set_mask_visible(False)
    assert _colour_at(canvas, 100, 100) == GREY


def _fill_red(doc: Document) -> None:
    doc.apply_fill(np.full((40, 60, 3), (250, 10, 10), np.uint8), BBox(80, 120, 120, 180), "Fill")


def test_holding_backslash_shows_the_original(editor, qtbot):
    doc, canvas = editor.doc, editor.canvas
    _fill_red(doc)
    assert _colour_at(canvas, 150, 100) == (250, 10, 10)
    qtbot.keyPress(canvas, Qt.Key.Key_Backslash)
    assert canvas.showing_original
    assert _colour_at(canvas, 150, 100) == GREY
    qtbot.keyRelease(canvas, Qt.Key.Key_Backslash)
    assert _colour_at(canvas, 150, 100) == (250, 10, 10)


def test_original_means_as_opened_even_after_several_fills(editor):
    doc, canvas = editor.doc, editor.canvas
    _fill_red(doc)
    doc.apply_fill(np.full((10, 10, 3), 0, np.uint8), BBox(90, 140, 100, 150), "Fill again")
    canvas.set_compare_mode("hold")
    assert _colour_at(canvas, 145, 95) == GREY
    canvas.set_compare_mode("off")
    assert _colour_at(canvas, 145, 95) == (0, 0, 0)
    canvas.set_zoom(0.3)  # zoomed out, from a coarser pyramid level
    assert _colour_at(canvas, 135, 100) == (250, 10, 10)
    canvas.set_compare_mode("hold")
    assert _colour_at(canvas, 135, 100) == GREY


def test_split_view_shows_original_left_and_current_right_with_a_draggable_divider(editor, qtbot):
    doc, canvas = editor.doc, editor.canvas
    doc.apply_fill(np.full((200, 300, 3), (250, 10, 10), np.uint8), None, "Fill everything")
    canvas.set_compare_mode("split")
    assert canvas.split_position == 0.5
    left = canvas.map_to_image(QPointF(150, 150))
    right = canvas.map_to_image(QPointF(250, 150))
    assert _colour_at(canvas, left.x(), left.y()) == GREY
    assert _colour_at(canvas, right.x(), right.y()) == (250, 10, 10)

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(canvas, QPoint(100, 150))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 150))
    assert canvas.split_position == pytest.approx(100 / 400)
    assert _colour_at(canvas, left.x(), left.y()) == (250, 10, 10)  # now right of the divider
    assert not doc.mask.any(), "dragging the divider must not paint"


def test_previews_show_over_the_hole_until_cleared(editor):
    from inpaint_studio.ui.qimage import rgb_to_qimage

    canvas = editor.canvas
    canvas.show_preview(BBox(10, 10, 30, 30), rgb_to_qimage(np.full((20, 20, 3), (0, 200, 0), np.uint8)))
    assert canvas.has_preview
    assert _colour_at(canvas, 20, 20) == (0, 200, 0)
    canvas.clear_preview()
    assert _colour_at(canvas, 20, 20) == GREY


def test_16_bit_photos_are_shown_in_8_bit(qtbot):
    document = Document()
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(200, 200)
    canvas.set_document(document)
    document.open(_photo(50, 50, np.uint16))
    canvas.show()
    assert _colour_at(canvas, 25, 25) == GREY


def test_a_24_mp_document_is_not_converted_or_downscaled_whole_on_each_paint(qtbot, monkeypatch):
    calls: list[int] = []
    on_gui_thread: list[int] = []
    for name in ("to_display_u8", "downsample2"):
        real = getattr(canvas_pyramid, name)

        def counting(values, _real=real):
            size = values.shape[0] * values.shape[1]
            calls.append(size)
            if threading.current_thread() is threading.main_thread():
                on_gui_thread.append(size)
            return _real(values)

        monkeypatch.setattr(canvas_pyramid, name, counting)
    document = Document()
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.set_document(document)
    tools = ToolController(document, canvas)
    frame = 4000 * 6000
    document.open(_photo(4000, 6000, np.uint16))
    canvas.show()
    canvas.grab()  # the first paint starts the 8-bit level 0 and the coarser levels off the GUI thread
    qtbot.waitUntil(lambda: canvas.display_ready, timeout=20_000)
    zooms = (0.05, 0.3, 1.0, 3.0)
    for zoom in zooms:
        canvas.set_zoom(zoom)
        canvas.grab()
    assert calls.count(frame) == 3  # the 16 -> 8-bit conversion and the first halving of photo and mask
    # the GUI thread only samples what the screen shows until the levels land
    assert max(on_gui_thread, default=0) < frame / 8, "the GUI thread never converts the whole frame"
    assert _colour_at(canvas, 3000, 2000) == GREY
    calls.clear()

    for zoom in zooms:
        canvas.set_zoom(zoom)
        canvas.grab()
    assert calls == [], "repainting converts nothing"
    canvas.pan(50, 40)
    canvas.grab()
    document.apply_fill(np.zeros((100, 100, 3), np.uint16), BBox(2000, 3000, 2100, 3100), "Fill")
    tools.press(QPointF(3000, 2000), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, None)
    tools.move(QPointF(3200, 2100), Qt.KeyboardModifier.NoModifier, None)
    tools.release(QPointF(3200, 2100), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    canvas.grab()

    assert max(calls, default=0) < frame / 100, "after the first paint only changed boxes are converted"


def test_compare_hold_shows_the_original_after_two_fills_and_an_undo(editor):
    doc, canvas = editor.doc, editor.canvas
    _fill_red(doc)
    doc.apply_fill(np.full((20, 20, 3), 0, np.uint8), BBox(90, 140, 110, 160), "Fill again")
    assert doc.undo()
    assert _colour_at(canvas, 150, 100) == (250, 10, 10)
    canvas.set_compare_mode("hold")
    assert _colour_at(canvas, 150, 100) == GREY
    canvas.set_zoom(0.3)
    assert _colour_at(canvas, 150, 100) == GREY
    canvas.set_compare_mode("off")
    assert _colour_at(canvas, 150, 100) == (250, 10, 10)
    assert doc.redo()
    canvas.set_compare_mode("split")
    canvas.set_split_position(1.0)  # all of the view left of the divider: the original
    assert _colour_at(canvas, 150, 100) == GREY


def test_landing_a_fill_refreshes_and_keeps_only_its_regions(qtbot, monkeypatch):
    from inpaint_studio.core.document import diff_edits

    document = Document()
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.set_document(document)
    document.open(_photo(1000, 1500))
    canvas.show()
    for zoom in (0.05, 0.3, 1.0):  # build the levels a user would have looked at
        canvas.set_zoom(zoom)
        canvas.grab()
    sizes: list[int] = []
    for name in ("to_display_u8", "downsample2"):
        real = getattr(canvas_pyramid, name)

        def counting(values, _real=real):
            sizes.append(values.shape[0] * values.shape[1])
            return _real(values)

        monkeypatch.setattr(canvas_pyramid, name, counting)
    # one fill, two small regions in opposite corners (the box around both is the whole frame)
    before = document.pixels.copy()
    result = before.copy()
    result[10:40, 20:60] = (250, 10, 10)
    result[900:950, 1400:1450] = (250, 10, 10)
    document.apply_edits("Fill", diff_edits("pixels", before, result, BBox.of_shape(before.shape)))
    assert sizes and max(sizes) <= 50 * 50, "only the changed regions are scaled, not the box around them"
    assert canvas.original_tiles_converted == 0, "landing copies no original tiles"
    assert document.core.original_tiles_kept == 3

    canvas.set_zoom(1.0)
    canvas.set_compare_mode("hold")
    canvas.fit()
    assert _colour_at(canvas, 1420, 920) == GREY
    assert canvas.original_tiles_converted == 2, "only the two changed tiles are fetched for compare"
    canvas.set_compare_mode("off")
    assert _colour_at(canvas, 1420, 920) == (250, 10, 10)


def test_a_change_while_levels_build_in_the_background_is_not_lost(qtbot, monkeypatch):
    monkeypatch.setattr(canvas_pyramid, "ASYNC_MIN_PIXELS", 0)  # build even this small frame off-thread
    document = Document()
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(200, 150)
    canvas.set_document(document)
    document.open(_photo(400, 600, np.uint16))
    canvas.show()
    canvas.grab()  # starts the build; the fill lands before its result is taken in
    assert not canvas.display_ready
    document.apply_fill(np.full((100, 100, 3), 65535, np.uint16), BBox(100, 200, 200, 300), "Fill")
    qtbot.waitUntil(lambda: canvas.display_ready, timeout=10_000)
    assert _colour_at(canvas, 250, 150) == (255, 255, 255)
    assert _colour_at(canvas, 50, 50) == GREY
    canvas.set_compare_mode("hold")
    assert _colour_at(canvas, 250, 150) == GREY
