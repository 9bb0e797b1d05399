"""``inpaint-studio fill IMAGE MASK -o OUT``: one photo, one mask, one result file.

Order matters for the user: everything that can be checked without reading pixels (method,
parameters, seed, device, output path) is checked first, so a typo fails in milliseconds rather
than after a 100-megapixel decode. The fill itself is the runtime's ``run_fill`` — the very code
the GUI's worker runs — called synchronously on this thread.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from inpaint_studio.cli.common import (
    check_output_file,
    ctrl_c_cancels,
    parse_param_args,
    print_note,
    require_file,
    resolve_method,
    sidecar_path,
)
from inpaint_studio.cli.progress import ProgressLine
from inpaint_studio.core.errors import (
    FillCancelled,
    InvalidParameterError,
    MethodFailedError,
    SaveError,
    UnsupportedFormatError,
)

_SEED_LIMIT = 2**32  # what runtime.run_fill accepts


def check_common_options(args: argparse.Namespace) -> tuple[type, Any, str]:
    """Validate what fill and batch share; returns (method class, params, normalized device)."""
    from inpaint_studio.runtime.device import normalize_preference

    method_cls, params = resolve_method(args.method, parse_param_args(args.param))
    if not 0 <= args.seed < _SEED_LIMIT:
        raise InvalidParameterError(f"--seed must be between 0 and {_SEED_LIMIT - 1}, got {args.seed}")
    if args.jpeg_quality is not None and not 1 <= args.jpeg_quality <= 100:
        raise InvalidParameterError(f"--jpeg-quality must be between 1 and 100, got {args.jpeg_quality}")
    if args.max_pixels is not None and args.max_pixels <= 0:
        raise InvalidParameterError(f"--max-pixels must be a positive number, got {args.max_pixels}")
    return method_cls, params, normalize_preference(args.device)


def device_note(method_cls: type, device: str) -> str | None:
    """Why an explicitly requested device is not the one used (None when there is nothing to say)."""
    if device == "auto" or not getattr(method_cls, "uses_torch", False):
        return None
    from inpaint_studio.runtime.device import device_for_method

    choice = device_for_method(True, device)
    return None if choice.device.split(":")[0] == device.split(":")[0] else choice.reason


def fill_pixels(pixels: Any, mask: Any, *, method: str, params: Any, seed: int, device: str,
                source_name: str | None, progress: ProgressLine, sampling: Any = None) -> Any:
    """Run one fill through the runtime; returns the FillResult, raises on failure or cancel.

    ``sampling``: the sampling area (HxW, >0 = patches may come from here) or None.
    """
    from inpaint_studio.methods.base import params_to_json
    from inpaint_studio.runtime.jobs import CancelToken, FillRequest, frozen_view, run_fill

    cancel = CancelToken()

    def on_progress(event: Any) -> None:
        text = "cancelling..." if cancel.cancelled else event.text
        progress.update(event.fraction, text, eta_s=event.eta_s)

    # the CLI owns the photo and does nothing else meanwhile: no copy of a 577 MB 100 MP scan
    request = FillRequest(pixels=frozen_view(pixels), mask=mask, method=method, params=params_to_json(params),
                          seed=seed, device=device, source_name=source_name, sampling=sampling,
                          pixels_frozen=True)
    with ctrl_c_cancels(cancel):
        result = run_fill(request, on_progress=on_progress, cancel=cancel)
    if result.status == "cancelled" or cancel.cancelled:
        # a Ctrl+C that arrived as the fill finished still means "don't write anything"
        raise FillCancelled("cancelled")
    if result.status != "done" or result.pixels is None:
        raise result.error or MethodFailedError(result.message or f"method '{method}' failed")
    return result


def write_record(result: Any, out_path: Path) -> Path:
    """The ``--record`` sidecar: the runtime's provenance (method, params, seed, input hashes...)."""
    if result.provenance is None:
        raise SaveError(f"no provenance was recorded for {out_path.name}; nothing to write for --record")
    return result.provenance.write_sidecar(sidecar_path(out_path))


def load_sampling_mask(path: Path, shape: tuple[int, int], max_pixels: int | None) -> Any:
    """``--sampling-mask``: white = patches may come from here. An all-black file is a mistake
    (it would silently mean "anywhere"), so it is refused rather than ignored."""
    from inpaint_studio.core import io
    from inpaint_studio.core.errors import InvalidInputError

    sampling = io.load_mask(path, shape, max_pixels=max_pixels)
    if not sampling.any():
        raise InvalidInputError(f"the sampling mask {path.name} is all black: paint white where the fill "
                                "may copy from")
    return sampling


def run(args: argparse.Namespace) -> int:
    method_cls, params, device = check_common_options(args)
    from inpaint_studio.core import io
    from inpaint_studio.core.mask_ops import check_mask_usable

    image_path, mask_path, out_path = Path(args.image), Path(args.mask), Path(args.output)
    out_format = io.format_from_path(out_path)  # an unknown extension fails now, not after the fill
    if args.bit_depth == 16 and not io.can_hold_bit_depth(out_format, 16):  # --bit-depth fails fast too
        raise UnsupportedFormatError(f"{out_format} cannot store 16 bits per channel; "
                                     "save as PNG or TIFF for 16-bit")
    require_file(image_path, "image")
    require_file(mask_path, "mask")
    inputs = [(image_path, "image"), (mask_path, "mask")]
    sampling_path = Path(args.sampling_mask) if getattr(args, "sampling_mask", None) else None
    if sampling_path is not None:
        require_file(sampling_path, "sampling mask")
        inputs.append((sampling_path, "sampling mask"))
    check_output_file(out_path, overwrite=args.overwrite, record=args.record, inputs=inputs)

    progress = ProgressLine(enabled=False if args.quiet else None)
    note = device_note(method_cls, device)
    if note and not args.quiet:
        print_note(note)

    started = time.monotonic()
    photo = io.load_photo(image_path, max_pixels=args.max_pixels)
    shape = photo.pixels.shape[:2]
    mask = io.load_mask(mask_path, shape, max_pixels=args.max_pixels)
    check_mask_usable(mask, shape)
    sampling = None if sampling_path is None else load_sampling_mask(sampling_path, shape, args.max_pixels)

    if not args.quiet and photo.source_format != out_format:
        for loss in io.metadata_losses(photo, out_format, bit_depth=args.bit_depth):
            print_note(f"note: {loss}")
    progress.set_prefix(method_cls.name)
    try:
        result = fill_pixels(photo.pixels, mask, method=method_cls.name, params=params, seed=args.seed,
                             device=device, source_name=image_path.name, progress=progress,
                             sampling=sampling)
    finally:
        progress.clear()

    save_kwargs: dict[str, Any] = {"bit_depth": args.bit_depth, "overwrite": args.overwrite}
    if args.jpeg_quality is not None:
        save_kwargs["jpeg_quality"] = args.jpeg_quality
    saved = io.save_photo(photo.with_pixels(result.pixels), out_path, **save_kwargs)
    if args.record:
        write_record(result, out_path)
    if progress.enabled:
        print_note(f"wrote {saved} ({method_cls.name}, {time.monotonic() - started:.1f} s)")
    return 0
