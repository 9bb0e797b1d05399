"""The document's photo: pixels in their own depth plus everything needed to write the file back faithfully.

A photographer expects "open, fix a spot, save" to change only the spot: same depth, same alpha, same
colour profile, same camera metadata. ``Photo`` carries those alongside the pixels so no layer above
``core/io.py`` has to know about file formats.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inpaint_studio.core.errors import InvalidParameterError, UnsupportedFormatError

_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


def _check_pixels(pixels: Any) -> np.ndarray:
    if not isinstance(pixels, np.ndarray):
        raise InvalidParameterError(f"photo pixels must be a numpy array, got {type(pixels).__name__}")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InvalidParameterError(f"photo pixels must be H x W x 3 RGB, got shape {pixels.shape}")
    if pixels.dtype not in _DTYPES:
        raise UnsupportedFormatError(f"photo pixels must be uint8 or uint16, got {pixels.dtype}")
    return pixels


def _check_alpha(alpha: Any, pixels: np.ndarray, what: str = "alpha") -> np.ndarray | None:
    if alpha is None:
        return None
    if not isinstance(alpha, np.ndarray) or alpha.shape != pixels.shape[:2]:
        shape = getattr(alpha, "shape", type(alpha).__name__)
        raise InvalidParameterError(f"{what} must be H x W like the pixels {pixels.shape[:2]}, got {shape}")
    if alpha.dtype != pixels.dtype:
        raise InvalidParameterError(f"{what} dtype {alpha.dtype} differs from the pixels' {pixels.dtype}")
    return alpha


def convert_depth(values: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """uint8 <-> uint16 with exact rounding (x * 257 up, round(x / 257) down); a copy either way."""
    target = np.dtype(dtype)
    if values.dtype == target:
        return values.copy()
    if values.dtype == np.uint8 and target == np.uint16:
        return values.astype(np.uint16) * np.uint16(257)
    if values.dtype == np.uint16 and target == np.uint8:
        # (x + 128) // 257 == round(x / 257) for every integer x: no float error, no ties.
        return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)
    raise UnsupportedFormatError(f"cannot convert {values.dtype} pixels to {target}; expected uint8/uint16")


@dataclass
class Photo:
    """An opened photo.

    pixels: H x W x 3 RGB, uint8 or uint16, as stored in the file (no colour conversion).
    alpha: H x W, same dtype, or None. Unassociated (not premultiplied).
    greyscale: the file was single-channel; pixels hold 3 equal channels and saving writes 1 channel.
    icc_profile: the embedded ICC profile, byte for byte.
    exif: raw EXIF (``b"Exif\\0\\0"`` + TIFF structure) with the orientation already applied to the
        pixels and the tag reset to 1; None when the file had none.
    source_format: "PNG", "JPEG", "TIFF", "WEBP" or "BMP".
    dpi: (x, y) dots per inch, or None.
    extra: format-specific details used to write the file back the same way
        (e.g. "xmp", "png_text", "webp_lossless", "tiff_compression", "jpeg_comment").
    infrared: H x W, same dtype, or None: a film scanner's infrared channel (RGBI TIFF, 4th sample
        not alpha), where dust and scratches show as dark marks; it guides damage detection and is
        never written to any file (it is not part of the picture).
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    greyscale: bool = False
    icc_profile: bytes | None = None
    exif: bytes | None = None
    source_format: str | None = None
    source_path: Path | None = None
    dpi: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    infrared: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.pixels = _check_pixels(self.pixels)
        self.alpha = _check_alpha(self.alpha, self.pixels)
        self.infrared = _check_alpha(self.infrared, self.pixels, "infrared")
        if self.source_path is not None:
            self.source_path = Path(self.source_path)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self.pixels.dtype

    @property
    def bit_depth(self) -> int:
        """8 or 16 bits per channel."""
        return 8 if self.pixels.dtype == np.uint8 else 16

    @property
    def has_alpha(self) -> bool:
        return self.alpha is not None

    def with_pixels(self, pixels: np.ndarray) -> Photo:
        """A new Photo with these pixels and a copy of this one's metadata (alpha, profile, EXIF...).

        The size must stay the same (alpha and metadata describe this frame). A different depth is
        allowed: alpha and infrared are converted along with it so they keep the same meaning. The
        infrared channel is never edited, so at the same depth it is shared, not copied (it can be
        100+ MB on a film scan).
        """
        pixels = _check_pixels(pixels)
        if pixels.shape[:2] != self.pixels.shape[:2]:
            raise InvalidParameterError(
                f"new pixels are {pixels.shape[1]}x{pixels.shape[0]} (WxH) but the photo is "
                f"{self.width}x{self.height}; with_pixels keeps the frame size"
            )
        alpha = None if self.alpha is None else convert_depth(self.alpha, pixels.dtype)
        infrared = self.infrared
        if infrared is not None and infrared.dtype != pixels.dtype:
            infrared = convert_depth(infrared, pixels.dtype)
        return Photo(
            pixels=pixels,
            alpha=alpha,
            greyscale=self.greyscale,
            icc_profile=self.icc_profile,
            exif=self.exif,
            source_format=self.source_format,
            source_path=self.source_path,
            dpi=self.dpi,
            extra=copy.deepcopy(self.extra),
            infrared=infrared,
        )
