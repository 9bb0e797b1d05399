"""View ▸ Visualise Defects: the canvas shows a high-pass, contrast-boosted version of the photo.

Faint dust and hairline scratches that hide in a busy print jump out of a mid-grey field, so the
restorer can brush them precisely; the mask, the brush and every tool work as usual on top. The
view is computed off the GUI thread (``core.damage.defect_view``, in tiles), cached for the
current pixels, and recomputed after the pixels change (a fill, an undo); until the new one lands
the previous view stays on screen rather than flashing back to the photo.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from inpaint_studio.core.damage import defect_view
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.ui.background import BackgroundTask, serial_pool
from inpaint_studio.ui.canvas import CanvasView

BADGE = "Defect view (D)"
#: pixel changes closer together than this (a burst of undos) recompute once
DEBOUNCE_MS = 120


class DefectViewController(QObject):
    """Shows ``defect_view(document.pixels)`` on the canvas while enabled."""

    status_message = Signal(str)
    #: the defect view is on screen (True) or the photo again (False)
    shown_changed = Signal(bool)

    def __init__(self, document: Any, canvas: CanvasView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self._pool = serial_pool(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._compute)
        self._enabled = False
        self._generation = 0
        self._cache: tuple[int | None, np.ndarray] | None = None  # (pixels revision, view)
        self._running = False
        #: "Computing…" is on the status bar: say so when the view lands, so it does not linger
        self._announce = False
        #: views computed so far (tests check the cache is used)
        self.computed = 0
        document.pixels_changed.connect(self._pixels_changed)
        document.photo_replaced.connect(self._photo_replaced)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def busy(self) -> bool:
        return self._running or self._timer.isActive()

    def set_enabled(self, enabled: bool) -> None:
        enabled = bool(enabled)
        if enabled == self._enabled:
            return
        self._enabled = enabled
        if not enabled:
            self._generation += 1
            self._timer.stop()
            self.canvas.set_display_pixels(None)
            self.shown_changed.emit(False)
            if self._announce:
                self._announce = False
                self.status_message.emit("Showing the photo.")
            return
        if self.document.pixels is None:
            return
        cached = self._cached()
        if cached is not None:
            self._show(cached)
        else:
            self.status_message.emit("Computing the defect view…")
            self._announce = True
            self._compute()

    def _revision(self) -> int | None:
        return getattr(self.document, "pixels_revision", None)

    def _cached(self) -> np.ndarray | None:
        if self._cache is not None and self._revision() is not None and self._cache[0] == self._revision():
            return self._cache[1]
        return None

    def _pixels_changed(self, *_args: Any) -> None:
        if self._cached() is None:
            self._cache = None
        if self._enabled:
            self._timer.start()

    def _photo_replaced(self) -> None:
        self._cache = None
        self._generation += 1
        if self._enabled:
            self._timer.start()

    def _compute(self) -> None:
        pixels = self.document.pixels
        if not self._enabled or pixels is None:
            return
        cached = self._cached()
        if cached is not None:
            self._show(cached)
            return
        self._generation += 1
        generation, revision = self._generation, self._revision()
        task = BackgroundTask(lambda: defect_view(pixels), self._pool, self)
        task.done.connect(lambda values: self._landed(generation, revision, values))
        task.failed.connect(self._failed)
        task.ended.connect(self._ended)
        self._running = True
        task.start()

    def _ended(self) -> None:
        self._running = False

    def _landed(self, generation: int, revision: int | None, values: np.ndarray) -> None:
        self.computed += 1
        if revision != self._revision():
            if self._enabled:
                self._timer.start()  # the pixels changed while it ran: once more, for the new ones
            return
        self._cache = (revision, values)
        if generation == self._generation and self._enabled:
            self._show(values)

    def _show(self, values: np.ndarray) -> None:
        self.canvas.set_display_pixels(values, BADGE)
        self.shown_changed.emit(True)
        if self._announce:
            self._announce = False
            self.status_message.emit("Defect view: faint dust and scratches stand out; brush them as usual. "
                                     "D shows the photo again.")

    def _failed(self, exc: BaseException) -> None:
        self._announce = False
        message = str(exc) if isinstance(exc, InpaintStudioError) else f"{type(exc).__name__}: {exc}"
        self.status_message.emit(f"Could not compute the defect view: {message}")

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        self._enabled = False
        self._timer.stop()
        self._pool.waitForDone(timeout_ms)
