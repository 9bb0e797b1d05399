"""The open photo, its mask and a one-step undo, with signals the views redraw from.

Kept small on purpose: the full editor (brush strokes, a real history) will move the state into a
Qt-free ``core`` document and leave this as the adapter. Every change goes through a method here,
so the canvas and the window title never have to be told by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from inpaint_studio.core.errors import MaskMismatchError
from inpaint_studio.core.photo import Photo


class Document(QObject):
    """One photo being edited.

    ``pixels_changed`` fires whenever the photo's pixels are replaced (open, fill, undo, redo);
    ``mask_changed`` when the mask is; ``modified_changed`` when "has unsaved changes" flips.
    """

    pixels_changed = Signal()
    mask_changed = Signal()
    modified_changed = Signal(bool)
    history_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._photo: Photo | None = None
        self._mask: np.ndarray | None = None
        self._saved_pixels: np.ndarray | None = None
        self._undo: tuple[Photo, str] | None = None
        self._redo: tuple[Photo, str] | None = None
        self._modified = False

    # state ----------------------------------------------------------------------------------

    @property
    def photo(self) -> Photo | None:
        return self._photo

    @property
    def pixels(self) -> np.ndarray | None:
        return None if self._photo is None else self._photo.pixels

    @property
    def mask(self) -> np.ndarray | None:
        return self._mask

    @property
    def path(self) -> Path | None:
        return None if self._photo is None else self._photo.source_path

    @property
    def is_modified(self) -> bool:
        return self._modified

    @property
    def has_hole(self) -> bool:
        return self._mask is not None and bool(np.any(self._mask))

    def undo_text(self) -> str | None:
        return None if self._undo is None else self._undo[1]

    def redo_text(self) -> str | None:
        return None if self._redo is None else self._redo[1]

    # changes --------------------------------------------------------------------------------

    def open(self, photo: Photo, mask: np.ndarray | None = None) -> None:
        """Replace everything with a freshly loaded photo (and optionally its mask)."""
        if mask is not None:
            self._check_mask(mask, photo)
        self._photo = photo
        self._mask = None if mask is None else np.array(mask, dtype=np.uint8, copy=True)
        self._saved_pixels = photo.pixels
        self._undo = self._redo = None
        self.pixels_changed.emit()
        self.mask_changed.emit()
        self.history_changed.emit()
        self._update_modified()

    def set_mask(self, mask: np.ndarray | None) -> None:
        if mask is not None:
            if self._photo is None:
                raise MaskMismatchError("open a photo before loading a mask")
            self._check_mask(mask, self._photo)
            mask = np.array(mask, dtype=np.uint8, copy=True)
        self._mask = mask
        self.mask_changed.emit()

    def apply_pixels(self, pixels: np.ndarray, label: str) -> None:
        """Replace the pixels with a result (e.g. a fill), remembering the old ones for Undo."""
        if self._photo is None:
            raise RuntimeError("no photo is open")
        new = np.array(pixels, copy=True)  # our own, writable copy
        self._undo = (self._photo, label)
        self._redo = None
        self._photo = self._photo.with_pixels(new)
        self.pixels_changed.emit()
        self.history_changed.emit()
        self._update_modified()

    def undo(self) -> bool:
        if self._undo is None or self._photo is None:
            return False
        previous, label = self._undo
        self._redo, self._undo = (self._photo, label), None
        self._photo = previous
        self.pixels_changed.emit()
        self.history_changed.emit()
        self._update_modified()
        return True

    def redo(self) -> bool:
        if self._redo is None or self._photo is None:
            return False
        following, label = self._redo
        self._undo, self._redo = (self._photo, label), None
        self._photo = following
        self.pixels_changed.emit()
        self.history_changed.emit()
        self._update_modified()
        return True

    def mark_saved(self, path: Path) -> None:
        """The current pixels are now what is on disk at ``path``."""
        if self._photo is None:
            return
        self._photo.source_path = Path(path)
        self._saved_pixels = self._photo.pixels
        self._update_modified()
        self.pixels_changed.emit()  # the title shows the new name

    # helpers --------------------------------------------------------------------------------

    @staticmethod
    def _check_mask(mask: np.ndarray, photo: Photo) -> None:
        if mask.shape != photo.pixels.shape[:2]:
            raise MaskMismatchError(
                f"the mask is {mask.shape[1]}x{mask.shape[0]} but the photo is {photo.width}x{photo.height}")

    def _update_modified(self) -> None:
        # identity, not equality: cheap, and undoing back to the saved pixels clears the flag
        modified = self._photo is not None and self._photo.pixels is not self._saved_pixels
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)
