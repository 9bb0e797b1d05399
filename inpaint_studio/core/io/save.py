"""Saving photos and masks: pick the format, reduce the photo to what it holds, write atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import EmptyImageError, InvalidParameterError, UnsupportedFormatError
from inpaint_studio.core.io import _pillow, _png, _tiff
from inpaint_studio.core.io._formats import (
    EXTENSION_FORMATS,
    HOLDS_ALPHA,
    HOLDS_EXIF,
    HOLDS_GREY,
    HOLDS_ICC,
    HOLDS_XMP,
    SUPPORTED_FORMATS,
    SUPPORTED_HINT,
    can_hold_bit_depth,
    format_from_path,
)
from inpaint_studio.core.io._planes import planes_for
from inpaint_studio.core.photo import Photo

__all__ = ["metadata_losses", "save_mask", "save_photo"]


def save_photo(
    photo: Photo,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    jpeg_quality: int = 95,
    bit_depth: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Save ``photo`` keeping its depth, greyscale, alpha, ICC, EXIF (orientation 1), XMP and DPI.

    format: None = from the extension, else the photo's source format. bit_depth: None keeps the
    photo's depth; formats that cannot hold 16 bit (JPEG, WebP, BMP) get 8 bit, and asking for 16
    there raises UnsupportedFormatError. jpeg_quality (1-100) is also the lossy-WebP quality.
    Never replaces an existing file unless overwrite=True (OverwriteRefusedError).
    """
    if not isinstance(photo, Photo):
        raise InvalidParameterError(f"save_photo needs a Photo, got {type(photo).__name__}")
    path = Path(path)
    fmt = _target_format(path, format, photo)
    if isinstance(jpeg_quality, bool) or not isinstance(jpeg_quality, int) or not 1 <= jpeg_quality <= 100:
        raise InvalidParameterError(f"jpeg_quality must be a whole number 1-100, got {jpeg_quality!r}")
    planes = planes_for(photo, fmt, bit_depth)

    def write(fh: BinaryIO) -> None:
        if fmt == "PNG":
            _png.write_png(fh, photo, planes)
        elif fmt == "TIFF":
            _tiff.write_tiff(fh, photo, planes)
        elif fmt == "JPEG":
            _pillow.write_jpeg(fh, photo, planes, jpeg_quality)
        elif fmt == "WEBP":
            _pillow.write_webp(fh, photo, planes, jpeg_quality)
        else:
            _pillow.write_bmp(fh, photo, planes)

    return atomic_write(path, write, overwrite=overwrite)


def save_mask(mask: np.ndarray, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Save a coverage mask (uint8, or bool: True = 255) as an 8-bit greyscale PNG, atomically."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UnsupportedFormatError(f"{path.name}: masks are saved as PNG (lossless); use a .png name")
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        got = getattr(mask, "shape", type(mask).__name__)
        raise InvalidParameterError(f"a mask must be an H x W array, got {got}")
    if mask.dtype == np.bool_:
        mask = mask.astype(np.uint8) * np.uint8(255)
    elif mask.dtype != np.uint8:
        raise InvalidParameterError(f"a mask must be uint8 coverage or bool, got {mask.dtype}")
    if mask.size == 0:
        raise EmptyImageError(f"cannot save {path.name}: the mask has no pixels")

    def write(fh: BinaryIO) -> None:
        fh.write(_png.encode_plain(mask))

    return atomic_write(path, write, overwrite=overwrite)


def metadata_losses(photo: Photo, format: str, *, bit_depth: int | None = None) -> list[str]:
    """What saving ``photo`` as ``format`` cannot keep, in words a user understands (empty = nothing).

    Lets the GUI warn before "Save As JPEG" drops the alpha channel or 16-bit depth.
    """
    fmt = format.upper()
    losses = []
    depth = bit_depth or photo.bit_depth
    if depth == 16 and not can_hold_bit_depth(fmt, 16):
        losses.append(f"{fmt} holds 8 bits per channel: the 16-bit photo is reduced to 8 bit")
    if photo.alpha is not None and fmt not in HOLDS_ALPHA:
        losses.append(f"{fmt} has no transparency: the alpha channel is dropped")
    if photo.greyscale and fmt not in HOLDS_GREY:
        losses.append(f"{fmt} has no greyscale mode: saved as RGB with equal channels")
    if photo.icc_profile and fmt not in HOLDS_ICC:
        losses.append(f"{fmt} cannot embed the ICC colour profile")
    if photo.exif and fmt not in HOLDS_EXIF:
        losses.append(f"{fmt} cannot hold EXIF (camera, date, GPS)")
    if photo.extra.get("xmp") and fmt not in HOLDS_XMP:
        losses.append(f"{fmt} cannot hold XMP metadata")
    if fmt == "JPEG":
        losses.append("JPEG is lossy: pixels are re-compressed")
    if fmt == "WEBP" and not _pillow.webp_lossless_for(photo):
        losses.append("lossy WebP: pixels are re-compressed")
    return losses


def _target_format(path: Path, fmt: str | None, photo: Photo | None) -> str:
    ext_format = EXTENSION_FORMATS.get(path.suffix.lower())
    if fmt is not None:
        wanted = str(fmt).upper().lstrip(".")
        wanted = {"JPG": "JPEG", "TIF": "TIFF"}.get(wanted, wanted)
        if wanted not in SUPPORTED_FORMATS:
            raise UnsupportedFormatError(f"cannot save as {fmt!r}; {SUPPORTED_HINT}")
        if ext_format is not None and ext_format != wanted:
            raise InvalidParameterError(
                f"{path.name}: extension {path.suffix} does not match format {wanted}; change one of them"
            )
        return wanted
    if ext_format is not None:
        return ext_format
    if photo is not None and photo.source_format in SUPPORTED_FORMATS:
        return photo.source_format
    return format_from_path(path)  # raises with the list of extensions
