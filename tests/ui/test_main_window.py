"""The window as a user drives it: sample opens ready to fill, Fill changes only the hole, Cancel
changes nothing, Undo brings the photo back, bad files give a message instead of a crash."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from inpaint_studio.core import io
from inpaint_studio.core.photo import Photo
from inpaint_studio.ui import dialogs
from inpaint_studio.ui.app import create_window
from inpaint_studio.ui.file_controller import SAMPLE_MASK, SAMPLE_PHOTO, resource_path
from inpaint_studio.ui.fit_scroll import FitScrollArea
from inpaint_studio.ui.main_window import PREFERRED_SIZE, first_start_geometry
from inpaint_studio.ui.save_dialog import SaveOptionsDialog

pytestmark = pytest.mark.gui

FILL_TIMEOUT_MS = 30_000


def test_window_opens_on_the_sample_photo_with_its_mask_ready_to_fill(window):
    sample = io.load_photo(resource_path(SAMPLE_PHOTO))
    mask = io.load_mask(resource_path(SAMPLE_MASK), sample.pixels.shape[:2])
    assert np.array_equal(window.document.pixels, sample.pixels)
    assert np.array_equal(window.document.mask, mask)
    assert 0.01 < np.count_nonzero(mask) / mask.size < 0.2, "the sample mask should cover one object"
    assert window.fill_panel.fill_button.isEnabled()
    assert "Fill" in window.statusBar().currentMessage()
    assert not window.document.is_modified
    assert "sample.png" in window.windowTitle()


def test_fill_changes_only_the_masked_pixels_and_undo_restores_them(window, qtbot):
    original = window.document.pixels.copy()
    hole = window.document.mask > 0
    assert window.method_panel.select("telea")

    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS) as finished:
        qtbot.mouseClick(window.fill_panel.fill_button, Qt.MouseButton.LeftButton)

    assert finished.args[0].status == "done", finished.args[0].message
    filled = window.document.pixels
    assert np.array_equal(filled[~hole], original[~hole]), "pixels outside the mask must be bit-identical"
    assert not np.array_equal(filled[hole], original[hole]), "the hole should have been filled"
    assert window.document.is_modified
    assert window.windowTitle().startswith("sample.png")
    assert window.undo_action.isEnabled()

    assert not window.show_mask_action.isChecked(), "the result is shown, not the mask over it"

    window.undo_action.trigger()
    assert np.array_equal(window.document.pixels, original)
    assert not window.document.is_modified
    assert window.show_mask_action.isChecked(), "undoing a fill shows its hole again, ready for another try"
    assert "Undo with Ctrl+Z" not in window.statusBar().currentMessage(), "the fill's message is stale"
    assert window.fill_panel.progress.format() == "Ready"
    window.redo_action.trigger()
    assert np.array_equal(window.document.pixels, filled)
    assert not window.show_mask_action.isChecked()
    assert window.fill_panel.progress.format() == "Done"

    window.history_panel.jump_requested.emit(0)  # a click on the History panel's first row
    assert np.array_equal(window.document.pixels, original)
    assert window.show_mask_action.isChecked(), "going back in History shows the hole too"


def test_cancel_during_a_live_preview_leaves_the_photo_unchanged(window, qtbot, slow_method):
    window.method_panel.refresh()
    assert window.method_panel.select(slow_method.name)
    original = window.document.pixels.copy()

    with qtbot.waitSignal(window.fills.preview_shown, timeout=FILL_TIMEOUT_MS):
        window.fill_panel.fill_button.click()
    assert window.canvas.has_preview
    assert window.fill_panel.cancel_button.isEnabled()
    assert not window.fill_panel.fill_button.isEnabled()

    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS) as finished:
        qtbot.mouseClick(window.fill_panel.cancel_button, Qt.MouseButton.LeftButton)

    assert finished.args[0].status == "cancelled"
    assert np.array_equal(window.document.pixels, original)
    assert not window.document.is_modified
    assert not window.canvas.has_preview
    assert "cancelled" in window.statusBar().currentMessage().lower()
    assert window.fill_panel.fill_button.isEnabled()
    assert not window.undo_action.isEnabled()



def test_a_fill_shares_the_photo_with_the_worker_and_lets_go_when_it_ends(window, qtbot, slow_method):
    # no 577 MB copy of a 100 MP scan per fill: the worker reads the document's pixels, which the
    # document keeps unchanged (copy-on-write) only while the fill runs
    window.method_panel.refresh()
    assert window.method_panel.select(slow_method.name)
    with qtbot.waitSignal(window.fills.preview_shown, timeout=FILL_TIMEOUT_MS):
        window.fill_panel.fill_button.click()
    assert np.shares_memory(window.fills.last_request.pixels, window.document.pixels)
    assert window.document.core._snapshots == 1
    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS):
        window.fills.cancel_fill()
    assert window.document.core._snapshots == 0, "released: later edits write in place again"

def test_a_bad_file_shows_a_message_and_keeps_the_open_photo(window, qtbot, tmp_path, message_boxes):
    before = window.document.pixels
    bad = tmp_path / "holiday.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not really a png" * 10)

    with qtbot.waitSignal(window.files.open_failed, timeout=FILL_TIMEOUT_MS):
        window.files.open_photo(bad)

    assert len(message_boxes) == 1
    assert message_boxes[0]["title"] == "Cannot open photo"
    assert message_boxes[0]["text"].strip()
    assert window.document.pixels is before
    assert "sample.png" in window.windowTitle()


def test_a_mask_of_the_wrong_size_is_refused_with_a_message(window, qtbot, tmp_path, message_boxes):
    small = tmp_path / "mask.png"
    io.save_mask(np.full((10, 12), 255, np.uint8), small)
    before = window.document.mask.copy()

    with qtbot.waitSignal(window.files.error_shown, timeout=FILL_TIMEOUT_MS):
        window.files.import_mask(small)

    assert message_boxes and message_boxes[0]["title"] == "Cannot open mask"
    assert np.array_equal(window.document.mask, before)


def test_save_as_writes_the_filled_photo_and_clears_the_modified_flag(window, qtbot, tmp_path, monkeypatch):
    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS):
        window.fill_action.trigger()
    target = tmp_path / "coffee-clean.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))

    with qtbot.waitSignal(window.files.saved, timeout=FILL_TIMEOUT_MS):
        window.save_as_action.trigger()

    assert np.array_equal(io.load_photo(target).pixels, window.document.pixels)
    assert not window.document.is_modified
    assert window.windowTitle().startswith("coffee-clean.png")


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_the_window(window, qtbot, monkeypatch):
    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS):
        window.fill_action.trigger()
    asked: list[str] = []

    def answer(parent, name):
        asked.append(name)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(dialogs, "ask_save_changes", answer)
    assert not window.close()
    assert asked == ["sample.png"]
    assert window.isVisible()


def test_a_failed_fill_reports_why_and_changes_nothing(window, qtbot, message_boxes):
    original = window.document.pixels.copy()
    window.document.set_mask(np.full(original.shape[:2], 255, np.uint8))  # nothing left to fill from

    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS) as finished:
        window.fill_action.trigger()

    assert finished.args[0].status == "failed"
    assert np.array_equal(window.document.pixels, original)
    assert message_boxes and message_boxes[-1]["title"] == "Fill failed"
    assert "failed" in window.statusBar().currentMessage().lower()


def test_resources_bundle_an_icon_and_their_licences():
    for name in ("icon.svg", "icon-256.png", "LICENSES.txt", SAMPLE_PHOTO, SAMPLE_MASK):
        assert resource_path(name).is_file(), name
    licences = resource_path("LICENSES.txt").read_text()
    for name in (SAMPLE_PHOTO, SAMPLE_MASK, "icon.svg"):
        assert name in licences
    assert Path(resource_path(SAMPLE_PHOTO)).stat().st_size < 1_000_000


def test_saving_16_bit_as_jpeg_warns_first_and_declining_writes_nothing(window, qtbot, tmp_path,
                                                                        monkeypatch):
    deep = tmp_path / "scan16.png"
    rng = np.random.default_rng(1)
    io.save_photo(Photo(pixels=rng.integers(0, 65536, (30, 40, 3), dtype=np.uint16)), deep)
    with qtbot.waitSignal(window.files.opened, timeout=FILL_TIMEOUT_MS):
        window.files.open_photo(deep)
    target = tmp_path / "scan16.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    warnings: list[str] = []

    def decline(dialog):
        warnings.append(dialog.losses.text())
        return int(QDialog.DialogCode.Rejected.value)

    monkeypatch.setattr(SaveOptionsDialog, "exec", decline)

    assert not window.files.save_as()

    assert warnings and "16-bit" in warnings[0]
    assert not target.exists()


def test_an_unexpected_exception_shows_the_traceback_in_a_dialog(window, monkeypatch, capsys):
    from inpaint_studio.ui.app import _ExceptionHook
    from inpaint_studio.ui.dialogs import ExceptionDialog

    shown: list[str] = []
    monkeypatch.setattr(ExceptionDialog, "exec", lambda self: shown.append(self.text.toPlainText()) or 0)
    hook = _ExceptionHook(previous=None)
    try:
        raise ValueError("the flux capacitor is empty")
    except ValueError as exc:
        hook(type(exc), exc, exc.__traceback__)

    assert len(shown) == 1
    assert "Traceback" in shown[0] and "the flux capacitor is empty" in shown[0]
    assert "the flux capacitor is empty" in capsys.readouterr().err



def _fine_detail(pixels: np.ndarray, where: np.ndarray) -> float:
    """Mean fine-scale luma detail (wood grain, film grain) over ``where``; smooth fills score low."""
    luma = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(luma - cv2.GaussianBlur(luma, (0, 0), 1.5))[where].mean())


def test_a_first_fill_on_the_sample_is_a_content_aware_fill_that_removes_the_spoon(window, qtbot):
    """A first-time user opens the app and presses Fill: the silver spoon is replaced by the red
    saucer and the cup's side, with their grain (diffusion would leave a smooth smear)."""
    assert window.method_panel.current_method() == "patchmatch"
    original = window.document.pixels.copy()
    hole = window.document.mask > 0
    inner = cv2.erode(hole.view(np.uint8), np.ones((7, 7), np.uint8)) > 0
    smear = cv2.inpaint(original, hole.view(np.uint8), 5, cv2.INPAINT_NS)

    with qtbot.waitSignal(window.fills.fill_finished, timeout=FILL_TIMEOUT_MS) as finished:
        qtbot.mouseClick(window.fill_panel.fill_button, Qt.MouseButton.LeftButton)

    assert finished.args[0].status == "done", finished.args[0].message
    filled = window.document.pixels
    assert np.array_equal(filled[~hole], original[~hole])
    assert not np.array_equal(filled[hole], original[hole])
    # the spoon's mask hugs it, so the hole is glossy saucer and cup: PatchMatch keeps about 2.3 grey
    # levels of grain there, Navier-Stokes 1.5 and Telea 1.0
    assert _fine_detail(filled, inner) > 1.3 * _fine_detail(smear, inner), "the fill is a smooth smear"


def test_a_long_progress_line_stays_readable_in_the_fill_panel(window):
    """DIP reports its rate and losses; the bar keeps the step and the time left on one line that fits,
    and the details stay in the tooltip and the status bar."""
    from inpaint_studio.runtime.jobs import FillProgress

    text = "DIP fast: iter 23/300 · 2.8 it/s · loss 0.0254 · held-out 0.0396"
    window.fills._on_progress(FillProgress("r1", 0.34, text, 8.0, 18.0))

    bar = window.fill_panel.progress
    assert bar.format() == "34% — DIP fast: iter 23/300 — about 18 s left"
    assert bar.fontMetrics().horizontalAdvance(bar.format()) < bar.width()
    assert "held-out 0.0396" in bar.toolTip()
    assert "held-out 0.0396" in window.statusBar().currentMessage()


def test_in_a_narrow_dock_the_progress_line_drops_the_label_rather_than_wrap(window, qapp):
    """Under X11 the bar's font is wider than offscreen, and "… about 7.2 s left" wrapped onto a
    second, cut-off line: the text now shortens to what fits (step and time left first)."""
    from inpaint_studio.runtime.jobs import FillProgress

    bar = window.fill_panel.progress
    text = "DIP fast: iter 144/300 · 2.8 it/s · loss 0.0254 · held-out 0.0396"
    wide = bar.fontMetrics().horizontalAdvance("71% — DIP fast: iter 144/300 — about 7.2 s left")
    for width in (wide - 10, wide // 2, 40):
        bar.setFixedWidth(width)
        qapp.processEvents()
        window.fills._on_progress(FillProgress("r1", 0.71, text, 8.0, 7.2))
        assert bar.fontMetrics().horizontalAdvance(bar.format()) <= bar.contentsRect().width(), width
        assert bar.format().startswith("71%")
    bar.setFixedWidth(wide - 10)
    window.fills._on_progress(FillProgress("r1", 0.71, text, 8.0, 7.2))
    assert bar.format() == "71% — iter 144/300 — about 7.2 s left"
    assert "held-out 0.0396" in bar.toolTip()


def test_the_fitting_progress_text_keeps_the_most_it_can():
    from inpaint_studio.runtime.jobs import FillProgress
    from inpaint_studio.ui.fill_panel import fitting_progress_text

    event = FillProgress("r1", 0.5, "DIP fast: iter 150/300 · 2.8 it/s", 8.0, 12.0)
    texts = [fitting_progress_text(event, lambda t, n=n: len(t) <= n) for n in (200, 40, 25, 5, 1)]
    assert texts == ["50% — DIP fast: iter 150/300 — about 12 s left",
                     "50% — iter 150/300 — about 12 s left",
                     "50% — about 12 s left", "50%", "50%"]


def test_the_method_list_opens_on_what_runs_now(window):
    """Built-in methods first, in the order a user reaches for them; networks still waiting for their
    weights last, behind a separator."""
    combo = window.method_panel.combo
    names = [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i) is not None]
    assert names[:6] == ["patchmatch", "telea", "ns", "criminisi", "dip", "siren"]
    texts = [combo.itemText(i) for i in range(combo.count())]
    waiting = [i for i, t in enumerate(texts) if t.endswith("weights not installed")]
    assert waiting, "the test machine has no weights installed"
    assert waiting == list(range(waiting[0], len(texts))), "networks without weights come last"
    assert texts[waiting[0] - 1] == "", "a separator sets them apart"


def test_the_first_start_window_fits_a_laptop_screen_and_is_centred():
    """1366 x 768 with a 28 px panel leaves 740 px: the window and its title bar fit inside it. On a
    big screen the window keeps its preferred size, centred."""
    laptop = QRect(0, 28, 1366, 740)
    place = first_start_geometry(laptop)
    assert laptop.contains(place.adjusted(0, 0, 16, 48)), "the window runs off the laptop's screen"
    assert place.height() >= 600 and place.width() == 1280
    big = QRect(0, 0, 2560, 1440)
    place = first_start_geometry(big)
    assert place.size() == PREFERRED_SIZE
    assert abs(place.adjusted(0, 0, 16, 48).center().x() - big.center().x()) <= 1
    assert abs(place.adjusted(0, 0, 16, 48).center().y() - big.center().y()) <= 1


def test_a_first_start_on_a_small_screen_opens_a_window_that_fits_it(qapp):
    """No saved geometry: the window takes the screen's size into account (the test screen is
    800 x 800) instead of opening at a fixed 1280 x 820."""
    win = create_window(None)
    try:
        free = win.screen().availableGeometry()
        assert win.width() <= free.width() and win.height() <= free.height()
        assert free.contains(win.geometry())
    finally:
        win.close()
        win.bridge.shutdown()
        win.deleteLater()
        qapp.processEvents()


def test_at_the_default_size_the_content_aware_settings_need_no_scrolling(window, qapp):
    """The default method's settings, Reset included, fit the first-start window (1280 x 820, the
    brush settings below at their smallest): no scrolling to reach Reset. (Reset used to take a row
    of its own and sat half under the scroll edge.)"""
    window.method_panel.select("patchmatch")
    window.resize(1280, 820)
    window._split_right_docks()
    for _ in range(3):
        qapp.processEvents()
    scroll = window.method_panel.parentWidget().parentWidget()
    assert isinstance(scroll, FitScrollArea)
    assert scroll.verticalScrollBar().maximum() == 0, "the settings scroll at the default size"
    reset = window.method_panel.reset_button
    assert reset.isVisible()
    assert reset.mapTo(scroll.viewport(), reset.rect().bottomLeft()).y() <= scroll.viewport().height()


@pytest.mark.parametrize("method", ["patchmatch", "dip"])
def test_on_a_short_screen_the_settings_scroll_and_fill_stays_in_reach(window, qapp, method):
    """A laptop's 1366 x 768 screen leaves about 600 px of window height: Deep Image Prior's fifteen
    settings scroll, while Fill, Cancel and the progress bar stay visible above the brush settings
    and nothing is cut off sideways. (The window used to refuse to be shorter than 896 px.)"""
    window.method_panel.select(method)
    window.resize(1000, 600)
    for _ in range(3):
        qapp.processEvents()
    assert window.height() == 600
    panel = window.fill_panel
    bottom = panel.progress.mapTo(window, panel.progress.rect().bottomLeft()).y()
    assert panel.fill_button.isVisible() and panel.cancel_button.isVisible()
    assert bottom <= window.tool_dock.geometry().top(), "Fill sits under the Tool Options dock"
    combo = window.method_panel.combo
    right = window.fill_dock.mapTo(window, window.fill_dock.rect().topRight()).x()
    assert combo.mapTo(window, combo.rect().topRight()).x() <= right, "the settings are cut off at the right"
    description = window.method_panel.description
    assert description.mapTo(window, description.rect().topRight()).x() <= right
