"""View ▸ Seam Check: after a fill, tint the hole's edge by how visible the seam is; outline bad regions.

A fill can be right in the middle and still betray itself at its edge (a brightness step, a cut
line of grain). ``core.seam.seam_scores`` judges each filled region against the jumps the photo
itself has next to the hole; this controller runs it off the GUI thread on the box the fill
changed (the pixels before the fill come from the fill's own undo step, so nothing is kept
twice), then shows ``seam_overlay``'s heat on the edge and a red outline round each region that
may show a seam, and says how many in the status bar. The marks describe that one fill: they go
as soon as the user undoes it or edits anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.seam import SeamReport, seam_overlay, seam_scores
from inpaint_studio.core.types import BBox
from inpaint_studio.ui.background import BackgroundTask, serial_pool
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.canvas_layers import PatchOverlay, heat_to_qimage

OVERLAY = "seam_check"
HEAT_COLOUR = QColor(255, 150, 0)
BAD_COLOUR = QColor(255, 30, 30)
#: known pixels around the filled box the score compares with
_MARGIN = 6


class SeamCheckController(QObject):
    """Checks each finished fill's edges while enabled; clears the marks on the next change."""

    status_message = Signal(str)
    #: the reports of the fill just checked (document coordinates)
    checked = Signal(object)

    def __init__(self, document: Any, canvas: CanvasView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self._pool = serial_pool(self)
        self._enabled = False
        self._step: object | None = None  # the fill step the marks describe
        self.reports: list[SeamReport] = []
        document.history_changed.connect(self._history_changed)
        document.mask_changed.connect(self._edited)
        document.photo_replaced.connect(self.clear)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = bool(enabled)
        if not self._enabled:
            self.clear()

    @property
    def shown(self) -> bool:
        return self.canvas.patch_overlay(OVERLAY) is not None

    def clear(self, *_args: Any) -> None:
        self._step = None
        self.reports = []
        self.canvas.set_patch_overlay(OVERLAY, None)

    # after a fill ---------------------------------------------------------------------------

    def fill_finished(self, result: Any) -> None:
        """FillController.fill_finished: check the fill that just landed (if enabled and done)."""
        if not self._enabled or getattr(result, "status", None) != "done":
            return
        step = self._top_step()
        pixels, mask = self.document.pixels, self.document.mask
        if step is None or pixels is None or mask is None:
            return
        edits = [edit for edit in step.edits if edit.layer == "pixels"]
        if not edits:
            return
        box = edits[0].bbox
        for edit in edits[1:]:
            box = box.union(edit.bbox)
        outer = box.expanded(_MARGIN, pixels.shape[:2])
        after = np.array(pixels[outer.slices])
        before = after.copy()
        for edit in edits:
            before[edit.bbox.relative_to(outer).slices] = edit.before
        hole = np.array(mask[outer.slices])
        self.clear()
        self._step = step

        def check() -> tuple[list[SeamReport], np.ndarray]:
            reports = seam_scores(before, after, hole)
            return reports, seam_overlay(after, hole, reports)

        task = BackgroundTask(check, self._pool, self)
        task.done.connect(lambda found: self._show(step, outer, *found))
        task.failed.connect(self._failed)
        task.start()

    def _show(self, step: object, outer: BBox, reports: list[SeamReport], heat: np.ndarray) -> None:
        if step is not self._step or not self._enabled:
            return  # undone or edited meanwhile
        shifted = [SeamReport(bbox=BBox(r.bbox.top + outer.top, r.bbox.left + outer.left,
                                        r.bbox.bottom + outer.top, r.bbox.right + outer.left),
                              score=r.score, bad=r.bad) for r in reports]
        self.reports = shifted
        bad = [r.bbox for r in shifted if r.bad]
        self.canvas.set_patch_overlay(OVERLAY, PatchOverlay(outer, heat_to_qimage(heat, HEAT_COLOUR), bad,
                                                            QColor(BAD_COLOUR)))
        if bad:
            regions = "1 region" if len(bad) == 1 else f"{len(bad)} regions"
            self.status_message.emit(f"Seam check: {regions} may show a seam (outlined in red). "
                                     "Undo (Ctrl+Z) and try another method or a larger mask.")
        elif shifted:
            self.status_message.emit(f"Seam check: the edges of {len(shifted)} filled region"
                                     f"{'s' if len(shifted) != 1 else ''} blend in.")
        self.checked.emit(shifted)

    def _failed(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, InpaintStudioError) else f"{type(exc).__name__}: {exc}"
        self.status_message.emit(f"Seam check failed: {message}")

    # invalidation ---------------------------------------------------------------------------

    def _top_step(self) -> Any:
        core = getattr(self.document, "core", self.document)
        history = getattr(core, "history", None)
        applied = getattr(history, "applied", ())
        return applied[-1] if applied else None

    def _history_changed(self) -> None:
        if self._step is not None and self._top_step() is not self._step:
            self.clear()

    def _edited(self, *_args: Any) -> None:
        if self._step is not None:
            self.clear()

    def shutdown(self, timeout_ms: int = 5_000) -> None:
        self._enabled = False
        self._pool.waitForDone(timeout_ms)
