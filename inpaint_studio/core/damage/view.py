"""'Visualise defects': a high-pass, contrast-boosted view in which faint specks jump out.

Shown instead of the photo while brushing. Scene content varies slowly compared with dust and
scratches, so subtracting a blurred copy leaves mostly the defects; the gain is normalised by the
image's own high-pass spread (film grain, JPEG noise), so a clean scan does not look like snow and
a faint speck on a quiet area still reaches a visible grey level.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.damage.detect import _check_pixels, _luma
from inpaint_studio.core.damage.tiles import tiles
from inpaint_studio.core.errors import InvalidParameterError

_SIGMA = 4.0
_TILE = 2048
#: high-pass spread (robust sigma) mapped to this many grey levels away from mid-grey
_SPREAD_LEVELS = 24.0


def _highpass(luma: np.ndarray) -> np.ndarray:
    return luma - cv2.GaussianBlur(luma, (0, 0), _SIGMA, borderType=cv2.BORDER_REFLECT)


def _spread(pixels: np.ndarray) -> float:
    """Robust sigma of the high-pass, from a central 512 px sample (cheap, the same for every tile)."""
    h, w = pixels.shape[:2]
    side = 512
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    hp = _highpass(_luma(pixels[top:top + side, left:left + side]))
    mad = float(np.median(np.abs(hp - np.median(hp))))
    return max(1.4826 * mad, 1.0 / 1024.0)


def defect_view(pixels: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """uint8 HxWx3 grey display image: mid-grey = no detail; bright/dark specks = bright/dark defects.

    ``strength`` (> 0, 1 = default) multiplies the contrast boost.
    """
    _check_pixels(pixels)
    if not 0.0 < float(strength) <= 100.0:
        raise InvalidParameterError(f"defect view strength must be in (0, 100], got {strength}")
    gain = float(strength) * _SPREAD_LEVELS / 255.0 / _spread(pixels)
    h, w = pixels.shape[:2]
    out = np.empty((h, w, 3), np.uint8)
    margin = int(4 * _SIGMA) + 1
    for tile in tiles(h, w, _TILE, margin):
        hp = _highpass(_luma(pixels[tile.outer.slices]))[tile.inner_in_outer.slices]
        # a soft knee (tanh) keeps strong real edges from saturating the whole view
        grey = 127.5 + 127.5 * np.tanh(hp * np.float32(gain))
        out[tile.inner.slices] = np.clip(grey, 0, 255).astype(np.uint8)[..., None]
    return out
