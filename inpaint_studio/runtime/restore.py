"""Restore a scanned photo: find its scratches and dust, then fill each kind of defect its own way.

Hairline scratches and small specks are thin: every hole pixel is a pixel or two from known
pixels, so a diffusion method (Telea) fills them invisibly and in milliseconds. Wider damage (a
torn corner, a big speck of fluff) needs texture, so it goes to a patch-based method. One restore
is one job for the user: one progress bar from 0 to 1 over detection and both fills, one Cancel
that leaves the photo untouched, one result with one provenance record naming both methods.

The thin fill runs first, so the patch-based fill of the large holes copies from a picture that
no longer has hairlines in it. Both go through :func:`~inpaint_studio.runtime.jobs.run_fill`,
whose compositing keeps every pixel outside the mask bit-identical.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from inpaint_studio.core.errors import (
    FillCancelled,
    InpaintStudioError,
    InvalidInputError,
    InvalidParameterError,
    MethodFailedError,
)
from inpaint_studio.core.mask_ops import as_coverage
from inpaint_studio.core.types import BBox
from inpaint_studio.runtime.context import (
    CancelToken,
    FillPreview,
    FillProgress,
    FillReporter,
    PreviewCallback,
    ProgressCallback,
)
from inpaint_studio.runtime.jobs import FillRequest, FillResult, frozen_view, run_fill
from inpaint_studio.runtime.provenance import Provenance, array_digest, library_versions

if TYPE_CHECKING:
    from inpaint_studio.core.damage import DamageOptions

__all__ = ["RestorePlan", "plan_restore", "run_restore"]

#: the widest hole (pixels across, as masked) that diffusion still fills well. The detector grows
#: each defect by a pixel on both sides (its anti-aliased rim), so a 2 px scratch is a 4-4.7 px hole
#: (more at an angle) and a 1 px hair a 3 px one; 6 sends those to diffusion and specks from ~7 px on
#: to the patch-based method. (With 4, every detected 2 px scratch went to the patch-based method.)
DEFAULT_HAIRLINE_WIDTH = 6
#: only fully covered pixels count toward a defect's width: the detector's soft rim is not damage
_WIDTH_LEVEL = 255
#: rows per strip of the distance transform (bounds its float32 buffer on 100-megapixel scans)
_STRIP_ROWS = 2048
#: a patch-based method costs about this many times a diffusion method per hole pixel
_LARGE_COST = 6.0
#: share of the progress bar given to detection when it runs
_DETECT_SHARE = 0.1


@dataclass(frozen=True)
class RestorePlan:
    """A damage mask split by defect width; all three are uint8 coverage masks of the same shape."""

    mask: np.ndarray
    #: components no wider than the hairline width: for a diffusion method
    thin: np.ndarray
    #: everything else: for a patch-based method
    large: np.ndarray

    @property
    def empty(self) -> bool:
        return not self.mask.any()


def _wide_cores(solid: np.ndarray, hairline_width: int) -> np.ndarray:
    """Pixels of ``solid`` whose inscribed disc is wider than ``hairline_width`` (bool HxW).

    A pixel at Euclidean distance d from the nearest non-defect pixel is the centre of a defect
    about ``2d - 1`` pixels across (exact for odd widths; an even width w reads as w - 1). The image
    edge counts as a boundary: a scratch along the border is as thin as it looks. Computed in row
    strips overlapping by more than the threshold distance, so the answer is exact and the float
    buffer stays small.
    """
    limit = (hairline_width + 1) / 2.0  # 2d - 1 > w  <=>  d > (w + 1) / 2
    margin = int(np.ceil(limit)) + 2
    height = solid.shape[0]
    cores = np.zeros(solid.shape, bool)
    for top in range(0, height, _STRIP_ROWS):
        bottom = min(height, top + _STRIP_ROWS)
        lo, hi = max(0, top - margin), min(height, bottom + margin)
        strip = solid[lo:hi].view(np.uint8)
        # zero border only at the real image edges; a strip's cut edge must not look like a boundary
        pad_top, pad_bottom = int(lo == 0), int(hi == height)
        padded = cv2.copyMakeBorder(strip, pad_top, pad_bottom, 1, 1, cv2.BORDER_CONSTANT, value=0)
        dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        dist = dist[pad_top: dist.shape[0] - pad_bottom, 1:-1]
        cores[top:bottom] = dist[top - lo: bottom - lo] > limit
    return cores


def plan_restore(mask: np.ndarray, hairline_width: int = DEFAULT_HAIRLINE_WIDTH) -> RestorePlan:
    """Split a damage mask: components at most ``hairline_width`` px across -> diffusion, the rest -> patches.

    A component is judged whole (8-connected, all coverage > 0): a scratch that runs into a blot is
    filled with the blot, so no seam appears where two methods would meet. Its width is measured on
    its fully covered (255) pixels, so the detector's soft falloff does not make a hairline look
    wide. Soft coverage values are kept in both parts.
    """
    whole = isinstance(hairline_width, (int, np.integer)) and not isinstance(hairline_width, bool)
    if not whole or hairline_width < 1:
        raise InvalidParameterError(
            f"the hairline width must be a whole number of pixels >= 1, got {hairline_width!r}")
    coverage = as_coverage(mask)
    present = coverage > 0
    if not present.any():
        empty = np.zeros_like(coverage)
        return RestorePlan(coverage, empty, empty.copy())
    cores = _wide_cores(coverage >= _WIDTH_LEVEL, int(hairline_width))
    if not cores.any():
        return RestorePlan(coverage, coverage.copy(), np.zeros_like(coverage))
    count, labels = cv2.connectedComponents(present.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    wide = np.zeros(count, bool)
    wide[np.unique(labels[cores])] = True
    wide[0] = False  # background
    large_px = wide[labels]
    del labels
    zero = np.uint8(0)
    return RestorePlan(coverage, np.where(large_px, zero, coverage), np.where(large_px, coverage, zero))


# ------------------------------------------------------------------------------------------------
# run_restore


def damage_mask(pixels: np.ndarray, options: DamageOptions | None, *, infrared: np.ndarray | None = None,
                ir_threshold: float = 0.5, cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """The detector's mask, with the infrared dust mask merged in when there is an IR channel.

    The IR channel sees dust and scratches directly (they block infrared, the dyes do not), so it is
    merged for every kind except ``scratches`` alone, where specks it shows would be unwanted.
    """
    from inpaint_studio.core.damage import (
        DamageOptions,
        detect_damage,
        infrared_dust_mask,
        learned,
        scratch_learned,
        scratch_maps,
    )

    options = options or DamageOptions()
    try:
        mask = np.asarray(detect_damage(pixels, options, cancel=cancel), np.uint8)
    finally:
        learned.release_maps()  # a one-shot detection never re-thresholds: free them before the fill
        scratch_maps.release_maps()
        scratch_learned.release_maps()
    if infrared is not None and options.kind != "scratches":
        infrared = np.asarray(infrared)
        if infrared.shape[:2] != pixels.shape[:2]:
            raise InvalidInputError(f"the infrared channel is {infrared.shape[1]}x{infrared.shape[0]} "
                                    f"but the photo is {pixels.shape[1]}x{pixels.shape[0]}")
        if cancel is not None and cancel():
            raise FillCancelled("the restore was cancelled")
        mask = np.maximum(mask, np.asarray(infrared_dust_mask(infrared, threshold=ir_threshold), np.uint8))
    return mask


def _shares(plan: RestorePlan) -> tuple[float, float]:
    """Fraction of the fill range for the thin and the large part, by hole area times method cost."""
    thin = float(np.count_nonzero(plan.thin))
    large = float(np.count_nonzero(plan.large)) * _LARGE_COST
    if thin == 0 or large == 0:
        return (1.0, 0.0) if large == 0 else (0.0, 1.0)
    share = min(0.9, max(0.1, thin / (thin + large)))
    return share, 1.0 - share


class _Restore:
    """One run_restore call: the overall reporter, the steps run so far, and how to end."""

    def __init__(self, on_progress: ProgressCallback | None, on_preview: PreviewCallback | None,
                 source_name: str | None, seed: int) -> None:
        self.request_id = uuid.uuid4().hex
        self.t0 = time.perf_counter()
        self.started_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
        self.reporter = FillReporter(self.request_id, on_progress=on_progress)
        self.on_preview = on_preview
        self.source_name = source_name
        self.seed = seed
        self.steps: list[dict[str, Any]] = []
        self.detection: dict[str, Any] | None = None
        self.image_digest: dict[str, Any] | None = None
        self.mask_digest: dict[str, Any] | None = None
        self.results: list[FillResult] = []

    def progress(self, fraction: float, text: str) -> None:
        self.reporter.progress(fraction, text)

    def sub_progress(self, lo: float, hi: float, label: str) -> ProgressCallback:
        def forward(event: FillProgress) -> None:
            text = f"{label}: {event.text}" if event.text else label
            self.reporter.progress(lo + (hi - lo) * event.fraction, text)
        return forward

    def sub_preview(self) -> PreviewCallback | None:
        if self.on_preview is None:
            return None
        on_preview = self.on_preview

        def forward(event: FillPreview) -> None:
            on_preview(replace(event, request_id=self.request_id))
        return forward

    def provenance(self, status: str, message: str, params: dict[str, Any]) -> Provenance:
        done = [r.provenance for r in self.results if r.provenance is not None]
        devices = [p.device for p in done if p.device]
        regions = [{**region, "step": step["part"]} for step, prov in zip(self.steps, done, strict=False)
                   for region in prov.regions]
        weights = [w for p in done for w in p.weights]
        labels = [step["method_label"] or step["method"] for step in self.steps]
        return Provenance(
            method="restore",
            method_label="Restore (" + " + ".join(labels) + ")" if labels else "Restore",
            params=params,
            seed=self.seed,
            device="+".join(dict.fromkeys(devices)) or None,
            device_reason="; ".join(dict.fromkeys(p.device_reason for p in done if p.device_reason)) or None,
            versions=library_versions(include_torch=any("torch" in p.versions for p in done)),
            image=self.image_digest,
            mask=self.mask_digest,
            source_name=self.source_name,
            regions=regions,
            durations={"total_s": round(time.perf_counter() - self.t0, 6),
                       "steps_s": {s["part"]: s["seconds"] for s in self.steps},
                       **({"detect_s": self.detection["seconds"]} if self.detection else {})},
            started_at=self.started_at,
            status=status,
            message=message,
            request_id=self.request_id,
            weights=weights,
        )


def run_restore(
    pixels: np.ndarray,
    options: DamageOptions | None = None,
    *,
    mask: np.ndarray | None = None,
    infrared: np.ndarray | None = None,
    on_progress: ProgressCallback | None = None,
    on_preview: PreviewCallback | None = None,
    cancel: CancelToken | None = None,
    thin_method: str = "telea",
    large_method: str = "patchmatch",
    thin_params: Mapping[str, Any] | None = None,
    large_params: Mapping[str, Any] | None = None,
    hairline_width: int = DEFAULT_HAIRLINE_WIDTH,
    ir_threshold: float = 0.5,
    seed: int = 0,
    device: str = "auto",
    source_name: str | None = None,
    on_mask: Callable[[np.ndarray], None] | None = None,
) -> FillResult:
    """Detect (unless ``mask`` is given) and fill the damage of ``pixels`` as ONE job; never raises.

    ``mask`` (HxW coverage) skips detection; ``infrared`` (HxW, a scanner's IR channel) is then
    ignored too, since the caller's mask already says what to fill. Progress is one bar 0..1:
    detection, then the thin part, then the large part, each mapped into its share. Cancelling at
    any point returns a ``cancelled`` result and the caller's pixels are never touched. A photo
    with no damage found comes back ``done`` with unchanged pixels and ``changed`` None.
    ``on_mask`` receives the damage mask that is filled (uint8 coverage), e.g. to save it.
    """
    state = _Restore(on_progress, on_preview, source_name, seed)
    cancel = cancel or CancelToken()
    params: dict[str, Any] = {
        "hairline_width": hairline_width,
        "thin": {"method": thin_method, "params": dict(thin_params or {})},
        "large": {"method": large_method, "params": dict(large_params or {})},
    }

    def finish(status: str, message: str, *, out: np.ndarray | None = None, changed: BBox | None = None,
               error: InpaintStudioError | None = None, details: str | None = None) -> FillResult:
        state.reporter.flush_progress()
        return FillResult(state.request_id, status, out, changed, message, error,  # type: ignore[arg-type]
                          state.provenance(status, message, params), details)

    try:
        cancel.raise_if_cancelled()
        state.progress(0.0, "starting")
        image = np.asarray(pixels)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype not in (np.uint8, np.uint16):
            raise InvalidInputError(f"expected an RGB image (height x width x 3, uint8 or uint16), got "
                                    f"{image.dtype} {image.shape}")
        state.image_digest = array_digest(image)
        start = 0.0
        if mask is None:
            state.progress(0.0, "detecting damage")
            t = time.perf_counter()
            found = damage_mask(image, options, infrared=infrared, ir_threshold=ir_threshold,
                                cancel=lambda: cancel.cancelled)
            cancel.raise_if_cancelled()
            opts = options
            if opts is None:
                from inpaint_studio.core.damage import DamageOptions

                opts = DamageOptions()
            state.detection = {"seconds": round(time.perf_counter() - t, 6)}
            params["detect"] = {"kind": opts.kind, "sensitivity": opts.sensitivity, "min_size": opts.min_size,
                                "max_size": opts.max_size, "dust_finder": opts.dust_finder,
                                "scratch_finder": opts.scratch_finder,
                                "infrared": infrared is not None,
                                **({"ir_threshold": ir_threshold} if infrared is not None else {})}
            start = _DETECT_SHARE
        else:
            found = as_coverage(mask)
            if found.shape != image.shape[:2]:
                raise InvalidInputError(f"the mask is {found.shape[1]}x{found.shape[0]} but the photo is "
                                        f"{image.shape[1]}x{image.shape[0]}")
            params["detect"] = "mask given"
        plan = plan_restore(found, hairline_width)
        state.mask_digest = array_digest(plan.mask)
        if on_mask is not None:
            on_mask(plan.mask)
        params["thin"]["pixels"] = int(np.count_nonzero(plan.thin))
        params["large"]["pixels"] = int(np.count_nonzero(plan.large))
        state.progress(start, "planning")
    except FillCancelled as exc:
        return finish("cancelled", "the restore was cancelled; nothing was changed", error=exc)
    except InpaintStudioError as exc:
        return finish("failed", str(exc), error=exc)
    except Exception as exc:  # a detector bug must reach the user as a message, not a crash
        import traceback

        error = MethodFailedError(f"damage detection failed: {type(exc).__name__}: {exc}")
        return finish("failed", str(error), error=error, details=traceback.format_exc())

    if plan.empty:
        state.reporter.progress(1.0, "done", force=True)
        return finish("done", "no damage found; nothing was changed", out=np.array(image, copy=True))

    thin_share, _ = _shares(plan)
    split = start + (1.0 - start) * thin_share
    parts = [("thin", plan.thin, thin_method, thin_params, start, split),
             ("large", plan.large, large_method, large_params, split, 1.0)]
    current, changed = image, None
    for part, part_mask, method, method_params, lo, hi in parts:
        if not part_mask.any():
            continue
        # ``current`` is the caller's photo or this job's own result, unchanged while the part runs
        request = FillRequest(pixels=frozen_view(current), mask=part_mask, method=method,
                              params=dict(method_params or {}), seed=seed, device=device,
                              source_name=source_name, pixels_frozen=True)
        t = time.perf_counter()
        result = run_fill(request, on_progress=state.sub_progress(lo, hi, part),
                          on_preview=state.sub_preview(), cancel=cancel)
        prov = result.provenance
        state.results.append(result)
        state.steps.append({"part": part, "method": method,
                            "method_label": prov.method_label if prov else None,
                            "seconds": round(time.perf_counter() - t, 6)})
        if prov is not None:
            params[part]["params"] = prov.params
        if result.status == "cancelled" or cancel.cancelled:
            return finish("cancelled", "the restore was cancelled; nothing was changed",
                          error=result.error or FillCancelled("cancelled"))
        if result.status != "done" or result.pixels is None:
            message = f"{part} damage ({method}): {result.message}"
            return finish("failed", message, error=result.error or MethodFailedError(message),
                          details=result.details)
        current = result.pixels
        if result.changed is not None:
            changed = result.changed if changed is None else changed.union(result.changed)
    state.reporter.progress(1.0, "done", force=True)
    counts = [f"{params[p]['pixels']} px {p} ({params[p]['method']})" for p in ("thin", "large")
              if params[p]["pixels"]]
    message = f"restored {' + '.join(counts)} in {time.perf_counter() - state.t0:.2f} s"
    return finish("done", message, out=current, changed=changed)
