"""Small real photos and masks for the CLI tests, written to tmp_path at test time.

The CLI is driven in-process through ``main([...])``; files are read back with OpenCV here (not
with core.io) so the tests check what other programs will see in the files we write.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method

CROP = (slice(100, 196), slice(200, 328))  # 96 x 128: big enough to be a photo, small enough to be fast


def read_rgb(path: Path) -> np.ndarray:
    """A file's pixels as RGB in their stored depth (uint8 or uint16)."""
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert data is not None, f"unreadable: {path}"
    return cv2.cvtColor(data, cv2.COLOR_BGR2RGB) if data.ndim == 3 else data


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def make_mask(shape: tuple[int, int]) -> np.ndarray:
    """A blob and a thin scratch, like a user's brushing: 255 = fill."""
    mask = np.zeros(shape, np.uint8)
    h, w = shape
    mask[h // 3: h // 3 + 14, w // 4: w // 4 + 20] = 255
    cv2.line(mask, (w // 2, 5), (w - 10, h - 8), 255, 3)
    return mask


@pytest.fixture(name="read_rgb", scope="session")
def _read_rgb() -> Callable[[Path], np.ndarray]:
    return read_rgb


@pytest.fixture(scope="session")
def kodak_rgb(kodak_dir: Path) -> np.ndarray:
    """A 96 x 128 crop of a Kodak photo, RGB uint8."""
    bgr = cv2.imread(str(kodak_dir / "images" / "kodim01.png"), cv2.IMREAD_COLOR)
    assert bgr is not None
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[CROP])


@pytest.fixture()
def photo_pair(tmp_path: Path, kodak_rgb: np.ndarray) -> Callable[..., tuple[Path, Path]]:
    """Writes ``(photo, mask)`` files; the hole is blanked to black as the benchmark harness does."""

    def make(name: str = "photo.png", *, folder: Path | None = None, depth: int = 8,
             mask_name: str | None = None, mask_folder: Path | None = None) -> tuple[Path, Path]:
        folder = folder or tmp_path
        mask_folder = mask_folder or folder
        folder.mkdir(parents=True, exist_ok=True)
        mask_folder.mkdir(parents=True, exist_ok=True)
        mask = make_mask(kodak_rgb.shape[:2])
        rgb = kodak_rgb.copy()
        if depth == 16:
            rgb = rgb.astype(np.uint16) * 257 + np.uint16(3)  # not a plain x257: low bits must survive
        rgb[mask > 0] = 0
        photo_path = write_rgb(folder / name, rgb)
        mask_path = mask_folder / (mask_name or f"{Path(name).stem}_mask.png")
        assert cv2.imwrite(str(mask_path), mask)
        return photo_path, mask_path

    return make


class _CtrlCMethod(Method):
    """Presses Ctrl+C (sends SIGINT to this process) in the middle of its run."""

    name = "test-ctrl-c"
    label = "Ctrl+C"
    description = "test method"

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: Any) -> np.ndarray:
        os.kill(os.getpid(), signal.SIGINT)
        ctx.check_cancelled()
        return image


class _BrokenMethod(Method):
    name = "test-broken"
    label = "Broken"
    description = "test method"

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: Any) -> np.ndarray:
        raise RuntimeError("the model exploded")


@pytest.fixture()
def fake_methods() -> Iterator[None]:
    for cls in (_CtrlCMethod, _BrokenMethod):
        registry.register(cls)
    yield
    for cls in (_CtrlCMethod, _BrokenMethod):
        registry.unregister(cls.name)
