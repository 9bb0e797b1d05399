"""The restorer's workflow in the window: detect damage -> proposal -> Apply into the mask (undoable),
the defect view, the seam check after a fill, and the background numba warm-up."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from inpaint_studio.core.damage import defect_view
from inpaint_studio.core.photo import Photo
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, RunContext
from inpaint_studio.ui import damage_panel, warmup
from inpaint_studio.ui.seam_check import OVERLAY as SEAM_OVERLAY

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


def _scratched_photo(height: int = 240, width: int = 320, infrared: bool = False) -> tuple[Photo, np.ndarray]:
    """A smooth, slightly grainy photo with one thin bright scratch; returns (photo, scratch mask)."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:height, 0:width]
    base = (80 + 60 * np.sin(x / 40.0) + 40 * np.cos(y / 30.0)).astype(np.float32)
    pixels = np.clip(np.repeat(base[..., None], 3, 2) + rng.normal(0, 3, (height, width, 3)), 0, 255)
    pixels = pixels.astype(np.uint8)
    scratch = np.zeros((height, width), np.uint8)
    cv2.line(scratch, (width // 10, height // 6), (width * 9 // 10, height * 5 // 6), 255, 2)
    pixels[scratch > 0] = 235
    photo = Photo(pixels=pixels)
    if infrared:
        ir = np.full((height, width), 200, np.uint8)
        cv2.circle(ir, (width * 5 // 8, height // 4), 4, 40, -1)  # a speck only the IR channel sees
        photo.infrared = ir
    return photo, scratch


def _open(window: Any, photo: Photo) -> None:
    window.document.open(photo)
    window.canvas.fit()


def _wait_complete(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(lambda: window.damage.complete and not window.damage.busy, timeout=TIMEOUT_MS)


def test_detect_shows_a_proposal_on_the_scratch_and_apply_puts_it_in_the_mask_undoably(window, qtbot):
    photo, scratch = _scratched_photo()
    _open(window, photo)
    assert not window.document.has_hole

    window.actions["detect_damage"].trigger()
    assert window.damage_dock.isVisible()
    _wait_complete(qtbot, window)

    proposal = window.damage.proposal
    assert proposal is not None
    assert (proposal[scratch > 0] > 0).mean() > 0.95, "the scratch should be proposed"
    assert (proposal[cv2.dilate(scratch, np.ones((9, 9), np.uint8)) == 0] > 0).mean() < 0.01, \
        "the clean picture should not be"
    assert window.canvas.layer_shown(damage_panel.LAYER)
    assert not window.document.has_hole, "a proposal is not the mask until Apply"
    assert "Found" in window.damage_panel.summary.text()

    steps_before = window.document.history_steps()[1]
    window.damage_panel.apply_button.click()
    mask = window.document.mask
    assert (mask[scratch > 0] > 0).all()
    assert window.document.history_steps()[1] == steps_before + 1, "Apply is one undo step"
    assert not window.canvas.layer_shown(damage_panel.LAYER), "the proposal became the mask"
    assert "Undo" in window.statusBar().currentMessage()

    window.undo_action.trigger()
    assert not window.document.has_hole


def test_apply_adds_to_the_mask_or_replaces_it(window, qtbot):
    photo, scratch = _scratched_photo()
    _open(window, photo)
    brushed = np.zeros(scratch.shape, np.uint8)
    brushed[5:25, 5:25] = 255  # an earlier brush stroke far from the scratch
    window.document.set_mask(brushed, "Brush stroke")

    window.show_damage_panel()
    _wait_complete(qtbot, window)
    window.damage.apply()
    assert (window.document.mask[5:25, 5:25] == 255).all(), "Add keeps what was brushed"
    assert (window.document.mask[scratch > 0] > 0).all()

    window.undo_action.trigger()
    window.damage_panel.mode.setCurrentIndex(window.damage_panel.mode.findData("replace"))
    window.damage.refresh()
    _wait_complete(qtbot, window)
    window.damage.apply()
    assert not window.document.mask[5:25, 5:25].any(), "Replace drops what was brushed"
    assert (window.document.mask[scratch > 0] > 0).all()


def test_moving_a_slider_updates_the_proposal_and_only_the_newest_result_lands(window, qtbot):
    photo, _scratch = _scratched_photo()
    _open(window, photo)
    window.show_damage_panel()
    _wait_complete(qtbot, window)
    found_default = np.count_nonzero(window.damage.proposal)

    panel = window.damage_panel
    landed: list[bool] = []
    window.damage.proposal_changed.connect(landed.append)
    for value in (10, 20, 30, 0):  # a quick drag: debounced, older settings never shown
        panel.sensitivity.setValue(value)
    assert not window.damage.complete, "the shown proposal is stale until the new one lands"
    _wait_complete(qtbot, window)
    assert landed == [False], "one whole-photo result, for the last setting only"
    assert window.damage.options().sensitivity == 0.0
    assert np.count_nonzero(window.damage.proposal) <= found_default



def test_the_learned_dust_finder_says_it_is_learning_the_photo_once(window, qtbot):
    photo, _scratch = _scratched_photo()
    _open(window, photo)
    panel = window.damage_panel
    window.show_damage_panel()
    assert window.damage.options().dust_finder == "learned", "the learned finder is the default"
    qtbot.waitUntil(lambda: panel.summary.text() == damage_panel.LEARNING_TEXT, timeout=TIMEOUT_MS)
    _wait_complete(qtbot, window)  # the training wait was explained

    # every line the panel shows (a cached search can start and land between two polls)
    shown: list[str] = []
    set_text = panel.summary.setText
    panel.summary.setText = lambda text: (shown.append(text), set_text(text))

    def searched_again() -> bool:
        return any(text.startswith("Looking") or text == damage_panel.LEARNING_TEXT for text in shown)

    panel.sensitivity.setValue(70)
    qtbot.waitUntil(searched_again, timeout=TIMEOUT_MS)
    _wait_complete(qtbot, window)
    assert damage_panel.LEARNING_TEXT not in shown, "the photo was learned once already"

    shown.clear()
    panel.kind.setCurrentIndex(panel.kind.findData("scratches"))
    panel.max_size.setValue(panel.max_size.value() - 2)
    qtbot.waitUntil(searched_again, timeout=TIMEOUT_MS)
    _wait_complete(qtbot, window)
    assert damage_panel.LEARNING_TEXT not in shown, "scratches need no learning"


def test_size_sliders_show_their_value_keep_min_below_max_and_narrow_the_proposal(window, qtbot):
    photo, scratch = _scratched_photo()
    _open(window, photo)
    window.show_damage_panel()
    _wait_complete(qtbot, window)
    assert np.count_nonzero(window.damage.proposal[scratch > 0]) > 0.5 * np.count_nonzero(scratch)

    panel = window.damage_panel
    panel.max_size.setValue(6)
    panel.min_size.setValue(9)  # dragging min past max pushes max along
    assert (panel.min_size.value(), panel.max_size.value()) == (9, 9)
    labels = {label.text() for label in panel.findChildren(damage_panel.QLabel)}
    assert "9 px" in labels, "each size slider shows its value"
    panel.max_size.setValue(4)  # and max below min pulls min down
    assert (panel.min_size.value(), panel.max_size.value()) == (4, 4)

    panel.min_size.setValue(1)
    panel.max_size.setValue(1)  # narrower than the 2-3 px scratch: it is no longer damage
    _wait_complete(qtbot, window)
    assert np.count_nonzero(window.damage.proposal[scratch > 0]) < 0.2 * np.count_nonzero(scratch)


def test_the_visible_area_is_shown_before_the_whole_photo(window, qtbot):
    photo, _scratch = _scratched_photo(900, 1200)
    _open(window, photo)
    window.canvas.set_zoom(2.0, QPointF(0, 0))
    visible = window.canvas.visible_image_box()
    assert visible is not None and visible.area < 0.3 * 900 * 1200

    events: list[bool] = []
    window.damage.proposal_changed.connect(events.append)
    panel = window.damage_panel  # the instant finder: learning a 1 MP photo is not what is tested
    panel.dust_finder.setCurrentIndex(panel.dust_finder.findData("classic"))
    window.show_damage_panel()
    _wait_complete(qtbot, window)
    assert events[0] is True, "the visible crop comes first"
    assert events[-1] is False


def test_infrared_section_merges_dust_seen_only_in_the_ir_channel(window, qtbot):
    photo, _scratch = _scratched_photo(infrared=True)
    _open(window, photo)
    window.show_damage_panel()
    assert window.damage_panel.infrared.isVisibleTo(window.damage_panel)
    _wait_complete(qtbot, window)
    row, col = 240 // 4, 320 * 5 // 8
    assert window.damage.proposal[row, col] > 0, "the IR speck is proposed"

    window.damage_panel.infrared.setChecked(False)
    _wait_complete(qtbot, window)
    assert window.damage.proposal[row, col] == 0, "without the IR channel the speck is invisible"


def test_no_infrared_section_for_a_plain_photo(window, qtbot):
    _open(window, _scratched_photo()[0])
    window.show_damage_panel()
    assert not window.damage_panel.infrared.isVisibleTo(window.damage_panel)


def test_closing_the_panel_hides_the_proposal(window, qtbot):
    _open(window, _scratched_photo()[0])
    window.show_damage_panel()
    _wait_complete(qtbot, window)
    assert window.canvas.layer_shown(damage_panel.LAYER)
    window.damage_dock.close()
    assert not window.damage.active
    assert not window.canvas.layer_shown(damage_panel.LAYER)



def test_a_panel_left_open_last_session_does_not_start_detecting_on_launch(window, qtbot):
    from inpaint_studio.ui.main_window import MainWindow

    window.show_damage_panel()
    window._write_settings()  # what closing the window saves, with the panel open
    again = MainWindow()
    try:
        assert again.damage_dock.isHidden()
        assert not again.damage.active
    finally:
        again.close()
        again.deleteLater()

# defect view ---------------------------------------------------------------------------------


def _colours(window: Any) -> list[tuple[int, int, int]]:
    """Canvas colours at a few points away from the centre (where the brush outline may be)."""
    image = window.canvas.grab().toImage()
    points = [(image.width() * fx // 8, image.height() * fy // 8) for fx in (2, 3, 5, 6) for fy in (2, 6)]
    return [image.pixelColor(x, y).getRgb()[:3] for x, y in points]


def test_defect_view_replaces_the_displayed_photo_and_toggles_back(window, qtbot):
    photo, _scratch = _scratched_photo()
    _open(window, photo)
    normal = _colours(window)

    window.actions["defect_view"].trigger()
    qtbot.waitUntil(lambda: window.canvas.display_pixels is not None, timeout=TIMEOUT_MS)
    assert np.array_equal(window.canvas.display_pixels, defect_view(window.document.pixels))
    assert "Defect view" in window.statusBar().currentMessage(), "not left saying 'Computing…'"
    shown = _colours(window)
    assert shown != normal
    assert all(abs(r - g) <= 2 and abs(g - b) <= 2 for r, g, b in shown), "the defect view is grey"
    assert all(90 <= g <= 165 for _r, g, _b in shown), "a smooth picture is mid-grey in it"

    # brushing works as usual on top of it
    centre = window.canvas.rect().center()
    qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(window.canvas, centre + QPoint(30, 0))
    qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(30, 0))
    assert window.document.has_hole

    window.actions["defect_view"].trigger()
    assert window.canvas.display_pixels is None
    window.document.undo()
    assert _colours(window) == normal


def test_defect_view_is_cached_and_recomputed_after_the_pixels_change(window, qtbot):
    photo, scratch = _scratched_photo()
    _open(window, photo)
    window.actions["defect_view"].trigger()
    qtbot.waitUntil(lambda: window.canvas.display_pixels is not None, timeout=TIMEOUT_MS)
    assert window.defects.computed == 1
    window.actions["defect_view"].trigger()
    window.actions["defect_view"].trigger()
    assert window.canvas.display_pixels is not None, "toggling back on shows the cached view at once"
    assert window.defects.computed == 1

    window.document.set_mask(scratch, "Scratch")
    assert window.method_panel.select("telea")
    with qtbot.waitSignal(window.fills.fill_finished, timeout=TIMEOUT_MS):
        window.fills.start_fill()
    qtbot.waitUntil(lambda: window.defects.computed >= 2 and not window.defects.busy, timeout=TIMEOUT_MS)
    assert np.array_equal(window.canvas.display_pixels, defect_view(window.document.pixels))


# seam check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NoParams:
    pass


class _BadSeamMethod(Method):
    """Fills every hole with flat white: on a mid-grey photo its edge is a seam anyone sees."""

    name = "bad_seam_test"
    label = "Bad seam test method"
    description = "A fake method for the seam-check test."
    Params: ClassVar[type] = _NoParams

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        out = image.copy()
        out[hole] = 1.0
        return out


@pytest.fixture
def bad_seam_method():
    registry.register(_BadSeamMethod)
    try:
        yield _BadSeamMethod
    finally:
        registry.unregister(_BadSeamMethod.name)


def test_seam_check_marks_a_bad_fill_and_clears_on_undo(window, qtbot, bad_seam_method):
    photo, _scratch = _scratched_photo()
    _open(window, photo)
    hole = np.zeros(photo.pixels.shape[:2], np.uint8)
    hole[100:140, 60:110] = 255
    window.document.set_mask(hole, "Box")
    window.actions["seam_check"].setChecked(True)
    window.method_panel.refresh()
    assert window.method_panel.select(bad_seam_method.name)

    with qtbot.waitSignal(window.seams.checked, timeout=TIMEOUT_MS) as checked:
        window.fills.start_fill()
    reports = checked.args[0]
    assert any(r.bad for r in reports)
    overlay = window.canvas.patch_overlay(SEAM_OVERLAY)
    assert overlay is not None and overlay.outlines, "bad regions are outlined"
    assert "may show a seam" in window.statusBar().currentMessage()

    window.undo_action.trigger()
    assert window.canvas.patch_overlay(SEAM_OVERLAY) is None


def test_seam_check_off_leaves_the_fill_unmarked(window, qtbot, bad_seam_method):
    photo, _scratch = _scratched_photo()
    _open(window, photo)
    hole = np.zeros(photo.pixels.shape[:2], np.uint8)
    hole[100:140, 60:110] = 255
    window.document.set_mask(hole, "Box")
    window.actions["seam_check"].setChecked(False)
    window.method_panel.refresh()
    assert window.method_panel.select(bad_seam_method.name)
    with qtbot.waitSignal(window.fills.fill_finished, timeout=TIMEOUT_MS):
        window.fills.start_fill()
    qtbot.wait(100)
    assert window.canvas.patch_overlay(SEAM_OVERLAY) is None


# numba warm-up ---------------------------------------------------------------------------------


def test_warm_up_runs_in_the_background_unless_opted_out(window):
    assert window.warmup_thread is None, "tests opt out (tests/ui/conftest.py)"
    assert warmup.start(lambda: None, environ={warmup.OPT_OUT: "1"}) is None

    ran = threading.Event()
    release = threading.Event()

    def job() -> None:
        ran.set()
        release.wait(5)

    thread = warmup.start(job, environ={})
    assert thread is not None and thread.daemon
    assert ran.wait(5), "the job runs"
    assert thread.is_alive(), "start() did not wait for it"
    release.set()
    thread.join(5)


def test_warm_up_imports_torch_and_runs_one_tiny_fill_per_method():
    import sys

    seconds = warmup.warm_up(("telea", "no-such-method"))
    assert set(seconds) == {"torch", "telea"}, "uninstalled methods are skipped"
    assert "torch" in sys.modules


def test_the_warm_up_says_which_method_it_is_preparing(monkeypatch):
    from inpaint_studio.runtime import jobs

    seen: list[bool] = []
    monkeypatch.setattr(jobs, "run_fill", lambda request: seen.append(warmup.compiling(request.method)))
    warmup.warm_up(("telea",))
    assert seen == [True], "compiling() is true while the warm-up runs that method"
    assert not warmup.compiling("telea"), "and false once it is done"


def test_a_fill_started_during_the_warm_up_says_it_is_preparing_not_stuck(window, qtbot, monkeypatch):
    """First launch after an install: PatchMatch compiles for up to a minute; the bar says why."""
    monkeypatch.setattr(warmup, "_running", "patchmatch")
    assert window.method_panel.select("patchmatch")
    with qtbot.waitSignal(window.fills.fill_finished, timeout=60_000):
        window.fill_panel.fill_button.click()
        assert "first use only" in window.fill_panel.progress.format()


def test_the_line_finder_choice_reaches_the_detector(window, qtbot, monkeypatch):
    photo, scratch = _scratched_photo()
    _open(window, photo)
    seen: list[str] = []
    detect = damage_panel.detect_damage

    def recording(pixels, options, **kwargs):
        seen.append(options.scratch_finder)
        return detect(pixels, options, **kwargs)

    monkeypatch.setattr(damage_panel, "detect_damage", recording)
    panel = window.damage_panel
    choices = [panel.line_finder.itemData(i) for i in range(panel.line_finder.count())]
    assert choices == ["classic", "verified"]
    assert panel.line_finder.currentData() == "classic", "classic stays the default"
    window.show_damage_panel()
    _wait_complete(qtbot, window)
    assert seen and set(seen) == {"classic"}

    seen.clear()
    panel.line_finder.setCurrentIndex(panel.line_finder.findData("verified"))
    assert window.damage.options().scratch_finder == "verified"
    qtbot.waitUntil(lambda: "verified" in seen, timeout=TIMEOUT_MS)
    _wait_complete(qtbot, window)
    assert set(seen) == {"verified"}
    assert np.count_nonzero(window.damage.proposal[scratch > 0]) > 0.5 * np.count_nonzero(scratch), \
        "the scratch is still found (a grey photo: the check does not apply)"
