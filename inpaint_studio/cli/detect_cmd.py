"""``inpaint-studio detect IMAGE -o MASK``: find scratches and dust, write them as an editable mask.

The mask is the detector's soft mask as it is (255 = surely damage, grey = less sure), so a
restorer can open it in any editor, touch it up and hand it to ``fill`` or ``restore --mask``.
A scan with an infrared channel (RGBI TIFF from Digital ICE / VueScan) gets its IR dust mask
merged in automatically. The detection options and the infrared handling live here because
``restore`` and ``batch --restore`` take exactly the same ones.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from inpaint_studio.cli.common import check_output_file, ctrl_c_cancels, print_note, require_file
from inpaint_studio.cli.progress import ProgressLine
from inpaint_studio.core.errors import FillCancelled, InvalidParameterError, UnsupportedFormatError

#: what ``--ir-threshold`` means when not given (core.damage.infrared_dust_mask's default)
DEFAULT_IR_THRESHOLD = 0.5


def damage_options(args: argparse.Namespace) -> Any:
    """The DamageOptions of the ``--kind/--sensitivity/--min-size/--max-size`` flags (checked)."""
    from inpaint_studio.core.damage import DamageOptions

    if args.ir_threshold is not None and not 0.0 <= args.ir_threshold <= 1.0:
        raise InvalidParameterError(f"--ir-threshold must be between 0 and 1, got {args.ir_threshold:g}")
    if args.max_pixels is not None and args.max_pixels <= 0:
        raise InvalidParameterError(f"--max-pixels must be a positive number, got {args.max_pixels}")
    return DamageOptions(kind=args.kind, sensitivity=args.sensitivity, min_size=args.min_size,
                         max_size=args.max_size, dust_finder=args.dust_finder,
                         scratch_finder=args.scratch_finder)


def ir_threshold(args: argparse.Namespace) -> float:
    return DEFAULT_IR_THRESHOLD if args.ir_threshold is None else float(args.ir_threshold)


def infrared_of(photo: Any, args: argparse.Namespace, name: str, *, notes: bool = True) -> Any:
    """The photo's infrared channel if it has one and the user did not turn it off; notes why not."""
    infrared = getattr(photo, "infrared", None)
    if args.no_infrared:
        return None
    if infrared is None and args.ir_threshold is not None and notes and not args.quiet:
        print_note(f"note: {name} has no infrared channel; --ir-threshold is not used")
    if infrared is not None and args.kind == "scratches" and notes and not args.quiet:
        print_note(f"note: {name}'s infrared channel is not used with --kind scratches (it finds dust)")
    return infrared


def mask_summary(mask: Any) -> str:
    """``12 defects, 345 px (0.28% of the photo)`` — what a user wants to know about a mask."""
    import cv2
    import numpy as np

    present = (np.asarray(mask) > 0).view(np.uint8)
    pixels = int(np.count_nonzero(present))
    if pixels == 0:
        return "no damage found"
    count = cv2.connectedComponents(present, connectivity=8)[0] - 1
    share = 100.0 * pixels / present.size
    return f"{count} defect{'s' if count != 1 else ''}, {pixels} px ({share:.2f}% of the photo)"


def check_mask_output(path: Path, what: str) -> None:
    if path.suffix.lower() != ".png":
        raise UnsupportedFormatError(f"{what} {path.name}: masks are written as PNG (lossless); "
                                     "use a .png name")


def run(args: argparse.Namespace) -> int:
    from inpaint_studio.core import io
    from inpaint_studio.runtime.jobs import CancelToken
    from inpaint_studio.runtime.restore import damage_mask

    options = damage_options(args)
    image_path, out_path = Path(args.image), Path(args.output)
    check_mask_output(out_path, "mask")
    require_file(image_path, "image")
    check_output_file(out_path, overwrite=args.overwrite, record=False, inputs=[(image_path, "image")])

    progress = ProgressLine(enabled=False if args.quiet else None)
    started = time.monotonic()
    photo = io.load_photo(image_path, max_pixels=args.max_pixels)
    infrared = infrared_of(photo, args, image_path.name)
    cancel = CancelToken()
    progress.set_prefix("detect")
    progress.update(0.0, "finding scratches and dust" + (" (+ infrared)" if infrared is not None else ""),
                    force=True)
    try:
        with ctrl_c_cancels(cancel):
            mask = damage_mask(photo.pixels, options, infrared=infrared, ir_threshold=ir_threshold(args),
                               cancel=lambda: cancel.cancelled)
        if cancel.cancelled:
            raise FillCancelled("cancelled")
    finally:
        progress.clear()
    saved = io.save_mask(mask, out_path, overwrite=args.overwrite)
    if not args.quiet:
        print(f"{saved}: {mask_summary(mask)}")
    if progress.enabled:
        print_note(f"detected in {time.monotonic() - started:.1f} s")
    return 0
