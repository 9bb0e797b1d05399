"""Opening photos and masks: sniff the format, check the size, decode, apply the orientation.

The file's content decides the format, not its extension (a JPEG named .png still opens).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from inpaint_studio.core.errors import (
    EmptyImageError,
    InpaintStudioError,
    InvalidInputError,
    MaskMismatchError,
    MissingFileError,
    UnsupportedFormatError,
)
from inpaint_studio.core.io._decoded import Decoded, out_of_memory
from inpaint_studio.core.io._exif import exif_reset
from inpaint_studio.core.io._formats import SUPPORTED_HINT, describe_unknown, resolve_max_pixels, sniff_format
from inpaint_studio.core.io._orientation import orient, xmp_reset_orientation
from inpaint_studio.core.io._pillow import decode_with_pillow
from inpaint_studio.core.io._planes import luminance
from inpaint_studio.core.io._png import decode_png
from inpaint_studio.core.io._tiff import decode_tiff
from inpaint_studio.core.photo import Photo, convert_depth

__all__ = ["load_mask", "load_photo"]


def load_photo(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> Photo:
    """Open a photo in its own depth with its alpha, ICC profile, EXIF and DPI; EXIF orientation applied.

    max_pixels: refuse larger images before decoding (default: $INPAINT_STUDIO_MAX_PIXELS or 300 MP).
    Raises InvalidInputError subclasses with a one-line message naming the file.
    """
    path, fmt, decoded = _decode(path, max_pixels)
    colour = orient(decoded.colour, decoded.orientation)
    alpha = None if decoded.alpha is None else orient(decoded.alpha, decoded.orientation)
    infrared = None if decoded.infrared is None else orient(decoded.infrared, decoded.orientation)
    greyscale = colour.shape[2] == 1
    pixels = np.repeat(colour, 3, axis=2) if greyscale else colour
    height, width = pixels.shape[:2]
    exif = exif_reset(decoded.exif, (width, height)) if decoded.exif else None
    dpi = decoded.dpi
    if dpi is not None and decoded.orientation in (5, 6, 7, 8):
        dpi = (dpi[1], dpi[0])
    extra = dict(decoded.extra)
    if "xmp" in extra and decoded.orientation != 1:
        extra["xmp"] = xmp_reset_orientation(extra["xmp"])
    return Photo(
        pixels=pixels,
        alpha=alpha,
        greyscale=greyscale,
        icc_profile=decoded.icc_profile,
        exif=exif,
        source_format=fmt,
        source_path=path,
        dpi=dpi,
        extra=extra,
        infrared=infrared,
    )


def load_mask(
    path: str | os.PathLike[str], shape: tuple[int, ...] | None = None, *, max_pixels: int | None = None
) -> np.ndarray:
    """Open any supported image as a uint8 H x W coverage mask (0 keep, 255 fill, between = soft).

    Coverage is the alpha channel when the file has one that is not fully opaque (painted strokes on
    a transparent layer), otherwise the luminance (white = fill). 16-bit files are scaled to 8 bit.
    EXIF orientation is applied exactly as for photos, so a mask is read the way every viewer shows it:
    a mask drawn over the displayed photo lines up, and one that shares the photo's raw pixel grid and
    orientation tag is rotated the same way as the photo.
    shape: the photo's shape (H, W[, C]); a different size raises MaskMismatchError.
    """
    path, _fmt, decoded = _decode(path, max_pixels)
    alpha = decoded.alpha
    top = np.iinfo(decoded.colour.dtype).max
    painted_alpha = alpha is not None and not np.all(alpha == top)
    coverage = alpha if painted_alpha else luminance(decoded.colour)
    coverage = orient(convert_depth(coverage, np.uint8), decoded.orientation)
    if shape is not None:
        want_h, want_w = int(shape[0]), int(shape[1])
        got_h, got_w = coverage.shape
        if (got_h, got_w) != (want_h, want_w):
            raise MaskMismatchError(
                f"mask {path.name} is {got_w}x{got_h} (WxH) but the photo is {want_w}x{want_h}; "
                "export the mask at the photo's size"
            )
    return coverage


def _check_readable(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: no such file; check the path and try again")
    if path.is_dir():
        raise MissingFileError(f"{path} is a folder, not an image file; choose a file inside it")
    return path


def _decode(path: str | os.PathLike[str], max_pixels: int | None) -> tuple[Path, str, Decoded]:
    path = _check_readable(path)
    limit = resolve_max_pixels(max_pixels)
    name = path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read it ({exc.strerror}); check its permissions") from None
    fmt = sniff_format(head)
    if fmt is None:
        what = describe_unknown(head)
        raise UnsupportedFormatError(f"{name} is {what}, not a photo we can open; {SUPPORTED_HINT}")
    try:
        if fmt == "PNG":
            decoded = decode_png(path, name, limit)
        elif fmt == "TIFF":
            decoded = decode_tiff(path, name, limit)
        else:
            decoded = decode_with_pillow(path, fmt, name, limit)
    except InpaintStudioError:
        raise
    except MemoryError:
        raise out_of_memory(name) from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the file ({exc}); check it is accessible") from None
    if decoded.colour.shape[0] == 0 or decoded.colour.shape[1] == 0:
        raise EmptyImageError(f"{name} has no pixels; the file cannot be edited")
    return path, fmt, decoded
