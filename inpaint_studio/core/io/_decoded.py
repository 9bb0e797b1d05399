"""What every decoder hands back, and the errors decoders share.

Decoders return the stored pixels and metadata as they are in the file; orientation is applied
once, by the loader, for every format alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inpaint_studio.core.errors import CorruptFileError, ImageTooLargeError


@dataclass
class Decoded:
    """A decoder's result: stored pixels (not yet oriented) and the metadata found next to them."""

    colour: np.ndarray  # H x W x 1 (grey) or H x W x 3 (RGB), uint8/uint16
    alpha: np.ndarray | None
    orientation: int = 1
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    infrared: np.ndarray | None = None  # H x W, a scanner's IR channel (TIFF extra sample that is not alpha)


def corrupt(name: str, fmt: str, detail: object) -> CorruptFileError:
    return CorruptFileError(
        f"{name} looks like a {fmt} file but cannot be decoded ({detail}); it may be truncated or damaged, "
        "try re-exporting it from its source"
    )


def out_of_memory(name: str) -> ImageTooLargeError:
    return ImageTooLargeError(f"{name}: not enough memory to open it; close other images and retry")


def snap_dpi(x: float, y: float) -> tuple[float, float]:
    """Undo metre-based rounding (PNG/BMP store pixels per metre): 299.9994 -> 300.0, 72.009 -> 72.0."""
    return tuple(float(round(v)) if abs(v - round(v)) < 0.05 else v for v in (x, y))  # type: ignore[return-value]
