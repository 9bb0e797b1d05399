"""The ``criminisi`` method: exemplar-based fill in structure-first order (Criminisi, Pérez, Toyama 2004).

Where diffusion smears and PatchMatch averages, this copies whole real patches, one at a time,
filling first where a strong edge meets the hole (priority = confidence x data term), so lines
run into the hole before flat areas close over them. The hot loop (front priorities, exemplar
search, copy) is compiled with numba; the exemplar search looks exhaustively within a window
around the target and at coherent / random candidates beyond it, so it stays usable on photos.

Two additions to the 2004 method (on by default since 2026-12-07; measured on Kodak, docs/benchmarks.md):
a *guide* — a smooth fill of the hole (harmonic diffusion, or the low band of our PatchMatch fill) —
that the missing pixels of each target patch are compared with (against the source patch's low band),
so a copy must also fit the hole's large-scale layout: strong edges no longer drag a tower or a cup's
rim across a smooth area (the classic garbage propagation). And a *seam blend*: the hole's outer
ring is blended towards the photo's pixels next to it, so the copies do not end in a hard edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
from numba import njit

from inpaint_studio.core.pixels import masked_blur
from inpaint_studio.methods.base import Method, RunContext, param

#: data-term normaliser (the paper's alpha, for [0, 1] intensities)
_ALPHA = 1.0
#: a floor on the data term so flat regions still fill in confidence order
_DATA_FLOOR = 1e-3
#: the ``guide`` choices
GUIDES = ("none", "diffusion", "patchmatch")


@dataclass(frozen=True)
class CriminisiParams:
    patch_size: int = param(
        9, min=3, max=31, step=2, label="Patch size",
        help="Side (pixels, odd) of the patches copied. A bit larger than the largest texture element "
             "of the background works best.",
    )
    search_radius: int = param(
        0, advanced=True, min=0, max=2000, step=10, label="Search radius", auto="automatic",
        help="Exhaustive search this far (pixels) around each patch (0: automatic); beyond it only "
             "coherent and random candidates are tried. Larger: slower, sometimes better matches.",
    )
    random_candidates: int = param(
        64, advanced=True, min=0, max=4096, step=16, label="Random candidates",
        help="Patches tried from anywhere in the sampling area per step, besides the local search.",
    )
    guide: str = param(
        "diffusion", choices=GUIDES, label="Guide",
        help="A smooth fill of the hole that the missing part of each patch is compared with, so copies "
             "keep the hole's large-scale layout (no sky object copied into the sky). 'diffusion': the "
             "smoothest fill from the hole's border; 'patchmatch': the low band of a content-aware fill; "
             "'none': known pixels only (the 2004 method).",
    )
    guide_weight: float = param(
        3.0, advanced=True, min=0.0, max=20.0, step=0.25, label="Guide weight",
        help="How much the guide counts against the known pixels when choosing a patch. Higher: closer "
             "to the guide's layout; 0: no guide. (3 measured best on Kodak with the diffusion guide.)",
    )
    seam_blend: float = param(
        0.35, min=0.0, max=1.0, step=0.05, label="Seam blend",
        help="Blend the hole's outermost filled pixels this much towards their known neighbours (and "
             "the next ring half as much), softening the edge where copied patches meet the photo. "
             "0: pure copies. (0.35 brought the seam to the photo's own level on Kodak.)",
    )
    preview_every: int = param(
        200, min=10, max=100000, step=10, label="Preview every",
        help="Show the fill in progress every this many copied patches.", advanced=True,
    )


@njit(cache=True)
def _is_front(filled, y, x):
    h, w = filled.shape
    if filled[y, x]:
        return False
    if y > 0 and filled[y - 1, x]:
        return True
    if y < h - 1 and filled[y + 1, x]:
        return True
    if x > 0 and filled[y, x - 1]:
        return True
    return x < w - 1 and filled[y, x + 1]


@njit(cache=True)
def _priority(img, gray, filled, conf, y, x, r):
    """Confidence term x data term of front pixel (y, x)."""
    h, w = filled.shape
    csum = 0.0
    # the normal of the fill front: gradient of the filled mask (Sobel)
    ny = 0.0
    nx = 0.0
    for dy in range(-1, 2):
        for dx in range(-1, 2):
            yy = min(max(y + dy, 0), h - 1)
            xx = min(max(x + dx, 0), w - 1)
            f = 1.0 if filled[yy, xx] else 0.0
            wy = (2.0 if dx == 0 else 1.0) * dy
            wx = (2.0 if dy == 0 else 1.0) * dx
            ny += wy * f
            nx += wx * f
    norm = np.sqrt(ny * ny + nx * nx)
    if norm > 0:
        ny /= norm
        nx /= norm
    # the strongest isophote among the filled pixels of the patch (central differences)
    best = 0.0
    iy = 0.0
    ix = 0.0
    area = 0
    for yy in range(y - r, y + r + 1):
        for xx in range(x - r, x + r + 1):
            if yy < 0 or xx < 0 or yy >= h or xx >= w:
                continue
            area += 1
            csum += conf[yy, xx]
            if not filled[yy, xx] or yy < 1 or xx < 1 or yy >= h - 1 or xx >= w - 1:
                continue
            if not (filled[yy - 1, xx] and filled[yy + 1, xx] and filled[yy, xx - 1] and filled[yy, xx + 1]):
                continue
            gy = 0.5 * (gray[yy + 1, xx] - gray[yy - 1, xx])
            gx = 0.5 * (gray[yy, xx + 1] - gray[yy, xx - 1])
            m = gy * gy + gx * gx
            if m > best:
                best = m
                iy = gy
                ix = gx
    c = csum / max(area, 1)
    # isophote = gradient rotated by 90 degrees: (-gx, gy) in (y, x) order -> dot with the normal
    d = abs(-ix * ny + iy * nx) / _ALPHA
    return c * (d + _DATA_FLOOR)


@njit(cache=True, fastmath=True)
def _ssd(img, filled, guide, low, gw, ty, tx, sy, sx, r, bound):
    """Squared distance of the target patch at (ty, tx) to the source patch at (sy, sx): its known
    pixels exactly, its missing ones (if ``gw`` > 0) as ``gw`` x the guide's distance to the source's
    low band."""
    h, w = filled.shape
    acc = 0.0
    n = 0
    for dy in range(-r, r + 1):
        yy = ty + dy
        if yy < 0 or yy >= h:
            continue
        for dx in range(-r, r + 1):
            xx = tx + dx
            if xx < 0 or xx >= w:
                continue
            if not filled[yy, xx]:
                if gw > 0.0:
                    for c in range(3):
                        d = guide[yy, xx, c] - low[sy + dy, sx + dx, c]
                        acc += gw * d * d
                continue
            for c in range(3):
                d = img[yy, xx, c] - img[sy + dy, sx + dx, c]
                acc += d * d
            n += 1
        if acc > bound:
            return 1e30
    return acc if n > 0 else 1e30


@njit(cache=True)
def _fill_steps(img, gray, filled, conf, valid, vy, vx, src_y, src_x, r, radius, n_random, max_steps, box,
                guide, low, gw):
    """Fill up to ``max_steps`` patches; returns how many were filled (0: the hole is closed)."""
    h, w = filled.shape
    # all front pixels with their priorities; recomputed locally after each copy
    prio = np.full((h, w), -1.0)
    y0, y1, x0, x1 = box[0], box[1], box[2], box[3]  # the hole's bounding box: the front stays in it
    for y in range(y0, y1):
        for x in range(x0, x1):
            if _is_front(filled, y, x):
                prio[y, x] = _priority(img, gray, filled, conf, y, x, r)
    nsrc = vy.shape[0]
    done = 0
    while done < max_steps:
        # highest priority front pixel
        best = -1.0
        py = -1
        px = -1
        for y in range(y0, y1):
            for x in range(x0, x1):
                if prio[y, x] > best:
                    best = prio[y, x]
                    py = y
                    px = x
        if py < 0:
            break
        # exemplar search: window around the target, then coherent and random candidates
        bcost = 1e30
        by = -1
        bx = -1
        for sy in range(max(py - radius, 0), min(py + radius + 1, h)):
            for sx in range(max(px - radius, 0), min(px + radius + 1, w)):
                if valid[sy, sx]:
                    c = _ssd(img, filled, guide, low, gw, py, px, sy, sx, r, bcost)
                    if c < bcost:
                        bcost = c
                        by = sy
                        bx = sx
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                yy = py + dy
                xx = px + dx
                if yy < 0 or xx < 0 or yy >= h or xx >= w or src_y[yy, xx] < 0:
                    continue
                sy = src_y[yy, xx] - dy
                sx = src_x[yy, xx] - dx
                if 0 <= sy < h and 0 <= sx < w and valid[sy, sx]:
                    c = _ssd(img, filled, guide, low, gw, py, px, sy, sx, r, bcost)
                    if c < bcost:
                        bcost = c
                        by = sy
                        bx = sx
        for _ in range(n_random):
            j = np.random.randint(0, nsrc)
            c = _ssd(img, filled, guide, low, gw, py, px, vy[j], vx[j], r, bcost)
            if c < bcost:
                bcost = c
                by = vy[j]
                bx = vx[j]
        if by < 0:
            j = np.random.randint(0, nsrc)
            by = vy[j]
            bx = vx[j]
        # copy the unfilled part, carry the confidence over
        cp = 0.0
        area = 0
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                yy = py + dy
                xx = px + dx
                if 0 <= yy < h and 0 <= xx < w:
                    cp += conf[yy, xx]
                    area += 1
        cp /= max(area, 1)
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                yy = py + dy
                xx = px + dx
                if yy < 0 or xx < 0 or yy >= h or xx >= w or filled[yy, xx]:
                    continue
                for c in range(3):
                    img[yy, xx, c] = img[by + dy, bx + dx, c]
                gray[yy, xx] = gray[by + dy, bx + dx]
                filled[yy, xx] = True
                conf[yy, xx] = cp
                src_y[yy, xx] = by + dy
                src_x[yy, xx] = bx + dx
        # the front moved only near this patch
        for yy in range(max(py - r - 2, 0), min(py + r + 3, h)):
            for xx in range(max(px - r - 2, 0), min(px + r + 3, w)):
                prio[yy, xx] = _priority(img, gray, filled, conf, yy, xx, r) if _is_front(filled, yy, xx) \
                    else -1.0
        done += 1
    return done


@njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


def criminisi_fill(image: np.ndarray, hole: np.ndarray, sampling: np.ndarray | None, patch_size: int,
                   search_radius: int, random_candidates: int, seed: int, chunk: int,
                   on_chunk: Any = None, guide: np.ndarray | None = None,
                   guide_weight: float = 0.0) -> np.ndarray:
    """Fill ``hole`` of a float32 HxWx3 image; ``on_chunk(img, fraction)`` runs every ``chunk`` patches.

    ``guide``: a smooth HxWx3 fill of the hole; the missing pixels of each target patch are compared
    with its low band (weight ``guide_weight``) against the source patch's low band."""
    r = patch_size // 2
    img = np.ascontiguousarray(image, dtype=np.float32).copy()
    hole = np.asarray(hole, dtype=bool)
    img[hole] = 0.0
    known = ~hole
    allowed = known if sampling is None else (np.asarray(sampling, dtype=bool) & known)
    size = 2 * r + 1
    valid = cv2.erode(allowed.astype(np.uint8), np.ones((size, size), np.uint8),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    vy, vx = np.nonzero(valid)
    if len(vy) == 0:
        from inpaint_studio.core.errors import InvalidInputError

        raise InvalidInputError("there are no pixels to copy from: the sampling area is too small for the "
                                "patch size")
    gw = float(guide_weight) if guide is not None else 0.0
    if gw > 0.0:
        sigma = max(1.0, float(r))
        low = masked_blur(img, sigma, known)
        guide_low = masked_blur(np.asarray(guide, np.float32), sigma)
    else:
        low = guide_low = np.zeros((1, 1, 3), np.float32)
    gray = np.ascontiguousarray(img.mean(axis=2))
    filled = known.copy()
    conf = known.astype(np.float64)
    src_y = np.full(hole.shape, -1, np.int32)
    src_x = np.full(hole.shape, -1, np.int32)
    _seed(int(seed) & 0x7FFFFFFF)
    total = int(hole.sum())
    ys, xs = np.nonzero(hole)
    box = np.zeros(4, np.int64)
    if total:
        box[:] = (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)
    vy, vx = vy.astype(np.int32), vx.astype(np.int32)
    while total:
        n = _fill_steps(img, gray, filled, conf, valid, vy, vx, src_y, src_x, r, int(search_radius),
                        int(random_candidates), int(chunk), box, guide_low, low, gw)
        remaining = int((~filled).sum())
        if on_chunk is not None:
            on_chunk(img, 1.0 - remaining / max(total, 1))
        if n == 0 or remaining == 0:
            break
    return img


def soften_border(img: np.ndarray, hole: np.ndarray, amount: float,
                  sampling: np.ndarray | None = None) -> np.ndarray:
    """Blend the hole's outer ring of pixels ``amount`` towards the mean of their known 4-neighbours,
    and the next ring ``amount / 2`` towards the mean of their ring-one neighbours. With a
    ``sampling`` area only known pixels inside it are blended in (the fill takes nothing from outside)."""
    if amount <= 0 or not hole.any():
        return img
    out = img.copy()
    outside = ~hole if sampling is None else (~hole & np.asarray(sampling, dtype=bool))
    kernel = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.float32)
    for step in (amount, amount / 2):
        w = outside.astype(np.float32)
        count = cv2.filter2D(w, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        total = cv2.filter2D(out * w[..., None], -1, kernel, borderType=cv2.BORDER_CONSTANT)
        ring = hole & ~outside & (count > 0)
        if not ring.any():
            break
        mean = total[ring] / count[ring][:, None]
        out[ring] = (1.0 - step) * out[ring] + step * mean
        outside = outside | ring
    return out


def guide_fill(image: np.ndarray, hole: np.ndarray, sampling: np.ndarray | None, kind: str, seed: int,
               ctx: Any = None) -> np.ndarray:
    """The smooth fill the exemplar choice is guided by: ``kind`` "diffusion" (harmonic) or
    "patchmatch" (our content-aware fill, texture matching off; criminisi_fill low-passes it)."""
    if kind == "diffusion":
        from inpaint_studio.methods.classical.diffusion import harmonic_fill

        return harmonic_fill(np.asarray(image, np.float32), hole)
    if kind == "patchmatch":
        from inpaint_studio.methods.patchmatch.completion import complete
        from inpaint_studio.methods.patchmatch.method import PatchMatchParams, settings_for

        settings = settings_for(PatchMatchParams(texture_matching="off"), seed)
        check = ctx.check_cancelled if ctx is not None else None
        return complete(np.asarray(image, np.float32), hole, sampling, settings, check=check)
    raise ValueError(f"unknown guide {kind!r}; choose from {', '.join(GUIDES)}")


class CriminisiMethod(Method):
    name = "criminisi"
    label = "Exemplar fill (Criminisi)"
    description = "Copies whole patches edge-first, so lines continue into the hole; for structured scenes."
    Params: ClassVar[type] = CriminisiParams
    iterative = True
    #: honours a sampling area (``ctx.sampling_area``): the runtime grows crops to reach it
    uses_sampling = True

    def _radius(self, params: Any) -> int:
        return params.search_radius if params.search_radius > 0 else max(40, 5 * params.patch_size)

    def context_margin(self, params: Any) -> int:
        return self._radius(params) + params.patch_size

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        ctx.check_cancelled()
        ctx.progress(0.0, "preparing")
        sampling = getattr(ctx, "sampling_area", None)
        if sampling is not None and np.shape(sampling) != hole.shape:
            sampling = cv2.resize(np.asarray(sampling, np.uint8), (hole.shape[1], hole.shape[0]),
                                  interpolation=cv2.INTER_NEAREST) > 0

        def on_chunk(img: np.ndarray, fraction: float) -> None:
            ctx.progress(fraction, "copying patches")
            ctx.preview(img, "copying patches")
            ctx.check_cancelled()

        guide = None
        if params.guide != "none" and params.guide_weight > 0 and hole.any():
            ctx.progress(0.0, "guide fill")
            guide = guide_fill(image, hole, sampling, params.guide, int(ctx.seed), ctx)
        out = criminisi_fill(image, hole, sampling, params.patch_size | 1, self._radius(params),
                             params.random_candidates, int(ctx.seed), params.preview_every, on_chunk,
                             guide, params.guide_weight)
        out = soften_border(out, hole, params.seam_blend, sampling)
        return np.clip(out, 0.0, 1.0)
