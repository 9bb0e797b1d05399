"""numpy <-> QImage at the one place where strides, ownership and bit depth are decided.

A QImage built on a numpy buffer does not own it: if the array is freed or changes, the image shows
garbage (or crashes). Every function here therefore returns a QImage that owns a deep copy, with the
stride passed explicitly so non-contiguous views (crops) work. 16-bit photos are converted to 8 bits
for display only; the document keeps its 16 bits.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage


def to_display_u8(pixels: np.ndarray) -> np.ndarray:
    """uint8 or uint16 RGB/grey -> uint8 with the same shape (round(x / 257) for 16 bit)."""
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    raise TypeError(f"cannot display {pixels.dtype} pixels; expected uint8 or uint16")


def rgb_to_qimage(pixels: np.ndarray) -> QImage:
    """H x W x 3 RGB uint8/uint16 -> an RGB888 QImage that owns its pixels."""
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 RGB array, got shape {pixels.shape}")
    data = np.ascontiguousarray(to_display_u8(pixels))
    height, width = data.shape[:2]
    image = QImage(data.data, width, height, data.strides[0], QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


def mask_to_qimage(mask: np.ndarray, color: QColor) -> QImage:
    """H x W coverage (uint8 0..255 or bool) -> a premultiplied overlay tinted ``color``.

    The overlay's alpha is ``coverage * color.alpha()``, so soft mask edges stay soft on screen.
    """
    if mask.ndim != 2:
        raise ValueError(f"expected an H x W mask, got shape {mask.shape}")
    coverage = mask.astype(np.uint16) * np.uint16(255) if mask.dtype == bool else mask.astype(np.uint16)
    alpha = (coverage * np.uint16(color.alpha()) + np.uint16(127)) // np.uint16(255)
    height, width = mask.shape
    argb = np.empty((height, width, 4), dtype=np.uint8)
    # Format_ARGB32_Premultiplied is 0xAARRGGBB per pixel: bytes B, G, R, A on little-endian machines.
    order = (2, 1, 0, 3) if np.little_endian else (1, 2, 3, 0)
    for channel, value in zip(order[:3], (color.red(), color.green(), color.blue()), strict=True):
        argb[..., channel] = (alpha * np.uint16(value) + np.uint16(127)) // np.uint16(255)
    argb[..., order[3]] = alpha
    image = QImage(argb.data, width, height, argb.strides[0], QImage.Format.Format_ARGB32_Premultiplied)
    return image.copy()


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage -> H x W x 3 RGB uint8 copy (for tests and screenshots)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    stride = converted.bytesPerLine()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()
