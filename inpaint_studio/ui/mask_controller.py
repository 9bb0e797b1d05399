"""Grow, shrink, feather, invert and clear the mask: core.mask_ops, each one undoable step.

Small masks are processed at once (``Document.set_mask`` with the box the operation can reach, so
only that is compared). From :data:`BACKGROUND_PIXELS` on (a 40 px grow on 96 MP takes seconds)
the operation *and* the comparison that finds the changed tiles (``core.document.diff_edits``) run
on a background thread on a copy of the mask; the GUI thread only writes the prepared edits
(``Document.apply_edits``) — unless the mask changed meanwhile (a brush stroke, an undo), in which
case the stale result is dropped and the user told so: nothing is ever applied on top of a mask it
was not computed from.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from inpaint_studio.core import mask_ops
from inpaint_studio.core.document import diff_edits
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.types import BBox
from inpaint_studio.ui import dialogs
from inpaint_studio.ui.background import BackgroundTask, serial_pool
from inpaint_studio.ui.settings import Preferences

#: masks with at least this many pixels are processed off the GUI thread (~4 MP: a few ms inline)
BACKGROUND_PIXELS = 4_000_000


def apply_mask(document: Any, mask: np.ndarray | None, label: str, region: BBox | None = None) -> None:
    """``document.set_mask(mask, label, region)``, for whichever of those the document accepts."""
    set_mask = document.set_mask
    try:
        params = inspect.signature(set_mask).parameters
    except (TypeError, ValueError):
        params = {}
    kwargs: dict[str, Any] = {}
    if "label" in params:
        kwargs["label"] = label
    if "region" in params and region is not None:
        kwargs["region"] = region
    if mask is None and "label" not in params:
        mask = np.zeros(document.photo.pixels.shape[:2], np.uint8)
    set_mask(mask, **kwargs)


def mask_revision(document: Any) -> int | None:
    revision = getattr(document, "mask_revision", None)
    return revision if isinstance(revision, int) else None


def prepare_mask_change(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """(after, edits) computed off the GUI thread: only the differing tiles, ready to apply."""
    return after, diff_edits("mask", before, after, BBox.of_shape(before.shape))


def land_mask_change(document: Any, label: str, after: np.ndarray, edits: list[Any],
                     revision: int | None) -> bool:
    """Apply a prepared change if the mask is still the one it was computed from (GUI thread).

    Falls back to ``set_mask`` (which compares again) on a document without ``apply_edits``.
    Returns False if the mask changed meanwhile (nothing applied).
    """
    if revision is not None and mask_revision(document) != revision:
        return False
    if hasattr(document, "apply_edits") and revision is not None:
        if edits:
            document.apply_edits(label, edits)
        return True
    apply_mask(document, after, label)
    return True


class MaskController(QObject):
    """Whole-mask operations for one document."""

    status_message = Signal(str)
    busy_changed = Signal(bool)
    #: an operation landed (its history label)
    applied = Signal(str)

    def __init__(self, document: Any, parent_widget: QWidget, prefs: Preferences | None = None,
                 parent: QObject | None = None, *, background_pixels: int = BACKGROUND_PIXELS) -> None:
        super().__init__(parent)
        self.document = document
        self.parent_widget = parent_widget
        self.prefs = prefs if prefs is not None else Preferences()
        self.background_pixels = background_pixels
        self._pool = serial_pool(self)
        self._task: BackgroundTask | None = None
        self._generation = 0
        document.mask_changed.connect(self._on_mask_changed)

    @property
    def busy(self) -> bool:
        return self._task is not None

    def _on_mask_changed(self, *_args: Any) -> None:
        self._generation += 1

    def _revision(self) -> int:
        revision = mask_revision(self.document)
        return self._generation if revision is None else revision

    # operations -----------------------------------------------------------------------------

    def grow(self, px: int) -> bool:
        return self._run(f"Grow mask {px} px", lambda m: mask_ops.dilate(m, px), reach=px)

    def shrink(self, px: int) -> bool:
        return self._run(f"Shrink mask {px} px", lambda m: mask_ops.erode(m, px), reach=0)

    def feather(self, px: int) -> bool:
        return self._run(f"Feather mask {px} px", lambda m: mask_ops.feather(m, px), reach=px)

    def invert(self) -> bool:
        return self._run("Invert mask", mask_ops.invert, allow_empty=True)

    def clear(self) -> bool:
        """Cheap at any size: the document only looks inside the hole's box."""
        if self.document.photo is None or not self.document.has_hole:
            self.status_message.emit("The mask is already empty.")
            return False
        if self.busy:
            self.status_message.emit("A mask operation is still running.")
            return False
        apply_mask(self.document, None, "Clear mask")
        self.status_message.emit("Mask cleared. Undo with Ctrl+Z.")
        self.applied.emit("Clear mask")
        return True

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Closing: let a running operation end (its result is no longer applied)."""
        self._pool.waitForDone(timeout_ms)

    # dialogs --------------------------------------------------------------------------------

    def grow_dialog(self) -> bool:
        px = self._ask_pixels("grow", "Grow Mask", "Grow the mask by (pixels):", 8)
        return px is not None and self.grow(px)

    def shrink_dialog(self) -> bool:
        px = self._ask_pixels("shrink", "Shrink Mask", "Shrink the mask by (pixels):", 4)
        return px is not None and self.shrink(px)

    def feather_dialog(self) -> bool:
        px = self._ask_pixels("feather", "Feather Mask", "Soften the edge over (pixels):", 4)
        return px is not None and self.feather(px)

    def _ask_pixels(self, key: str, title: str, label: str, default: int) -> int | None:
        last = int(self.prefs.get(f"mask.{key}_px", default))
        value, ok = QInputDialog.getInt(self.parent_widget, title, label, last, 1, 500, 1)
        if not ok:
            return None
        self.prefs.set(f"mask.{key}_px", int(value))
        return int(value)

    # internals ------------------------------------------------------------------------------

    def _run(self, label: str, op: Callable[[np.ndarray], np.ndarray], *, allow_empty: bool = False,
             reach: int | None = None) -> bool:
        """``reach``: how far outside the hole's box the op can change pixels (None: anywhere)."""
        mask = self.document.mask
        if self.document.photo is None:
            self.status_message.emit("Open a photo first.")
            return False
        if self.busy:
            self.status_message.emit("A mask operation is still running.")
            return False
        if mask is None:
            if not allow_empty:
                self.status_message.emit("There is no mask yet: brush over what to remove.")
                return False
            mask = np.zeros(self.document.photo.pixels.shape[:2], np.uint8)
        if not allow_empty and not np.any(mask):
            self.status_message.emit("The mask is empty: brush over what to remove first.")
            return False
        if mask.size < self.background_pixels:
            try:
                result = op(mask)
            except InpaintStudioError as exc:
                dialogs.show_error(self.parent_widget, label, str(exc))
                return False
            region = None
            if reach is not None:
                box = mask_ops.bbox_of(mask)
                region = None if box is None else box.expanded(reach, mask.shape)
            apply_mask(self.document, result, label, region)
            self._landed(label, result)
            return True
        snapshot = np.array(mask, copy=True)
        revision = self._revision()
        self._task = BackgroundTask(lambda: prepare_mask_change(snapshot, op(snapshot)), self._pool, self)
        self._task.done.connect(lambda prepared: self._finished(label, prepared, revision))
        self._task.failed.connect(lambda exc: self._failed(label, exc))
        self._task.ended.connect(self._ended)
        self.busy_changed.emit(True)
        self.status_message.emit(f"{label}…")
        self._task.start()
        return True

    def _finished(self, label: str, prepared: tuple[np.ndarray, list[Any]], revision: int) -> None:
        after, edits = prepared
        if revision != self._revision():
            self._say_dropped(label)
            return
        if mask_revision(self.document) is None:
            apply_mask(self.document, after, label)
        elif not land_mask_change(self.document, label, after, edits, revision):
            self._say_dropped(label)
            return
        self._landed(label, after)

    def _say_dropped(self, label: str) -> None:
        self.status_message.emit(f"{label}: the mask changed meanwhile, so the result was dropped. "
                                 "Run it again.")

    def _failed(self, label: str, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, InpaintStudioError) else f"{type(exc).__name__}: {exc}"
        self.status_message.emit(f"{label} failed: {message}")
        dialogs.show_error(self.parent_widget, label, message)

    def _ended(self) -> None:
        self._task = None
        self.busy_changed.emit(False)

    def _landed(self, label: str, result: np.ndarray) -> None:
        share = mask_ops.coverage_fraction(result) * 100
        self.status_message.emit(f"{label} — the mask covers {share:.1f} % of the photo. Undo with Ctrl+Z.")
        self.applied.emit(label)
