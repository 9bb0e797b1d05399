"""Small value types shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BBox:
    """Half-open box ``[top, bottom) x [left, right)`` in (row, col) image coordinates."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return max(0, self.bottom - self.top)

    @property
    def width(self) -> int:
        return max(0, self.right - self.left)

    @property
    def area(self) -> int:
        return self.height * self.width

    @property
    def is_empty(self) -> bool:
        return self.height == 0 or self.width == 0

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index an array with ``array[box.slices]``."""
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @classmethod
    def of_shape(cls, shape: tuple[int, ...]) -> BBox:
        """The box covering a whole array of this shape."""
        return cls(0, 0, int(shape[0]), int(shape[1]))

    def expanded(self, margin: int, shape: tuple[int, ...]) -> BBox:
        """Grow by ``margin`` on every side, clipped to an image of ``shape``."""
        return BBox(
            max(0, self.top - margin),
            max(0, self.left - margin),
            min(int(shape[0]), self.bottom + margin),
            min(int(shape[1]), self.right + margin),
        )

    def union(self, other: BBox) -> BBox:
        return BBox(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
        )

    def intersects(self, other: BBox) -> bool:
        return (
            self.top < other.bottom
            and other.top < self.bottom
            and self.left < other.right
            and other.left < self.right
        )

    def relative_to(self, outer: BBox) -> BBox:
        """This box in the coordinates of a crop that starts at ``outer``'s corner."""
        return BBox(self.top - outer.top, self.left - outer.left,
                    self.bottom - outer.top, self.right - outer.left)
