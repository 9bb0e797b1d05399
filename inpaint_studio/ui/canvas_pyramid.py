"""8-bit display pyramids for the canvas, built once and then updated box by box.

Why: a 100 MP photo cannot be converted and scaled on every paint. Level 0 is the photo in 8 bits
(the document's own array when it is already 8-bit: no copy at all); level k is level k-1 halved
(2 x 2 mean, the last odd row/column replicated). The canvas draws from the level whose pixels are
just larger than screen pixels, so a paint touches about as many pixels as the screen has. Levels
are built the first time they are needed; after that a change to the document refreshes only the
changed box on each built level. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from inpaint_studio.core.types import BBox

#: coarsest level is at most this many pixels on its longer side
_TOP_SIZE = 256


def to_display_u8(values: np.ndarray) -> np.ndarray:
    """uint8 or uint16 -> uint8 (round(x / 257)); uint8 comes back as itself. The one conversion point."""
    if values.dtype == np.uint8:
        return values
    if values.dtype == np.uint16:
        # saturate(round(x / 257)): exact, since x / 257 is never halfway between integers
        return cv2.convertScaleAbs(values, alpha=1.0 / 257.0)
    raise TypeError(f"cannot display {values.dtype} values; expected uint8 or uint16")


def downsample2(values: np.ndarray) -> np.ndarray:
    """Halve height and width (rounding up) by 2 x 2 means; an odd last row/column is replicated."""
    height, width = values.shape[:2]
    if height % 2 or width % 2:
        pad = ((0, height % 2), (0, width % 2)) + ((0, 0),) * (values.ndim - 2)
        values = np.pad(values, pad, mode="edge")
    return cv2.resize(values, ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA)


def level_box(box: BBox, level: int) -> BBox:
    """The level-``level`` pixels that cover ``box`` (level-0 coordinates)."""
    step = 1 << level
    return BBox(box.top // step, box.left // step, -(-box.bottom // step), -(-box.right // step))


class Pyramid:
    """Levels of one 8-bit layer (H x W x 3 photo or H x W mask) over a live source array.

    ``source()`` returns the document's current array (it may be replaced when a fill copies the
    buffer, so it is asked every time). When the source is 8-bit, level 0 *is* the source.
    """

    def __init__(self, source: Callable[[], np.ndarray]) -> None:
        self._source = source
        self._levels: list[np.ndarray | None] = [None]
        first = source()
        # a 16-bit photo gets its own 8-bit level 0, converted on the first paint (not on open)
        self._own_level0 = first.dtype != np.uint8
        height, width = first.shape[:2]
        count = 1
        while max(height, width) > _TOP_SIZE:
            height, width = (height + 1) // 2, (width + 1) // 2
            count += 1
        self._levels = self._levels + [None] * (count - 1)
        self.shape = first.shape[:2]

    @property
    def count(self) -> int:
        return len(self._levels)

    def level(self, k: int) -> np.ndarray:
        k = max(0, min(k, len(self._levels) - 1))
        if k == 0:
            if not self._own_level0:
                return self._source()
            if self._levels[0] is None:
                self._levels[0] = to_display_u8(self._source())
            return self._levels[0]
        built = self._levels[k]
        if built is None:
            built = self._levels[k] = downsample2(self.level(k - 1))
        return built

    def is_built(self, k: int) -> bool:
        return (k == 0 and not self._own_level0) or self._levels[k] is not None

    def update(self, box: BBox | None) -> None:
        """The source changed inside ``box`` (None: everywhere): refresh the built levels there."""
        if box is None:
            self._levels = [None] * len(self._levels)  # rebuilt lazily by the next paint
            return
        if self._own_level0:
            if self._levels[0] is None:
                return  # nothing built yet: the next paint builds from the source
            self._levels[0][box.slices] = to_display_u8(self._source()[box.slices])
        current = box
        for k in range(1, len(self._levels)):
            target = self._levels[k]
            if target is None:
                break  # coarser levels are built from this one when first needed
            parent = self.level(k - 1)
            current = level_box(current, 1)
            ph, pw = parent.shape[:2]
            rows = slice(2 * current.top, min(2 * current.bottom, ph))
            source = parent[rows, 2 * current.left:min(2 * current.right, pw)]
            target[current.slices] = downsample2(source)
