"""What the finders fitted to each photo at detect time share: the training crops, the float RGB
they see, and the cache of fitted models keyed by the photo's content.

Why a cache keyed by content: the editor asks again on every slider move, for the visible area and
the whole photo; fitting is seconds, re-thresholding is not.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

from inpaint_studio.core.pixels import max_value

T = TypeVar("T")


def float_rgb(pixels: np.ndarray) -> np.ndarray:
    """HxWx3 float32 0..1 of any photo (grey is repeated, a 4th channel dropped)."""
    rgb = pixels.astype(np.float32) * np.float32(1.0 / max_value(pixels.dtype))
    if rgb.ndim == 2:
        rgb = rgb[..., None]
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    return np.ascontiguousarray(rgb[..., :3])


def training_crops(h: int, w: int, train_pixels: int, side: int,
                   rng: np.random.Generator) -> list[tuple[slice, slice]]:
    """The whole photo if it has at most ``train_pixels``, else spread-out square crops of ``side``
    totalling about that many (stratified over a grid, so they see different parts of the photo)."""
    if h * w <= train_pixels:
        return [(slice(0, h), slice(0, w))]
    side = min(side, h, w)
    count = max(1, train_pixels // (side * side))
    grid = int(np.ceil(np.sqrt(count)))
    cells = rng.permutation(grid * grid)[:count]
    out = []
    for cell in cells:
        gy, gx = divmod(int(cell), grid)
        top = int((h - side) * (gy + rng.random()) / grid)
        left = int((w - side) * (gx + rng.random()) / grid)
        out.append((slice(top, top + side), slice(left, left + side)))
    return out


def fingerprint(pixels: np.ndarray) -> tuple:
    """Identity of an image's content (a detector and its probabilities are cached per image)."""
    digest = hashlib.blake2b(np.ascontiguousarray(pixels).view(np.uint8).data, digest_size=16).hexdigest()
    return pixels.shape, str(pixels.dtype), digest


class FittedCache(Generic[T]):
    """The last ``size`` fitted models by key; thread-safe (the GUI's detection runs off the GUI thread)."""

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_fit(self, key: Hashable, fit: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        model = fit()  # outside the lock: seconds of work
        with self._lock:
            self._items[key] = model
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return model

    def values(self) -> list[T]:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)
