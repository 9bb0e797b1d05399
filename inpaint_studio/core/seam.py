"""Seam check: after a fill, find the regions whose edge a viewer would notice.

Why: on a scan with thousands of filled specks nobody can inspect every one; the app should point
at the few that went wrong. Ground truth is unknown, so each region is judged against itself: the
jump across the hole's edge in the filled image (4-neighbour pairs with exactly one pixel in the
hole, as ``eval_inpaint.boundary_jump``) is divided by the same jump measured across a ring of
*known* pixels just outside the hole in the original. A fill that continues the surroundings scores
about 1 (or less); a visible seam scores well above 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from inpaint_studio.core.regions import RegionOptions, plan_regions
from inpaint_studio.core.types import BBox

__all__ = ["SeamReport", "seam_overlay", "seam_scores"]

#: jumps below this (in 0..1 units, about one 8-bit level) are noise: a flat area filled flat is fine
_NOISE_FLOOR = 1.0 / 255.0
#: pixels of known context a default region keeps around its hole (the ring needs 2)
_MARGIN = 4
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


@dataclass(frozen=True)
class SeamReport:
    """How visible the edge of one filled region is."""

    #: region in document coordinates
    bbox: BBox
    #: ~1 smooth (the edge jumps like the known surroundings do), >1 visible seam
    score: float
    #: score > threshold
    bad: bool


def _float(pixels: np.ndarray) -> np.ndarray:
    """0..1 float32 H x W x C view of a crop (any integer depth)."""
    values = np.asarray(pixels)
    scale = 1.0 / np.iinfo(values.dtype).max if np.issubdtype(values.dtype, np.integer) else 1.0
    values = values.astype(np.float32) * np.float32(scale)
    return values[..., None] if values.ndim == 2 else values


def _pair_jumps(values: np.ndarray, inside: np.ndarray) -> tuple[float, int]:
    """(sum, count) of channel-mean |a - b| over 4-neighbour pairs with exactly one pixel ``inside``."""
    total, count = 0.0, 0
    for a, b, ia, ib in ((values[:-1], values[1:], inside[:-1], inside[1:]),
                         (values[:, :-1], values[:, 1:], inside[:, :-1], inside[:, 1:])):
        cross = ia != ib
        n = int(np.count_nonzero(cross))
        if n:
            total += float(np.abs(a[cross] - b[cross]).mean(axis=-1).sum())
            count += n
    return total, count


def _dilate(hole: np.ndarray) -> np.ndarray:
    return cv2.dilate(hole.view(np.uint8), _CROSS) > 0


def _default_boxes(hole: np.ndarray) -> list[BBox]:
    """One box per group of nearby hole components, with a few pixels of known context."""
    options = RegionOptions(context_margin=_MARGIN, context_factor=0.0, tile_size=None)
    return plan_regions(hole, options)


def _region_score(before: np.ndarray, after: np.ndarray, hole: np.ndarray) -> float:
    jump_out, n_out = _pair_jumps(_float(after), hole)
    if n_out == 0:
        return 0.0  # the hole fills the whole box: it has no edge to see
    # the same statistic across the ring just outside the hole: known pixels on both sides
    jump_ref, n_ref = _pair_jumps(_float(before), _dilate(hole))
    reference = jump_ref / n_ref if n_ref else 0.0
    return (jump_out / n_out) / max(reference, _NOISE_FLOOR)


def seam_scores(before: np.ndarray, after: np.ndarray, mask: np.ndarray, threshold: float = 1.5,
                boxes: Sequence[BBox] | None = None) -> list[SeamReport]:
    """Score the edge of every filled region; ``bad`` marks the ones worth a second look.

    before/after: the image before and after the fill (H x W or H x W x C, same shape, any depth);
    mask: H x W, >0 = filled. boxes: the regions to judge (e.g. the fill's crops); None groups the
    hole's connected components. Cost is proportional to the boxes, not the frame.
    """
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise ValueError(f"before {before.shape} and after {after.shape} differ in shape")
    hole = np.ascontiguousarray(np.asarray(mask) > 0)
    if hole.shape != after.shape[:2]:
        raise ValueError(f"mask {hole.shape} does not match the image {after.shape[:2]}")
    if boxes is None:
        boxes = _default_boxes(hole)
    reports = []
    for box in boxes:
        outer = box.expanded(2, hole.shape)  # room for the reference ring at a box's edge
        crop_hole = hole[outer.slices]
        if not crop_hole.any():
            continue
        score = _region_score(before[outer.slices], after[outer.slices], np.ascontiguousarray(crop_hole))
        reports.append(SeamReport(bbox=box, score=float(score), bad=bool(score > threshold)))
    return reports


def seam_overlay(after: np.ndarray, mask: np.ndarray, reports: Sequence[SeamReport]) -> np.ndarray:
    """float32 H x W heat 0..1 on the hole's edge pixels of the reported regions (0 elsewhere).

    Each edge pixel's jump to its known neighbours is compared with the region's reference jump
    (measured in ``after``: known pixels are unchanged by a fill): 0 = like the surroundings,
    1 = three times the surroundings' jump or more. The GUI tints by it.
    """
    after = np.asarray(after)
    hole = np.ascontiguousarray(np.asarray(mask) > 0)
    heat = np.zeros(hole.shape, np.float32)
    for report in reports:
        outer = report.bbox.expanded(2, hole.shape)
        crop_hole = np.ascontiguousarray(hole[outer.slices])
        if not crop_hole.any():
            continue
        values = _float(after[outer.slices])
        jump_ref, n_ref = _pair_jumps(values, _dilate(crop_hole))
        reference = max(jump_ref / n_ref if n_ref else 0.0, _NOISE_FLOOR)
        local_sum = np.zeros(crop_hole.shape, np.float32)
        local_n = np.zeros(crop_hole.shape, np.float32)
        for axis in (0, 1):
            for step in (1, -1):
                # neighbour of every pixel along this axis/direction (edges: itself, not a pair)
                neighbour = np.roll(values, step, axis=axis)
                known_next = ~np.roll(crop_hole, step, axis=axis)
                edge = 0 if step == 1 else -1
                index = [slice(None), slice(None)]
                index[axis] = edge
                known_next[tuple(index)] = False
                pair = crop_hole & known_next
                local_sum[pair] += np.abs(values[pair] - neighbour[pair]).mean(axis=-1)
                local_n[pair] += 1
        edge_pixels = local_n > 0
        ratio = local_sum[edge_pixels] / local_n[edge_pixels] / reference
        region = heat[outer.slices]
        region[edge_pixels] = np.maximum(region[edge_pixels], np.clip((ratio - 1.0) / 2.0, 0.0, 1.0))
    return heat
