"""Fixtures for the GUI tests: a main window on the sample photo, message boxes captured, fake methods."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, RunContext, param
from inpaint_studio.ui import dialogs
from inpaint_studio.ui.app import create_window
from inpaint_studio.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

# no numba warm-up thread competing with the tests for the CPU (ui.warmup)
os.environ.setdefault("INPAINT_STUDIO_NO_WARMUP", "1")


@dataclass(frozen=True)
class SlowParams:
    steps: int = param(100_000, min=1, max=1_000_000, help="How many tiny steps to take.")


class SlowIterativeMethod(Method):
    """Paints the hole a little brighter each step and reports a preview every step: never finishes
    on its own within a test, so Cancel is what ends it."""

    name = "slow_test"
    label = "Slow test method"
    description = "A fake iterative method for the GUI tests."
    Params: ClassVar[type] = SlowParams
    iterative = True

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        out = image.copy()
        for step in range(params.steps):
            ctx.check_cancelled()
            out[hole] = (step % 100) / 100.0
            ctx.preview(out, f"step {step}")
            ctx.progress(step / params.steps, f"step {step}")
            time.sleep(0.005)
        return out


@pytest.fixture
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """Every QMessageBox shown (title, text, details) instead of blocking the test on exec()."""
    shown: list[dict[str, str]] = []

    def fake_exec(box: QMessageBox) -> int:
        shown.append({"title": box.windowTitle(), "text": box.text(), "info": box.informativeText(),
                      "details": box.detailedText()})
        return int(QMessageBox.StandardButton.Ok.value)

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    return shown


@pytest.fixture
def slow_method() -> Iterator[type[Method]]:
    registry.register(SlowIterativeMethod)
    try:
        yield SlowIterativeMethod
    finally:
        registry.unregister(SlowIterativeMethod.name)


@pytest.fixture
def window(qapp: QApplication, monkeypatch: pytest.MonkeyPatch,
           message_boxes: list[dict[str, str]]) -> Iterator[MainWindow]:
    """The window as a first-time user sees it: the sample photo with its mask, ready for Fill."""
    win = create_window(None)
    win.resize(1000, 700)
    win.show()
    yield win
    # never let a "save changes?" question block the end of a test
    monkeypatch.setattr(dialogs, "ask_save_changes",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    win.close()
    win.bridge.shutdown()
    win.deleteLater()
    qapp.processEvents()


@pytest.fixture
def make_editor(qtbot):
    """A bare canvas + tools over a fresh Document showing ``photo``, without the main window."""
    from types import SimpleNamespace

    from inpaint_studio.ui.canvas import CanvasView
    from inpaint_studio.ui.document import Document
    from inpaint_studio.ui.tools import ToolController

    def make(photo: Any) -> SimpleNamespace:
        document = Document()
        canvas = CanvasView()
        qtbot.addWidget(canvas)
        canvas.resize(400, 300)
        canvas.set_document(document)
        tools = ToolController(document, canvas)
        document.open(photo)
        canvas.show()
        qtbot.waitExposed(canvas)
        return SimpleNamespace(doc=document, canvas=canvas, tools=tools)

    return make
