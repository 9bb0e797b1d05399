"""Region strategy: run any method on the holes only, at its working size, and paste back cleanly.

Why: a 24-100 MP photo with a small hole must cost what the hole costs, not what the frame
costs, and a network that works at 512 px must see a 512 px crop with enough context around the
hole. Each hole's bounding box is grown by a context margin; boxes whose context overlaps are
merged so every hole pixel belongs to exactly one crop (the crops are disjoint, so order does not
matter). A crop larger than the method's working size is downscaled for the method and its result
upscaled again. Only the hole is composited back, weighted by the mask's coverage (soft masks) and
an optional feather that stays *inside* the hole — so every pixel outside the mask is
bit-identical to the input at 8 and 16 bit.

Unlike a feather that straddles the mask edge, an inside feather never blends the filled area
over known pixels; its cost is that the outermost hole pixels keep a share of the original, which
is why it defaults to 0 and soft brushes provide the softness instead.
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

    def __post_init__(self) -> None:
        if self.mode not in ("crop", "whole"):
            raise InvalidInputError(f"region mode must be 'crop' or 'whole', got {self.mode!r}")
        if self.context_margin < 0 or self.context_factor < 0 or self.feather < 0:
            raise InvalidInputError("region margins and feather must not be negative")
        if self.working_size is not None and self.working_size < 8:
            raise InvalidInputError(f"working size must be at least 8 pixels, got {self.working_size}")


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


def _hole(mask: np.ndarray) -> np.ndarray:
    return np.asarray(mask) > 0


def _coverage(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return mask.astype(np.uint8) * np.uint8(255)
    return mask.astype(np.uint8, copy=False)


def _component_boxes(hole: np.ndarray) -> np.ndarray:
    """(n, 4) array of top, left, bottom, right of each 8-connected hole component."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(hole.view(np.uint8), connectivity=8)
    stats = stats[1:count]  # label 0 is the background
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    bottom, right = top + stats[:, cv2.CC_STAT_HEIGHT], left + stats[:, cv2.CC_STAT_WIDTH]
    return np.stack([top, left, bottom, right], axis=1)


def _merge_overlapping(boxes: np.ndarray) -> np.ndarray:
    """Union boxes until no two intersect (vectorised per box: thousands of dust specks stay cheap)."""
    while True:
        merged = []
        remaining = boxes
        while len(remaining):
            current, rest = remaining[0].copy(), remaining[1:]
            while len(rest):
                hit = ((rest[:, 0] < current[2]) & (current[0] < rest[:, 2])
                       & (rest[:, 1] < current[3]) & (current[1] < rest[:, 3]))
                if not hit.any():
                    break
                group = rest[hit]
                current = np.array([min(current[0], group[:, 0].min()), min(current[1], group[:, 1].min()),
                                    max(current[2], group[:, 2].max()), max(current[3], group[:, 3].max())])
                rest = rest[~hit]
            merged.append(current)
            remaining = rest
        result = np.array(merged).reshape(-1, 4)
        if len(result) == len(boxes):
            return result
        boxes = result  # a union may have grown into a box it did not touch before


def plan_regions(mask: np.ndarray, options: RegionOptions | None = None) -> list[BBox]:
    """Disjoint crop boxes (context included) that together contain every hole pixel."""
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
    order = np.lexsort((merged[:, 1], merged[:, 0]))
    return [BBox(*(int(v) for v in merged[i])) for i in order]


def working_shape(box: BBox, working_size: int | None) -> tuple[int, int]:
    """(height, width) a crop is processed at: native, or its longer side shrunk to working_size."""
    longest = max(box.height, box.width)
    if working_size is None or longest <= working_size:
        return box.height, box.width
    scale = working_size / longest
    return max(1, round(box.height * scale)), max(1, round(box.width * scale))


def prepare_region(pixels: np.ndarray, mask: np.ndarray, box: BBox, options: RegionOptions,
                   index: int = 0, count: int = 1) -> RegionTask:
    """Cut one crop out, convert it to float32 and shrink it to the method's working size.

    Hole pixels are blanked to 0 so no method can (even by accident) copy what is being removed.
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
    return RegionTask(index=index, count=count, bbox=box, scale=scale, image=image, hole=hole)


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
) -> np.ndarray:
    """Fill every hole of ``pixels`` with ``fill`` region by region; returns a new image.

    ``fill`` gets each :class:`RegionTask` and returns float32 pixels of ``task.image``'s shape.
    """
    options = options or RegionOptions()
    if pixels.shape[:2] != np.shape(mask)[:2]:
        (mask_h, mask_w), (image_h, image_w) = np.shape(mask)[:2], pixels.shape[:2]
        raise InvalidInputError(f"mask is {mask_w}x{mask_h} but the image is {image_w}x{image_h}")
    out = pixels.copy()
    boxes = plan_regions(mask, options)
    for index, box in enumerate(boxes):
        task = prepare_region(pixels, mask, box, options, index, len(boxes))
        crop = finish_region(task, pixels, mask, fill(task), options)
        out[box.slices] = crop
        if on_region_done is not None:
            on_region_done(task, crop)
    return out


def scale_factor(box: BBox, working_size: int | None) -> float:
    """How much a crop is shrunk for the method (1.0: not at all)."""
    out_h, out_w = working_shape(box, working_size)
    return min(out_h / box.height, out_w / box.width) if box.area else 1.0


