"""Stacking the final mix: pseudo-holes in the known context, and mix weights fitted on them (no torch).

The best share of net / PatchMatch / NS in the hole's low band varies per photo (the net wins on strokes,
NS on large smooth holes) and simple predictors (hole thickness, ring gradient) failed. Pseudo-holes are
copies of the hole's shape (or of parts of it) translated onto known pixels: every fill treats them as
holes, so its output there is a genuine prediction that can be scored against the real pixels, and the
weights that score best there are used in the real hole.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

#: splits of the hole's bounding box tried in turn (the whole shape first, then halves, quarters, ninths)
_SPLITS = ((1, 1), (1, 2), (2, 1), (2, 2), (3, 3))


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _templates(hole: np.ndarray) -> list[np.ndarray]:
    """The hole's shape and its parts (tiles of its bounding box), each cropped tight, largest first."""
    ys, xs = np.nonzero(hole)
    box = hole[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    out = []
    for rows, cols in _SPLITS:
        ye = np.linspace(0, box.shape[0], rows + 1).round().astype(int)
        xe = np.linspace(0, box.shape[1], cols + 1).round().astype(int)
        for r, c in itertools.product(range(rows), range(cols)):
            tile = box[ye[r]:ye[r + 1], xe[c]:xe[c + 1]]
            if tile.sum() < 4:
                continue
            ty, tx = np.nonzero(tile)
            out.append(tile[ty.min():ty.max() + 1, tx.min():tx.max() + 1])
    return out


def pseudo_holes(hole: np.ndarray, rng: np.random.Generator, area_share: float = 0.6,
                 max_copies: int = 4, gap: int | None = None) -> np.ndarray:
    """Labels (0: none, 1..k) of pseudo-holes: translated copies of the hole or of parts of it.

    Each copy lies on known pixels at least ``gap`` px from the hole, from the frame's edge and from the
    other copies, so every fill sees a known ring around it. Copies are added, the largest shape that
    still fits first, until their area reaches ``area_share`` of the hole's or ``max_copies``.
    """
    h, w = hole.shape
    labels = np.zeros((h, w), np.int32)
    if not hole.any() or hole.all():
        return labels
    gap = gap if gap is not None else max(6, round(0.02 * max(h, w)))
    forbidden = cv2.dilate(hole.astype(np.uint8), _disk(gap)) > 0
    forbidden[:gap], forbidden[-gap:], forbidden[:, :gap], forbidden[:, -gap:] = True, True, True, True
    target = area_share * float(hole.sum())
    area, count = 0.0, 0
    for tile in _templates(hole):
        if count >= max_copies or area >= target:
            break
        th, tw = tile.shape
        # overlap of the tile (grown by the gap) with forbidden pixels, for every top-left position
        kernel = cv2.copyMakeBorder(tile.astype(np.uint8), gap, gap, gap, gap, cv2.BORDER_CONSTANT, value=0)
        kernel = (cv2.dilate(kernel, _disk(gap)) > 0).astype(np.float32)
        kh, kw = kernel.shape
        if kh > h or kw > w:
            continue
        hits = cv2.filter2D(forbidden.astype(np.float32), -1, kernel, anchor=(0, 0),
                            borderType=cv2.BORDER_CONSTANT)
        free = np.argwhere(hits[: h - kh + 1, : w - kw + 1] < 0.5)
        if len(free) == 0:
            continue
        # the kernel's top-left; the tile sits ``gap`` px inside it
        y0, x0 = free[rng.integers(len(free))] + gap
        count += 1
        labels[y0:y0 + th, x0:x0 + tw][tile] = count
        area += float(tile.sum())
        grown = cv2.dilate((labels == count).astype(np.uint8), _disk(gap)) > 0
        forbidden |= grown
    return labels


#: pixels the mix is fitted on at most (a regular subsample beyond)
MAX_FIT_PIXELS = 20_000


def simplex_grid(parts: int, step: float = 0.05) -> np.ndarray:
    """All weight vectors with ``parts`` non-negative entries, multiples of ``step``, summing to 1."""
    n = round(1 / step)
    rows = [c for c in itertools.product(range(n + 1), repeat=parts - 1) if sum(c) <= n]
    return np.array([[*c, n - sum(c)] for c in rows], dtype=np.float64) / n


def fit_mix(parts: np.ndarray, detail: np.ndarray, truth: np.ndarray, prior: np.ndarray,
            shrink: float = 1.0, step: float = 0.05) -> np.ndarray:
    """Mix weights (non-negative, sum 1) minimising the clipped fill's squared error on pseudo-holes.

    ``parts``: (k, n, 3) low bands of the k fills at the pseudo-holes' n pixels; ``detail``: (n, 3) the
    high band added on top; ``truth``: (n, 3). The grid optimum is moved ``shrink`` of the way from
    ``prior`` (few or small pseudo-holes: trust them less).
    """
    # every k-th pixel: the error over <= MAX_FIT_PIXELS is as telling and keeps the grid cheap (0.3 s)
    stride = max(1, -(-parts.shape[1] // MAX_FIT_PIXELS))
    parts, detail, truth = parts[:, ::stride], detail[::stride], truth[::stride]
    grid = simplex_grid(parts.shape[0], step)
    flat = parts.reshape(parts.shape[0], -1).astype(np.float64)
    mixed = grid @ flat + detail.reshape(-1)[None]
    err = ((np.clip(mixed, 0.0, 1.0) - truth.reshape(-1)[None]) ** 2).mean(axis=1)
    best = grid[int(np.argmin(err))]
    shrink = min(1.0, max(0.0, shrink))
    return (np.asarray(prior, np.float64) * (1 - shrink) + best * shrink).astype(np.float64)


#: pseudo-hole pixels (as a share of the hole's) at which the fitted weights get half the say
HALF_TRUST_SHARE = 0.25


def trust(pseudo_pixels: int, hole_pixels: int, half: float = HALF_TRUST_SHARE) -> float:
    """How far to move from the default weights towards the fitted ones: more pseudo-holes, more trust."""
    share = pseudo_pixels / max(1, hole_pixels)
    return share / (share + half) if share > 0 else 0.0


def stacked_fill(parts: np.ndarray, detail: np.ndarray, image: np.ndarray, hole: np.ndarray,
                 pseudo: np.ndarray, prior: np.ndarray, half: float = HALF_TRUST_SHARE
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The crop with the hole filled by the mix that best reproduces the pseudo-holes; and the weights.

    ``parts``: (k, H, W, 3) low-passed fills of the crop (each also predicted the pseudo-holes);
    ``detail``: (H, W, 3) high band added as is. Pixels outside ``hole`` are returned untouched.
    """
    shrink = trust(int(pseudo.sum()), int(hole.sum()), half)
    weights = np.asarray(prior, np.float64)
    if shrink > 0:
        weights = fit_mix(parts[:, pseudo], detail[pseudo], image[pseudo], weights, shrink)
    mixed = np.tensordot(weights, parts, axes=1) + detail
    out = np.where(hole[..., None], np.clip(mixed, 0.0, 1.0), image).astype(np.float32)
    return out, weights
