"""The Qt side of the fill worker: submit a request, get its progress, previews and result as signals.

The runtime's FillWorker calls back on its own thread. Those callbacks only *emit* signals of this
object, which lives in the GUI thread; the private relays are connected with QueuedConnection, so
Qt copies each event into the GUI thread's event loop and the slots run there. Nothing here ever
blocks on the worker (no waits, no joins) except :meth:`shutdown`, when the window is closing.
Events of a job that is no longer the current one (cancelled, superseded) are dropped here, so the
widgets never see a stale preview.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot

from inpaint_studio.runtime.device import DeviceChoice
from inpaint_studio.runtime.jobs import FillPreview, FillProgress, FillRequest, FillResult
from inpaint_studio.runtime.worker import FillJob, FillWorker


class FillBridge(QObject):
    """Owns one FillWorker; at most one fill is "current" at a time."""

    #: FillProgress of the current job
    progress = Signal(object)
    #: FillPreview of the current job (not delivered once Cancel was pressed)
    preview = Signal(object)
    #: FillResult of the current job: done, cancelled or failed
    finished = Signal(object)
    #: True while a job is running
    busy_changed = Signal(bool)

    # emitted on the worker thread, delivered (queued) on the GUI thread
    _progress_relay = Signal(object)
    _preview_relay = Signal(object)
    _finished_relay = Signal(object)

    def __init__(self, parent: QObject | None = None, *, device: str = "auto") -> None:
        super().__init__(parent)
        self._worker: FillWorker | None = None
        self._device = device
        self._job: FillJob | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._progress_relay.connect(self._on_progress, queued)
        self._preview_relay.connect(self._on_preview, queued)
        self._finished_relay.connect(self._on_finished, queued)

    @property
    def worker(self) -> FillWorker:
        """Started on first use, so opening the window costs no thread."""
        if self._worker is None:
            self._worker = FillWorker(self._device)
        return self._worker

    @property
    def device_choice(self) -> DeviceChoice | None:
        """The device torch methods run on, once one has run (asking earlier would import torch)."""
        return None if self._worker is None else self._worker.device_choice

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def current_request_id(self) -> str | None:
        return None if self._job is None else self._job.request_id

    def submit(self, request: FillRequest) -> str:
        """Start ``request`` (cancelling the current job, whose result is then ignored)."""
        if self._job is not None:
            self._job.cancel()
        self._job = self.worker.submit(
            request,
            on_progress=self._progress_relay.emit,
            on_preview=self._preview_relay.emit,
            on_finished=self._finished_relay.emit,
        )
        self.busy_changed.emit(True)
        return request.request_id

    def cancel(self) -> None:
        """Ask the current job to stop; its (cancelled) result still arrives through ``finished``."""
        if self._job is not None:
            self._job.cancel()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel everything and end the worker thread (waits at most ``timeout`` seconds)."""
        self._job = None
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_pending=True, timeout=timeout)
            self._worker = None

    # GUI thread -----------------------------------------------------------------------------

    def _is_current(self, request_id: str) -> bool:
        return self._job is not None and self._job.request_id == request_id

    @Slot(object)
    def _on_progress(self, event: FillProgress) -> None:
        if self._is_current(event.request_id):
            self.progress.emit(event)

    @Slot(object)
    def _on_preview(self, event: FillPreview) -> None:
        if self._is_current(event.request_id) and not self._job.cancel_requested:  # type: ignore[union-attr]
            self.preview.emit(event)

    @Slot(object)
    def _on_finished(self, result: FillResult) -> None:
        if not self._is_current(result.request_id):
            return
        self._job = None
        self.busy_changed.emit(False)
        self.finished.emit(result)
