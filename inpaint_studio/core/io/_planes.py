"""The photo reduced to what a target format stores: depth, grey or RGB, alpha, EXIF, ICC.

Every encoder gets the same reduction, so what is kept or dropped per format is decided in one place
(and matches metadata_losses' warnings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inpaint_studio.core.errors import InvalidParameterError, UnsupportedFormatError
from inpaint_studio.core.io._exif import exif_reset
from inpaint_studio.core.io._formats import HOLDS_ALPHA, HOLDS_GREY, HOLDS_ICC, can_hold_bit_depth
from inpaint_studio.core.photo import Photo, convert_depth


@dataclass
class Planes:
    """The photo reduced to what the target format stores."""

    colour: np.ndarray  # H x W (grey) or H x W x 3 RGB
    alpha: np.ndarray | None
    exif: bytes | None
    icc: bytes | None


def planes_for(photo: Photo, fmt: str, bit_depth: int | None) -> Planes:
    """Reduce ``photo`` for ``fmt`` (upper case); bit_depth None keeps the photo's depth where it fits."""
    if bit_depth not in (None, 8, 16):
        raise InvalidParameterError(f"bit_depth must be 8, 16 or None (keep), got {bit_depth!r}")
    if bit_depth == 16 and not can_hold_bit_depth(fmt, 16):
        raise UnsupportedFormatError(f"{fmt} cannot store 16 bits per channel; use PNG or TIFF for 16 bit")
    depth = bit_depth or photo.bit_depth
    if not can_hold_bit_depth(fmt, 16):
        depth = 8
    dtype = np.uint8 if depth == 8 else np.uint16
    colour = convert_depth(photo.pixels, dtype) if photo.pixels.dtype != dtype else photo.pixels
    alpha = None
    if photo.alpha is not None and fmt in HOLDS_ALPHA:
        alpha = convert_depth(photo.alpha, dtype) if photo.alpha.dtype != dtype else photo.alpha
    if photo.greyscale and fmt in HOLDS_GREY:
        colour = luminance(colour)
    exif = exif_reset(photo.exif, (photo.width, photo.height)) if photo.exif else None
    grey = colour.ndim == 2 and fmt != "WEBP"
    icc = _icc_for(photo, grey) if fmt in HOLDS_ICC else None
    return Planes(np.ascontiguousarray(colour), alpha, exif, icc)


def _icc_for(photo: Photo, grey: bool) -> bytes | None:
    """The profile, unless its colour space contradicts the stored channels (readers reject that)."""
    icc = photo.icc_profile
    if not icc or len(icc) < 20:
        return icc or None
    space = icc[16:20]
    if (grey and space == b"RGB ") or (not grey and space == b"GRAY"):
        return None
    return icc


def luminance(colour: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of RGB, rounded, in the input's dtype (exact for equal channels)."""
    if colour.shape[2] == 1:
        return colour[..., 0]
    if np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(colour[..., 0], colour[..., 2]):
        return colour[..., 0].copy()
    luma = colour.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(luma), 0, np.iinfo(colour.dtype).max).astype(colour.dtype)
