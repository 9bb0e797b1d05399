"""PNG: decode with OpenCV (Pillow truncates 16-bit RGB), and the metadata chunks OpenCV ignores.

Chunks are read and written here: iCCP, eXIf, pHYs, XMP and text go in right after IHDR. OpenCV
cannot write grey + alpha (and Pillow not at 16 bit), so that colour type is encoded here too.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from inpaint_studio.core.errors import UnsupportedFormatError
from inpaint_studio.core.io._decoded import Decoded, corrupt, snap_dpi
from inpaint_studio.core.io._exif import EXIF_PREFIX, exif_body, exif_orientation
from inpaint_studio.core.io._formats import CONVERT_HINT, check_size
from inpaint_studio.core.io._planes import Planes
from inpaint_studio.core.photo import Photo


def _read_file(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def decode_png(path: Path, name: str, limit: int) -> Decoded:
    data = _read_file(path)
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise corrupt(name, "PNG", "no IHDR header")
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    check_size(name, width, height, limit)
    flags = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        raise corrupt(name, "PNG", str(exc).strip().splitlines()[-1]) from None
    if decoded is None:
        raise corrupt(name, "PNG", "the decoder gave up, e.g. missing or damaged image data")
    if decoded.dtype not in (np.uint8, np.uint16):
        raise UnsupportedFormatError(f"{name}: {decoded.dtype} PNG pixels are not supported; {CONVERT_HINT}")
    if decoded.ndim == 2:
        decoded = decoded[..., None]
    alpha = decoded[..., 3].copy() if decoded.shape[2] == 4 else None
    if colour_type in (0, 4):  # greyscale (OpenCV may hand it back expanded to BGR(A))
        colour = decoded[..., :1].copy()
    elif decoded.shape[2] >= 3:
        colour = np.ascontiguousarray(decoded[..., 2::-1])  # BGR -> RGB: the only place BGR exists
    else:
        colour = decoded[..., :1].copy()
    meta = _metadata(data)
    exif = meta.pop("exif", None)
    extra = {k: meta[k] for k in ("xmp", "png_text") if k in meta}
    orientation = exif_orientation(exif)
    return Decoded(colour, alpha, orientation, meta.get("icc_profile"), exif, meta.get("dpi"), extra)


def write_png(fh: BinaryIO, photo: Photo, planes: Planes) -> None:
    colour, alpha = planes.colour, planes.alpha
    if colour.ndim == 2 and alpha is not None:
        png = _encode_grey_alpha(colour, alpha)
    else:
        if colour.ndim == 2:
            bgr = colour
        elif alpha is not None:
            bgr = np.dstack([colour[..., ::-1], alpha])
        else:
            bgr = colour[..., ::-1]
        png = encode_plain(bgr)
    fh.write(_insert_chunks(png, _metadata_chunks(photo, planes.icc, planes.exif)))


def encode_plain(values: np.ndarray) -> bytes:
    """PNG of an H x W grey or H x W x 3/4 BGR(A) array, no metadata (OpenCV: fast, 8 and 16 bit)."""
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(values), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise ValueError("the PNG encoder failed")
    return buf.tobytes()


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes, bool]]:
    """(type, payload, crc_ok) for every complete chunk after the signature."""
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return
        payload = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        yield kind, payload, zlib.crc32(kind + payload) & 0xFFFFFFFF == crc
        if kind == b"IEND":
            return
        pos = end


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _insert_chunks(png: bytes, chunks: list[bytes]) -> bytes:
    """Insert ready-made chunks right after IHDR (before any PLTE/IDAT, where iCCP/eXIf/pHYs must go)."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or png[12:16] != b"IHDR":
        raise ValueError("encoder did not produce a PNG")
    (length,) = struct.unpack(">I", png[8:12])
    after_ihdr = 8 + 12 + length
    return png[:after_ihdr] + b"".join(chunks) + png[after_ihdr:]


def _metadata(data: bytes) -> dict[str, Any]:
    """ICC, EXIF, DPI, XMP and text from a PNG's ancillary chunks (damaged ones are skipped)."""
    meta: dict[str, Any] = {}
    text: dict[str, str] = {}
    for kind, payload, ok in _chunks(data):
        if not ok:
            continue
        try:
            if kind == b"iCCP":
                _name, rest = payload.split(b"\x00", 1)
                meta["icc_profile"] = zlib.decompress(rest[1:])
            elif kind == b"eXIf":
                meta["exif"] = EXIF_PREFIX + payload
            elif kind == b"pHYs" and len(payload) == 9:
                x, y, unit = struct.unpack(">IIB", payload)
                if unit == 1 and x and y:
                    meta["dpi"] = snap_dpi(x * 0.0254, y * 0.0254)
            elif kind == b"tEXt":
                key, value = payload.split(b"\x00", 1)
                text[key.decode("latin-1")] = value.decode("latin-1")
            elif kind == b"zTXt":
                key, value = payload.split(b"\x00", 1)
                text[key.decode("latin-1")] = zlib.decompress(value[1:]).decode("latin-1")
            elif kind == b"iTXt":
                key, rest = payload.split(b"\x00", 1)
                compressed, _method = rest[0], rest[1]
                _lang, _translated, value = rest[2:].split(b"\x00", 2)
                raw = zlib.decompress(value) if compressed else value
                if key == b"XML:com.adobe.xmp":
                    meta["xmp"] = raw
                else:
                    text[key.decode("latin-1")] = raw.decode("utf-8")
        except (ValueError, IndexError, zlib.error, UnicodeDecodeError):
            continue
    if text:
        meta["png_text"] = text
    return meta


def _metadata_chunks(photo: Photo, icc: bytes | None, exif: bytes | None) -> list[bytes]:
    chunks = []
    if icc:
        chunks.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
    if photo.dpi:
        x, y = (round(v / 0.0254) for v in photo.dpi)
        if x > 0 and y > 0:
            chunks.append(_chunk(b"pHYs", struct.pack(">IIB", x, y, 1)))
    if exif:
        chunks.append(_chunk(b"eXIf", exif_body(exif)))
    xmp = photo.extra.get("xmp")
    if xmp:
        chunks.append(_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + bytes(xmp)))
    for key, value in (photo.extra.get("png_text") or {}).items():
        try:
            chunks.append(_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1")))
        except UnicodeEncodeError:
            payload = key.encode("utf-8") + b"\x00\x00\x00\x00\x00" + value.encode("utf-8")
            chunks.append(_chunk(b"iTXt", payload))
    return chunks


def _encode_grey_alpha(grey: np.ndarray, alpha: np.ndarray) -> bytes:
    """PNG colour type 4 (grey + alpha), 8 or 16 bit: OpenCV cannot write 2 channels, Pillow not 16-bit LA."""
    height, width = grey.shape
    depth = 8 if grey.dtype == np.uint8 else 16
    samples = np.stack([grey, alpha], axis=-1).astype(">u2" if depth == 16 else np.uint8)
    rows = samples.reshape(height, -1).view(np.uint8).reshape(height, -1)
    # "Up" filter (type 2): each row minus the one above, modulo 256; cheap and effective on photos.
    up = rows.copy()
    up[1:] = rows[1:] - rows[:-1]
    raw = np.concatenate([np.full((height, 1), 2, np.uint8), up], axis=1)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 4, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )
