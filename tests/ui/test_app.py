"""Starting the app: no display -> a clear message and exit code 3 (not a Qt abort); numpy <-> QImage."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QColor

from inpaint_studio.ui.qimage import mask_to_qimage, qimage_to_rgb, rgb_to_qimage, to_display_u8

pytestmark = pytest.mark.gui


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display servers are a Linux/BSD matter")
def test_run_app_without_a_display_says_so_and_returns_3():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = "import sys; from inpaint_studio.ui.app import run_app; sys.exit(run_app(None))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 3, result.stderr
    assert "no display found" in result.stderr
    assert "inpaint-studio fill" in result.stderr


def test_rgb_crops_and_16_bit_photos_convert_to_the_pixels_shown():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    crop = photo[5:30, 7:41]  # not contiguous: the stride must be honoured
    assert np.array_equal(qimage_to_rgb(rgb_to_qimage(crop)), crop)

    deep = photo.astype(np.uint16) * 257
    assert np.array_equal(to_display_u8(deep), photo)
    assert np.array_equal(qimage_to_rgb(rgb_to_qimage(deep)), photo)


def test_mask_overlay_is_transparent_where_the_mask_keeps_pixels():
    mask = np.zeros((8, 9), np.uint8)
    mask[2:5, 3:7] = 255
    mask[6, 1] = 128
    image = mask_to_qimage(mask, QColor(255, 0, 0, 200))
    assert image.pixelColor(0, 0).alpha() == 0
    assert image.pixelColor(4, 3).alpha() == 200
    assert image.pixelColor(4, 3).red() == 255
    assert 90 < image.pixelColor(1, 6).alpha() < 110


def test_display_check_only_complains_on_linux_without_any_display():
    from inpaint_studio.ui.app import display_problem

    assert display_problem({}, "linux") is not None
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None
    assert display_problem({}, "darwin") is None


def test_opening_the_window_does_not_import_torch():
    """torch costs seconds: the window must be up before any PyTorch method is chosen."""
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "from inpaint_studio.ui.app import create_window; w = create_window(None); "
            "assert w.document.pixels is not None; print('torch' in sys.modules)")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
