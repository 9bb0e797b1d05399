"""Photo and mask file I/O: the one place that knows file formats, BGR, EXIF and ICC.

The bar is "a photographer's file round-trips without losing anything": pixels stay in their own
depth (8 or 16 bit), greyscale stays greyscale, alpha, ICC profile, EXIF, XMP and DPI are carried
through, and saving never destroys the old file (core.atomic: temp file in the same folder + rename).

Decoders, chosen for what each library does well:
- PNG (_png): OpenCV (Pillow truncates 16-bit RGB PNG to 8 bit); metadata chunks are parsed here.
- TIFF (_tiff): tifffile (+ imagecodecs): 8/16 bit, planar, compressed; metadata from the raw IFDs (_exif).
- JPEG, WebP, BMP (_pillow): Pillow.
The file's content decides the format, not its extension (a JPEG named .png still opens).
Entry points live in load.py and save.py; format names, capabilities and limits in _formats.py.
"""

from __future__ import annotations

from inpaint_studio.core.io._formats import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    SUPPORTED_EXTENSIONS,
    SUPPORTED_FORMATS,
    can_hold_bit_depth,
    format_from_path,
)
from inpaint_studio.core.io.load import load_mask, load_photo
from inpaint_studio.core.io.save import metadata_losses, save_mask, save_photo

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "SUPPORTED_EXTENSIONS",
    "SUPPORTED_FORMATS",
    "can_hold_bit_depth",
    "format_from_path",
    "load_mask",
    "load_photo",
    "metadata_losses",
    "save_mask",
    "save_photo",
]
