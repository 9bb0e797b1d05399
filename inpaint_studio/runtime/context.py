"""The RunContext a method sees, and the reporter that turns its reports into request-level events.

A method reports progress and previews for the crop it was given; the user wants one progress bar
for the whole fill and previews placed on the document. The reporter maps region ``i``'s fraction
``f`` to ``(i + f) / n``, estimates the time left, and throttles: progress at most every
``progress_interval_s`` (the first and the last always delivered), previews latest-wins at most every
``preview_interval_s``. A throttled preview is composited only if it is actually delivered, so a
method may call ``ctx.preview`` every step without paying for upscaling it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from inpaint_studio.core.errors import FillCancelled, MethodFailedError
from inpaint_studio.core.regions import RegionOptions, RegionTask, finish_region
from inpaint_studio.core.types import BBox

if TYPE_CHECKING:
    from inpaint_studio.runtime.model_cache import ModelSession

log = logging.getLogger(__name__)

#: below this overall fraction an ETA is mostly noise
_ETA_MIN_FRACTION = 0.02


class CancelToken:
    """A thread-safe cancel flag: the GUI thread sets it, the method notices at its next check."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise FillCancelled("the fill was cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout``; True if cancelled (handy for sleeping methods)."""
        return self._event.wait(timeout)


@dataclass(frozen=True)
class FillProgress:
    """Overall progress of one request."""

    request_id: str
    #: 0..1 over the whole fill, never decreasing
    fraction: float
    text: str
    elapsed_s: float
    #: estimated seconds left (None until there is enough progress to say)
    eta_s: float | None


@dataclass(frozen=True)
class FillPreview:
    """An intermediate result: ``pixels`` (native dtype, composited) belong at ``bbox`` of the request."""

    request_id: str
    #: document (request pixel array) coordinates
    bbox: BBox
    pixels: np.ndarray
    text: str


ProgressCallback = Callable[[FillProgress], None]
PreviewCallback = Callable[[FillPreview], None]


class FillReporter:
    """Maps, throttles and delivers one request's progress and previews (single-threaded use)."""

    def __init__(
        self,
        request_id: str,
        *,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
        progress_interval_s: float = 0.0,
        preview_interval_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request_id = request_id
        self._on_progress = on_progress
        self._on_preview = on_preview
        self._progress_interval = progress_interval_s
        self._preview_interval = preview_interval_s
        self._clock = clock
        self.started = clock()
        self._fraction = 0.0
        self._last_progress_at: float | None = None
        self._pending_progress: FillProgress | None = None
        self._last_preview_at: float | None = None
        self._pending_preview: tuple[BBox, Callable[[], np.ndarray], str] | None = None
        self.previews_delivered = 0

    @property
    def wants_previews(self) -> bool:
        return self._on_preview is not None

    @property
    def fraction(self) -> float:
        return self._fraction

    def elapsed(self) -> float:
        return self._clock() - self.started

    # progress -------------------------------------------------------------------------------

    def progress(self, fraction: float, text: str = "", *, force: bool = False) -> None:
        """Report overall progress; clamped to [0, 1] and never going backwards."""
        try:
            value = float(fraction)
        except (TypeError, ValueError):
            value = self._fraction
        if value != value:  # NaN from a confused method
            value = self._fraction
        self._fraction = max(self._fraction, min(1.0, max(0.0, value)))
        if self._on_progress is None:
            self._deliver_pending_preview_if_due()
            return
        now = self._clock()
        elapsed = now - self.started
        eta = None
        if self._fraction >= 1.0:
            eta = 0.0
        elif self._fraction >= _ETA_MIN_FRACTION and elapsed > 0:
            eta = elapsed * (1.0 - self._fraction) / self._fraction
        event = FillProgress(self.request_id, self._fraction, text, elapsed, eta)
        due = (force or self._last_progress_at is None
               or now - self._last_progress_at >= self._progress_interval)
        if due:
            self._pending_progress = None
            self._last_progress_at = now
            self._on_progress(event)
        else:
            self._pending_progress = event
        self._deliver_pending_preview_if_due()

    def flush_progress(self) -> None:
        """Deliver the last held-back progress report (the final one is never lost)."""
        event, self._pending_progress = self._pending_progress, None
        if event is not None and self._on_progress is not None:
            self._last_progress_at = self._clock()
            self._on_progress(event)

    # previews -------------------------------------------------------------------------------

    def offer_preview(self, bbox: BBox, make_pixels: Callable[[], np.ndarray], text: str = "") -> None:
        """Deliver now if due, else hold it as the latest (replacing any older held preview)."""
        if self._on_preview is None:
            return
        self._pending_preview = (bbox, make_pixels, text)
        self._deliver_pending_preview_if_due()

    def drop_previews(self) -> None:
        """Forget a held preview: the final result supersedes it."""
        self._pending_preview = None

    def _deliver_pending_preview_if_due(self) -> None:
        if self._pending_preview is None or self._on_preview is None:
            return
        now = self._clock()
        if self._last_preview_at is not None and now - self._last_preview_at < self._preview_interval:
            return
        bbox, make_pixels, text = self._pending_preview
        self._pending_preview = None
        self._last_preview_at = now
        pixels = make_pixels()
        self.previews_delivered += 1
        self._on_preview(FillPreview(self.request_id, bbox, pixels, text))


class RegionContext:
    """The :class:`~inpaint_studio.methods.base.RunContext` for one region of one request."""

    def __init__(
        self,
        *,
        task: RegionTask,
        pixels: np.ndarray,
        mask: np.ndarray,
        options: RegionOptions,
        device: str,
        seed: int,
        cancel: CancelToken,
        reporter: FillReporter,
        models: ModelSession | None = None,
        hole_share: float = 1.0,
    ) -> None:
        self.device = device
        #: this region's place in the fill (a method sharing a per-fill budget splits it by these)
        self.region_index = task.index
        self.region_count = task.count
        #: this region's share of all the fill's hole pixels (0..1, native resolution)
        self.hole_share = float(hole_share)
        #: the device the method actually ran on, as it reported it (None: it did not say)
        self.device_used: str | None = None
        self._models = models
        self.seed = seed
        self._task = task
        self._pixels = pixels
        self._mask = mask
        self._options = options
        self._cancel = cancel
        self._reporter = reporter

    @property
    def wants_previews(self) -> bool:
        """Whether previews are delivered at all: a method may skip building them when not (the
        CLI, benchmarks); ``preview`` drops them either way."""
        return self._reporter.wants_previews

    @property
    def sampling_area(self) -> np.ndarray | None:
        """Where the method may copy patches from (bool, the shape of its hole, never inside it);
        None: anywhere outside the hole. Patch-based methods honour it; the others never see one."""
        return self._task.sampling

    def _label(self, text: str) -> str:
        if self._task.count <= 1:
            return text
        head = f"region {self._task.index + 1}/{self._task.count}"
        return f"{head}: {text}" if text else head

    def progress(self, fraction: float, text: str = "") -> None:
        try:
            local = min(1.0, max(0.0, float(fraction)))
        except (TypeError, ValueError):
            local = 0.0
        if local != local:
            local = 0.0
        overall = (self._task.index + local) / max(1, self._task.count)
        self._reporter.progress(overall, self._label(text))

    def preview(self, image: np.ndarray, text: str = "") -> None:
        if not self._reporter.wants_previews:
            return
        image = np.asarray(image)
        if image.shape != self._task.image.shape:
            log.warning("ignoring a preview of shape %s (expected %s)", image.shape, self._task.image.shape)
            return
        # the method may keep iterating in this very buffer: hold a copy, composite only if delivered
        snapshot = np.array(image, dtype=np.float32, copy=True)
        task, pixels, mask, options = self._task, self._pixels, self._mask, self._options
        self._reporter.offer_preview(
            task.bbox, lambda: finish_region(task, pixels, mask, snapshot, options), self._label(text))

    def check_cancelled(self) -> None:
        self._cancel.raise_if_cancelled()

    # learned methods ------------------------------------------------------------------------

    def load_model(self, name: str, device: str | None = None) -> Any:
        """The verified network for catalogue weights ``name`` on ``device`` (default: this fill's).

        How learned methods get weights without importing the runtime: they declare ``weights`` and
        call this. Raises WeightsMissingError (message: how to get them) or WeightsError.
        """
        if self._models is None:
            raise MethodFailedError("this fill was started without a model loader; learned methods need one")
        return self._models.load_model(name, device or self.device)

    def report_device(self, device: str) -> None:
        """The device the method finally ran on (e.g. "cpu" after a GPU out-of-memory fallback).

        Explicit, so the provenance records where the pixels were computed, not where we hoped.
        """
        self.device_used = str(device)

    def note(self, text: str) -> None:
        """Something the user must be told in the result (e.g. "the GPU ran out of memory: used the CPU")."""
        if self._models is not None:
            self._models.note(text)
        log.info("%s", text)
