"""The single long-lived thread that owns the compute device and runs fills one at a time, in order.

One thread, not a pool: a GPU (and a loaded model) must have exactly one owner, and two fills
racing for it would mix state (IOPaint #616). The worker is plain ``threading`` so the CLI, tests
and the GUI share it; the GUI's Qt bridge turns the callbacks, which fire on this thread, into
queued signals. Nothing a job or a callback does can kill the thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Literal

from inpaint_studio.core.errors import InvalidParameterError, MethodFailedError
from inpaint_studio.methods import registry
from inpaint_studio.runtime.context import CancelToken, FillPreview, FillProgress
from inpaint_studio.runtime.device import (
    DeviceChoice,
    choose_device,
    configure_torch_threads,
    normalize_preference,
)
from inpaint_studio.runtime.jobs import FillRequest, FillResult, cancelled_result, run_fill
from inpaint_studio.runtime.provenance import Provenance

log = logging.getLogger(__name__)

JobStatus = Literal["queued", "running", "done", "cancelled", "failed"]
FinishedCallback = Callable[[FillResult], None]

#: default throttles: enough for a smooth progress bar and a live canvas, cheap for the GUI thread
PROGRESS_INTERVAL_S = 0.05
PREVIEW_INTERVAL_S = 0.1


class FillJob:
    """A submitted request: cancel it, poll it, or wait for its result."""

    def __init__(
        self,
        request: FillRequest,
        on_progress: Callable[[FillProgress], None] | None,
        on_preview: Callable[[FillPreview], None] | None,
        on_finished: FinishedCallback | None,
    ) -> None:
        self.request = request
        self.request_id = request.request_id
        self._on_progress = on_progress
        self._on_preview = on_preview
        self._on_finished = on_finished
        self._token = CancelToken()
        self._status: JobStatus = "queued"
        self._result: FillResult | None = None
        self._done = threading.Event()
        self._worker_thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<FillJob {self.request_id[:8]} {self.request.method} {self._status}>"

    def cancel(self) -> None:
        """Ask the job to stop: a queued job is skipped, a running one stops at its next check."""
        self._token.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self._token.cancelled

    @property
    def status(self) -> JobStatus:
        return self._status

    def done(self) -> bool:
        """True once the result exists and on_finished has returned."""
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> FillResult:
        """Wait for the result (TimeoutError after ``timeout`` seconds). Safe to call in on_finished."""
        if threading.current_thread() is self._worker_thread:
            if self._result is None:  # waiting here would wait for ourselves, forever
                raise RuntimeError("result() called from a callback of the job it is waiting for")
            return self._result
        if not self._done.wait(timeout):
            raise TimeoutError(f"fill {self.request_id} did not finish within {timeout} s")
        assert self._result is not None
        return self._result


def _guarded(callback: Callable[[Any], None] | None, what: str) -> Callable[[Any], None] | None:
    """A callback that logs its own exceptions instead of ending the job or the worker."""
    if callback is None:
        return None

    def call(arg: Any) -> None:
        try:
            callback(arg)
        except Exception:
            log.exception("the %s callback raised; the fill goes on", what)

    return call


class FillWorker:
    """Runs :class:`FillRequest` s first-in first-out on one daemon thread.

    ``device`` is used for torch methods whose request says "auto" (chosen once, on the first torch
    job); a request naming a device gets that device (or the CPU fallback). Callbacks run on the
    worker thread: progress at most every ``progress_interval_s`` (first and last always), previews
    latest-wins at most every ``preview_interval_s`` and never after on_finished.
    """

    def __init__(
        self,
        device: str = "auto",
        *,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
        preview_interval_s: float = PREVIEW_INTERVAL_S,
        name: str = "inpaint-studio-fill",
    ) -> None:
        self.device_preference = normalize_preference(device)
        self.progress_interval_s = progress_interval_s
        self.preview_interval_s = preview_interval_s
        #: the provenance of the most recently finished job (None before the first)
        self.last_provenance: Provenance | None = None
        self._device_choice: DeviceChoice | None = None
        self._queue: queue.SimpleQueue[FillJob | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._jobs: dict[str, FillJob] = {}  # submitted and not yet finished, in order
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # public API -----------------------------------------------------------------------------

    def submit(
        self,
        request: FillRequest,
        *,
        on_progress: Callable[[FillProgress], None] | None = None,
        on_preview: Callable[[FillPreview], None] | None = None,
        on_finished: FinishedCallback | None = None,
    ) -> FillJob:
        """Queue a fill; returns at once. on_finished gets every outcome, cancelled and failed too."""
        job = FillJob(request, on_progress, on_preview, on_finished)
        job._worker_thread = self._thread
        with self._lock:
            if self._closed:
                raise RuntimeError("the fill worker has been shut down")
            self._jobs[job.request_id] = job
            self._queue.put(job)
        return job

    def cancel_all(self) -> None:
        """Cancel every queued and running job."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet finished (the running one included)."""
        with self._lock:
            return len(self._jobs)

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def device_choice(self) -> DeviceChoice | None:
        """The device chosen for "auto" torch jobs, once one has run (choosing would import torch)."""
        return self._device_choice

    def shutdown(self, wait: bool = True, cancel_pending: bool = True, timeout: float | None = None) -> None:
        """Stop accepting jobs and end the thread once the queue is drained.

        ``cancel_pending`` cancels the queued jobs and the running one (each still gets on_finished
        with a cancelled result); otherwise they all run first. Idempotent.
        """
        with self._lock:
            first = not self._closed
            self._closed = True
            jobs = list(self._jobs.values())
        if cancel_pending:
            for job in jobs:
                job.cancel()
        if first:
            self._queue.put(None)
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> FillWorker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(wait=True, cancel_pending=True)

    # worker thread --------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            except BaseException:  # pragma: no cover - last line of defence; _run handles its own
                log.exception("the fill worker hit an unexpected error; it keeps running")

    def _uses_torch(self, method: str) -> bool:
        try:
            return bool(registry.method_class(method).uses_torch)
        except Exception:
            return False  # run_fill reports the unknown or broken method

    def _torch_device(self, request: FillRequest) -> DeviceChoice | None:
        """Prepare torch for this thread and give the worker's device for "auto" requests."""
        configure_torch_threads()
        try:
            if normalize_preference(request.device) != "auto":
                return None
        except InvalidParameterError:
            return None  # run_fill reports it
        if self._device_choice is None:
            self._device_choice = choose_device(self.device_preference)
            log.info("fill device: %s (%s)", self._device_choice.device, self._device_choice.reason)
        return self._device_choice

    def _run(self, job: FillJob) -> None:
        request = job.request
        try:
            if job.cancel_requested:
                result = cancelled_result(request)
            else:
                job._status = "running"
                device = self._torch_device(request) if self._uses_torch(request.method) else None
                result = run_fill(
                    request,
                    on_progress=_guarded(job._on_progress, "progress"),
                    on_preview=_guarded(job._on_preview, "preview"),
                    cancel=job._token,
                    device=device,
                    progress_interval_s=self.progress_interval_s,
                    preview_interval_s=self.preview_interval_s,
                )
        except Exception as exc:  # a bug outside the method (run_fill handles the method's own)
            log.exception("fill %s could not run", request.request_id)
            error = MethodFailedError(f"the fill could not run: {type(exc).__name__}: {exc}")
            result = FillResult(request.request_id, "failed", None, None, str(error), error)
        job._result = result
        job._status = result.status
        if result.provenance is not None:
            self.last_provenance = result.provenance
        finished = _guarded(job._on_finished, "finished")
        try:
            if finished is not None:
                finished(result)
        finally:
            with self._lock:
                self._jobs.pop(job.request_id, None)
            job._done.set()
