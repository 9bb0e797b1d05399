"""The Qt document adapter keeps old signal names and adds where-changed signals; keys reach the canvas."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from inpaint_studio.core.photo import Photo
from inpaint_studio.core.types import BBox
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.document import Document

pytestmark = pytest.mark.gui


def test_old_signals_still_fire_and_new_ones_say_where(qtbot):
    doc = Document()
    doc.open(Photo(pixels=np.zeros((40, 50, 3), np.uint8)))
    seen: list[tuple[str, object]] = []
    doc.pixels_changed.connect(lambda: seen.append(("pixels", None)))
    doc.pixels_region_changed.connect(lambda box: seen.append(("pixels_region", box)))
    doc.mask_changed.connect(lambda: seen.append(("mask", None)))
    doc.mask_region_changed.connect(lambda box: seen.append(("mask_region", box)))
    doc.history_changed.connect(lambda: seen.append(("history", None)))

    box = BBox(5, 5, 10, 10)
    doc.apply_fill(np.full((5, 5, 3), 9, np.uint8), box, "Fill")
    assert ("pixels_region", box) in seen and ("pixels", None) in seen and ("history", None) in seen
    seen.clear()
    doc.begin_stroke()
    dab = doc.stroke_to((20, 20), (20, 20), 3)
    doc.end_stroke()
    assert seen[:2] == [("mask_region", dab), ("mask", None)]
    assert doc.undo_text() == "Brush stroke" and doc.history_steps() == (["Fill", "Brush stroke"], 2)
    with qtbot.waitSignal(doc.modified_changed) as modified:
        doc.undo()
        doc.undo()
    assert modified.args == [False]
    doc.apply_pixels(np.ones((40, 50, 3), np.uint8), "Old-style fill")
    assert doc.is_modified and (doc.pixels == 1).all()


def test_backslash_reaches_the_focused_canvas_even_with_a_window_shortcut_on_it(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    canvas = CanvasView()
    window.setCentralWidget(canvas)
    doc = Document()
    canvas.set_document(doc)
    doc.open(Photo(pixels=np.zeros((40, 50, 3), np.uint8)))
    fired: list[bool] = []
    action = QAction("Compare", window)
    action.setShortcut(QKeySequence(Qt.Key.Key_Backslash))
    action.triggered.connect(lambda: fired.append(True))
    window.addAction(action)
    window.show()
    qtbot.waitExposed(window)
    canvas.setFocus()

    qtbot.keyPress(canvas, Qt.Key.Key_Backslash)
    assert canvas.showing_original and not fired
    qtbot.keyRelease(canvas, Qt.Key.Key_Backslash)
    assert not canvas.showing_original
