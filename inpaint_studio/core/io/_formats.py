"""Which formats we read and write, what each can hold, how a file's format is told, and size limits.

The one table of format capabilities: loading, saving, metadata_losses and the CLI's early checks
all ask here, so they cannot disagree about what e.g. JPEG can store.
"""

from __future__ import annotations

import os
from pathlib import Path

from inpaint_studio.core.errors import (
    EmptyImageError,
    ImageTooLargeError,
    InvalidParameterError,
    UnsupportedFormatError,
)

SUPPORTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "TIFF", "WEBP", "BMP")
EXTENSION_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(EXTENSION_FORMATS)
#: formats that can hold 16 bits per channel / an alpha channel / a single grey channel
HOLDS_16_BIT = frozenset({"PNG", "TIFF"})
HOLDS_ALPHA = frozenset({"PNG", "TIFF", "WEBP"})
HOLDS_GREY = frozenset({"PNG", "TIFF", "JPEG", "BMP"})
HOLDS_ICC = frozenset({"PNG", "TIFF", "JPEG", "WEBP"})
HOLDS_EXIF = frozenset({"PNG", "TIFF", "JPEG", "WEBP"})
HOLDS_XMP = frozenset({"PNG", "TIFF", "JPEG", "WEBP"})

#: ~300 MP: a 16-bit RGBA image of this size needs 2.4 GB before any processing
DEFAULT_MAX_PIXELS = 300_000_000
MAX_PIXELS_ENV = "INPAINT_STUDIO_MAX_PIXELS"

CONVERT_HINT = "convert it to an 8- or 16-bit RGB or greyscale PNG, TIFF or JPEG first"
SUPPORTED_HINT = "supported formats are PNG, JPEG, TIFF, WebP and BMP"


def format_from_path(path: str | os.PathLike[str]) -> str:
    """"PNG", "JPEG", "TIFF", "WEBP" or "BMP" from the file extension (UnsupportedFormatError otherwise)."""
    suffix = Path(path).suffix.lower()
    try:
        return EXTENSION_FORMATS[suffix]
    except KeyError:
        shown = suffix or "(no extension)"
        raise UnsupportedFormatError(
            f"{Path(path).name}: cannot tell the image format from extension {shown}; "
            f"use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        ) from None


def can_hold_bit_depth(format: str, bits: int) -> bool:
    """Whether ``format`` ("PNG", "jpeg"...) stores ``bits`` (8 or 16) per channel without reducing them.

    Lets a caller refuse e.g. a 16-bit JPEG before any pixels are read; save_photo applies the same rule.
    """
    fmt = format.upper()
    if fmt not in SUPPORTED_FORMATS:
        return False
    return bits == 8 or (bits == 16 and fmt in HOLDS_16_BIT)


def sniff_format(head: bytes) -> str | None:
    """The format from the file's first bytes (None = not one of ours)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    return None


def describe_unknown(head: bytes) -> str:
    """A human name for common formats we do not open, so the message can say what the file is."""
    known = [
        (b"GIF8", "a GIF image"),
        (b"8BPS", "a Photoshop PSD document"),
        (b"%PDF", "a PDF document"),
        (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
        (b"\xff\x0a", "a JPEG XL image"),
        (b"PK\x03\x04", "a ZIP archive"),
    ]
    for magic, name in known:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        heif = head[8:12] in (b"heic", b"heix", b"mif1", b"avif", b"msf1")
        return "a HEIF/AVIF image" if heif else "a video/ISO media file"
    text = head.lstrip().lower()
    if text.startswith((b"<svg", b"<?xml")) or b"<svg" in text:
        return "an SVG/XML document"
    if not head:
        return "an empty file"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        return "a text file"
    return "not an image we recognise"


def resolve_max_pixels(max_pixels: int | None) -> int:
    """Argument beats the environment beats the default."""
    if max_pixels is None:
        raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
        if not raw:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(raw.replace("_", ""))
        except ValueError:
            raise InvalidParameterError(
                f"{MAX_PIXELS_ENV}={raw!r} is not a whole number of pixels; unset it or set e.g. 300000000"
            ) from None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise InvalidParameterError(f"max_pixels must be a positive whole number, got {max_pixels!r}")
    return max_pixels


def check_size(name: str, width: int, height: int, limit: int) -> None:
    """Refuse an empty image, or one above the pixel limit, from its header size (before decoding)."""
    if width <= 0 or height <= 0:
        raise EmptyImageError(f"{name} has no pixels ({width}x{height}); the file cannot be edited")
    if width * height > limit:
        raise ImageTooLargeError(
            f"{name} is {width}x{height} = {width * height:,} pixels, above the limit of {limit:,}; "
            f"crop or downscale it, or raise the limit with {MAX_PIXELS_ENV}"
        )
