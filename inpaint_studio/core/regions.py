"""Region strategy: run any method on the holes only, at its working size, and paste back cleanly.

Why: a 24-100 MP photo with a small hole must cost what the hole costs, not what the frame
costs, and a network that works at 512 px must see a 512 px crop with enough context around the
hole. Each hole's bounding box is grown by a context margin; boxes whose context overlaps are
merged so every hole pixel belongs to exactly one crop (the crops are disjoint, so order does not
matter). A crop larger than the method's working size is downscaled for the method and its result
upscaled again. A crop longer than ``tile_size`` (a scratch across a whole scan makes one the size
of the frame) is filled in overlapping tiles instead, blended with linear weights inside the hole
where tiles overlap, so neither memory nor the method's view grows with the frame and no tile edge
shows. Only the hole is composited back, weighted by the mask's coverage (soft masks) and
an optional feather that stays *inside* the hole — so every pixel outside the mask is
bit-identical to the input at 8 and 16 bit.

Unlike a feather that straddles the mask edge, an inside feather never blends the filled area
over known pixels; its cost is that the outermost hole pixels keep a share of the original, which
is why it defaults to 0 and soft brushes provide the softness instead.

A sampling area (where patch-based methods may copy from) travels with each crop as
``RegionTask.sampling``; a crop holding too little of it is grown toward it (:func:`reach_sampling`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from inpaint_studio.core.errors import InvalidInputError, MethodFailedError
from inpaint_studio.core.pixels import from_float, to_float
from inpaint_studio.core.types import BBox

RegionMode = Literal["crop", "whole"]


@dataclass(frozen=True)
class RegionOptions:
    """How the holes of one fill are cut out and pasted back."""

    #: "crop": each hole with context (fast, full quality outside); "whole": the full frame
    mode: RegionMode = "crop"
    #: minimum pixels of known context around each hole
    context_margin: int = 32
    #: plus this fraction of the hole's longer side (a large hole needs more surroundings)
    context_factor: float = 0.5
    #: longest side the method works at; larger crops are downscaled for it (None: native size)
    working_size: int | None = None
    #: width in pixels of a soft ramp just inside the hole's edge (0: hard, the mask's own softness)
    feather: int = 0
    #: crops longer than this on either side (a long scratch across a 100 MP scan) are filled in
    #: overlapping tiles, blended with linear weights in the overlaps ("crop" mode only; None: never)
    tile_size: int | None = 2048
    #: pixels shared by neighbouring tiles (the width of the blend)
    tile_overlap: int = 96

    def __post_init__(self) -> None:
        if self.mode not in ("crop", "whole"):
            raise InvalidInputError(f"region mode must be 'crop' or 'whole', got {self.mode!r}")
        if self.context_margin < 0 or self.context_factor < 0 or self.feather < 0:
            raise InvalidInputError("region margins and feather must not be negative")
        if self.working_size is not None and self.working_size < 8:
            raise InvalidInputError(f"working size must be at least 8 pixels, got {self.working_size}")
        if self.tile_overlap < 1:
            raise InvalidInputError(f"tile overlap must be at least 1 pixel, got {self.tile_overlap}")
        if self.tile_size is not None and self.tile_size < 4 * self.tile_overlap:
            raise InvalidInputError(
                f"tile size must be at least 4x the overlap ({4 * self.tile_overlap}), got {self.tile_size}")


@dataclass(frozen=True)
class RegionTask:
    """One crop as a method sees it: float32 pixels and a bool hole, at working size."""

    index: int
    count: int
    #: the crop in document coordinates, context included
    bbox: BBox
    #: working size / native size (1.0: the method runs at native resolution)
    scale: float
    image: np.ndarray
    hole: np.ndarray
    #: where patches may be copied from (bool, working size, never in the hole); None: anywhere known
    sampling: np.ndarray | None = None


def _hole(mask: np.ndarray) -> np.ndarray:
    return np.asarray(mask) > 0


def _coverage(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return mask.astype(np.uint8) * np.uint8(255)
    return mask.astype(np.uint8, copy=False)


def _component_boxes(hole: np.ndarray) -> np.ndarray:
    """(n, 4) array of top, left, bottom, right of each 8-connected hole component."""
    if hole.size >= _COARSE_FROM:
        return _component_boxes_coarse(hole)
    return _component_boxes_direct(hole)


#: frames this large are labelled block-wise first (a 100 MP int32 label image alone is 400 MB)
_COARSE_FROM = 8_000_000
_BLOCK = 8


def _component_boxes_direct(hole: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    count, _, stats, _ = cv2.connectedComponentsWithStats(hole.view(np.uint8), connectivity=8)
    stats = stats[1:count].astype(np.int64)  # label 0 is the background
    left, top = stats[:, cv2.CC_STAT_LEFT] + offset[1], stats[:, cv2.CC_STAT_TOP] + offset[0]
    bottom, right = top + stats[:, cv2.CC_STAT_HEIGHT], left + stats[:, cv2.CC_STAT_WIDTH]
    return np.stack([top, left, bottom, right], axis=1)


def _component_boxes_coarse(hole: np.ndarray, block: int = _BLOCK) -> np.ndarray:
    """The same boxes as a direct labelling, at a fraction of the time and memory on a huge, sparse mask.

    Blocks of ``block`` x ``block`` pixels holding any hole pixel are labelled first; every
    8-connected component lies inside one group of connected blocks, so each group is then
    labelled exactly on its own small crop.
    """
    height, width = hole.shape
    rows, cols = -(-height // block), -(-width // block)
    padded = hole
    if (rows * block, cols * block) != hole.shape:
        padded = np.zeros((rows * block, cols * block), bool)
        padded[:height, :width] = hole
    blocks = padded.reshape(rows, block, cols, block).any(axis=(1, 3))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(blocks.view(np.uint8), connectivity=8)
    found = []
    for k in range(1, count):
        left, top, w, h = (int(v) for v in stats[k, :4])
        own = labels[top:top + h, left:left + w] == k
        fine = np.repeat(np.repeat(own, block, axis=0), block, axis=1)
        y0, x0 = top * block, left * block
        fine &= padded[y0:y0 + h * block, x0:x0 + w * block]
        found.append(_component_boxes_direct(np.ascontiguousarray(fine), (y0, x0)))
    return np.concatenate(found) if found else np.zeros((0, 4), np.int64)


def _merge_overlapping(boxes: np.ndarray) -> np.ndarray:
    """Union boxes until no two intersect.

    Why not pairwise: 10,000 dust specks would mean 10^8 comparisons. Boxes sorted by top only
    need comparing with the ones that start above their bottom, so the intersecting pairs are found
    in one vectorised sweep; each connected group of pairs becomes its union, and the sweep is
    repeated because a union may reach a box none of its members touched.
    """
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    while len(boxes) > 1:
        boxes = boxes[np.argsort(boxes[:, 0], kind="stable")]
        first, second = _intersecting_pairs(boxes)
        if not len(first):
            return boxes
        label = _group_labels(len(boxes), first, second)
        order = np.argsort(label, kind="stable")
        starts = np.flatnonzero(np.r_[True, label[order][1:] != label[order][:-1]])
        grouped = boxes[order]
        low = np.minimum.reduceat(grouped[:, :2], starts, axis=0)
        high = np.maximum.reduceat(grouped[:, 2:], starts, axis=0)
        boxes = np.concatenate([low, high], axis=1)
    return boxes


def _intersecting_pairs(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of intersecting boxes; ``boxes`` sorted by top."""
    # box j > i can intersect box i only if it starts above i's bottom: a contiguous run after i
    ends = np.searchsorted(boxes[:, 0], boxes[:, 2], side="left")
    counts = np.maximum(ends - np.arange(len(boxes)) - 1, 0)
    first = np.repeat(np.arange(len(boxes)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + offsets
    hit = (boxes[second, 1] < boxes[first, 3]) & (boxes[first, 1] < boxes[second, 3])
    return first[hit], second[hit]


def _group_labels(count: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Connected components of a graph given as edges: the smallest node index of each node's group."""
    label = np.arange(count)
    while True:
        low = np.minimum(label[first], label[second])
        new = label.copy()
        np.minimum.at(new, first, low)
        np.minimum.at(new, second, low)
        while True:  # pointer jumping: follow labels to their root
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


def plan_regions(mask: np.ndarray, options: RegionOptions | None = None,
                 sampling: np.ndarray | None = None) -> list[BBox]:
    """Disjoint crop boxes (context included) that together contain every hole pixel.

    With a ``sampling`` area (HxW, >0 = patches may come from here) a crop holding too little of it
    is grown toward it (see :func:`reach_sampling`).
    """
    options = options or RegionOptions()
    hole = np.ascontiguousarray(_hole(mask))
    if not hole.any():
        return []
    if options.mode == "whole":
        return [BBox.of_shape(hole.shape)]
    boxes = _component_boxes(hole)
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    margins = np.maximum(options.context_margin, np.ceil(options.context_factor * sides)).astype(np.int64)
    height, width = hole.shape
    grown = np.stack([
        np.maximum(boxes[:, 0] - margins, 0), np.maximum(boxes[:, 1] - margins, 0),
        np.minimum(boxes[:, 2] + margins, height), np.minimum(boxes[:, 3] + margins, width),
    ], axis=1)
    merged = _merge_overlapping(grown)
    if sampling is not None:
        merged = reach_sampling(merged, hole, sampling, options)
    order = np.lexsort((merged[:, 1], merged[:, 0]))
    return [BBox(*(int(v) for v in merged[i])) for i in order]


#: a crop grown toward the sampling area stops at this longer side (or the working size, if larger)
SAMPLING_REACH = 2048


def reach_sampling(boxes: np.ndarray, hole: np.ndarray, sampling: np.ndarray,
                   options: RegionOptions) -> np.ndarray:
    """Grow the crops that hold too little of the sampling area toward its nearest pixels.

    Why: a method sees only its crop, so a sampling area painted beyond the context margin ("copy
    the grass from over there") would be invisible to it. A crop already holding at least half as
    many sampling pixels as known pixels keeps its size: the sources are there, and growing would
    only cost time. Any other crop takes in the sampling pixels nearest to it (Chebyshev distance
    to the box) until it holds that many, but never grows past a longer side of SAMPLING_REACH (or
    the tile size, if smaller; the working size, if larger): a sampling area on the far side of a
    100 MP scan must not turn a dust speck into a 100 MP crop. The crop stays a rectangle (the
    bounding box of itself and the pixels taken in); crops that now overlap are merged again, so
    crops stay disjoint.
    Raises InvalidInputError when a crop has no sampling pixel within reach at all.
    """
    sampling = np.asarray(sampling)
    height, width = hole.shape
    # a grown crop must stay one tile, or a tile of it could end up without any sampling pixel
    tile_size = getattr(options, "tile_size", None)
    cap = max(min(SAMPLING_REACH, tile_size or SAMPLING_REACH), options.working_size or 0)
    grown = []
    for top, left, bottom, right in (tuple(int(v) for v in box) for box in boxes):
        hole_in = hole[top:bottom, left:right]
        known = hole_in.size - int(np.count_nonzero(hole_in))
        need = max(1, known // 2)
        have = int(np.count_nonzero((sampling[top:bottom, left:right] > 0) & ~hole_in))
        reach = max(0, (cap - max(bottom - top, right - left)) // 2)
        if have >= need or reach == 0:
            grown.append((top, left, bottom, right))
            if have == 0:
                raise InvalidInputError(_far_sampling_message(top, left, bottom, right, reach))
            continue
        # look in windows of doubling size: most crops need a few rows, not the whole reach
        step = max(16, max(bottom - top, right - left) // 4)
        while True:
            step = min(step, reach)
            wt, wl = max(0, top - step), max(0, left - step)
            wb, wr = min(height, bottom + step), min(width, right + step)
            found = (sampling[wt:wb, wl:wr] > 0) & ~hole[wt:wb, wl:wr]
            if step == reach or np.count_nonzero(found) >= need:
                break
            step *= 2
        ys, xs = np.nonzero(found)
        if not len(ys):
            raise InvalidInputError(_far_sampling_message(top, left, bottom, right, reach))
        ys, xs = ys + wt, xs + wl
        dist = np.maximum(np.maximum(top - ys, ys - (bottom - 1)), np.maximum(left - xs, xs - (right - 1)))
        if len(dist) > need:
            take = dist <= np.partition(dist, need - 1)[need - 1]
            ys, xs = ys[take], xs[take]
        grown.append((min(top, int(ys.min())), min(left, int(xs.min())),
                      max(bottom, int(ys.max()) + 1), max(right, int(xs.max()) + 1)))
    return _merge_overlapping(np.array(grown, dtype=np.int64).reshape(-1, 4))


def _far_sampling_message(top: int, left: int, bottom: int, right: int, reach: int) -> str:
    where = f"the hole near x={(left + right) // 2}, y={(top + bottom) // 2}"
    if reach == 0:
        return f"the sampling area does not reach {where}: paint it next to the hole"
    return (f"the sampling area is more than {reach} pixels away from {where}: "
            "paint some of it closer to the hole")


def working_shape(box: BBox, working_size: int | None) -> tuple[int, int]:
    """(height, width) a crop is processed at: native, or its longer side shrunk to working_size."""
    longest = max(box.height, box.width)
    if working_size is None or longest <= working_size:
        return box.height, box.width
    scale = working_size / longest
    return max(1, round(box.height * scale)), max(1, round(box.width * scale))


def prepare_region(pixels: np.ndarray, mask: np.ndarray, box: BBox, options: RegionOptions,
                   index: int = 0, count: int = 1, sampling: np.ndarray | None = None) -> RegionTask:
    """Cut one crop out, convert it to float32 and shrink it to the method's working size.

    Hole pixels are blanked to 0 so no method can (even by accident) copy what is being removed.
    ``sampling`` (HxW, >0 = may copy from) becomes ``task.sampling``: a working pixel is a source if
    at least half of it was, and never if it is a hole pixel.
    """
    image = to_float(pixels[box.slices])
    hole = _hole(mask[box.slices])
    out_h, out_w = working_shape(box, options.working_size)
    scale = scale_factor(box, options.working_size)
    if (out_h, out_w) != (box.height, box.width):
        image = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
        # any hole coverage in a working pixel makes it a hole pixel: the hole never shrinks
        hole = cv2.resize(hole.astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_AREA) > 0
        image = image.reshape(out_h, out_w, *pixels.shape[2:])
    image[hole] = 0.0
    allowed = None
    if sampling is not None:
        allowed = np.asarray(sampling)[box.slices] > 0
        if allowed.shape != hole.shape:
            share = cv2.resize(allowed.astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_AREA)
            allowed = share >= 0.5
        allowed &= ~hole
    return RegionTask(index=index, count=count, bbox=box, scale=scale, image=image, hole=hole,
                      sampling=allowed)


def blend_weight(coverage: np.ndarray, feather: int) -> np.ndarray:
    """Per-pixel share of the fill: the mask's coverage, ramped down just inside the hole's edge."""
    weight = coverage.astype(np.float32) * np.float32(1.0 / 255.0)
    if feather > 0:
        hole = (coverage > 0).astype(np.uint8)
        # distance to the nearest known pixel; the image border does not count as known
        inside = cv2.distanceTransform(hole, cv2.DIST_L2, 5)
        weight *= np.clip(inside / np.float32(feather + 1), 0.0, 1.0)
    return weight


def finish_region(task: RegionTask, pixels: np.ndarray, mask: np.ndarray, filled: np.ndarray,
                  options: RegionOptions) -> np.ndarray:
    """Upscale a method's output to the crop and composite it into the hole (native dtype crop).

    Pixels where the mask is 0 are copied from ``pixels`` untouched: bit-identical by construction.
    """
    box = task.bbox
    original = pixels[box.slices]
    filled = np.asarray(filled, dtype=np.float32)
    if filled.shape != task.image.shape:
        raise MethodFailedError(
            f"the method returned an image of shape {filled.shape}, expected {task.image.shape}")
    if task.scale != 1.0:
        filled = cv2.resize(filled, (box.width, box.height), interpolation=cv2.INTER_CUBIC)
        filled = filled.reshape(original.shape)
    weight = blend_weight(_coverage(mask[box.slices]), options.feather)
    changed = weight > 0
    result = original.copy()
    share = weight[changed]
    if original.ndim == 3:
        share = share[:, None]
    mixed = to_float(original[changed]) * (1.0 - share) + np.clip(filled[changed], 0.0, 1.0) * share
    result[changed] = from_float(mixed, original.dtype)
    return result


def inpaint_regions(
    pixels: np.ndarray,
    mask: np.ndarray,
    fill: Callable[[RegionTask], np.ndarray],
    options: RegionOptions | None = None,
    on_region_done: Callable[[RegionTask, np.ndarray], None] | None = None,
    sampling: np.ndarray | None = None,
) -> np.ndarray:
    """Fill every hole of ``pixels`` with ``fill`` region by region; returns a new image.

    ``fill`` gets each :class:`RegionTask` and returns float32 pixels of ``task.image``'s shape.
    ``sampling`` (HxW, >0 = patches may come from here) grows the crops to reach it and is handed
    to the method as ``task.sampling``; None lets the method copy from anywhere in its crop.
    """
    options = options or RegionOptions()
    if pixels.shape[:2] != np.shape(mask)[:2]:
        (mask_h, mask_w), (image_h, image_w) = np.shape(mask)[:2], pixels.shape[:2]
        raise InvalidInputError(f"mask is {mask_w}x{mask_h} but the image is {image_w}x{image_h}")
    if sampling is not None and pixels.shape[:2] != np.shape(sampling)[:2]:
        (samp_h, samp_w), (image_h, image_w) = np.shape(sampling)[:2], pixels.shape[:2]
        raise InvalidInputError(
            f"the sampling area is {samp_w}x{samp_h} but the image is {image_w}x{image_h}")
    out = pixels.copy()
    tiles = _plan_tiles(mask, plan_regions(mask, options, sampling), options)
    done: dict[int, list[_Tile]] = {}  # tiles already pasted, per crop, for the blend of overlaps
    for index, tile in enumerate(tiles):
        task = prepare_region(pixels, mask, tile.bbox, options, index, len(tiles), sampling)
        crop = finish_region(task, pixels, mask, fill(task), options)
        crop = _blend_tile(out, mask, tile, crop, done)
        out[tile.bbox.slices] = crop
        if on_region_done is not None:
            on_region_done(task, crop)
    return out


def scale_factor(box: BBox, working_size: int | None) -> float:
    """How much a crop is shrunk for the method (1.0: not at all)."""
    out_h, out_w = working_shape(box, working_size)
    return min(out_h / box.height, out_w / box.width) if box.area else 1.0


@dataclass(frozen=True)
class _Tile:
    """One piece of a crop too large to fill at once, with its share of the overlaps."""

    bbox: BBox
    #: index of the planned crop it belongs to (tiles of different crops never overlap)
    group: int
    #: 1-D blend weights along rows / columns (1 inside, linear ramps in the overlaps)
    rows: np.ndarray
    cols: np.ndarray

    def weight(self, part: BBox) -> np.ndarray:
        """The 2-D weight over ``part`` (document coordinates, inside this tile)."""
        local = part.relative_to(self.bbox)
        return np.outer(self.rows[local.top:local.bottom], self.cols[local.left:local.right])


def _split_axis(start: int, stop: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Equal spans covering [start, stop), at most ``size`` long, neighbours sharing about ``overlap`` px.

    Only consecutive spans overlap (size >= 4 * overlap guarantees it), which the weights rely on.
    """
    length = stop - start
    if length <= size:
        return [(start, stop)]
    count = -(-(length - overlap) // (size - overlap))
    span = -(-(length + (count - 1) * overlap) // count)
    starts = [start + i * (length - span) // (count - 1) for i in range(count)]
    return [(lo, lo + span) for lo in starts]


def _ramps(spans: list[tuple[int, int]]) -> list[np.ndarray]:
    """Per span, weights rising across the overlap with the previous span and falling across the next.

    In every overlap the two weights sum to exactly 1, so a pixel's blend is a weighted mean.
    """
    ramps = []
    for i, (lo, hi) in enumerate(spans):
        weight = np.ones(hi - lo, np.float32)
        if i > 0 and spans[i - 1][1] > lo:
            width = spans[i - 1][1] - lo
            weight[:width] = (np.arange(width, dtype=np.float32) + 0.5) / width
        if i + 1 < len(spans) and spans[i + 1][0] < hi:
            width = hi - spans[i + 1][0]
            weight[hi - lo - width:] *= (np.arange(width, 0, -1, dtype=np.float32) - 0.5) / width
        ramps.append(weight)
    return ramps


def _plan_tiles(mask: np.ndarray, boxes: list[BBox], options: RegionOptions) -> list[_Tile]:
    """The planned crops, each split into overlapping tiles if longer than ``options.tile_size``.

    Tiles without a hole pixel are dropped: they would change nothing, and as no hole pixel lies in
    them the remaining weights still sum to 1 wherever there is something to blend.
    """
    size = options.tile_size
    tiles = []
    for group, box in enumerate(boxes):
        if size is None or options.mode == "whole" or max(box.height, box.width) <= size:
            tiles.append(_Tile(box, group, np.ones(box.height, np.float32), np.ones(box.width, np.float32)))
            continue
        row_spans = _split_axis(box.top, box.bottom, size, options.tile_overlap)
        col_spans = _split_axis(box.left, box.right, size, options.tile_overlap)
        for (top, bottom), rows in zip(row_spans, _ramps(row_spans), strict=True):
            for (left, right), cols in zip(col_spans, _ramps(col_spans), strict=True):
                tile = BBox(top, left, bottom, right)
                if _hole(mask[tile.slices]).any():
                    tiles.append(_Tile(tile, group, rows, cols))
    return tiles


def _blend_tile(out: np.ndarray, mask: np.ndarray, tile: _Tile, crop: np.ndarray,
                done: dict[int, list[_Tile]]) -> np.ndarray:
    """Mix a finished tile into what earlier tiles of its crop left in ``out`` (hole pixels only).

    Each earlier value already is the weighted mean of the tiles before, so the running mean
    ``(W_old * old + w * new) / (W_old + w)`` ends as the weighted mean of all tiles: no seam.
    Pixels outside the hole are ``crop``'s, i.e. the input's bits. Records ``tile`` in ``done``.
    """
    earlier = None
    group = done.setdefault(tile.group, [])
    for other in group:
        if other.bbox.intersects(tile.bbox):
            part = BBox(max(tile.bbox.top, other.bbox.top), max(tile.bbox.left, other.bbox.left),
                        min(tile.bbox.bottom, other.bbox.bottom), min(tile.bbox.right, other.bbox.right))
            if earlier is None:
                earlier = np.zeros((tile.bbox.height, tile.bbox.width), np.float32)
            earlier[part.relative_to(tile.bbox).slices] += other.weight(part)
    group.append(tile)
    if earlier is None:
        return crop
    mix = _hole(mask[tile.bbox.slices]) & (earlier > 0)
    if not mix.any():
        return crop
    old = earlier[mix]
    new = tile.weight(tile.bbox)[mix]
    if crop.ndim == 3:
        old, new = old[:, None], new[:, None]
    mixed = (to_float(out[tile.bbox.slices][mix]) * old + to_float(crop[mix]) * new) / (old + new)
    crop = crop.copy()
    crop[mix] = from_float(mixed, crop.dtype)
    return crop
