"""The ``criminisi`` method: exemplar-based fill in structure-first order (Criminisi, Pérez, Toyama 2004).

Where diffusion smears and PatchMatch averages, this copies whole real patches, one at a time,
filling first where a strong edge meets the hole (priority = confidence x data term), so lines
run into the hole before flat areas close over them. The hot loop (front priorities, exemplar
search, copy) is compiled with numba; the exemplar search looks exhaustively within a window
around the target and at coherent / random candidates beyond it, so it stays usable on photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
from numba import njit

from inpaint_studio.methods.base import Method, RunContext, param

#: data-term normaliser (the paper's alpha, for [0, 1] intensities)
_ALPHA = 1.0
#: a floor on the data term so flat regions still fill in confidence order
_DATA_FLOOR = 1e-3


@dataclass(frozen=True)
class CriminisiParams:
    patch_size: int = param(
        9, min=3, max=31, step=2, label="Patch size",
        help="Side (pixels, odd) of the patches copied. A bit larger than the largest texture element "
             "of the background works best.",
    )
    search_radius: int = param(
        0, min=0, max=2000, step=10, label="Search radius", auto="automatic",
        help="Exhaustive search this far (pixels) around each patch (0: automatic); beyond it only "
             "coherent and random candidates are tried. Larger: slower, sometimes better matches.",
    )
    random_candidates: int = param(
        64, min=0, max=4096, step=16, label="Random candidates",
        help="Patches tried from anywhere in the sampling area per step, besides the local search.",
    )
    preview_every: int = param(
        200, min=10, max=100000, step=10, label="Preview every",
        help="Show the fill in progress every this many copied patches.",
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
def _ssd(img, filled, ty, tx, sy, sx, r, bound):
    h, w = filled.shape
    acc = 0.0
    n = 0
    for dy in range(-r, r + 1):
        yy = ty + dy
        if yy < 0 or yy >= h:
            continue
        for dx in range(-r, r + 1):
            xx = tx + dx
            if xx < 0 or xx >= w or not filled[yy, xx]:
                continue
            for c in range(3):
                d = img[yy, xx, c] - img[sy + dy, sx + dx, c]
                acc += d * d
            n += 1
        if acc > bound:
            return 1e30
    return acc if n > 0 else 1e30


@njit(cache=True)
def _fill_steps(img, gray, filled, conf, valid, vy, vx, src_y, src_x, r, radius, n_random, max_steps, box):
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
                    c = _ssd(img, filled, py, px, sy, sx, r, bcost)
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
                    c = _ssd(img, filled, py, px, sy, sx, r, bcost)
                    if c < bcost:
                        bcost = c
                        by = sy
                        bx = sx
        for _ in range(n_random):
            j = np.random.randint(0, nsrc)
            c = _ssd(img, filled, py, px, vy[j], vx[j], r, bcost)
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
                   on_chunk: Any = None) -> np.ndarray:
    """Fill ``hole`` of a float32 HxWx3 image; ``on_chunk(img, fraction)`` runs every ``chunk`` patches."""
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
                        int(random_candidates), int(chunk), box)
        remaining = int((~filled).sum())
        if on_chunk is not None:
            on_chunk(img, 1.0 - remaining / max(total, 1))
        if n == 0 or remaining == 0:
            break
    return img


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

        out = criminisi_fill(image, hole, sampling, params.patch_size | 1, self._radius(params),
                             params.random_candidates, int(ctx.seed), params.preview_every, on_chunk)
        return np.clip(out, 0.0, 1.0)
