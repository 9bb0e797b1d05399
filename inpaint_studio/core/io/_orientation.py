"""Applying the EXIF orientation to pixels, and keeping XMP's copy of it consistent."""

from __future__ import annotations

import re

import numpy as np


def orient(values: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) so rows/cols are as a viewer displays them."""
    if orientation == 2:
        values = values[:, ::-1]
    elif orientation == 3:
        values = values[::-1, ::-1]
    elif orientation == 4:
        values = values[::-1]
    elif orientation == 5:
        values = values.swapaxes(0, 1)
    elif orientation == 6:
        values = np.rot90(values, k=-1)
    elif orientation == 7:
        values = values[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        values = np.rot90(values, k=1)
    return np.ascontiguousarray(values)


def xmp_reset_orientation(xmp: bytes) -> bytes:
    """XMP may repeat the orientation (tiff:Orientation); keep it consistent with the rotated pixels."""
    xmp = re.sub(rb'tiff:Orientation="[0-9]"', b'tiff:Orientation="1"', xmp)
    element = rb"<tiff:Orientation>[0-9]</tiff:Orientation>"
    return re.sub(element, b"<tiff:Orientation>1</tiff:Orientation>", xmp)
