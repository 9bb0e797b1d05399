"""EXIF as raw TIFF structures (IFDs): parse, pack, read the orientation, reset it in place.

EXIF is kept byte-faithful: the orientation is patched in place instead of re-serialising through a
library that may change tag types or drop tags (maker notes, thumbnails survive untouched).
"""

from __future__ import annotations

import contextlib
import mmap
import struct
from dataclasses import dataclass, field

from PIL import Image

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_TAG_ORIENTATION = 0x0112
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
_TAG_INTEROP_IFD = 0xA005
_TAG_PIXEL_X = 0xA002
_TAG_PIXEL_Y = 0xA003
#: main-IFD tags that describe the photo (rather than its storage) and are copied between files
DESCRIPTIVE_TAGS = (270, 271, 272, 305, 306, 315, 316, 33432)
EXIF_PREFIX = b"Exif\x00\x00"


@dataclass
class IfdEntry:
    tag: int
    type: int
    count: int
    data: bytes  # the value bytes in the source byte order
    value_pos: int  # where the value (or its offset) sits in the buffer
    children: list[IfdEntry] | None = field(default=None)  # for sub-IFD pointers


def tiff_header(buf: bytes | mmap.mmap) -> tuple[str, int]:
    order = bytes(buf[:2])
    if order == b"II":
        endian = "<"
    elif order == b"MM":
        endian = ">"
    else:
        raise ValueError("not a TIFF structure")
    magic, offset = struct.unpack(endian + "HI", buf[2:8])
    if magic != 42:
        raise ValueError("not a classic TIFF structure")
    return endian, offset


def read_ifd(
    buf: bytes | mmap.mmap, offset: int, endian: str, sub_ifds: tuple[int, ...] = ()
) -> list[IfdEntry]:
    """Entries of the IFD at ``offset``; tags in ``sub_ifds`` get their child IFD read too."""
    if offset < 8 or offset + 2 > len(buf):
        raise ValueError("IFD offset out of range")
    (count,) = struct.unpack(endian + "H", buf[offset : offset + 2])
    entries = []
    for i in range(count):
        pos = offset + 2 + 12 * i
        if pos + 12 > len(buf):
            raise ValueError("IFD runs past the end")
        tag, typ, n = struct.unpack(endian + "HHI", buf[pos : pos + 8])
        size = _TYPE_SIZES.get(typ)
        if size is None:
            continue  # unknown type: cannot know its size, so it cannot be copied safely
        length = size * n
        if length <= 4:
            value_pos = pos + 8
        else:
            (value_pos,) = struct.unpack(endian + "I", buf[pos + 8 : pos + 12])
        if value_pos + length > len(buf):
            continue  # value outside the buffer: a damaged tag, skip it rather than refuse the photo
        entry = IfdEntry(tag, typ, n, bytes(buf[value_pos : value_pos + length]), pos + 8)
        if tag in sub_ifds and n == 1 and typ in (4, 13):
            (child,) = struct.unpack(endian + "I", entry.data)
            try:
                entry.children = read_ifd(buf, child, endian, (_TAG_INTEROP_IFD,))
            except (ValueError, struct.error):
                continue
        entries.append(entry)
    return entries


def pack_ifd(entries: list[IfdEntry], start: int, endian: str) -> bytes:
    """Serialise entries as an IFD located at file offset ``start`` (child IFDs follow their parent)."""
    entries = sorted(entries, key=lambda e: e.tag)
    table_end = start + 2 + 12 * len(entries) + 4
    table = bytearray(struct.pack(endian + "H", len(entries)))
    data = bytearray()
    children = bytearray()
    pending: list[tuple[int, IfdEntry]] = []
    for entry in entries:
        table += struct.pack(endian + "HHI", entry.tag, entry.type, entry.count)
        if entry.children is not None:
            pending.append((len(table), entry))
            table += b"\x00\x00\x00\x00"
        elif len(entry.data) <= 4:
            table += entry.data.ljust(4, b"\x00")
        else:
            table += struct.pack(endian + "I", table_end + len(data))
            data += entry.data
            if len(data) % 2:
                data += b"\x00"  # values start on a word boundary
    table += b"\x00\x00\x00\x00"  # no next IFD
    for slot, entry in pending:
        child_start = table_end + len(data) + len(children)
        table[slot : slot + 4] = struct.pack(endian + "I", child_start)
        children += pack_ifd(entry.children or [], child_start, endian)
    return bytes(table + data + children)


def exif_body(exif: bytes) -> bytes:
    return exif[len(EXIF_PREFIX) :] if exif.startswith(EXIF_PREFIX) else exif


def exif_orientation(exif: bytes | None) -> int:
    if not exif:
        return 1
    try:
        body = exif_body(exif)
        endian, offset = tiff_header(body)
        for entry in read_ifd(body, offset, endian):
            if entry.tag == _TAG_ORIENTATION and entry.type == 3 and entry.count >= 1:
                value = struct.unpack(endian + "H", entry.data[:2])[0]
                return value if 1 <= value <= 8 else 1
    except (ValueError, struct.error):
        # our strict reader gave up; Pillow is more forgiving, and viewers will honour what it finds
        parsed = Image.Exif()
        with contextlib.suppress(Exception):
            parsed.load(exif)
            value = parsed.get(_TAG_ORIENTATION, 1)
            return value if isinstance(value, int) and 1 <= value <= 8 else 1
    return 1


def exif_reset(exif: bytes, size: tuple[int, int] | None) -> bytes:
    """EXIF with Orientation = 1 (and PixelX/YDimension = size when those tags exist), else byte-identical.

    Values are patched in place, so maker notes, thumbnails and tag types survive untouched.
    """
    body = bytearray(exif_body(exif))
    try:
        endian, offset = tiff_header(body)
        for entry in read_ifd(body, offset, endian, (TAG_EXIF_IFD,)):
            if entry.tag == _TAG_ORIENTATION and entry.type == 3 and entry.count == 1:
                body[entry.value_pos : entry.value_pos + 2] = struct.pack(endian + "H", 1)
            if entry.tag == TAG_EXIF_IFD and entry.children and size is not None:
                for child in entry.children:
                    if child.tag in (_TAG_PIXEL_X, _TAG_PIXEL_Y) and child.count == 1:
                        value = size[0] if child.tag == _TAG_PIXEL_X else size[1]
                        if child.type == 3 and value <= 0xFFFF:
                            body[child.value_pos : child.value_pos + 2] = struct.pack(endian + "H", value)
                        elif child.type == 4:
                            body[child.value_pos : child.value_pos + 4] = struct.pack(endian + "I", value)
    except (ValueError, struct.error):
        return _exif_reset_with_pillow(exif)
    return EXIF_PREFIX + bytes(body)


def _exif_reset_with_pillow(exif: bytes) -> bytes:
    """Fallback for EXIF our strict parser rejects: let Pillow rewrite it with Orientation = 1."""
    parsed = Image.Exif()
    parsed.load(exif)
    if parsed.get(_TAG_ORIENTATION, 1) == 1:
        return exif
    parsed[_TAG_ORIENTATION] = 1
    return parsed.tobytes()


def exif_ifds(exif: bytes) -> tuple[str, list[IfdEntry]]:
    """(byte order, IFD0 entries with Exif/GPS sub-IFDs attached) of an EXIF blob."""
    body = exif_body(exif)
    endian, offset = tiff_header(body)
    return endian, read_ifd(body, offset, endian, (TAG_EXIF_IFD, TAG_GPS_IFD))
