"""Walk a huge image in overlapping tiles so memory stays bounded whatever the scan size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from inpaint_studio.core.types import BBox


@dataclass(frozen=True)
class Tile:
    """``outer`` is what the filters read (core plus margin); ``inner`` is what this tile writes.

    ``inner_in_outer`` is the inner box in the outer box's own coordinates.
    """

    outer: BBox
    inner: BBox

    @property
    def inner_in_outer(self) -> BBox:
        return BBox(self.inner.top - self.outer.top, self.inner.left - self.outer.left,
                    self.inner.bottom - self.outer.top, self.inner.right - self.outer.left)


def tiles(height: int, width: int, size: int, margin: int) -> Iterator[Tile]:
    """Inner boxes partition the image; each outer box adds ``margin`` px of context (clipped)."""
    for top in range(0, height, size):
        for left in range(0, width, size):
            inner = BBox(top, left, min(top + size, height), min(left + size, width))
            outer = BBox(max(0, top - margin), max(0, left - margin),
                         min(height, inner.bottom + margin), min(width, inner.right + margin))
            yield Tile(outer, inner)
