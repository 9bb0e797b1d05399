"""Structure + texture: the smoothest fill's low band under the PatchMatch fill's detail.

Bertalmio et al. 2003 (simultaneous structure and texture inpainting), in its simplest form. A
harmonic (Laplace) fill is the closest on average (the best hole-PSNR on every Kodak mask class)
but has no grain; PatchMatch copies real grain but its coarse layout is a guess. With ``L`` a
Gaussian low-pass (sigma ~4 px), the hole gets

    share * L(harmonic) + (1 - share) * L(fill) + gain * (fill - L(fill))

Known pixels are never changed. The gain ramps from 1 at the hole's edge to ``gain`` over a few
pixels, so the boundary does not get a stronger jump than the fill already has (the seam measure).

Only the low band of the harmonic fill is used, so it is solved at reduced resolution (its cost is
a few percent of the fill's). With a sampling area it is solved from the sampling area's pixels
only (the rest of the known crop counts as unknown for the solve), so a user who excluded, say, a
neighbouring object does not get its colour smeared into the hole by the structure either.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.methods.classical.diffusion import harmonic_fill

#: Gaussian sigma (pixels) of the split between structure (low band) and texture (detail)
SIGMA = 4.0
#: the grain gain reaches its full value this many pixels into the hole
GAIN_RAMP = 3.0
#: the harmonic solve runs at 1/this of the crop's resolution (the low band has no finer content)
SOLVE_SCALE = 4


def _harmonic_low_res(image: np.ndarray, usable: np.ndarray, scale: int) -> np.ndarray:
    """Harmonic fill of every pixel outside ``usable``, solved at 1/scale and upsampled."""
    height, width = usable.shape
    if scale <= 1 or min(height, width) < 8 * scale:
        return harmonic_fill(image, ~usable)
    size = ((width + scale - 1) // scale, (height + scale - 1) // scale)
    weight = usable.astype(np.float32)
    num = cv2.resize(image * weight[..., None], size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    small = (num / np.maximum(den, 1e-6)[..., None]).astype(np.float32)
    # a cell at least half known keeps its (known pixels') mean; thin strokes vanish at this
    # scale and get their neighbours' mean, which is what a low band of them is
    solved = harmonic_fill(small, den < 0.5)
    return cv2.resize(solved, (width, height), interpolation=cv2.INTER_LINEAR)


def blend_structure(image: np.ndarray, hole: np.ndarray, fill: np.ndarray, sampling: np.ndarray | None,
                    share: float, gain: float, sigma: float = SIGMA,
                    scale: int = SOLVE_SCALE) -> np.ndarray:
    """The hole of ``fill`` with its low band moved ``share`` of the way to the harmonic fill's and
    its detail (above ``sigma``) scaled by ``gain`` (ramped in from the edge); float32 HxWx3 in/out."""
    if (share <= 0.0 and gain == 1.0) or not hole.any():
        return fill
    image = np.asarray(image, np.float32)
    fill = np.asarray(fill, np.float32)
    out = fill.copy()
    low_fill = cv2.GaussianBlur(fill, (0, 0), sigma)
    if share > 0.0:
        known = ~hole
        usable = known if sampling is None else (known & sampling)
        if not usable.any():
            usable = known
        structure = np.where(hole[..., None], _harmonic_low_res(image, usable, scale), fill)
        # L(structure) - L(fill) = L(structure - fill): the difference lives in the hole only
        out += np.float32(share) * cv2.GaussianBlur(structure - fill, (0, 0), sigma)
    if gain != 1.0:
        depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
        ramp = np.clip((depth - 1.0) / GAIN_RAMP, 0.0, 1.0)
        out += ((np.float32(gain) - 1.0) * ramp)[..., None].astype(np.float32) * (fill - low_fill)
    known_px = image[~hole]
    lo = min(0.0, float(known_px.min())) if known_px.size else 0.0
    hi = max(1.0, float(known_px.max())) if known_px.size else 1.0
    return np.where(hole[..., None], np.clip(out, lo, hi), fill).astype(np.float32)
