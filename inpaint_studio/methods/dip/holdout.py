"""Held-out known pixels: the stopping and keep-best criterion of the fitted methods (no torch here)."""

from __future__ import annotations

import cv2
import numpy as np


def holdout_mask(hole: np.ndarray, rng: np.random.Generator, share: float = 0.3, block: int = 3
                 ) -> np.ndarray:
    """Known pixels held out of the loss: random small blocks in a ring just outside the hole.

    The hole's error cannot be measured (its content is unknown), but the error on known pixels the
    fit never saw, close to the hole, tracks it. Blocks rather than single pixels, because a lone
    pixel is trivially interpolated from its neighbours and would say little about filling a gap.
    Returns an all-False mask when the ring holds too few pixels to be a useful score.
    """
    h, w = hole.shape
    radius = max(3, round(0.03 * max(h, w)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    ring = cv2.dilate(hole.astype(np.uint8), kernel) > 0
    ring &= ~hole
    cells = rng.random(((h + block - 1) // block, (w + block - 1) // block)) < share
    chosen = np.kron(cells, np.ones((block, block), dtype=bool))[:h, :w]
    held = ring & chosen
    if held.sum() < 16:
        return np.zeros_like(hole)
    return held
