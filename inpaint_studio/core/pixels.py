"""The one boundary between stored pixels (uint8/uint16) and what methods see (float32 in [0, 1])."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.errors import UnsupportedFormatError

_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def max_value(dtype: np.dtype | type) -> float:
    """Full-scale value of a stored pixel type (255 or 65535)."""
    try:
        return _SCALE[np.dtype(dtype)]
    except KeyError:
        raise UnsupportedFormatError(
            f"unsupported pixel type {np.dtype(dtype)}; expected uint8 or uint16") from None


def to_float(pixels: np.ndarray) -> np.ndarray:
    """uint8/uint16 -> float32 in [0, 1] (a new array)."""
    return pixels.astype(np.float32) * np.float32(1.0 / max_value(pixels.dtype))


def from_float(values: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """float in [0, 1] -> uint8/uint16, rounded and clipped (NaN becomes 0)."""
    top = max_value(dtype)
    scaled = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0) * np.float32(top)
    return np.clip(np.rint(scaled), 0, top).astype(dtype)


def masked_blur(image: np.ndarray, sigma: float, weight: np.ndarray | None = None) -> np.ndarray:
    """Gaussian low-pass of an HxWxC float image; with ``weight`` (HxW), normalised so that pixels
    outside it (a hole's unknown values) do not leak into their neighbours."""
    if weight is None:
        return np.ascontiguousarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.float32)
    wf = weight.astype(np.float32)
    num = cv2.GaussianBlur(image * wf[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(wf, (0, 0), sigma)
    return np.ascontiguousarray(num / np.maximum(den, 1e-6)[..., None], dtype=np.float32)
