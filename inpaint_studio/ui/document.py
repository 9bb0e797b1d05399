"""Qt face of the core document: the same object, its events re-emitted as Qt signals.

All state and logic live in :class:`inpaint_studio.core.document.Document` (Qt-free, tested without
a display); this adapter only forwards calls and turns core events into signals so widgets can
connect the Qt way. Signals fire synchronously on the GUI thread, like the core events.

Old names keep working: ``pixels_changed()`` / ``mask_changed()`` still fire with no argument; the
``*_region_changed(bbox | None)`` signals say *where* (None = everything), which is what a view
that redraws only what changed wants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from inpaint_studio.core.document import Document as CoreDocument
from inpaint_studio.core.history import DEFAULT_LIMIT_BYTES, Edit, Step
from inpaint_studio.core.photo import Photo
from inpaint_studio.core.types import BBox


class Document(QObject):
    """One photo being edited (see core.document.Document for the behaviour)."""

    #: the pixels changed (open, fill, undo, redo)
    pixels_changed = Signal()
    #: ... in this BBox (None: all of them, e.g. a new photo)
    pixels_region_changed = Signal(object)
    #: the same change as a list of separate boxes (None: everything); fired just before the two above
    pixels_regions_changed = Signal(object)
    #: the pixels in this BBox are about to be overwritten
    pixels_changing = Signal(object)
    mask_changed = Signal()
    mask_region_changed = Signal(object)
    modified_changed = Signal(bool)
    history_changed = Signal()
    #: a different photo was opened (sizes may differ: views reset zoom and caches)
    photo_replaced = Signal()

    def __init__(self, parent: QObject | None = None, history_limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        super().__init__(parent)
        self.core = CoreDocument(history_limit_bytes)
        events = self.core.events
        # bound methods of self: the core holds them weakly, so the adapter can die first
        events.pixels_changing.connect(self._on_pixels_changing)
        events.pixels_changed.connect(self._on_pixels_changed)
        events.pixels_regions_changed.connect(self._on_pixels_regions_changed)
        events.mask_changed.connect(self._on_mask_changed)
        events.history_changed.connect(self._on_history_changed)
        events.modified_changed.connect(self._on_modified_changed)
        events.photo_replaced.connect(self._on_photo_replaced)

    # state ------------------------------------------------------------------------------------

    @property
    def photo(self) -> Photo | None:
        return self.core.photo

    @property
    def pixels(self) -> np.ndarray | None:
        return self.core.pixels

    @property
    def mask(self) -> np.ndarray | None:
        return self.core.mask

    @property
    def path(self) -> Path | None:
        return self.core.path

    @property
    def is_modified(self) -> bool:
        return self.core.is_modified

    @property
    def has_hole(self) -> bool:
        return self.core.has_hole

    @property
    def pixels_revision(self) -> int:
        return self.core.pixels_revision

    @property
    def mask_revision(self) -> int:
        return self.core.mask_revision

    @property
    def in_stroke(self) -> bool:
        return self.core.in_stroke

    def undo_text(self) -> str | None:
        return self.core.undo_label()

    def redo_text(self) -> str | None:
        return self.core.redo_label()

    def history_steps(self) -> tuple[list[str], int]:
        """(labels oldest first, number applied): row 0 of a History panel is the opened state."""
        return self.core.history.steps()

    def original_pixels(self, box: BBox) -> np.ndarray:
        """The pixels in ``box`` as opened (compare mode)."""
        return self.core.original_pixels(box)

    def changed_tiles(self, box: BBox, tile: int) -> list[tuple[int, int]]:
        return self.core.changed_tiles(box, tile)

    # changes ----------------------------------------------------------------------------------

    def open(self, photo: Photo, mask: np.ndarray | None = None) -> None:
        self.core.open(photo, mask)

    def set_mask(self, mask: np.ndarray | None, label: str = "Change mask",
                 region: BBox | None = None) -> Step | None:
        return self.core.set_mask(mask, label, region)

    def set_mask_region(self, bbox: BBox, values: np.ndarray, label: str, layer: str = "mask") -> Step | None:
        return self.core.set_mask_region(bbox, values, label, layer=layer)  # type: ignore[arg-type]

    def apply_edits(self, label: str, edits: list[Edit]) -> Step | None:
        return self.core.apply_edits(label, edits)

    def begin_stroke(self, label: str = "Brush stroke") -> None:
        self.core.begin_stroke(label)

    def stroke_to(self, p0: tuple[float, float], p1: tuple[float, float], radius: float,
                  value: int = 255, hardness: float = 1.0) -> BBox:
        return self.core.stroke_to(p0, p1, radius, value, hardness)

    def end_stroke(self) -> Step | None:
        return self.core.end_stroke()

    def abort_stroke(self) -> None:
        self.core.abort_stroke()

    def snapshot_for_fill(self) -> tuple[np.ndarray, np.ndarray]:
        return self.core.snapshot_for_fill()

    def snapshot_pixels(self) -> np.ndarray:
        return self.core.snapshot_pixels()

    def release_snapshot(self) -> None:
        self.core.release_snapshot()

    def apply_fill(self, pixels: np.ndarray, bbox: BBox | None, label: str) -> Step | None:
        return self.core.apply_fill(pixels, bbox, label)

    def apply_pixels(self, pixels: np.ndarray, label: str) -> None:
        """Old entry point: a full-frame result (compared with the photo to store only what changed)."""
        self.core.apply_fill(pixels, None, label)

    def undo(self) -> bool:
        return self.core.undo() is not None

    def redo(self) -> bool:
        return self.core.redo() is not None

    def jump_to(self, index: int) -> None:
        self.core.jump_to(index)

    def mark_saved(self, path: Path | None = None) -> None:
        """The current pixels are now what is on disk at ``path``."""
        self.core.mark_saved(path)
        self.pixels_changed.emit()  # old listeners refresh the title from here

    # core events -> signals -------------------------------------------------------------------

    def _on_pixels_changing(self, bbox: BBox) -> None:
        self.pixels_changing.emit(bbox)

    def _on_pixels_regions_changed(self, boxes: list[BBox] | None) -> None:
        self.pixels_regions_changed.emit(boxes)

    def _on_pixels_changed(self, bbox: BBox | None) -> None:
        self.pixels_region_changed.emit(bbox)
        self.pixels_changed.emit()

    def _on_mask_changed(self, bbox: BBox | None) -> None:
        self.mask_region_changed.emit(bbox)
        self.mask_changed.emit()

    def _on_history_changed(self) -> None:
        self.history_changed.emit()

    def _on_modified_changed(self, modified: bool) -> None:
        self.modified_changed.emit(modified)

    def _on_photo_replaced(self) -> None:
        self.photo_replaced.emit()
