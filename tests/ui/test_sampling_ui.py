"""The sampling area (issue 5): painted with the mask tools into its own green layer, undoable, and
handed to fills of methods that copy patches."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from inpaint_studio.core.photo import Photo
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.sampling import LAYER, SamplingController

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
FILL_TIMEOUT_MS = 60_000


@pytest.fixture
def editor(make_editor):
    editor = make_editor(Photo(pixels=np.full((200, 300, 3), 100, np.uint8)))
    editor.canvas.actual_size()
    editor.sampling = SamplingController(editor.doc, editor.canvas)
    return editor


def _at(canvas: CanvasView, x: float, y: float) -> QPoint:
    return canvas.map_from_image(QPointF(x, y)).toPoint()


def _drag(qtbot, canvas: CanvasView, points: list[tuple[float, float]]) -> None:
    qtbot.mousePress(canvas, LEFT, Qt.KeyboardModifier.NoModifier, _at(canvas, *points[0]))
    for point in points[1:]:
        qtbot.mouseMove(canvas, _at(canvas, *point))
    qtbot.mouseRelease(canvas, LEFT, Qt.KeyboardModifier.NoModifier, _at(canvas, *points[-1]))


def _sampling(doc) -> np.ndarray:
    values = doc.core.sampling
    return np.zeros(doc.mask.shape, np.uint8) if values is None else values


def test_painting_the_sampling_area_fills_its_own_layer_not_the_mask(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_brush_size(20)
    tools.set_paint_layer("sampling")
    _drag(qtbot, canvas, [(50, 60), (150, 60)])

    sampling = _sampling(doc)
    assert (sampling[60, 60:140] > 0).all(), "the stroke is in the sampling layer"
    assert not sampling[150:, :].any()
    assert not doc.mask.any(), "the mask is untouched"
    assert canvas.layer_shown(LAYER)
    assert doc.history_steps()[0] == ["Sampling area stroke"]

    tools.set_tool("eraser")
    _drag(qtbot, canvas, [(90, 60), (110, 60)])
    assert not _sampling(doc)[60, 95:105].any(), "the eraser works on the sampling layer too"

    doc.undo()
    doc.undo()
    assert not _sampling(doc).any()
    assert not canvas.layer_shown(LAYER)

    tools.set_paint_layer("mask")
    tools.set_tool("brush")
    _drag(qtbot, canvas, [(50, 150), (150, 150)])
    assert doc.mask.any() and not _sampling(doc).any(), "back on the mask"


def test_a_rectangle_selection_can_add_to_the_sampling_area(editor, qtbot):
    doc, canvas, tools = editor.doc, editor.canvas, editor.tools
    tools.set_paint_layer("sampling")
    tools.set_tool("rect")
    _drag(qtbot, canvas, [(20, 30), (80, 90)])
    sampling = _sampling(doc)
    assert (sampling[35:85, 25:75] == 255).all()
    assert not sampling[100:, :].any()
    assert not doc.mask.any()
    doc.undo()
    assert not _sampling(doc).any()


def test_the_sampling_layer_is_drawn_in_green_apart_from_the_red_mask(editor, qtbot):
    canvas, tools = editor.canvas, editor.tools
    tools.set_paint_layer("sampling")
    tools.set_tool("rect")
    _drag(qtbot, canvas, [(20, 30), (80, 90)])
    tools.set_paint_layer("mask")
    _drag(qtbot, canvas, [(150, 30), (210, 90)])
    image = canvas.grab().toImage()
    green = image.pixelColor(_at(canvas, 50, 60))
    red = image.pixelColor(_at(canvas, 180, 60))
    assert green.green() > green.red() + 30, green.getRgb()
    assert red.red() > red.green() + 30, red.getRgb()


def test_a_patch_based_fill_carries_the_sampling_area_and_others_do_not(window, qtbot):
    window.actions["paint_sampling"].trigger()
    assert window.tools.paint_layer == "sampling"
    window.canvas.actual_size()
    window.tools.set_brush_size(30)
    box = window.canvas.visible_image_box()
    y = box.top + box.height // 2
    _drag(qtbot, window.canvas, [(box.left + 10, y), (box.left + box.width // 2, y)])
    painted = _sampling(window.document) > 0
    assert painted.any()
    assert window.actions["clear_sampling"].isEnabled()

    assert window.method_panel.select("patchmatch")
    window.method_panel.form.set_values({"patch_size": 5, "iterations": 1})  # quick
    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS) as finished:
        window.fills.start_fill()
    assert finished.args[0].status == "done", finished.args[0].message
    request = window.fills.last_request
    assert request.sampling is not None
    assert np.array_equal(request.sampling > 0, painted)

    window.undo_action.trigger()  # the fill
    assert window.method_panel.select("telea")
    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS):
        window.fills.start_fill()
        assert "does not use the sampling area" in window.statusBar().currentMessage()
    assert window.fills.last_request.sampling is None


def test_clear_sampling_area_is_one_undoable_step(window, qtbot):
    window.set_paint_sampling(True)
    window.canvas.actual_size()
    box = window.canvas.visible_image_box()
    y = box.top + box.height // 2
    _drag(qtbot, window.canvas, [(box.left + 10, y), (box.left + 60, y)])
    painted = _sampling(window.document).copy()
    assert painted.any()

    window.actions["clear_sampling"].trigger()
    assert not _sampling(window.document).any()
    assert not window.actions["clear_sampling"].isEnabled()
    window.undo_action.trigger()
    assert np.array_equal(_sampling(window.document), painted)


def test_s_toggles_between_painting_the_mask_and_the_sampling_area(window, qtbot):
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_S)
    assert window.tools.paint_layer == "sampling"
    assert window.actions["paint_sampling"].isChecked()
    qtbot.keyClick(window.canvas, Qt.Key.Key_S)
    assert window.tools.paint_layer == "mask"
