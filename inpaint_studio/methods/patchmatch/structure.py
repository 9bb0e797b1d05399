"""Structure + texture: the smoothest fill's low band under the PatchMatch fill's detail.

Bertalmio et al. 2003 (simultaneous structure and texture inpainting), in its simplest form. A
harmonic (Laplace) fill is the closest on average (the best hole-PSNR on every Kodak mask class)
but has no grain; PatchMatch copies real grain but its coarse layout is a guess. With ``L`` a
Gaussian low-pass (sigma ~4 px), the hole gets

    share * L(harmonic) + (1 - share) * L(fill) + gain * (fill - L(fill))

Known pixels are never changed. The gain ramps from 1 at the hole's edge to ``gain`` over
GAIN_RAMP pixels, so the boundary does not get a stronger jump than the fill already has (the seam
measure) and thin strokes, whose fill is mostly edge, keep close to their copied grain.

The harmonic fill is solved exactly (one sparse LU factorisation over the unknown pixels only) at
full resolution while there are at most MAX_UNKNOWNS of them, else at 1/2, 1/4, ... (only its low
band is used; 1/2 is as good as full resolution on Kodak, 1/4 cost ~0.1 dB and a higher seam).
With a sampling area it is solved from the sampling area's pixels only (the rest of the known crop
counts as unknown for the solve), so a user who excluded, say, a neighbouring object does not get
its colour smeared into the hole by the structure either.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.methods.classical.diffusion import harmonic_exact

#: Gaussian sigma (pixels) of the split between structure (low band) and texture (detail)
SIGMA = 4.0
#: the grain gain reaches its full value this many pixels into the hole. 12 rather than 3: with
#: grain 1.35 the long ramp kept thin strokes within 0.1 dB of grain 1.1 over 3 px while medium and
#: object holes reached texture 0.88-0.91 on Kodak (docs/benchmarks.md, "More grain")
GAIN_RAMP = 12.0
#: the harmonic solve runs at full resolution while the unknowns (the pixels it solves) are at most
#: this many, else at 1/2, 1/4, ... (its exact solve costs ~0.1 s per 25k unknowns; the low band
#: has little content finer than 1/2, and solving at 1/4 cost ~0.1 dB hole-PSNR and a higher seam)
MAX_UNKNOWNS = 60_000


def solve_scale(unknowns: int, max_unknowns: int = MAX_UNKNOWNS) -> int:
    """The power of two the harmonic solve downsamples by so it has at most ``max_unknowns``."""
    scale = 1
    while unknowns > max_unknowns * scale * scale:
        scale *= 2
    return scale


def _harmonic_low_res(image: np.ndarray, usable: np.ndarray, scale: int | None = None) -> np.ndarray:
    """Harmonic fill of every pixel outside ``usable``, solved exactly at 1/scale (by default the
    finest power of two with at most MAX_UNKNOWNS unknowns) and upsampled."""
    height, width = usable.shape
    if scale is None:
        scale = solve_scale(int((~usable).sum()))
    planes = image[..., None] if image.ndim == 2 else image
    fallback = planes[usable].mean(0) if usable.any() else None
    if scale <= 1 or min(height, width) < 8 * scale:
        return harmonic_exact(image, ~usable, fallback)
    size = ((width + scale - 1) // scale, (height + scale - 1) // scale)
    weight = usable.astype(np.float32)
    num = cv2.resize(image * weight[..., None], size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    small = (num / np.maximum(den, 1e-6)[..., None]).astype(np.float32)
    # a cell at least half known keeps its (known pixels') mean; thin strokes vanish at this
    # scale and get their neighbours' mean, which is what a low band of them is
    solved = harmonic_exact(small, den < 0.5, fallback)
    return cv2.resize(solved, (width, height), interpolation=cv2.INTER_LINEAR)


def _blur_radius(sigma: float) -> int:
    """Half the side of the kernel ``cv2.GaussianBlur(..., (0, 0), sigma)`` uses on float images."""
    return (round(sigma * 8 + 1) | 1) // 2


def _deep_box(deep: np.ndarray, margin: int, align: int = 16) -> tuple[slice, slice]:
    """The bounding box of ``deep`` grown by ``margin`` (clipped to the image), its origin on a
    multiple of ``align`` and its size too where the image allows (so a reduced-scale solve sees
    the same cell grid as on the whole crop)."""
    height, width = deep.shape
    rows, cols = np.nonzero(deep.any(1))[0], np.nonzero(deep.any(0))[0]

    def span(lo: int, hi: int, size: int) -> slice:
        lo = max(0, lo - margin) // align * align
        hi = min(size, hi + 1 + margin)
        hi = min(size, lo + -(-(hi - lo) // align) * align)
        return slice(lo, hi)

    return span(int(rows[0]), int(rows[-1]), height), span(int(cols[0]), int(cols[-1]), width)


def blend_structure(image: np.ndarray, hole: np.ndarray, fill: np.ndarray, sampling: np.ndarray | None,
                    share: float, gain: float, sigma: float = SIGMA,
                    scale: int | None = None, min_radius: float = 0.0, crop: bool = True) -> np.ndarray:
    """The hole of ``fill`` with its low band moved ``share`` of the way to the harmonic fill's and
    its detail (above ``sigma``) scaled by ``gain`` (ramped in from the edge); float32 HxWx3 in/out.

    Hole components (8-connected) no deeper than ``min_radius`` (scratches: the largest distance
    to the known area in them) keep ``fill`` unchanged: their low band is nearly the same in the
    harmonic fill and in the copied patches, so the blend buys almost nothing there (Kodak scratch
    +0.06-0.09 dB) and cost ~0.1 s. With ``crop`` (and no sampling area, whose excluded pixels
    join the harmonic solve) the blend runs on the deep components' bounding box plus the blur's
    reach only: the same result inside (the harmonic fill of a component depends only on its own
    edge), except that a large hole's reduced-scale solve may change scale with the unknowns."""
    if (share <= 0.0 and gain == 1.0) or not hole.any():
        return fill
    hole = np.asarray(hole, bool)
    deep = hole
    if min_radius > 0.0:
        from inpaint_studio.methods.patchmatch.completion import _wide

        deep = _wide(hole, min_radius)
        if not deep.any():
            return fill
    image = np.asarray(image, np.float32)
    fill = np.asarray(fill, np.float32)
    known_px = image[~hole]
    lo = min(0.0, float(known_px.min())) if known_px.size else 0.0
    hi = max(1.0, float(known_px.max())) if known_px.size else 1.0
    box = (slice(None), slice(None))
    if crop and sampling is None:
        box = _deep_box(deep, _blur_radius(sigma) + 1)
    blended = _blend(image[box], hole[box], deep[box], fill[box],
                     None if sampling is None else np.asarray(sampling, bool)[box],
                     share, gain, sigma, scale)
    out = fill.copy()
    out[box] = np.where(deep[box][..., None], np.clip(blended, lo, hi), fill[box])
    return out.astype(np.float32, copy=False)


def _blend(image: np.ndarray, hole: np.ndarray, deep: np.ndarray, fill: np.ndarray,
           sampling: np.ndarray | None, share: float, gain: float, sigma: float,
           scale: int | None) -> np.ndarray:
    """blend_structure's blend (unclipped) of the ``deep`` part of ``hole``; the rest of the
    hole is unknown to the harmonic solve but keeps its fill."""
    out = fill.copy()
    if share > 0.0:
        known = ~hole
        usable = known if sampling is None else (known & sampling)
        if not usable.any():
            usable = known
        structure = np.where(deep[..., None], _harmonic_low_res(image, usable, scale), fill)
        # L(structure) - L(fill) = L(structure - fill): the difference lives in the deep hole only
        out += np.float32(share) * cv2.GaussianBlur(structure - fill, (0, 0), sigma)
    if gain != 1.0:
        low_fill = cv2.GaussianBlur(fill, (0, 0), sigma)
        depth = cv2.distanceTransform(deep.astype(np.uint8), cv2.DIST_L2, 3)
        ramp = np.clip((depth - 1.0) / GAIN_RAMP, 0.0, 1.0)
        out += ((np.float32(gain) - 1.0) * ramp)[..., None].astype(np.float32) * (fill - low_fill)
    return out
