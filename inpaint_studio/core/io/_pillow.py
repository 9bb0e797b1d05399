"""JPEG, WebP and BMP through Pillow: decode (header-size check first) and encode with metadata."""

from __future__ import annotations

import contextlib
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageFile

from inpaint_studio.core.errors import InvalidParameterError, UnsupportedFormatError
from inpaint_studio.core.io._decoded import Decoded, corrupt, snap_dpi
from inpaint_studio.core.io._exif import EXIF_PREFIX, exif_orientation
from inpaint_studio.core.io._formats import CONVERT_HINT, check_size
from inpaint_studio.core.io._planes import Planes
from inpaint_studio.core.photo import Photo

# Pillow's decompression-bomb check runs inside Image.open, before we can see the size, and warns
# (or refuses) at its own limit. We check the header size against *our* limit instead, so Pillow's
# global limit is lifted only around the header-only open, under a lock.
_PILLOW_LOCK = threading.Lock()


@contextlib.contextmanager
def _pillow_open(path: Path, fmt: str, name: str) -> Iterator[Image.Image]:
    with _PILLOW_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            image = Image.open(path, formats=[fmt])
        except (OSError, SyntaxError, ValueError, struct.error) as exc:
            raise corrupt(name, fmt, exc) from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    try:
        yield image
    finally:
        image.close()


def _webp_is_lossless(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4096)
    pos = 12
    while pos + 8 <= len(head):
        kind = head[pos : pos + 4]
        if kind == b"VP8L":
            return True
        if kind == b"VP8 ":
            return False
        (size,) = struct.unpack("<I", head[pos + 4 : pos + 8])
        pos += 8 + size + (size & 1)
    return False


def decode_with_pillow(path: Path, fmt: str, name: str, limit: int) -> Decoded:
    with _pillow_open(path, fmt, name) as image:
        check_size(name, image.width, image.height, limit)
        mode = image.mode
        if mode == "CMYK":
            raise UnsupportedFormatError(
                f"{name} is a CMYK image; convert it to RGB first (with colour management, e.g. in your "
                "photo editor) — converting print colours here would change them silently"
            )
        if mode in ("F", "I", "LAB", "HSV"):
            depth = "32-bit float" if mode == "F" else ("32-bit integer" if mode == "I" else mode)
            raise UnsupportedFormatError(f"{name} has {depth} pixels, which we cannot edit; {CONVERT_HINT}")
        info = dict(image.info)
        exif = info.get("exif")
        if isinstance(exif, bytes) and exif and not exif.startswith(EXIF_PREFIX):
            exif = EXIF_PREFIX + exif
        if ImageFile.LOAD_TRUNCATED_IMAGES:
            # someone turned on Pillow's tolerance: a truncated file would come back half grey
            raise InvalidParameterError(
                "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on in this process; turn it off so damaged photos "
                "are detected"
            )
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
            raise corrupt(name, fmt, exc) from None
        if mode in ("1", "L"):
            colour, alpha = np.asarray(image.convert("L"))[..., None], None
        elif mode in ("LA", "La"):
            arr = np.asarray(image.convert("LA"))
            colour, alpha = arr[..., :1], arr[..., 1]
        elif mode.startswith("I;16"):
            colour, alpha = np.asarray(image).astype(np.uint16)[..., None], None
        elif mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in info):
            arr = np.asarray(image.convert("RGBA"))
            colour, alpha = arr[..., :3], arr[..., 3]
        else:
            colour, alpha = np.asarray(image.convert("RGB")), None
    extra: dict[str, Any] = {}
    if info.get("xmp"):
        extra["xmp"] = bytes(info["xmp"]) if not isinstance(info["xmp"], str) else info["xmp"].encode("utf-8")
    if fmt == "JPEG" and info.get("comment"):
        extra["jpeg_comment"] = info["comment"]
    if fmt == "WEBP":
        extra["webp_lossless"] = _webp_is_lossless(path)
    dpi = info.get("dpi")
    dpi = snap_dpi(float(dpi[0]), float(dpi[1])) if dpi and dpi[0] and dpi[1] else None
    return Decoded(
        np.ascontiguousarray(colour),
        None if alpha is None else np.ascontiguousarray(alpha),
        exif_orientation(exif),
        info.get("icc_profile") or None,
        exif or None,
        dpi,
        extra,
    )


def webp_lossless_for(photo: Photo) -> bool:
    """Lossless unless the source itself was lossy (JPEG, lossy WebP): do not bloat, do not degrade."""
    if photo.source_format == "WEBP":
        return bool(photo.extra.get("webp_lossless", False))
    return photo.source_format != "JPEG"


def _pillow_image(planes: Planes) -> Image.Image:
    colour = planes.colour
    if colour.ndim == 2:
        return Image.fromarray(colour, "L")
    if planes.alpha is not None:
        return Image.fromarray(np.dstack([colour, planes.alpha]), "RGBA")
    return Image.fromarray(colour, "RGB")


def _embedded_metadata(photo: Photo, planes: Planes) -> dict[str, Any]:
    """Pillow save options for the ICC profile, EXIF and XMP (JPEG and WebP take the same ones)."""
    options: dict[str, Any] = {}
    if planes.icc:
        options["icc_profile"] = planes.icc
    if planes.exif:
        options["exif"] = planes.exif
    if photo.extra.get("xmp"):
        options["xmp"] = photo.extra["xmp"]
    return options


def write_jpeg(fh: BinaryIO, photo: Photo, planes: Planes, quality: int) -> None:
    options: dict[str, Any] = {"quality": quality, "optimize": True}
    if quality >= 90:
        options["subsampling"] = 0  # 4:4:4: at high quality, chroma halving is the visible loss
    options.update(_embedded_metadata(photo, planes))
    if photo.extra.get("jpeg_comment"):
        options["comment"] = photo.extra["jpeg_comment"]
    if photo.dpi:
        options["dpi"] = tuple(round(v) for v in photo.dpi)
    _pillow_image(planes).save(fh, format="JPEG", **options)


def write_webp(fh: BinaryIO, photo: Photo, planes: Planes, quality: int) -> None:
    options: dict[str, Any] = {}
    if webp_lossless_for(photo):
        options.update(lossless=True, quality=100, method=4, exact=True)
    else:
        options.update(quality=quality, method=4)
    options.update(_embedded_metadata(photo, planes))
    image = _pillow_image(planes)
    if image.mode == "L":
        image = image.convert("RGB")
    image.save(fh, format="WEBP", **options)


def write_bmp(fh: BinaryIO, photo: Photo, planes: Planes) -> None:
    options: dict[str, Any] = {}
    if photo.dpi:
        options["dpi"] = photo.dpi
    _pillow_image(planes).save(fh, format="BMP", **options)
