"""Dust mask from a scanner's infrared channel (Digital ICE style).

Colour dyes are transparent to infrared, so the IR channel of an RGBI scan shows only what blocks
light physically: dust, hairs, scratches. They are DARK against a bright, nearly flat field. The
field is not perfectly flat (vignetting, film base density), so each pixel is compared with a local
background (a closing that erases specks, computed downsampled) rather than with a global level.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.damage.tiles import tiles
from inpaint_studio.core.errors import InvalidInputError, InvalidParameterError
from inpaint_studio.core.pixels import max_value

_TILE = 2048
#: the background closing erases dark features up to ~ _STEP * _CLOSE px wide
_STEP = 4
_CLOSE = 15
#: relative IR drop that counts as dust at threshold 0 and at threshold 1
_DEPTH_LO = 0.5
_DEPTH_HI = 0.04


def _background(ir: np.ndarray) -> np.ndarray:
    h, w = ir.shape
    small = cv2.resize(ir, (max(1, w // _STEP), max(1, h // _STEP)), interpolation=cv2.INTER_AREA)
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_CLOSE, _CLOSE))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, se, borderType=cv2.BORDER_REPLICATE)
    closed = cv2.GaussianBlur(closed, (0, 0), 1.5)
    return cv2.resize(closed, (w, h), interpolation=cv2.INTER_LINEAR)


def infrared_dust_mask(infrared: np.ndarray, threshold: float = 0.5, grow: int = 1) -> np.ndarray:
    """uint8 HxW mask (255 = dust) from an IR channel (HxW uint8/uint16; dust is dark in IR).

    ``threshold`` 0..1 is a sensitivity: higher finds fainter specks. ``grow`` px are added around
    each speck (full strength) plus a 1 px soft edge, because fills need the speck's whole rim.
    """
    if not isinstance(infrared, np.ndarray) or infrared.ndim != 2 or 0 in infrared.shape:
        raise InvalidInputError("the infrared channel must be a non-empty HxW image")
    scale = np.float32(1.0 / max_value(infrared.dtype))
    if not 0.0 <= float(threshold) <= 1.0:
        raise InvalidParameterError(f"IR threshold must be between 0 and 1, got {threshold}")
    if isinstance(grow, bool) or not isinstance(grow, int) or not 0 <= grow <= 32:
        raise InvalidParameterError(f"IR grow must be 0..32 px, got {grow!r}")
    depth = _DEPTH_LO + (_DEPTH_HI - _DEPTH_LO) * float(threshold)
    h, w = infrared.shape
    out = np.zeros((h, w), np.uint8)
    margin = _STEP * _CLOSE * 2 + grow + 2
    for tile in tiles(h, w, _TILE, margin):
        ir = infrared[tile.outer.slices].astype(np.float32) * scale
        bg = _background(ir)
        dust = ir < bg * np.float32(1.0 - depth)
        soft = np.zeros(ir.shape, np.uint8)
        if dust.any():
            dist = cv2.distanceTransform((~dust).view(np.uint8), cv2.DIST_L2, 3)
            soft = np.clip((1.0 - (dist - grow) / 2.0) * 255.0, 0, 255).astype(np.uint8)
        out[tile.inner.slices] = soft[tile.inner_in_outer.slices]
    return out
