"""Per-pixel features for the learned detector: the classical filter responses plus a small patch.

Every feature is local (a few tens of px at most), so a tile with a margin of :data:`CONTEXT` px
gives the same values as the whole image. Magnitudes are given both raw and relative to the local
detail level: the classifier must learn "stands out from *its* surroundings", which a raw contrast
cannot say on its own.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.damage import detect as classical

#: px of context a feature reads around a pixel (line filter + texture window)
CONTEXT = 72

#: plane indices of the speck contrast (two-sided, rank 0, probed up to max_size + 2 px)
SPECK_BRIGHT, SPECK_DARK = 22, 24

_PATCH = [(dy, dx) for dy in (-2, 0, 2) for dx in (-2, 0, 2)]


def _hessian(luma: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Scale-normalised Hessian eigenvalues (larger, smaller): ridges and blobs at width ~2 sigma."""
    g = cv2.GaussianBlur(luma, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3, borderType=cv2.BORDER_REPLICATE)
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3, borderType=cv2.BORDER_REPLICATE) * np.float32(0.25)
    s2 = np.float32(sigma * sigma)
    mean = 0.5 * (dxx + dyy)
    root = np.sqrt(0.25 * (dxx - dyy) ** 2 + dxy**2)
    return (mean + root) * s2, (mean - root) * s2


def _line_response(score: np.ndarray, tuning: classical._Tuning) -> np.ndarray:
    """Best over orientations of the score averaged along a straight segment (see ``_long_lines``)."""
    spread = cv2.dilate(score, np.ones((tuning.spread, tuning.spread), np.uint8))
    best = np.zeros_like(score)
    for kernel in classical._line_kernels(tuning.line_length, tuning.line_angles):
        np.maximum(best, cv2.filter2D(spread, -1, kernel, borderType=cv2.BORDER_REFLECT), out=best)
    return best


def _colour(rgb: np.ndarray | None, luma: np.ndarray, tuning: classical._Tuning) -> list[np.ndarray]:
    """Pixel-wise misfit of the colourless-defect models against the local median colour."""
    if rgb is None:
        zero = np.zeros_like(luma)
        return [zero, zero, zero]
    k = tuning.colour_window
    bg = np.stack([cv2.medianBlur(np.clip(c * 255.0 + 0.5, 0, 255).astype(np.uint8), k) for c in rgb])
    bg = bg.astype(np.float32) * np.float32(1.0 / 255.0)
    misfit = classical._colour_misfit(rgb, bg, tuning)
    return [misfit, classical._opponent(rgb), classical._opponent(bg)]


def features(luma: np.ndarray, rgb: np.ndarray | None, max_size: int,
             tuning: classical._Tuning = classical.TUNING) -> np.ndarray:
    """F x H x W float32 feature planes of one tile (luma HxW, rgb 3xHxW or None)."""
    planes: list[np.ndarray] = [luma]
    blurred = {s: cv2.GaussianBlur(luma, (0, 0), s, borderType=cv2.BORDER_REPLICATE)
               for s in (1.0, 2.0, 4.0, 8.0)}
    hp = {s: luma - b for s, b in blurred.items()}
    planes += list(hp.values())
    for sigma in (1.0, 2.0, 3.5):
        planes += list(_hessian(luma, sigma))
    bright, dark = classical.two_sided_contrast(luma, min(6, max_size + 2))
    planes += [bright[0], bright[1], bright[3], dark[0], dark[1], dark[3]]
    busy = np.maximum(bright[3], dark[3])
    level = classical._texture_level(busy, tuning) + np.float32(0.004)
    near = cv2.blur(busy, (15, 15)) + np.float32(0.004)
    planes += [level, near, cv2.blur(np.abs(hp[2.0]), (31, 31))]
    line_b = _line_response(bright[1], tuning)
    line_d = _line_response(dark[1], tuning)
    planes += [line_b, line_d]
    assert len(planes) == SPECK_BRIGHT  # the index is part of this module's contract
    if max_size + 2 > 6:
        big_b, big_d = classical.two_sided_contrast(luma, max_size + 2)
        planes += [big_b[0], big_b[1], big_d[0], big_d[1]]
    else:
        planes += [bright[0], bright[1], dark[0], dark[1]]
    for value in (bright[0], dark[0], bright[1], dark[1], line_b, line_d, planes[-4], planes[-2]):
        planes += [value / level, value / near]
    planes += _colour(rgb, luma, tuning)
    pad = 2
    padded = cv2.copyMakeBorder(hp[2.0], pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    h, w = luma.shape
    planes += [padded[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
               for dy, dx in _PATCH if (dy, dx) != (0, 0)]
    return np.stack(planes).astype(np.float32, copy=False)
