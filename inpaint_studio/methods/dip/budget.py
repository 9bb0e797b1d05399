"""One time budget for a whole fill, shared by its regions in proportion to their hole area (no torch).

A photo with many strokes is cut into several regions; a per-region limit would let such a photo take
the limit times the region count. The fill's clock starts with its first region; each region gets what
is left, times its share of the hole area still to fill.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: shares add up to 1 over a fill; past this the next region belongs to a new fill
_FULL = 0.999


class FillBudget:
    """Seconds per region out of ``total`` seconds per fill.

    ``region_seconds(share, index)`` is called once at the start of each region with the region's share
    of the fill's hole pixels (0..1) and its index in the fill. Index 0, or shares that already add up to
    1, start a new fill. Without shares (a runtime that does not tell) every region may use all that is
    left, which still keeps the fill within ``total`` (later regions get less).
    """

    def __init__(self, total: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.total = float(total)
        self._clock = clock
        self._started: float | None = None
        self._share_done = 0.0

    def elapsed(self) -> float:
        return 0.0 if self._started is None else self._clock() - self._started

    def region_seconds(self, share: float | None = None, index: int | None = None) -> float:
        if self._started is None or index == 0 or self._share_done >= _FULL:
            self._started, self._share_done = self._clock(), 0.0
        left = max(0.0, self.total - self.elapsed())
        if share is None:
            return left
        share = min(1.0, max(0.0, float(share)))
        share_left = max(share, 1.0 - self._share_done)
        self._share_done += share
        return left * share / share_left if share_left > 0 else left
