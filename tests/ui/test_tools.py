"""Mask tools driven through the real canvas with the mouse: each stroke or selection is one undo step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from inpaint_studio.core.photo import Photo
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.tools import size_step

pytestmark = pytest.mark.gui

ALT = Qt.KeyboardModifier.AltModifier
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def editor(make_editor):
    editor = make_editor(Photo(pixels=np.full((200, 300, 3), 100, np.uint8)))
    editor.canvas.actual_size()
    return editor


def _at(canvas: CanvasView, x: float, y: float) -> QPoint:
    """The widget pixel whose top-left corner maps nearest to image point (x, y)."""
    return canvas.map_from_image(QPointF(x, y)).toPoint()


def _drag(qtbot, canvas: CanvasView, points: list[tuple[float, float]],
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mousePress(canvas, LEFT, modifier, _at(canvas, *points[0]))
    for point in points[1:]:
        qtbot.mouseMove(canvas, _at(canvas, *point))
    qtbot.mouseRelease(canvas, LEFT, modifier, _at(canvas, *points[-1]))


def _distance_to_segment(shape, p0, p1):
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    (y0, x0), (y1, x1) = p0, p1
    d = np.array([y1 - y0, x1 - x0])
    t = np.clip(((rows - y0) * d[0] + (cols - x0) * d[1]) / (d @ d), 0, 1)
    return np.hypot(rows - (y0 + t * d[0]), cols - (x0 + t * d[1]))


def test_a_brush_stroke_changes_the_mask_only_under_the_stroke_and_undo_restores_it(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_brush_size(20)
    tools.set_hardness(1.0)
    _drag(qtbot, canvas, [(50, 60), (100, 80), (150, 100)])

    painted = doc.mask > 0
    # pixel (r, c) is centred on (r + 0.5, c + 0.5) in canvas coordinates
    first = _distance_to_segment(painted.shape, (59.5, 49.5), (79.5, 99.5))
    second = _distance_to_segment(painted.shape, (79.5, 99.5), (99.5, 149.5))
    distance = np.minimum(first, second)
    assert painted[distance <= 8].all(), "everything well inside the stroke is painted"
    assert not painted[distance >= 12].any(), "nothing well outside it is"
    assert doc.history_steps() == (["Brush stroke"], 1)

    doc.undo()
    assert not doc.mask.any()
    doc.redo()
    assert np.array_equal(doc.mask > 0, painted)


def test_eraser_clears_under_the_stroke_only(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    doc.set_mask(np.full((200, 300), 255, np.uint8), "All")
    tools.set_tool("eraser")
    tools.set_brush_size(10)
    tools.set_hardness(1.0)
    _drag(qtbot, canvas, [(50, 100), (250, 100)])
    assert doc.mask[99, 150] == 0 and doc.mask[100, 60] == 0
    assert doc.mask[80, 150] == 255 and doc.mask[100, 20] == 255
    assert doc.undo_text() == "Eraser stroke"


def test_rectangle_selection_adds_to_the_mask_and_alt_subtracts(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_tool("rect")
    _drag(qtbot, canvas, [(20, 10), (60, 30), (80, 50)])
    expected = np.zeros((200, 300), bool)
    expected[10:50, 20:80] = True
    assert np.array_equal(doc.mask > 0, expected)
    assert doc.undo_text() == "Rectangle selection"

    _drag(qtbot, canvas, [(40, 20), (60, 40)], ALT)
    expected[20:40, 40:60] = False
    assert np.array_equal(doc.mask > 0, expected)
    assert doc.history_steps() == (["Rectangle selection", "Rectangle selection (subtract)"], 2)
    doc.undo()
    assert doc.mask[30, 50] == 255


def test_lasso_selection_fills_the_drawn_outline(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_tool("lasso")
    _drag(qtbot, canvas, [(100, 20), (180, 20), (180, 120), (140, 120), (100, 120)])
    hole = doc.mask > 0
    assert hole[30:110, 110:170].all()
    assert not hole[:15].any() and not hole[:, :95].any() and not hole[125:].any()
    assert doc.undo_text() == "Lasso selection"
    doc.undo()
    assert not doc.mask.any()


def test_polygon_selection_closes_on_double_click_and_on_enter(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_tool("polygon")
    for point in [(20, 20), (120, 20), (120, 100)]:
        qtbot.mouseClick(canvas, LEFT, pos=_at(canvas, *point))
    qtbot.mouseMove(canvas, _at(canvas, 20, 100))
    assert not doc.mask.any(), "nothing happens until the polygon is closed"
    qtbot.mouseDClick(canvas, LEFT, pos=_at(canvas, 20, 100))
    hole = doc.mask > 0
    assert hole[30:90, 30:110].all() and not hole[110:].any() and not hole[:, 130:].any()
    assert doc.history_steps()[0] == ["Polygon selection"]

    for point in [(200, 120), (260, 120), (230, 180)]:
        qtbot.mouseClick(canvas, LEFT, pos=_at(canvas, *point))
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert doc.mask[140, 230] == 255
    assert doc.history_steps() == (["Polygon selection", "Polygon selection"], 2)


def test_escape_cancels_a_selection_in_progress(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_tool("polygon")
    qtbot.mouseClick(canvas, LEFT, pos=_at(canvas, 20, 20))
    qtbot.mouseClick(canvas, LEFT, pos=_at(canvas, 80, 20))
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    qtbot.mouseClick(canvas, LEFT, pos=_at(canvas, 80, 80))
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert not doc.mask.any() and not doc.history_steps()[0]


def test_bracket_keys_change_the_brush_size(editor, qtbot):
    canvas, tools = editor.canvas, editor.tools
    tools.set_brush_size(40)
    with qtbot.waitSignal(tools.brush_size_changed) as changed:
        qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert changed.args == [45] and tools.brush_size == 45
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert tools.brush_size == 35
    tools.set_brush_size(1)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert tools.brush_size == 1


def test_size_steps_are_fine_for_small_brushes_and_coarse_for_large_ones():
    assert [size_step(s, True) for s in (1, 9, 10, 48, 50, 100, 450, 500, 5000)] == \
        [2, 10, 15, 50, 60, 125, 500, 600, 5000]
    assert [size_step(s, False) for s in (2, 10, 15, 50, 60, 125, 600)] == [1, 9, 10, 45, 50, 100, 500]


def test_tablet_pressure_scales_the_brush_radius(editor):
    doc, tools = editor.doc, editor.tools
    tools.set_brush_size(40)
    tools.set_hardness(1.0)
    tools.press(QPointF(60.5, 60.5), LEFT, Qt.KeyboardModifier.NoModifier, 0.25)
    tools.release(QPointF(60.5, 60.5), LEFT, Qt.KeyboardModifier.NoModifier)
    light = np.count_nonzero(doc.mask)
    tools.press(QPointF(200.5, 100.5), LEFT, Qt.KeyboardModifier.NoModifier, 1.0)
    tools.release(QPointF(200.5, 100.5), LEFT, Qt.KeyboardModifier.NoModifier)
    full = np.count_nonzero(doc.mask) - light
    assert full == pytest.approx(np.pi * 20 ** 2, rel=0.05)
    assert light == pytest.approx(np.pi * 5 ** 2, rel=0.2)
    tools.set_pressure_enabled(False)
    doc.set_mask(None)
    tools.press(QPointF(60.5, 60.5), LEFT, Qt.KeyboardModifier.NoModifier, 0.25)
    tools.release(QPointF(60.5, 60.5), LEFT, Qt.KeyboardModifier.NoModifier)
    assert np.count_nonzero(doc.mask) == full


def test_brushing_while_a_fill_holds_a_snapshot_leaves_the_snapshot_alone(editor, qtbot):
    doc, canvas = editor.doc, editor.canvas
    _pixels, mask = doc.snapshot_for_fill()
    _drag(qtbot, canvas, [(50, 50), (150, 50)])
    assert doc.mask.any() and not mask.any()


def test_switching_tools_emits_and_the_brush_has_a_true_size_outline(editor, qtbot):
    canvas, tools = editor.canvas, editor.tools
    tools.set_brush_size(30)
    assert tools.cursor_radius() == 15
    with qtbot.waitSignal(tools.tool_changed) as changed:
        tools.set_tool("lasso")
    assert changed.args == ["lasso"] and tools.cursor_radius() is None
    tools.set_tool("brush")
    canvas.set_zoom(2.0)
    centre = _at(canvas, 150, 100)
    qtbot.mouseMove(canvas, centre)
    image = canvas.grab().toImage()
    # the outline is drawn 30 px (radius 15 image px x zoom 2) from the cursor; the photo is flat grey
    ring = [image.pixelColor(centre + offset) for offset in (QPoint(30, 0), QPoint(-30, 0), QPoint(0, 30))]
    assert all(colour.red() != 100 for colour in ring)
    assert image.pixelColor(centre + QPoint(15, 0)).red() == 100


def _tablet(canvas: CanvasView, kind, pos: QPointF, pressure: float) -> bool:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication

    pen = QPointingDevice("test pen", 7, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3)
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else LEFT
    event = QTabletEvent(kind, pen, pos, canvas.mapToGlobal(pos), pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
                         Qt.KeyboardModifier.NoModifier, LEFT, buttons)
    QApplication.sendEvent(canvas, event)
    return event.isAccepted()


def test_a_pen_stroke_through_the_canvas_uses_its_pressure(editor):
    from PySide6.QtCore import QEvent

    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_brush_size(40)
    tools.set_hardness(1.0)
    start = canvas.map_from_image(QPointF(60, 100))
    end = canvas.map_from_image(QPointF(240, 100))
    assert _tablet(canvas, QEvent.Type.TabletPress, start, 0.2)
    _tablet(canvas, QEvent.Type.TabletMove, (start + end) / 2, 0.2)
    _tablet(canvas, QEvent.Type.TabletMove, end, 1.0)
    _tablet(canvas, QEvent.Type.TabletRelease, end, 0.0)
    rows = np.count_nonzero(doc.mask > 0, axis=0)  # stroke thickness along it
    assert rows[100] <= 10, "light pressure: a thin line"
    assert rows[235] >= 30, "full pressure: the whole brush"
    assert doc.history_steps() == (["Brush stroke"], 1)
