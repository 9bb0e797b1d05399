"""Operations on masks: the user's "what to remove" layer.

A mask is an H x W uint8 *coverage* array: 0 = keep, 255 = fill, values between = a soft (partial)
blend. Every function here accepts a bool mask too (True -> 255) and returns a new array, so the
document's mask is never changed behind the caller's back. The one exception is the brush
(:func:`paint_segment`, :func:`paint_disc`): it runs on every mouse move over 24-100 MP masks, so it
writes in place and touches only the stroke's bounding box, never the whole frame.

Other functions also work on the hole's bounding box (plus the operation's reach) rather than the
whole frame where the result outside it is known, because a typical mask is a few small strokes on
a large photo.

Coordinates are ``(row, col)``; boxes are half-open :class:`BBox` values.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import cv2
import numpy as np

from inpaint_studio.core.errors import (
    EmptyMaskError,
    FullMaskError,
    InvalidInputError,
    InvalidParameterError,
    MaskMismatchError,
)
from inpaint_studio.core.types import BBox

__all__ = [
    "MAX_RADIUS",
    "as_coverage",
    "bbox_of",
    "check_mask_usable",
    "connected_regions",
    "coverage_fraction",
    "dilate",
    "disc",
    "erode",
    "feather",
    "hole_of",
    "invert",
    "paint_disc",
    "paint_segment",
    "region_labels",
    "segment_bbox",
    "threshold",
]

#: largest radius (pixels) dilate/erode/feather accept; far beyond any photo, it only stops a typo
#: (an extra zero) from asking for a kernel that would take minutes to apply.
MAX_RADIUS = 10_000

# From this radius on, a hard mask is grown/shrunk through a Euclidean distance transform (cost
# independent of the radius) instead of a disc kernel (cost grows with the radius). Measured on
# 24 MP: the kernel is faster below ~16 px, the distance transform above.
_DISTANCE_PATH_MIN_RADIUS = 16

# The brush splits a long segment into pieces of about this many pixels (or 4 radii), so a fast
# diagonal drag never allocates a float array the size of the segment's whole bounding box.
_BRUSH_PIECE_MIN = 256

_EMPTY_BOX = BBox(0, 0, 0, 0)


# --------------------------------------------------------------------------------------------
# Conversion and validation


def as_coverage(mask: np.ndarray) -> np.ndarray:
    """A new uint8 coverage array (0 keep .. 255 fill) from a bool, uint8 or float [0, 1] mask.

    Validation lives here so every entry point (file, brush, CLI, plug-in) reports a bad mask with
    the same plain message instead of failing somewhere inside a method. Floats are rounded to the
    nearest 1/255, so a float coverage below 0.5/255 counts as "keep".
    """
    return _coverage(mask, copy=True)


def hole_of(mask: np.ndarray) -> np.ndarray:
    """The pixels a method must fill (bool H x W): every pixel with any coverage at all."""
    return _coverage(mask) > 0


def _coverage(mask: np.ndarray, *, copy: bool = False) -> np.ndarray:
    """:func:`as_coverage`, but a uint8 input comes back as itself unless ``copy``: for read-only use."""
    array = np.asarray(mask)
    if array.ndim != 2:
        raise InvalidInputError(
            f"the mask must be a 2-D (height x width) array, got shape {tuple(array.shape)}")
    if array.dtype == np.uint8:
        return array.copy() if copy else array
    if array.dtype == np.bool_:
        # a numpy bool is one byte holding 0 or 1, so the view is free and exact
        return array.view(np.uint8) * np.uint8(255)
    if np.issubdtype(array.dtype, np.floating):
        if array.size and not (np.isfinite(array).all()):
            raise InvalidInputError("the mask contains NaN or infinite values")
        if array.size and (array.min() < 0.0 or array.max() > 1.0):
            raise InvalidInputError(
                f"a floating-point mask must hold values in [0, 1], got [{float(array.min()):g}, "
                f"{float(array.max()):g}]")
        return np.rint(array.astype(np.float32) * np.float32(255.0)).astype(np.uint8)
    # int arrays are refused rather than guessed at: is 1 "full" (a 0/1 mask) or 1/255 coverage?
    raise InvalidInputError(
        f"the mask must be bool, uint8 (0-255) or floating point in [0, 1], got {array.dtype}")


def check_mask_usable(mask: np.ndarray, shape: tuple[int, ...]) -> None:
    """Raise a user-facing error if this mask cannot drive a fill of an image of ``shape``.

    ``shape`` is the image's (H, W) or (H, W, C). A method needs something to fill (not empty) and
    something to fill from: "full" means no known pixel at all. A mask leaving only a handful of
    known pixels is allowed; the result will be poor, but that is a quality issue, not an error.
    """
    coverage = _coverage(mask)
    (mask_h, mask_w), (image_h, image_w) = coverage.shape, tuple(int(n) for n in shape[:2])
    if (mask_h, mask_w) != (image_h, image_w):
        raise MaskMismatchError(f"the mask is {mask_w}x{mask_h} but the image is {image_w}x{image_h}")
    if not coverage.any():
        raise EmptyMaskError("the mask is empty: paint over what should be removed")
    if coverage.all():
        raise FullMaskError("the mask covers the whole image: at least some pixels must stay as a reference")


def _check_radius(px: object, what: str) -> int:
    """Radii come from spin boxes and the CLI: whole pixels, 0..MAX_RADIUS."""
    if isinstance(px, bool) or not isinstance(px, Integral):
        raise InvalidParameterError(f"{what} must be a whole number of pixels, got {px!r}")
    value = int(px)
    if value < 0:
        raise InvalidParameterError(f"{what} must be 0 or more pixels, got {value}")
    if value > MAX_RADIUS:
        raise InvalidParameterError(f"{what} must be at most {MAX_RADIUS} pixels, got {value}")
    return value


# --------------------------------------------------------------------------------------------
# Whole-mask operations


def disc(radius: int) -> np.ndarray:
    """Round structuring element: the pixels whose distance from the centre rounds to <= ``radius``.

    ``x^2 + y^2 <= r^2 + r`` is "distance < r + 0.5" on the integer grid, so radius 1 is the full
    3x3 square (a one-pixel grow in every direction, as users expect) rather than a thin cross.
    """
    offsets = np.arange(-radius, radius + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius + radius).astype(np.uint8)


def dilate(mask: np.ndarray, px: int) -> np.ndarray:
    """Grow the mask by ``px`` pixels with a round brush ("Expand selection").

    Soft masks grow by grey-level dilation (each pixel takes the largest coverage within ``px``), so
    a feathered edge moves outwards keeping its shape. ``px=0`` returns a copy.
    """
    return _morph(mask, _check_radius(px, "the grow radius"), grow=True)


def erode(mask: np.ndarray, px: int) -> np.ndarray:
    """Shrink the mask by ``px`` pixels with a round brush ("Contract selection").

    Grey-level erosion (smallest coverage within ``px``). Like Photoshop's default, the image
    border does not eat into a hole that touches it: only known pixels shrink the hole.
    """
    return _morph(mask, _check_radius(px, "the shrink radius"), grow=False)


def _morph(mask: np.ndarray, radius: int, *, grow: bool) -> np.ndarray:
    # Our own copy: crops are read from it and written back in place, the input is never touched.
    result = coverage = _coverage(mask, copy=True)
    if radius == 0:
        return result
    box = bbox_of(coverage)
    if box is None:
        return result  # nothing to grow or shrink
    # A disc wider than the image's diagonal reaches everything: clamping changes nothing.
    radius = min(radius, math.ceil(math.hypot(*coverage.shape)) + 1)
    # Outside the hole's box grown by the radius the answer is already known (0), and every pixel
    # inside that box sees its whole neighbourhood within it (or the image border, as in a full run).
    crop_box = box.expanded(radius, coverage.shape)
    crop = coverage[crop_box.slices]
    if radius >= _DISTANCE_PATH_MIN_RADIUS and _is_hard(crop):
        out = _morph_hard_by_distance(crop, radius, grow=grow)
    else:
        op = cv2.dilate if grow else cv2.erode
        # OpenCV's default border leaves the image edge out of both min and max.
        out = op(np.ascontiguousarray(crop), disc(radius))
    result[crop_box.slices] = out
    return result


def _is_hard(coverage: np.ndarray) -> bool:
    """True if every value is 0 or 255 (uint8 wrap-around: v - 1 < 254 exactly for 1..254)."""
    return not bool(np.any(coverage - np.uint8(1) < 254))


def _morph_hard_by_distance(coverage: np.ndarray, radius: int, *, grow: bool) -> np.ndarray:
    """Same result as a disc(radius) dilation/erosion of a 0/255 mask, at a cost independent of radius.

    The exact Euclidean distance transform gives each pixel its distance to the nearest pixel of the
    other kind; the disc holds the offsets with ``d^2 <= r^2 + r`` (integers, so compare with a half
    step of slack against float rounding). Pixels beyond the image border do not count, as in
    ``cv2.erode``.
    """
    limit = math.sqrt(radius * radius + radius + 0.5)
    hole = coverage > 0
    if grow:
        # distance of each pixel to the nearest hole pixel (zeros of the source)
        source = np.where(hole, np.uint8(0), np.uint8(255))
        distance = cv2.distanceTransform(source, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        keep = distance <= limit
    else:
        # distance of each hole pixel to the nearest known pixel
        source = np.where(hole, np.uint8(255), np.uint8(0))
        distance = cv2.distanceTransform(source, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        keep = distance > limit
    return keep.astype(np.uint8) * np.uint8(255)


def feather(mask: np.ndarray, px: int) -> np.ndarray:
    """Soften the mask's edge over about ``px`` pixels, as Photoshop's "Feather" does.

    A Gaussian blur of the coverage with sigma ``px / 2``, cut off at ``px``: the edge becomes a
    smooth ramp centred on where it was (about ``px`` wide from 10 % to 90 %), corners round off
    and features thinner than ``px`` fade, which is what a Photoshop user expects. Because the
    kernel stops at ``px``, a pixel whose (2 px + 1) square neighbourhood is uniform keeps its
    value exactly (deep inside stays 255, far outside stays 0). The image border is treated as
    continuing the mask, so a hole touching the edge does not fade out there. ``px=0`` returns a copy.
    """
    radius = _check_radius(px, "the feather radius")
    # Our own copy: crops are read from it and written back in place, the input is never touched.
    result = coverage = _coverage(mask, copy=True)
    if radius == 0:
        return result
    box = bbox_of(coverage)
    if box is None:
        return result
    # Pixels farther than the kernel from every hole pixel stay 0; the crop's outer rows are 0 too,
    # so replicating them at a crop edge inside the image gives what the full image would.
    crop_box = box.expanded(radius, coverage.shape)
    crop = np.ascontiguousarray(coverage[crop_box.slices])
    size = 2 * radius + 1
    result[crop_box.slices] = cv2.GaussianBlur(crop, (size, size), radius / 2.0, radius / 2.0,
                                               borderType=cv2.BORDER_REPLICATE)
    return result


def invert(mask: np.ndarray) -> np.ndarray:
    """Swap fill and keep ("Select inverse"); soft coverage c becomes 255 - c."""
    return np.uint8(255) - _coverage(mask)


def threshold(mask: np.ndarray, level: int = 128) -> np.ndarray:
    """A hard 0/255 mask: 255 where coverage >= ``level`` (1..255), else 0.

    For methods and tools that cannot use soft coverage; level 1 keeps every touched pixel.
    """
    if isinstance(level, bool) or not isinstance(level, Integral) or not 1 <= int(level) <= 255:
        raise InvalidParameterError(
            f"the threshold level must be a whole number from 1 to 255, got {level!r}")
    return np.where(_coverage(mask) >= int(level), np.uint8(255), np.uint8(0))


def coverage_fraction(mask: np.ndarray) -> float:
    """Share of the image the mask fills, weighting soft pixels by their coverage (0.0 .. 1.0).

    For the status bar ("mask: 3.2 % of the image"); an empty (0-pixel) mask gives 0.0.
    """
    coverage = _coverage(mask)
    if coverage.size == 0:
        return 0.0
    return float(coverage.sum(dtype=np.uint64)) / (255.0 * coverage.size)


# --------------------------------------------------------------------------------------------
# Regions


def bbox_of(mask: np.ndarray) -> BBox | None:
    """Tight box around every pixel with coverage > 0, or None if the mask is empty."""
    coverage = _coverage(mask)
    if coverage.size == 0:
        return None
    left, top, width, height = cv2.boundingRect(coverage)  # of the non-zero pixels; one pass
    if width == 0 or height == 0:
        return None
    return BBox(top, left, top + height, left + width)


def connected_regions(mask: np.ndarray) -> list[BBox]:
    """Tight boxes of the hole's 8-connected components, sorted top to bottom, then left to right.

    Separate strokes become separate regions, so each can be filled on its own small crop. Boxes of
    different components may overlap (a dot inside a ring); their pixels never do.
    """
    coverage = _coverage(mask)
    box = bbox_of(coverage)
    if box is None:
        return []
    hole = (coverage[box.slices] > 0).view(np.uint8)
    # Outer contours are an order of magnitude faster than labelling every pixel on a large mask.
    # In the two-level (CCOMP) hierarchy every component's outer boundary is at the top level (a
    # component inside another's hole included); its bounding rectangle is the component's box.
    contours, hierarchy = cv2.findContours(hole, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    rects = np.array([cv2.boundingRect(contour) for contour, link in zip(contours, hierarchy[0], strict=True)
                      if link[3] < 0], dtype=np.int64).reshape(-1, 4)
    lefts, tops, widths, heights = rects.T
    return _sorted_boxes(box, tops, lefts, tops + heights, lefts + widths)[0]


def region_labels(mask: np.ndarray) -> tuple[int, np.ndarray]:
    """Label the hole's 8-connected components: (count, int32 H x W labels, 0 = not in the hole).

    Label ``i`` (1-based) is the component whose box is ``connected_regions(mask)[i - 1]``, so a
    caller can go from a box to its exact pixels (``labels == i``). Costs a full-size int32 array;
    prefer :func:`connected_regions` when boxes are enough.
    """
    coverage = _coverage(mask)
    labels = np.zeros(coverage.shape, dtype=np.int32)
    box = bbox_of(coverage)
    if box is None:
        return 0, labels
    hole = (coverage[box.slices] > 0).view(np.uint8)
    total, crop_labels, stats, _centroids = cv2.connectedComponentsWithStats(hole, connectivity=8,
                                                                             ltype=cv2.CV_32S)
    stats = stats[1:total].astype(np.int64)  # row 0 is the background
    lefts, tops = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    bottoms, rights = tops + stats[:, cv2.CC_STAT_HEIGHT], lefts + stats[:, cv2.CC_STAT_WIDTH]
    _boxes, order = _sorted_boxes(box, tops, lefts, bottoms, rights)
    remap = np.zeros(total, dtype=np.int32)  # OpenCV's label -> our label, in sorted-box order
    remap[order + 1] = np.arange(1, total, dtype=np.int32)
    labels[box.slices] = remap[crop_labels]
    return total - 1, labels


def _sorted_boxes(origin: BBox, tops: np.ndarray, lefts: np.ndarray, bottoms: np.ndarray,
                  rights: np.ndarray) -> tuple[list[BBox], np.ndarray]:
    """Boxes (crop coordinates shifted by ``origin``'s corner) in reading order, and that order."""
    order = np.lexsort((rights, bottoms, lefts, tops))
    boxes = [BBox(origin.top + int(tops[i]), origin.left + int(lefts[i]),
                  origin.top + int(bottoms[i]), origin.left + int(rights[i])) for i in order]
    return boxes, order


# --------------------------------------------------------------------------------------------
# Brush (mutates in place)


def segment_bbox(shape: tuple[int, ...], p0: tuple[float, float], p1: tuple[float, float],
                 radius: float) -> BBox:
    """The box :func:`paint_segment` would touch, clipped to an image of ``shape``.

    The brush tool calls this first to save the old pixels for undo, then paints.
    """
    (r0, c0), (r1, c1), radius = _check_point(p0), _check_point(p1), _check_brush_radius(radius)
    height, width = int(shape[0]), int(shape[1])
    top = max(0, math.ceil(min(r0, r1) - radius))
    left = max(0, math.ceil(min(c0, c1) - radius))
    bottom = min(height, math.floor(max(r0, r1) + radius) + 1)
    right = min(width, math.floor(max(c0, c1) + radius) + 1)
    if top >= bottom or left >= right:
        return _EMPTY_BOX
    return BBox(top, left, bottom, right)


def paint_disc(mask: np.ndarray, center: tuple[float, float], radius: float, value: int = 255,
               hardness: float = 1.0) -> BBox:
    """One brush dab (a click without a drag); see :func:`paint_segment`."""
    return paint_segment(mask, center, center, radius, value, hardness)


def paint_segment(mask: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], radius: float,
                  value: int = 255, hardness: float = 1.0) -> BBox:
    """Stamp a round brush dragged from ``p0`` to ``p1`` (a capsule) into ``mask`` IN PLACE.

    The one documented exception to purity: the editor calls it on every mouse move over masks of
    24-100 MP, so it writes into ``mask`` (a writable uint8 H x W array) and touches only the
    segment's bounding box. Points are ``(row, col)`` floats with pixel ``mask[i, j]`` centred at
    ``(i, j)``; they may lie outside the image (the stamp is clipped).

    ``hardness`` 1 gives a hard edge (a pixel is in when its centre is within ``radius`` of the
    segment, so painting then erasing the same stroke restores exactly 0); lower values ramp the
    brush smoothly from full at ``hardness * radius`` to nothing at ``radius`` (0: soft all the way
    from the centre).

    ``value`` > 0 paints up to that coverage and never lowers what is there (max), so re-stamping
    the joint between two consecutive segments does not build up darker blotches; ``value`` 0
    erases (coverage becomes min(existing, 255 - brush)), never raising it.

    Returns the clipped box the stamp covers (what :func:`segment_bbox` gives), even where the
    pixels happened to hold those values already; an empty box if the stamp misses the image.
    """
    if not (isinstance(mask, np.ndarray) and mask.ndim == 2 and mask.dtype == np.uint8
            and mask.flags.writeable):
        raise InvalidInputError("the brush paints into a writable 2-D uint8 coverage mask")
    if isinstance(value, bool) or not isinstance(value, Integral) or not 0 <= int(value) <= 255:
        raise InvalidParameterError(f"the brush value must be a whole number from 0 to 255, got {value!r}")
    if isinstance(hardness, bool) or not isinstance(hardness, Real) or not 0.0 <= float(hardness) <= 1.0:
        raise InvalidParameterError(f"the brush hardness must be between 0 and 1, got {hardness!r}")
    box = segment_bbox(mask.shape, p0, p1, radius)
    if box.is_empty:
        return box
    start, end, radius = _check_point(p0), _check_point(p1), float(radius)
    # A long drag is stamped as consecutive pieces. Exact: the distance to the segment is the
    # smallest distance to a piece, the brush falls off with distance, and max/min combining means
    # a pixel ends at its strongest stamp however many pieces reach it.
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    pieces = max(1, math.ceil(length / max(_BRUSH_PIECE_MIN, 4.0 * radius)))
    for k in range(pieces):
        a = _lerp(start, end, k / pieces)
        b = _lerp(start, end, (k + 1) / pieces) if k + 1 < pieces else end
        piece_box = segment_bbox(mask.shape, a, b, radius)
        if not piece_box.is_empty:
            _stamp(mask, piece_box, a, b, radius, int(value), float(hardness))
    return box


def _lerp(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def _stamp(mask: np.ndarray, box: BBox, p0: tuple[float, float], p1: tuple[float, float],
           radius: float, value: int, hardness: float) -> None:
    # Coordinates relative to p0 keep float32 exact enough anywhere on a 100 MP frame.
    rows = np.arange(box.top, box.bottom, dtype=np.float64)[:, None] - p0[0]
    cols = np.arange(box.left, box.right, dtype=np.float64)[None, :] - p0[1]
    rows, cols = rows.astype(np.float32), cols.astype(np.float32)
    dr, dc = np.float32(p1[0] - p0[0]), np.float32(p1[1] - p0[1])
    length2 = float(dr) * float(dr) + float(dc) * float(dc)
    if length2 > 1e-12:  # shorter than a millionth of a pixel: a dot (and no float32 underflow)
        # closest point of the segment: p0 + t (p1 - p0), t clipped to [0, 1]
        t = np.clip((rows * dr + cols * dc) / np.float32(length2), 0.0, 1.0)
        off_r, off_c = rows - t * dr, cols - t * dc
        dist2 = off_r * off_r + off_c * off_c
    else:
        dist2 = rows * rows + cols * cols
    level = value if value else 255  # erasing stamps full strength, then takes 255 - that
    soft_width = radius * (1.0 - hardness)
    if soft_width < 1e-3:  # a ramp a thousandth of a pixel wide is a hard edge (and avoids 0 / 0)
        brush = np.where(dist2 <= np.float32(radius * radius), np.uint8(level), np.uint8(0))
    else:
        ramp = (np.float32(radius) - np.sqrt(dist2)) / np.float32(soft_width)
        ramp = np.clip(ramp, 0.0, 1.0)
        strength = ramp * ramp * (np.float32(3.0) - np.float32(2.0) * ramp)  # smoothstep: no visible rim
        brush = np.rint(strength * np.float32(level)).astype(np.uint8)
    target = mask[box.slices]  # a view: writing it writes the caller's mask
    if value:
        np.maximum(target, brush, out=target)
    else:
        np.minimum(target, np.uint8(255) - brush, out=target)


def _check_point(point: tuple[float, float]) -> tuple[float, float]:
    try:
        row, col = (float(v) for v in point)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"a brush point must be a (row, col) pair, got {point!r}") from None
    if not (math.isfinite(row) and math.isfinite(col)):
        raise InvalidParameterError(f"a brush point must be finite, got {point!r}")
    return row, col


def _check_brush_radius(radius: float) -> float:
    if isinstance(radius, bool) or not isinstance(radius, Real) or not math.isfinite(float(radius)) \
            or float(radius) < 0.0:
        raise InvalidParameterError(f"the brush radius must be a number of pixels >= 0, got {radius!r}")
    return float(radius)
