"""TIFF through tifffile (+ imagecodecs): 8/16 bit, planar, palette, compressed; EXIF kept as IFDs.

tifffile neither reads EXIF into a JPEG-style blob nor writes the ExifIFD/GPSIFD pointer tags, so
both directions are done here from the raw IFDs (see _exif).
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import tifffile

from inpaint_studio.core.errors import UnsupportedFormatError
from inpaint_studio.core.io._decoded import Decoded, corrupt, out_of_memory
from inpaint_studio.core.io._exif import (
    DESCRIPTIVE_TAGS,
    EXIF_PREFIX,
    TAG_EXIF_IFD,
    TAG_GPS_IFD,
    IfdEntry,
    exif_ifds,
    pack_ifd,
    read_ifd,
    tiff_header,
)
from inpaint_studio.core.io._formats import CONVERT_HINT, check_size
from inpaint_studio.core.io._planes import Planes
from inpaint_studio.core.photo import Photo, convert_depth

#: private tag codes written in place of the Exif/GPS IFD pointers, which tifffile will not write
_PLACEHOLDERS = {TAG_EXIF_IFD: 65000, TAG_GPS_IFD: 65001}
_KEEP_COMPRESSION = {1: "none", 5: "lzw", 8: "zlib", 32946: "zlib", 32773: "packbits"}


def decode_tiff(path: Path, name: str, limit: int) -> Decoded:
    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, ValueError, OSError, struct.error) as exc:
        raise corrupt(name, "TIFF", exc) from None
    with tif:
        if not tif.pages:
            raise corrupt(name, "TIFF", "no image in the file")
        page = tif.pages.first
        check_size(name, int(page.imagewidth), int(page.imagelength), limit)
        photometric = int(page.photometric)
        if photometric == 5:
            raise UnsupportedFormatError(
                f"{name} is a CMYK TIFF; convert it to RGB first (with colour management, e.g. in your "
                "photo editor) — converting print colours here would change them silently"
            )
        if photometric not in (0, 1, 2, 3, 6):
            raise UnsupportedFormatError(
                f"{name} uses TIFF colour space {page.photometric.name}, which we cannot edit; "
                f"{CONVERT_HINT}"
            )
        sample_format = int(page.sampleformat)
        bits = int(page.bitspersample)
        if sample_format != 1 or bits > 16:
            kind = {2: "signed integer", 3: "floating-point"}.get(sample_format, "unsigned")
            raise UnsupportedFormatError(
                f"{name} has {bits}-bit {kind} samples (HDR/scientific data), which we cannot edit; "
                f"{CONVERT_HINT}"
            )
        try:
            data = page.asarray()
        except MemoryError:
            raise out_of_memory(name) from None
        except NotImplementedError as exc:
            detail = f"this TIFF variant is not supported ({exc})"
            raise UnsupportedFormatError(f"{name}: {detail}; {CONVERT_HINT}") from None
        except Exception as exc:  # tifffile/imagecodecs raise many types for damaged data
            raise corrupt(name, "TIFF", exc) from None
        axes = page.axes
        if axes == "YX":
            data = data[..., None]
        elif axes == "SYX":
            data = np.moveaxis(data, 0, -1)
        elif axes != "YXS":
            raise UnsupportedFormatError(f"{name}: TIFF layout {axes} is not one 2-D image; {CONVERT_HINT}")
        extrasamples = tuple(int(x) for x in page.extrasamples)
        if photometric == 2 and data.shape[-1] > 3 + len(extrasamples):
            # RGB + samples the file does not describe (some scanners omit ExtraSamples): not alpha
            extrasamples = (0,) * (data.shape[-1] - 3 - len(extrasamples)) + extrasamples
        colour_count = data.shape[-1] - len(extrasamples)
        if photometric == 3:  # palette: indices into a 16-bit colour map
            colormap = page.colormap
            if colormap is None:
                raise corrupt(name, "TIFF", "palette image without a colour map")
            lut = np.asarray(colormap, dtype=np.uint16).T
            index = data[..., 0].astype(np.intp)
            colour = lut[np.clip(index, 0, len(lut) - 1)]
            if bits <= 8:
                colour = convert_depth(colour, np.uint8)
            extras = data[..., 1:].astype(colour.dtype)  # palette + alpha: keep the extra samples after RGB
            data = np.concatenate([colour, extras], axis=-1)
            colour_count = 3
        else:
            data = _rescale_bits(data, bits)
        if photometric in (0, 1):
            colour_count = 1
        colour = data[..., :colour_count]
        if photometric == 0:  # min-is-white: 0 means white
            colour = np.iinfo(colour.dtype).max - colour
        alpha = infrared = None
        for i, kind in enumerate(extrasamples):
            if colour_count + i >= data.shape[-1]:
                break
            if kind in (1, 2) and alpha is None:
                alpha = np.ascontiguousarray(data[..., colour_count + i])
                if kind == 1:  # associated (premultiplied) alpha -> unassociated, as we store it
                    colour = _unpremultiply(colour, alpha)
            elif kind == 0 and infrared is None and photometric != 3:
                # "unspecified": what film scanners write for their infrared (RGBI) channel
                infrared = np.ascontiguousarray(data[..., colour_count + i])
        tags = page.tags
        orientation = tags.get(274)
        icc = tags.get(34675)
        xmp = tags.get(700)
        unit = tags.get(296)
        dpi = None
        xres, yres = _tiff_rational(tags.get(282)), _tiff_rational(tags.get(283))
        unit_value = int(unit.value) if unit is not None else 2
        if xres and yres and unit_value in (2, 3):
            factor = 2.54 if unit_value == 3 else 1.0
            dpi = (xres * factor, yres * factor)
        extra: dict[str, Any] = {"tiff_compression": int(page.compression)}
        if len(tif.pages) > 1:
            extra["tiff_pages_ignored"] = len(tif.pages) - 1
        if xmp is not None and isinstance(xmp.value, (bytes, str)):
            extra["xmp"] = xmp.value if isinstance(xmp.value, bytes) else xmp.value.encode("utf-8")
        exif = None
        if not tif.is_bigtiff:
            with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                exif = _exif_blob(mapped)
        orientation_value = int(orientation.value) if orientation is not None else 1
        return Decoded(
            np.ascontiguousarray(colour),
            alpha,
            orientation_value if 1 <= orientation_value <= 8 else 1,
            bytes(icc.value) if icc is not None else None,
            exif,
            dpi,
            extra,
            infrared,
        )


def _rescale_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Samples of an odd bit depth (1-7, 9-15) stretched to the full uint8/uint16 range."""
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * np.uint8(255)
    if bits in (8, 16):
        return values
    target = np.uint8 if bits < 8 else np.uint16
    top = float(np.iinfo(target).max)
    return np.rint(values.astype(np.float64) * (top / (2**bits - 1))).astype(target)


def _tiff_rational(tag: Any) -> float | None:
    value = tag.value if tag is not None else None
    if isinstance(value, tuple) and len(value) == 2 and value[1]:
        return value[0] / value[1]
    if isinstance(value, (int, float)) and value:
        return float(value)
    return None


def _unpremultiply(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    top = float(np.iinfo(colour.dtype).max)
    a = alpha.astype(np.float64)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(a > 0, colour.astype(np.float64) * top / a, 0.0)
    return np.clip(np.rint(out), 0, top).astype(colour.dtype)


def _exif_blob(buf: bytes | mmap.mmap) -> bytes | None:
    """EXIF as a JPEG would carry it, built from a TIFF file's main IFD (descriptive tags + Exif/GPS IFDs)."""
    try:
        endian, offset = tiff_header(buf)
        entries = read_ifd(buf, offset, endian, (TAG_EXIF_IFD, TAG_GPS_IFD))
    except (ValueError, struct.error):
        return None
    keep = [
        e
        for e in entries
        if e.tag in DESCRIPTIVE_TAGS or (e.tag in (TAG_EXIF_IFD, TAG_GPS_IFD) and e.children is not None)
    ]
    if not keep:
        return None
    head = (b"II*\x00" if endian == "<" else b"MM\x00*") + struct.pack(endian + "I", 8)
    return EXIF_PREFIX + head + pack_ifd(keep, 8, endian)


def write_tiff(fh: BinaryIO, photo: Photo, planes: Planes) -> None:
    colour, alpha = planes.colour, planes.alpha
    grey = colour.ndim == 2
    data = colour if alpha is None else np.dstack([colour, alpha])
    compression = _KEEP_COMPRESSION.get(int(photo.extra.get("tiff_compression", 8)), "zlib")
    endian = "<"
    extratags: list[tuple[int, int, int, Any, bool]] = []
    exif_children: dict[int, list[IfdEntry]] = {}
    if planes.exif:
        try:
            endian, entries = exif_ifds(planes.exif)
        except (ValueError, struct.error):
            entries = []
        for entry in entries:
            if entry.tag in DESCRIPTIVE_TAGS and entry.type == 2:
                extratags.append((entry.tag, 2, 0, entry.data.rstrip(b"\x00"), True))
            elif entry.tag in (TAG_EXIF_IFD, TAG_GPS_IFD) and entry.children:
                exif_children[entry.tag] = entry.children
                extratags.append((_PLACEHOLDERS[entry.tag], 4, 1, 0, True))  # see _attach_ifds
    if photo.extra.get("xmp"):
        extratags.append((700, 1, 0, bytes(photo.extra["xmp"]), True))
    options: dict[str, Any] = {
        "photometric": "minisblack" if grey else "rgb",
        "planarconfig": "contig",
        "compression": compression,
        "metadata": None,  # no tifffile JSON in ImageDescription
        "software": False,
        "extratags": extratags,
    }
    if compression in ("zlib", "lzw"):
        options["predictor"] = True
    if alpha is not None:
        options["extrasamples"] = ["unassalpha"]
    if planes.icc:
        options["iccprofile"] = planes.icc
    if photo.dpi:
        options["resolution"] = photo.dpi
        options["resolutionunit"] = "inch"
    start = fh.tell()
    tifffile.imwrite(fh, data, byteorder=endian, **options)
    if exif_children:
        _attach_ifds(fh, start, endian, exif_children)


def _attach_ifds(fh: BinaryIO, start: int, endian: str, children: dict[int, list[IfdEntry]]) -> None:
    """Append the Exif/GPS IFDs to a just-written TIFF and turn the placeholder tags into pointers to them.

    tifffile refuses to write the ExifIFD/GPSIFD pointer tags (its TAG_FILTERED set), so the writer
    emits private placeholder tags; here the IFDs are appended (entries copied verbatim: same types,
    same byte order), the placeholders renamed to 34665/34853 and the table re-sorted as TIFF requires.
    """
    fh.seek(start)
    _endian, ifd0 = tiff_header(fh.read(8))
    fh.seek(start + ifd0)
    (count,) = struct.unpack(endian + "H", fh.read(2))
    table = fh.read(12 * count)
    rows = [bytearray(table[12 * i : 12 * i + 12]) for i in range(count)]
    for tag, entries in children.items():
        fh.seek(0, os.SEEK_END)
        if (fh.tell() - start) % 2:
            fh.write(b"\x00")
        offset = fh.tell() - start
        fh.write(pack_ifd(entries, offset, endian))
        for row in rows:
            if struct.unpack(endian + "H", row[:2])[0] == _PLACEHOLDERS[tag]:
                row[:] = struct.pack(endian + "HHII", tag, 4, 1, offset)
    rows.sort(key=lambda row: struct.unpack(endian + "H", row[:2])[0])
    fh.seek(start + ifd0 + 2)
    fh.write(b"".join(rows))
    fh.seek(0, os.SEEK_END)
