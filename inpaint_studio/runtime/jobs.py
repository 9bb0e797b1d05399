"""One fill, start to finish, as a plain synchronous call: request in, result out, never an exception.

The CLI calls :func:`run_fill` directly; the GUI goes through :class:`~inpaint_studio.runtime.worker.
FillWorker`, which calls it on its own thread. A :class:`FillRequest` is an immutable snapshot, so the
user can keep painting while a fill runs. Every outcome — done, cancelled, failed — comes back as a
:class:`FillResult` with a user-facing message, so no caller needs a try/except around a fill.
"""

from __future__ import annotations

import random
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from inpaint_studio.core.errors import (
    EmptyImageError,
    FillCancelled,
    InpaintStudioError,
    InvalidInputError,
    InvalidParameterError,
    MethodFailedError,
    UnsupportedFormatError,
)
from inpaint_studio.core.mask_ops import as_coverage, check_mask_usable
from inpaint_studio.core.regions import RegionOptions, RegionTask, inpaint_regions
from inpaint_studio.core.types import BBox
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, make_params, params_to_json
from inpaint_studio.runtime.context import (
    CancelToken,
    FillPreview,
    FillProgress,
    FillReporter,
    PreviewCallback,
    ProgressCallback,
    RegionContext,
)
from inpaint_studio.runtime.device import DeviceChoice, device_for_method
from inpaint_studio.runtime.model_cache import ModelSession
from inpaint_studio.runtime.provenance import Provenance, array_digest, bbox_json, library_versions

__all__ = [
    "CancelToken",
    "FillPreview",
    "FillProgress",
    "FillRequest",
    "FillResult",
    "FillStatus",
    "default_region_options",
    "run_fill",
]

FillStatus = Literal["done", "cancelled", "failed"]

_SEED_MAX = 2**32 - 1


def _new_request_id() -> str:
    return uuid.uuid4().hex


def _frozen_copy(array: Any) -> np.ndarray:
    copy = np.array(array, copy=True)
    copy.flags.writeable = False
    return copy


def frozen_view(array: Any) -> np.ndarray:
    """A read-only view of ``array`` to pass with ``pixels_frozen=True`` by a caller that owns it
    and will not write it until the fill ends (the CLI: one photo, one thread)."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class FillRequest:
    """Everything one fill needs, captured at the moment the user pressed Fill.

    ``pixels`` (HxWx3 uint8/uint16) and ``mask`` (HxW bool or uint8 coverage, >0 = fill) are copied
    on construction and the copies made read-only, so neither the caller nor the worker can change
    a snapshot. Coordinates in results and previews are those of this ``pixels`` array (a GUI that
    sends a crop adds the crop's offset). ``params`` holds raw values (strings allowed, as the CLI
    gives them); they are validated when the fill runs and a bad one gives a failed result.
    ``regions`` None means the method's defaults (see :func:`default_region_options`).
    ``sampling`` (HxW, >0 = patches may come from here; None or all zero: anywhere) is the sampling
    area of methods that copy patches (``uses_sampling``); the others ignore it, with a note.
    ``pixels_frozen``: the caller promises that ``pixels`` (a read-only array) stays unchanged until
    the fill's result arrives — a document snapshot it guards by copy-on-write, or a photo the CLI
    owns alone — so it is used without a copy (577 MB saved on a 100 MP 16-bit scan).
    Construction never validates the data: every problem is reported by the result.
    """

    pixels: np.ndarray
    mask: np.ndarray
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    #: "auto", "cpu", "cuda", "cuda:N" or "mps"; ignored by methods that do not use torch
    device: str = "auto"
    regions: RegionOptions | None = None
    #: file name or title of the photo, for the provenance record
    source_name: str | None = None
    #: where patches may be copied from (HxW, >0 = allowed); None: anywhere outside the hole
    sampling: np.ndarray | None = None
    request_id: str = field(default_factory=_new_request_id)
    pixels_frozen: bool = False

    def __post_init__(self) -> None:
        shareable = (self.pixels_frozen and isinstance(self.pixels, np.ndarray)
                     and not self.pixels.flags.writeable)
        object.__setattr__(self, "pixels", self.pixels if shareable else _frozen_copy(self.pixels))
        object.__setattr__(self, "mask", _frozen_copy(self.mask))
        if self.sampling is not None:
            object.__setattr__(self, "sampling", _frozen_copy(self.sampling))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params or {})))


@dataclass(frozen=True, eq=False)
class FillResult:
    """How a fill ended. ``pixels`` is the full new image (request coordinates) only when done."""

    request_id: str
    status: FillStatus
    pixels: np.ndarray | None
    #: the part of the image that may differ from the input (union of the processed regions)
    changed: BBox | None
    #: one line for the status bar / terminal
    message: str
    error: InpaintStudioError | None = None
    provenance: Provenance | None = None
    #: traceback of an unexpected error, for bug reports (None otherwise)
    details: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "done"


def default_region_options(method: Method, params: Any) -> RegionOptions:
    """The region strategy a method asks for: its working size and the context it wants."""
    return RegionOptions(context_margin=int(method.context_margin(params)), working_size=method.working_size)


def _check_pixels(pixels: np.ndarray) -> None:
    if pixels.dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
        raise UnsupportedFormatError(f"unsupported pixel type {pixels.dtype}; expected uint8 or uint16")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise UnsupportedFormatError(
            f"expected an RGB image of height x width x 3, got an array of shape {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise EmptyImageError("the image is empty (0 pixels wide or high)")


def _sampling_area(sampling: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
    """The validated sampling area as bool HxW, or None when none was given (or nothing is painted).

    All zero means "nothing painted" (the GUI's empty layer), not "copy from nowhere". A sampling
    area lying entirely inside the hole leaves nothing to copy from: that is the user's mistake,
    said plainly rather than as a method's failure.
    """
    if sampling is None:
        return None
    try:
        coverage = as_coverage(sampling)
    except InvalidInputError as exc:  # "the mask ..." would point at the wrong layer
        raise InvalidInputError(f"sampling area: {exc}") from None
    if coverage.shape != mask.shape:
        (samp_h, samp_w), (mask_h, mask_w) = coverage.shape, mask.shape
        raise InvalidInputError(f"the sampling area is {samp_w}x{samp_h} but the image is {mask_w}x{mask_h}")
    allowed = coverage > 0
    if not allowed.any():
        return None
    if not (allowed & (mask == 0)).any():
        raise InvalidInputError("the sampling area lies entirely inside the area to fill: paint it where "
                                "the fill may copy from")
    return allowed


def _check_seed(seed: Any) -> int:
    whole = isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_))
    if not whole or not 0 <= seed <= _SEED_MAX:
        raise InvalidParameterError(f"seed must be a whole number from 0 to {_SEED_MAX}, got {seed!r}")
    return int(seed)


def _seed_everything(seed: int, uses_torch: bool) -> None:
    """Same input + params + seed = same output, whichever RNG a method happens to use."""
    random.seed(seed)
    np.random.seed(seed)  # the legacy global RNG, which older method code still draws from
    if uses_torch:
        import torch

        torch.manual_seed(seed)


def _without_tracebacks(exc: BaseException) -> BaseException:
    """Drop the tracebacks of an error and its causes: kept frames would pin image arrays in memory."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return exc


class _Run:
    """The state of one run_fill call, kept so every outcome can carry the same provenance."""

    def __init__(self, request: FillRequest) -> None:
        self.request = request
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")  # noqa: UP017 - 3.10 lacks UTC
        self.t0 = time.perf_counter()
        self.method: Method | None = None
        self.params_json: dict[str, Any] = {str(k): v for k, v in request.params.items()}
        self.device: DeviceChoice | None = None
        self.image_digest: dict[str, Any] | None = None
        self.mask_digest: dict[str, Any] | None = None
        self.sampling_digest: dict[str, Any] | None = None
        self.regions: list[dict[str, Any]] = []
        self.region_seconds: list[float] = []
        self.boxes: list[BBox] = []
        #: devices the regions actually ran on (``ctx.report_device``), in order, without repeats
        self.devices_used: list[str] = []
        #: learned methods load their network through this (weights used, notes such as a CPU fallback)
        self.models = ModelSession()

    def _device_record(self) -> tuple[str | None, str | None]:
        """(device, reason) for the provenance: the device(s) that really ran, not just the one chosen."""
        if self.device is None:
            return None, None
        chosen, reason = self.device.device, self.device.reason
        used = [d for d in self.devices_used if d != chosen]
        if not used:
            return chosen, reason
        ran = "+".join(self.devices_used)
        return ran, f"{reason}; ran on {ran} (fallback from {chosen})"

    def provenance(self, status: FillStatus, message: str) -> Provenance:
        method = self.method
        device, device_reason = self._device_record()
        uses_torch = bool(method is not None and method.uses_torch)
        return Provenance(
            method=self.request.method,
            method_label=method.label if method is not None else None,
            params=self.params_json,
            seed=self.request.seed,
            device=device,
            device_reason=device_reason,
            versions=library_versions(include_torch=uses_torch),
            image=self.image_digest,
            mask=self.mask_digest,
            source_name=self.request.source_name,
            regions=list(self.regions),
            durations={"total_s": round(time.perf_counter() - self.t0, 6),
                       "regions_s": [round(s, 6) for s in self.region_seconds]},
            started_at=self.started_at,
            status=status,
            message=message,
            request_id=self.request.request_id,
            weights=self.models.weights_json(),
            sampling=self.sampling_digest,
        )

    def result(self, status: FillStatus, message: str, *, pixels: np.ndarray | None = None,
               changed: BBox | None = None, error: InpaintStudioError | None = None,
               details: str | None = None) -> FillResult:
        return FillResult(self.request.request_id, status, pixels, changed, message, error,
                          self.provenance(status, message), details)


def cancelled_result(request: FillRequest) -> FillResult:
    """The result of a request cancelled before it started (the worker skips it)."""
    error = FillCancelled("the fill was cancelled before it started")
    return _Run(request).result("cancelled", str(error), error=error)


def run_fill(
    request: FillRequest,
    *,
    on_progress: ProgressCallback | None = None,
    on_preview: PreviewCallback | None = None,
    cancel: CancelToken | None = None,
    device: DeviceChoice | None = None,
    progress_interval_s: float = 0.0,
    preview_interval_s: float = 0.0,
) -> FillResult:
    """Run one fill on this thread and return how it ended; never raises for a fill's own problems.

    ``on_progress`` / ``on_preview`` are called on this thread; with the intervals at 0 every report
    is delivered (the worker passes 0.05 / 0.1 s). ``device`` is a device already chosen by the
    caller, used for torch methods instead of choosing from ``request.device``. Exceptions raised
    by the callbacks themselves are not caught here (the worker guards its callbacks).
    """
    run = _Run(request)
    cancel = cancel or CancelToken()
    reporter = FillReporter(request.request_id, on_progress=on_progress, on_preview=on_preview,
                            progress_interval_s=progress_interval_s, preview_interval_s=preview_interval_s)
    try:
        try:
            cancel.raise_if_cancelled()
            reporter.progress(0.0, "starting")
            pixels = request.pixels
            _check_pixels(pixels)
            check_mask_usable(request.mask, pixels.shape[:2])
            mask = as_coverage(request.mask)
            run.image_digest = array_digest(pixels)
            run.mask_digest = array_digest(mask)
            method = run.method = registry.get(request.method)
            params = make_params(method.Params, request.params)
            run.params_json = params_to_json(params)
            seed = _check_seed(request.seed)
            if device is not None and method.uses_torch:
                run.device = device
            else:
                run.device = device_for_method(method.uses_torch, request.device)
            options = request.regions or default_region_options(method, params)
            sampling = _sampling_area(request.sampling, mask)
            if sampling is not None and not getattr(method, "uses_sampling", False):
                run.models.note(f"{method.label} does not use a sampling area; it was ignored")
                sampling = None
            if sampling is not None:
                run.sampling_digest = array_digest(sampling)
            hole_total = max(1, int(np.count_nonzero(mask)))
            cancel.raise_if_cancelled()

            def fill(task: RegionTask) -> np.ndarray:
                run.regions.append({**bbox_json(task.bbox), "scale": task.scale})
                run.boxes.append(task.bbox)
                ctx = RegionContext(task=task, pixels=pixels, mask=mask, options=options,
                                    device=run.device.device, seed=seed, cancel=cancel, reporter=reporter,
                                    models=run.models,
                                    hole_share=np.count_nonzero(mask[task.bbox.slices]) / hole_total)
                _seed_everything(seed, method.uses_torch)
                t_region = time.perf_counter()
                try:
                    out = method.run(task.image, task.hole, params, ctx)
                finally:
                    run.region_seconds.append(time.perf_counter() - t_region)
                    if ctx.device_used is not None and ctx.device_used not in run.devices_used:
                        run.devices_used.append(ctx.device_used)
                cancel.raise_if_cancelled()
                ctx.progress(1.0)
                return out

            def region_done(task: RegionTask, crop: np.ndarray) -> None:
                # a finished region is a preview of the fill so far; the last one is the result itself
                if task.index + 1 < task.count:
                    text = f"region {task.index + 1}/{task.count} done"
                    reporter.offer_preview(task.bbox, lambda: crop, text)

            out = inpaint_regions(pixels, mask, fill, options, on_region_done=region_done, sampling=sampling)
        except FillCancelled as exc:
            _without_tracebacks(exc)
            return run.result("cancelled", "the fill was cancelled; nothing was changed", error=exc)
        except InpaintStudioError as exc:
            _without_tracebacks(exc)
            return run.result("failed", str(exc), error=exc)
        except Exception as exc:
            details = traceback.format_exc()
            error = MethodFailedError(f"{request.method} failed: {type(exc).__name__}: {exc}")
            error.__cause__ = _without_tracebacks(exc)
            return run.result("failed", str(error), error=error, details=details)
        reporter.drop_previews()
        changed = None
        for box in run.boxes:
            changed = box if changed is None else changed.union(box)
        reporter.progress(1.0, "done", force=True)
        label = run.method.label if run.method is not None else request.method
        count = len(run.boxes)
        message = (f"filled {count} region{'s' if count != 1 else ''} with {label} "
                   f"in {time.perf_counter() - run.t0:.2f} s")
        if run.models.notes:
            message += " (" + "; ".join(run.models.notes) + ")"
        return run.result("done", message, pixels=out, changed=changed)
    finally:
        reporter.drop_previews()
        reporter.flush_progress()
