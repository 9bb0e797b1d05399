"""8-bit display pyramids for the canvas, built once and then updated box by box.

Why: a 100 MP photo cannot be converted and scaled on every paint. Level 0 is the photo in 8 bits
(the document's own array when it is already 8-bit: no copy at all); level k is level k-1 halved
(2 x 2 mean, the last odd row/column replicated). The canvas draws from the level whose pixels are
just larger than screen pixels, so a paint touches about as many pixels as the screen has. Levels
are built the first time they are needed; after that a change to the document refreshes only the
changed box on each built level. No Qt here.

Large frames (``ASYNC_MIN_PIXELS`` and up) are built off the GUI thread when a ``schedule`` function
is given (the canvas passes one that runs on a QThreadPool): converting a 16-bit 24 MP photo and
halving it takes 0.1-0.8 s. Until the levels land, :meth:`Pyramid.crop` samples the source every
``2**k`` pixels for the visible box only (nearest neighbour: a little aliased for a moment, never
blank, never a freeze). Changes made while a build runs are applied to the built levels and
remembered; when the build lands, those boxes are refreshed again from the current source.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from inpaint_studio.core.document import merge_boxes
from inpaint_studio.core.types import BBox

#: coarsest level is at most this many pixels on its longer side
_TOP_SIZE = 256
#: frames at least this large build their levels in the background (when a scheduler is given)
ASYNC_MIN_PIXELS = 4_000_000

#: schedule(job, done, failed): run ``job()`` elsewhere, then call ``done(result)`` or
#: ``failed(exception)`` back on the thread that owns the pyramid
Schedule = Callable[[Callable[[], list], Callable[[list], None], Callable[[BaseException], None]], None]


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

    def __init__(self, source: Callable[[], np.ndarray], schedule: Schedule | None = None,
                 on_ready: Callable[[], None] | None = None) -> None:
        self._source = source
        self._on_ready = on_ready
        self._building = False
        self._generation = 0
        self._dirty: list[BBox] = []  # boxes changed while a background build runs
        #: background builds started (tests and benchmarks read it)
        self.builds_started = 0
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
        big = first.shape[0] * first.shape[1] >= ASYNC_MIN_PIXELS
        self._schedule = schedule if big else None

    @property
    def building(self) -> bool:
        """A background build is running (crop() samples the source meanwhile)."""
        return self._building

    def crop(self, k: int, box: BBox) -> np.ndarray:
        """Level ``k`` inside ``box`` (level-k coordinates), without blocking on a first build.

        Built level: a view of it. Not built and a scheduler is set: start the background build and
        return the source sampled about every ``2**k`` pixels in ``box`` (costs the box, not the frame).
        """
        k = max(0, min(k, len(self._levels) - 1))
        if self._schedule is None or self.is_built(k):
            return self.level(k)[box.slices]
        self._start_build()
        step = 1 << k
        source = self._source()
        region = source[box.top * step:min(box.bottom * step, source.shape[0]),
                        box.left * step:min(box.right * step, source.shape[1])]
        # nearest neighbour in C: a numpy strided gather of the same pixels is several times slower
        sampled = cv2.resize(region, (box.width, box.height), interpolation=cv2.INTER_NEAREST)
        return to_display_u8(sampled)

    def _start_build(self) -> None:
        if self._building or self._schedule is None:
            return
        self._building = True
        self._dirty = []
        self.builds_started += 1
        generation = self._generation
        source = self._source()
        own_level0 = self._own_level0
        count = len(self._levels)

        def job() -> list[np.ndarray]:  # pool thread: reads the source, touches nothing of self
            level = to_display_u8(source) if own_level0 else source
            levels = [level]
            for _ in range(1, count):
                level = downsample2(level)
                levels.append(level)
            return levels

        def done(levels: list[np.ndarray]) -> None:
            if generation != self._generation:
                return  # the source was replaced meanwhile: that build is worthless
            self._building = False
            for k, built in enumerate(levels):
                if k == 0 and not self._own_level0:
                    continue
                if self._levels[k] is None:
                    self._levels[k] = built
            dirty, self._dirty = self._dirty, []
            for box in merge_boxes(dirty):  # written while the build read the source: redo them
                self.update(box)
            if self._on_ready is not None:
                self._on_ready()

        def failed(_error: BaseException) -> None:
            if generation != self._generation:
                return
            self._building = False
            self._schedule = None  # build on demand on this thread, as for small frames
            if self._on_ready is not None:
                self._on_ready()

        self._schedule(job, done, failed)

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
            self._generation += 1  # a build still running read the old values: drop it
            self._building = False
            self._dirty = []
            return
        if self._building:
            self._dirty.append(box)
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

