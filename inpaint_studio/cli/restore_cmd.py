"""``inpaint-studio restore IMAGE -o OUT``: find a scan's scratches and dust and fill them, in one go.

The work is the runtime's :func:`~inpaint_studio.runtime.restore.run_restore` (the very code the
GUI runs): detection, then hairlines with a diffusion method, then wider damage with a patch-based
one, under one progress bar. As in ``fill``, everything that can be checked without reading pixels
(methods, parameters, detector options, output paths) is checked first, the output is written
atomically with the photo's depth, ICC profile and metadata, and Ctrl+C writes nothing.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inpaint_studio.cli.common import (
    check_output_file,
    ctrl_c_cancels,
    parse_param_args,
    print_note,
    require_file,
    resolve_method,
    same_file,
)
from inpaint_studio.cli.detect_cmd import check_mask_output, damage_options, infrared_of, ir_threshold
from inpaint_studio.cli.progress import ProgressLine
from inpaint_studio.core.errors import (
    FillCancelled,
    InvalidParameterError,
    MethodFailedError,
    OverwriteRefusedError,
    UnsupportedFormatError,
)


@dataclass(frozen=True)
class RestoreSetup:
    """The validated restore options shared by ``restore`` and ``batch --restore``."""

    options: Any  # core.damage.DamageOptions
    thin_method: str
    thin_params: dict[str, Any]
    large_method: str
    large_params: dict[str, Any]
    hairline_width: int
    ir_threshold: float
    seed: int
    device: str
    #: why a requested device is not the one used, one per method that has something to say
    notes: tuple[str, ...]


def check_restore_options(args: argparse.Namespace) -> RestoreSetup:
    """Validate methods, parameters, detector and output options before any file is read."""
    from inpaint_studio.cli.fill import check_common_options, device_note
    from inpaint_studio.methods.base import params_to_json

    # seed, JPEG quality, --max-pixels and the device are checked exactly as for ``fill``,
    # with the thin method standing in for ``--method``
    thin_args = argparse.Namespace(**{**vars(args), "method": args.thin_method, "param": args.thin_param})
    thin_cls, thin_params, device = check_common_options(thin_args)
    large_cls, large_params = resolve_method(args.large_method, parse_param_args(args.large_param))
    if args.hairline_width < 1:
        raise InvalidParameterError(f"--hairline-width must be at least 1 pixel, got {args.hairline_width}")
    options = damage_options(args)
    notes = (device_note(thin_cls, device), device_note(large_cls, device))
    return RestoreSetup(options, thin_cls.name, params_to_json(thin_params), large_cls.name,
                        params_to_json(large_params), args.hairline_width, ir_threshold(args), args.seed,
                        device, tuple(dict.fromkeys(n for n in notes if n)))


def restore_pixels(photo: Any, setup: RestoreSetup, *, mask: Any = None, infrared: Any = None,
                   source_name: str | None, progress: ProgressLine) -> tuple[Any, Any]:
    """Run one restore; returns (FillResult, the damage mask filled); raises on failure or cancel."""
    from inpaint_studio.runtime.jobs import CancelToken
    from inpaint_studio.runtime.restore import run_restore

    cancel = CancelToken()
    used: list[Any] = []

    def on_progress(event: Any) -> None:
        text = "cancelling..." if cancel.cancelled else event.text
        progress.update(event.fraction, text, eta_s=event.eta_s)

    with ctrl_c_cancels(cancel):
        result = run_restore(
            photo.pixels, setup.options, mask=mask, infrared=infrared, on_progress=on_progress, cancel=cancel,
            thin_method=setup.thin_method, large_method=setup.large_method, thin_params=setup.thin_params,
            large_params=setup.large_params, hairline_width=setup.hairline_width,
            ir_threshold=setup.ir_threshold, seed=setup.seed, device=setup.device, source_name=source_name,
            on_mask=used.append)
    if result.status == "cancelled" or cancel.cancelled:
        raise FillCancelled("cancelled")  # a Ctrl+C as the restore finished still means "write nothing"
    if result.status != "done" or result.pixels is None:
        raise result.error or MethodFailedError(result.message or "the restore failed")
    return result, used[-1] if used else None


def save_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"bit_depth": args.bit_depth, "overwrite": args.overwrite}
    if args.jpeg_quality is not None:
        kwargs["jpeg_quality"] = args.jpeg_quality
    return kwargs


def run(args: argparse.Namespace) -> int:
    setup = check_restore_options(args)
    from inpaint_studio.cli.fill import write_record
    from inpaint_studio.core import io
    from inpaint_studio.core.mask_ops import check_mask_usable

    image_path, out_path = Path(args.image), Path(args.output)
    mask_path = Path(args.mask) if args.mask else None
    save_mask_path = Path(args.save_mask) if args.save_mask else None
    out_format = io.format_from_path(out_path)
    if args.bit_depth == 16 and not io.can_hold_bit_depth(out_format, 16):
        raise UnsupportedFormatError(f"{out_format} cannot store 16 bits per channel; "
                                     "save as PNG or TIFF for 16-bit")
    require_file(image_path, "image")
    inputs = [(image_path, "image")]
    if mask_path is not None:
        require_file(mask_path, "mask")
        inputs.append((mask_path, "mask"))
    check_output_file(out_path, overwrite=args.overwrite, record=args.record, inputs=inputs)
    if save_mask_path is not None:
        check_mask_output(save_mask_path, "--save-mask")
        if same_file(save_mask_path, out_path):
            raise OverwriteRefusedError(f"--save-mask and -o name the same file: {out_path}")
        check_output_file(save_mask_path, overwrite=args.overwrite, record=False, inputs=inputs)

    progress = ProgressLine(enabled=False if args.quiet else None)
    for note in setup.notes:
        if not args.quiet:
            print_note(note)
    started = time.monotonic()
    photo = io.load_photo(image_path, max_pixels=args.max_pixels)
    shape = photo.pixels.shape[:2]
    mask = infrared = None
    if mask_path is not None:
        mask = io.load_mask(mask_path, shape, max_pixels=args.max_pixels)
        check_mask_usable(mask, shape)
    else:
        infrared = infrared_of(photo, args, image_path.name)
    if not args.quiet and photo.source_format != out_format:
        for loss in io.metadata_losses(photo, out_format, bit_depth=args.bit_depth):
            print_note(f"note: {loss}")

    progress.set_prefix("restore")
    try:
        result, used_mask = restore_pixels(photo, setup, mask=mask, infrared=infrared,
                                           source_name=image_path.name, progress=progress)
    finally:
        progress.clear()
    saved = io.save_photo(photo.with_pixels(result.pixels), out_path, **save_kwargs(args))
    if save_mask_path is not None and used_mask is not None:
        io.save_mask(used_mask, save_mask_path, overwrite=args.overwrite)
    if args.record:
        write_record(result, out_path)
    if result.changed is None and not args.quiet:
        print_note(f"no damage found in {image_path.name}; {saved} is an unchanged copy")
    elif progress.enabled:
        print_note(f"wrote {saved} ({result.message}; {time.monotonic() - started:.1f} s in all)")
    return 0
