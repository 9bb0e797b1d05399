"""Open, Open Mask and Save As: file dialogs around core.io, with errors shown as messages.

Loading runs on the GUI thread for now (a wait cursor shows it is busy): photos up to a few tens of
megapixels load in well under a second. The original file is never replaced silently: Save As
passes ``overwrite=True`` only after the file dialog itself asked the user to confirm.
"""

from __future__ import annotations

import contextlib
import importlib.resources
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from inpaint_studio.core import io
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.photo import Photo
from inpaint_studio.ui import dialogs
from inpaint_studio.ui.document import Document
from inpaint_studio.ui.settings import qsettings

SAMPLE_PHOTO = "sample.png"
SAMPLE_MASK = "sample_mask.png"

_IMAGE_FILTER_NAMES = "Images"


def resource_path(name: str) -> Path:
    """A bundled file as a real path (resources are installed as plain files, never zipped)."""
    return Path(str(importlib.resources.files("inpaint_studio.resources").joinpath(name)))


def image_filter() -> str:
    exts = sorted({ext.lower().lstrip(".") for ext in io.SUPPORTED_EXTENSIONS})
    patterns = " ".join(f"*.{ext}" for ext in exts)
    return f"{_IMAGE_FILTER_NAMES} ({patterns});;All files (*)"


@contextlib.contextmanager
def _wait_cursor() -> Iterator[None]:
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


class FileController(QObject):
    """File menu logic for one document; ``parent_widget`` owns the dialogs."""

    status_message = Signal(str)

    def __init__(self, document: Document, parent_widget: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.parent_widget = parent_widget
        self._is_sample = False

    @property
    def is_sample(self) -> bool:
        """The bundled sample is open (Save As then proposes the home folder, not the install dir)."""
        return self._is_sample

    # loading --------------------------------------------------------------------------------

    def open_photo(self, path: str | Path) -> bool:
        """Load ``path`` into the document; on failure show why and leave the document as it was."""
        try:
            with _wait_cursor():
                photo = io.load_photo(Path(path))
        except InpaintStudioError as exc:
            self._error("Cannot open photo", exc)
            return False
        self.document.open(photo)
        self._is_sample = False
        self._remember_folder(Path(path))
        self.status_message.emit(
            f"Opened {Path(path).name} ({photo.width} × {photo.height}, {photo.bit_depth}-bit). "
            "Open a mask (Ctrl+M) to choose what to remove.")
        return True

    def open_mask(self, path: str | Path) -> bool:
        if self.document.photo is None:
            self.status_message.emit("Open a photo before its mask.")
            return False
        try:
            with _wait_cursor():
                mask = io.load_mask(Path(path), self.document.photo.pixels.shape[:2])
            self.document.set_mask(mask)
        except InpaintStudioError as exc:
            self._error("Cannot open mask", exc)
            return False
        self._remember_folder(Path(path))
        self.status_message.emit(f"Mask {Path(path).name} loaded — press Fill (Ctrl+Return).")
        return True

    def open_sample(self) -> bool:
        """The bundled photo with its mask already drawn: one click from a first fill."""
        try:
            photo = io.load_photo(resource_path(SAMPLE_PHOTO))
            mask = io.load_mask(resource_path(SAMPLE_MASK), photo.pixels.shape[:2])
        except InpaintStudioError as exc:
            self._error("Cannot open the sample photo", exc)
            return False
        self.document.open(photo, mask)
        self._is_sample = True
        self.status_message.emit(
            "Sample photo with the spoon masked in red — press Fill (Ctrl+Return) to remove it.")
        return True

    # dialogs --------------------------------------------------------------------------------

    def open_photo_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open Photo", self._start_folder(),
                                              image_filter())
        return bool(path) and self.open_photo(path)

    def open_mask_dialog(self) -> bool:
        if self.document.photo is None:
            self.status_message.emit("Open a photo before its mask.")
            return False
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open Mask", self._start_folder(),
                                              image_filter())
        return bool(path) and self.open_mask(path)

    def save_as_dialog(self) -> bool:
        """Ask where to save; True once the photo is on disk (False if cancelled or failed)."""
        photo = self.document.photo
        if photo is None:
            return False
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save Photo As", str(self.suggested_path()),
                                              image_filter())
        if not path:
            return False
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(self.suggested_path().suffix)
            if target.exists():  # the dialog confirmed a different name; never replace this one unasked
                exists = InpaintStudioError(f"{target} already exists; choose another name")
                self._error("Cannot save", exists)
                return False
        if not self._accept_losses(photo, target):
            return False
        # the file dialog has already asked before replacing an existing file
        return self.save_to(target, overwrite=True)

    def save_to(self, path: Path, *, overwrite: bool = False) -> bool:
        photo = self.document.photo
        if photo is None:
            return False
        try:
            with _wait_cursor():
                written = io.save_photo(photo, path, overwrite=overwrite)
        except InpaintStudioError as exc:
            self._error("Cannot save", exc)
            return False
        self.document.mark_saved(Path(written))
        self._is_sample = False
        self._remember_folder(Path(written))
        self.status_message.emit(f"Saved {Path(written).name}.")
        return True

    def suggested_path(self) -> Path:
        """Next to the original as ``name-filled.ext``; the sample goes to the user's Pictures or home."""
        source = self.document.path
        name = source.stem if source else "photo"
        suffix = source.suffix if source and source.suffix else ".png"
        folder = Path(self._start_folder()) if self._is_sample or source is None else source.parent
        if name.endswith("-filled"):
            return folder / f"{name}{suffix}"
        return folder / f"{name}-filled{suffix}"

    # helpers --------------------------------------------------------------------------------

    def _accept_losses(self, photo: Photo, target: Path) -> bool:
        """Warn before a format drops something (16 bit, alpha, profile...); True to go ahead."""
        try:
            losses = io.metadata_losses(photo, io.format_from_path(target))
        except InpaintStudioError as exc:  # an extension we cannot write
            self._error("Cannot save", exc)
            return False
        if not losses:
            return True
        return dialogs.confirm_losses(self.parent_widget, target.name, losses)


    def _error(self, title: str, exc: InpaintStudioError) -> None:
        self.status_message.emit(f"{title}: {exc}")
        dialogs.show_error(self.parent_widget, title, str(exc))

    def _start_folder(self) -> str:
        folder = qsettings().value("files/last_folder", "", str)
        if folder and Path(folder).is_dir():
            return str(folder)
        pictures = Path.home() / "Pictures"
        return str(pictures if pictures.is_dir() else Path.home())

    @staticmethod
    def _remember_folder(path: Path) -> None:
        qsettings().setValue("files/last_folder", str(path.resolve().parent))
