"""The window shell as a user drives it: open, brush, fill, undo through the menus, save and reopen,
mask operations, the History panel, recent files and remembered settings, never losing work."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from inpaint_studio.core import io
from inpaint_studio.core.photo import Photo
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, RunContext, param
from inpaint_studio.ui import dialogs
from inpaint_studio.ui.app import create_window
from inpaint_studio.ui.main_window import MainWindow
from inpaint_studio.ui.status import pixel_text

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    """A small textured 8-bit photo on disk (smooth gradients + noise, so fills have context)."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:120, 0:160]
    base = np.stack([xx * 1.5, yy * 2.0, (xx + yy) * 0.8], axis=-1)
    pixels = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "beach.png"
    io.save_photo(Photo(pixels=pixels), path)
    return path


def open_in(window: MainWindow, qtbot: Any, path: Path) -> None:
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        assert window.files.open_photo(path)


def brush(window: MainWindow, points: list[tuple[float, float]], radius: float = 6) -> None:
    doc = window.document
    doc.begin_stroke("Brush stroke")
    for p0, p1 in itertools.pairwise(points):
        doc.stroke_to(p0, p1, radius, 255, 1.0)
    doc.end_stroke()


def new_window(qtbot: Any) -> MainWindow:
    win = create_window(None)
    qtbot.addWidget(win)
    win.show()
    return win


def close_discarding(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.close()


# opening, brushing, filling, undo/redo, saving -------------------------------------------------


def test_open_brush_fill_undo_redo_save_and_reopen(window, qtbot, photo_file, tmp_path, monkeypatch):
    open_in(window, qtbot, photo_file)
    original = io.load_photo(photo_file).pixels
    assert np.array_equal(window.document.pixels, original)
    assert window.windowTitle().startswith("beach.png")
    assert not window.document.mask.any(), "a photo opens with an empty mask"

    brush(window, [(60, 40), (60, 100)])
    hole = window.document.mask > 0
    assert hole[60, 70] and not hole[10, 10]
    rows = np.nonzero(hole)[0]
    assert rows.min() >= 60 - 7 and rows.max() <= 60 + 7, "the mask changes only under the stroke"
    assert window.history_panel.labels() == ["Opened", "Brush stroke"]

    assert window.method_panel.select("telea")
    with qtbot.waitSignal(window.fills.fill_finished, timeout=TIMEOUT_MS) as done:
        window.actions["fill"].trigger()
    assert done.args[0].status == "done", done.args[0].message
    filled = window.document.pixels.copy()
    assert np.array_equal(filled[~hole], original[~hole]), "only masked pixels may change"
    assert not np.array_equal(filled[hole], original[hole])
    assert window.document.is_modified and window.isWindowModified()
    assert window.history_panel.labels()[-1].startswith("Fill")

    window.actions["undo"].trigger()
    assert np.array_equal(window.document.pixels, original)
    assert not window.document.is_modified
    window.actions["redo"].trigger()
    assert np.array_equal(window.document.pixels, filled)

    target = tmp_path / "beach-edited.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT_MS):
        window.actions["save_as"].trigger()
    assert not window.document.is_modified
    assert window.windowTitle().startswith("beach-edited.png")
    assert np.array_equal(io.load_photo(photo_file).pixels, original), "Save As never touches the original"

    open_in(window, qtbot, target)
    assert np.array_equal(window.document.pixels, filled)


def test_first_save_over_the_original_asks_and_later_saves_do_not(window, qtbot, photo_file, monkeypatch):
    open_in(window, qtbot, photo_file)
    before = photo_file.read_bytes()
    asked: list[str] = []
    answer = ["cancel"]
    monkeypatch.setattr(dialogs, "ask_overwrite_original",
                        lambda parent, name, losses: asked.append(name) or answer[0])
    brush(window, [(50, 50), (50, 80)])
    window.document.apply_fill(np.full_like(window.document.pixels, 9), None, "Paint it")

    assert not window.files.save()  # Cancel: nothing written
    assert asked == ["beach.png"] and photo_file.read_bytes() == before

    answer[0] = "overwrite"
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT_MS):
        window.actions["save"].trigger()
    assert np.all(io.load_photo(photo_file).pixels == 9)
    assert not window.document.is_modified

    window.document.apply_fill(np.full_like(window.document.pixels, 20), None, "Paint again")
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT_MS):
        window.actions["save"].trigger()
    assert len(asked) == 2, "once confirmed, Ctrl+S saves without asking again"
    assert np.all(io.load_photo(photo_file).pixels == 20)


def test_export_writes_a_copy_and_leaves_the_document_as_it_was(window, qtbot, photo_file, tmp_path,
                                                                monkeypatch):
    open_in(window, qtbot, photo_file)
    window.document.apply_fill(np.full_like(window.document.pixels, 50), None, "Paint")
    target = tmp_path / "copy.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    from inpaint_studio.ui import file_controller
    from inpaint_studio.ui.save_dialog import SaveOptions

    monkeypatch.setattr(file_controller, "ask_save_options",
                        lambda parent, photo, path, fmt, title, quality: SaveOptions(fmt, 80))
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT_MS):
        window.actions["export"].trigger()
    assert target.is_file() and io.load_photo(target).source_format == "JPEG"
    assert window.document.path == photo_file
    assert window.document.is_modified, "an exported copy does not count as saving the photo"


def test_opening_another_photo_with_unsaved_changes_asks_first(window, qtbot, photo_file, monkeypatch):
    window.document.apply_fill(np.zeros_like(window.document.pixels), None, "Paint")
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_save_changes",
                        lambda parent, name: asked.append(name) or QMessageBox.StandardButton.Cancel)
    window.open_path(photo_file)
    qtbot.wait(50)
    assert asked == ["sample.png"]
    assert window.document.path.name == "sample.png", "Cancel keeps the edited photo open"

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: QMessageBox.StandardButton.Discard)
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        window.open_path(photo_file)
    assert window.document.path == photo_file


def test_closing_with_save_writes_first_then_closes(window, qtbot, tmp_path, monkeypatch):
    window.document.apply_fill(np.zeros_like(window.document.pixels), None, "Paint")
    target = tmp_path / "kept.png"
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: QMessageBox.StandardButton.Save)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))

    assert not window.close()  # the sample has no file of its own: Save As, written in the background
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
    assert target.is_file() and np.all(io.load_photo(target).pixels == 0)


def test_a_corrupt_file_shows_an_error_dialog(window, qtbot, tmp_path, message_boxes):
    bad = tmp_path / "scan.tif"
    bad.write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    with qtbot.waitSignal(window.files.open_failed, timeout=TIMEOUT_MS):
        window.files.open_photo(bad)
    assert [box["title"] for box in message_boxes] == ["Cannot open photo"]
    assert window.document.path.name == "sample.png"


# fills ----------------------------------------------------------------------------------------


def test_brushing_while_a_fill_runs_and_cancel_leaves_pixels_untouched(window, qtbot, slow_method):
    window.method_panel.refresh()
    assert window.method_panel.select(slow_method.name)
    original = window.document.pixels.copy()
    with qtbot.waitSignal(window.fills.preview_shown, timeout=TIMEOUT_MS):
        window.actions["fill"].trigger()
    assert window.actions["cancel"].isEnabled() and not window.actions["fill"].isEnabled()

    mask_before = window.document.mask.copy()
    brush(window, [(5, 5), (5, 30)], radius=3)  # the window keeps working during the job
    assert (window.document.mask != mask_before).any()

    with qtbot.waitSignal(window.fills.fill_finished, timeout=TIMEOUT_MS) as finished:
        window.actions["cancel"].trigger()
    assert finished.args[0].status == "cancelled"
    assert np.array_equal(window.document.pixels, original)
    assert not window.document.is_modified


# mask operations and history ------------------------------------------------------------------


def test_mask_operations_are_each_one_undoable_step(window):
    start = window.document.mask.copy()
    assert window.masks.grow(5)
    grown = window.document.mask.copy()
    assert np.count_nonzero(grown) > np.count_nonzero(start) and np.all(grown[start > 0] > 0)
    assert window.masks.invert()
    assert np.array_equal(window.document.mask, 255 - grown)
    assert window.history_panel.labels()[-2:] == ["Grow mask 5 px", "Invert mask"]

    window.actions["undo"].trigger()
    assert np.array_equal(window.document.mask, grown)
    window.actions["undo"].trigger()
    assert np.array_equal(window.document.mask, start)
    assert not window.document.is_modified, "mask edits alone are not unsaved photo changes"

    window.actions["clear_mask"].trigger()
    assert not window.document.mask.any()
    window.actions["undo"].trigger()
    assert np.array_equal(window.document.mask, start)


def test_large_mask_operations_run_in_the_background_and_land_as_one_step(window, qtbot):
    window.masks.background_pixels = 0  # treat the sample as "large"
    start = window.document.mask.copy()
    with qtbot.waitSignal(window.masks.applied, timeout=TIMEOUT_MS):
        assert window.masks.shrink(3)
        assert window.masks.busy
    assert np.count_nonzero(window.document.mask) < np.count_nonzero(start)
    window.document.undo()
    assert np.array_equal(window.document.mask, start)


def test_a_background_mask_result_is_dropped_if_the_mask_changed_meanwhile(window, qtbot):
    window.masks.background_pixels = 0
    with qtbot.waitSignal(window.masks.busy_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda busy: not busy):
        window.masks.feather(4)
        brush(window, [(3, 3), (3, 9)], radius=2)  # lands before the feather result comes back
        after_stroke = window.document.mask.copy()
    assert np.array_equal(window.document.mask, after_stroke)
    assert window.history_panel.labels()[-1] == "Brush stroke"


def test_history_panel_highlights_the_current_step_and_jumps_on_click(window, qtbot):
    start = window.document.mask.copy()
    window.masks.grow(2)
    after_grow = window.document.mask.copy()
    window.masks.grow(3)
    window.masks.invert()
    panel = window.history_panel
    assert panel.labels() == ["Opened", "Grow mask 2 px", "Grow mask 3 px", "Invert mask"]
    assert panel.current_row() == 3

    item = panel.list.item(1)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.list.visualItemRect(item).center())
    assert np.array_equal(window.document.mask, after_grow)
    assert panel.current_row() == 1
    assert len(panel.labels()) == 4, "steps after the current one stay (redoable) until a new change"

    panel.jump_requested.emit(0)
    assert np.array_equal(window.document.mask, start)
    assert window.actions["redo"].isEnabled() and not window.actions["undo"].isEnabled()


def test_mask_export_and_import_round_trip(window, qtbot, tmp_path):
    path = tmp_path / "mask.png"
    mask = window.document.mask.copy()
    with qtbot.waitSignal(window.files.mask_exported, timeout=TIMEOUT_MS):
        window.files.export_mask(path)
    window.masks.clear()
    with qtbot.waitSignal(window.files.mask_imported, timeout=TIMEOUT_MS):
        window.files.import_mask(path)
    assert np.array_equal(window.document.mask, mask)
    assert window.history_panel.labels()[-1] == "Import mask mask.png"


# remembered settings, recent files ---------------------------------------------------------------


def test_recent_files_and_choices_are_remembered_in_a_new_window(window, qtbot, photo_file, monkeypatch):
    open_in(window, qtbot, photo_file)
    window.method_panel.select("ns")
    window.method_panel.form.editors["radius"].setValue(7)
    window.tool_options.set_size(123)
    close_discarding(window, monkeypatch)

    again = new_window(qtbot)
    assert again.prefs.recent_files()[0] == photo_file.resolve()
    again._rebuild_recent_menu()
    texts = [a.text() for a in again.recent_menu.actions()]
    assert any("beach.png" in t for t in texts)
    assert again.method_panel.current_method() == "ns"
    assert again.method_panel.values()["radius"] == 7
    assert again.tool_options.size == 123
    assert again.files._folder("open") == str(photo_file.parent.resolve())

    recent = next(a for a in again.recent_menu.actions() if "beach.png" in a.text())
    with qtbot.waitSignal(again.files.opened, timeout=TIMEOUT_MS):
        recent.trigger()
    assert again.document.path == photo_file
    close_discarding(again, monkeypatch)


def test_window_layout_is_restored(window, qtbot, monkeypatch):
    window.resize(700, 520)  # inside the 800x600 offscreen screen
    window.history_dock.hide()
    close_discarding(window, monkeypatch)
    again = new_window(qtbot)
    assert again.size().width() == 700
    assert not again.history_dock.isVisibleTo(again)
    close_discarding(again, monkeypatch)


# shortcuts, status bar, weights, about -------------------------------------------------------------


def test_standard_shortcuts(window):
    keys = {name: action.shortcut().toString() for name, action in window.actions.items()}
    assert keys["open"] == "Ctrl+O" and keys["save"] == "Ctrl+S" and keys["undo"] == "Ctrl+Z"
    assert "Ctrl+Shift+Z" in [s.toString() for s in window.actions["redo"].shortcuts()]
    assert keys["fill"] == "Ctrl+Return" and keys["cancel"] == "Esc"
    assert keys["tool_brush"] == "B" and keys["tool_eraser"] == "E" and keys["show_mask"] == "M"
    assert keys["compare"] == "\\"
    menu_actions = {a for m in window.menus.values() for a in m.actions()}
    for action in window.toolbar.actions():
        if not action.isSeparator():
            assert action in menu_actions, f"{action.text()} is on the toolbar but in no menu"


def test_bracket_keys_change_the_brush_size(window):
    window.tool_options.set_size(40)
    assert window.tools.brush_size == 40, "the panel drives the brush"
    window.actions["brush_larger"].trigger()
    assert window.tool_options.size > 40 and window.tools.brush_size == window.tool_options.size
    window.actions["brush_smaller"].trigger()
    window.actions["brush_smaller"].trigger()
    assert window.tool_options.size < 40 and window.tools.brush_size == window.tool_options.size


def test_status_bar_shows_the_stored_pixel_value_8_and_16_bit():
    pixels = np.zeros((4, 4, 3), np.uint16)
    pixels[1, 2] = (65535, 1000, 7)
    mask = np.zeros((4, 4), np.uint8)
    mask[1, 2] = 255
    assert pixel_text(pixels, mask, 1, 2) == "R 65535  G 1000  B 7  · mask 100 %"
    assert pixel_text(pixels.astype(np.uint8), None, 0, 0) == "R 0  G 0  B 0"


def test_status_bar_follows_the_cursor_and_the_photo(window):
    window.status.set_cursor(3, 5)
    assert window.status.position.text() == "x 5, y 3"
    r, g, b = window.document.pixels[3, 5]
    assert window.status.pixel.text().startswith(f"R {r}  G {g}  B {b}")
    window.status.set_cursor(-1, -1)
    assert window.status.position.text() == ""
    photo = window.document.photo
    assert f"{photo.width} × {photo.height}" in window.status.info.text()
    assert "8-bit" in window.status.info.text()


@dataclass(frozen=True)
class _NoParams:
    strength: float = param(0.5, min=0.0, max=1.0, help="How strong.")


class _NeedsWeights(Method):
    name = "needs_weights_test"
    label = "Needs weights"
    description = "A fake learned method whose weights are not installed."
    Params: ClassVar[type] = _NoParams
    weights = ("fake-model.pth",)

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        raise AssertionError("must not run without weights")


def test_a_method_without_weights_offers_get_weights_instead_of_failing(window, monkeypatch):
    registry.register(_NeedsWeights)
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_weights_help", lambda parent, label, files: shown.append(label))
    try:
        window.method_panel.refresh()
        assert window.method_panel.select("needs_weights_test")
        index = window.method_panel.combo.currentIndex()
        assert "weights not installed" in window.method_panel.combo.itemText(index)
        assert window.method_panel.weights_box.isVisibleTo(window)
        before = window.document.pixels.copy()
        assert window.fills.start_fill() is None
        assert shown == ["Needs weights"]
        window.method_panel.weights_button.click()
        assert shown == ["Needs weights", "Needs weights"]
        assert np.array_equal(window.document.pixels, before)
    finally:
        registry.unregister("needs_weights_test")


def test_about_lists_versions_without_importing_torch():
    import sys

    had_torch = "torch" in sys.modules
    lines = dict(dialogs.version_lines())
    assert {"Qt", "PySide6", "OpenCV", "NumPy", "PyTorch"} <= set(lines)
    assert lines["PyTorch"][0].isdigit() or "not installed" in lines["PyTorch"]
    assert ("torch" in sys.modules) == had_torch


def test_an_exception_in_a_slot_does_not_close_the_window_with_unsaved_work(window, monkeypatch):
    from inpaint_studio.ui.app import _ExceptionHook
    from inpaint_studio.ui.dialogs import ExceptionDialog

    window.document.apply_fill(np.zeros_like(window.document.pixels), None, "Paint")
    monkeypatch.setattr(ExceptionDialog, "exec", lambda self: 0)
    hook = _ExceptionHook(previous=None)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        hook(type(exc), exc, exc.__traceback__)
    assert window.isVisible() and window.document.is_modified


def test_thousands_of_signal_emits_do_not_abort_the_app():
    """PySide6 6.12.0 on Python 3.11 loses a reference to True/None per emit()/processEvents() and
    aborts ("none_dealloc") after a few seconds of brushing, taking unsaved work with it; pyproject
    excludes that release. This fails if a broken PySide6 gets installed again."""
    import os
    import subprocess
    import sys

    code = ("import inpaint_studio.ui\n"
            "from PySide6.QtCore import QCoreApplication, QObject, Signal\n"
            "class S(QObject):\n    sig = Signal(int)\n"
            "app = QCoreApplication([])\ns = S()\ns.sig.connect(lambda v: None)\n"
            "for i in range(30000):\n    s.sig.emit(i)\n    app.processEvents()\nprint('alive')\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "alive"


def test_dropping_a_file_on_the_canvas_opens_it(window, qtbot, photo_file):
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        window.canvas.file_dropped.emit(str(photo_file))
    assert window.document.path == photo_file
    assert window.prefs.recent_files()[0] == photo_file.resolve()


def test_a_fill_result_is_never_pasted_onto_a_photo_that_changed_meanwhile(window, qtbot, slow_method):
    window.method_panel.refresh()
    assert window.method_panel.select(slow_method.name)
    window.method_panel.form.editors["steps"].setValue(40)
    with qtbot.waitSignal(window.fills.fill_finished, timeout=TIMEOUT_MS) as finished:
        window.actions["fill"].trigger()
        edited = np.full_like(window.document.pixels, 77)
        window.document.apply_fill(edited, None, "Paint")  # e.g. an undo/redo while the job runs
    assert finished.args[0].status == "done"
    assert np.array_equal(window.document.pixels, edited)
    assert window.history_panel.labels()[-1] == "Paint"
    assert "discarded" in window.statusBar().currentMessage()


def test_theme_is_dark_unless_the_system_asks_for_light(qapp, monkeypatch):
    from inpaint_studio.ui.theme import apply_theme

    original = qapp.palette()
    try:
        monkeypatch.setenv("INPAINT_STUDIO_THEME", "dark")
        assert apply_theme(qapp)
        assert qapp.palette().window().color().lightness() < 80
        assert qapp.style().name().lower() == "fusion"
        monkeypatch.setenv("INPAINT_STUDIO_THEME", "light")
        assert not apply_theme(qapp)
        assert qapp.palette().window().color().lightness() > 160
    finally:
        qapp.setPalette(original)


def test_settings_live_under_the_isolated_home(tmp_path, monkeypatch):
    from inpaint_studio.ui.settings import Preferences, config_dir, qsettings

    monkeypatch.setenv("INPAINT_STUDIO_HOME", str(tmp_path / "home"))
    assert config_dir() == tmp_path / "home" / "config"
    prefs = Preferences()
    prefs.set("method.name", "ns")
    prefs.flush()
    assert Preferences().get("method.name") == "ns"
    assert qsettings().fileName().startswith(str(tmp_path / "home"))
    (config_dir() / "settings.json").write_text("{ not json")
    assert Preferences().get("method.name", "telea") == "telea", "a damaged file falls back to defaults"


def test_a_save_writes_the_photo_as_it_was_when_pressed_without_copying_it(window, qtbot, tmp_path,
                                                                          monkeypatch):
    # a fill landing while a 100 MP scan is being written must not tear the file, and the save must
    # not hold a second 577 MB copy: the document keeps the pixels unchanged until the write ends
    import threading

    from inpaint_studio.ui import file_controller

    started, release = threading.Event(), threading.Event()
    real_save = file_controller.io.save_photo
    seen: list[np.ndarray] = []

    def slow_save(photo, *args, **kwargs):
        seen.append(photo.pixels)
        started.set()
        assert release.wait(10)
        return real_save(photo, *args, **kwargs)

    monkeypatch.setattr(file_controller.io, "save_photo", slow_save)
    before = window.document.pixels.copy()
    target = tmp_path / "as-pressed.png"
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT_MS):
        window.files.save_to(target)
        assert started.wait(10)
        assert np.shares_memory(seen[0], window.document.pixels), "no copy of the photo for the save"
        window.document.apply_pixels(np.full_like(before, 7), "Edit while saving")
        release.set()
    assert np.array_equal(io.load_photo(target).pixels, before)
    assert np.all(window.document.pixels == 7)
    assert window.document.core._snapshots == 0, "released after the write"
