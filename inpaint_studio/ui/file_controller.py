"""Open, Save, Save As, Export and mask import/export: dialogs around core.io, I/O off the GUI thread.

Photographers' rules this file keeps:
- the original is never overwritten without asking: the first Save over the file that was opened
  asks (Overwrite / Save As… / Cancel); after that, or after a Save As, Ctrl+S saves silently;
- Save As changes which file the window edits; Export writes a copy and changes nothing;
- every read and write runs on a background thread (a 96 MP TIFF takes seconds), one at a time,
  with a busy indicator; errors come back as message boxes and leave the document as it was;
- unsaved changes are never dropped silently: open-another and close go through
  :meth:`resolve_unsaved` (Save / Discard / Cancel).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QMessageBox, QWidget

from inpaint_studio.core import io
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.photo import Photo
from inpaint_studio.ui import dialogs, mask_controller
from inpaint_studio.ui.background import BackgroundTask, serial_pool
from inpaint_studio.ui.save_dialog import SaveOptions, SaveOptionsDialog, needs_options
from inpaint_studio.ui.settings import Preferences

SAMPLE_PHOTO = "sample.png"
SAMPLE_MASK = "sample_mask.png"

_FORMAT_FILTERS = (
    ("PNG", "PNG image (*.png)"),
    ("JPEG", "JPEG image (*.jpg *.jpeg)"),
    ("TIFF", "TIFF image (*.tif *.tiff)"),
    ("WEBP", "WebP image (*.webp)"),
    ("BMP", "BMP image (*.bmp)"),
)
_DEFAULT_SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp"}


def resource_path(name: str) -> Path:
    """A bundled file as a real path (resources are installed as plain files, never zipped)."""
    return Path(str(importlib.resources.files("inpaint_studio.resources").joinpath(name)))


def image_filter() -> str:
    exts = sorted({ext.lower().lstrip(".") for ext in io.SUPPORTED_EXTENSIONS})
    patterns = " ".join(f"*.{ext}" for ext in exts)
    return f"Images ({patterns});;All files (*)"


def save_filter() -> str:
    return ";;".join(text for _fmt, text in _FORMAT_FILTERS)


def _filter_for(fmt: str | None) -> str:
    return next((text for name, text in _FORMAT_FILTERS if name == fmt), _FORMAT_FILTERS[0][1])


def _format_of_filter(selected: str) -> str | None:
    return next((name for name, text in _FORMAT_FILTERS if text == selected), None)


def _message(exc: BaseException) -> str:
    """One line for a user: our errors say it themselves; OS errors get their strerror."""
    if isinstance(exc, InpaintStudioError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    return f"{type(exc).__name__}: {exc}"


class FileController(QObject):
    """File menu logic for one document; ``parent_widget`` owns the dialogs."""

    status_message = Signal(str)
    #: True while a file is being read or written
    busy_changed = Signal(bool)
    #: a photo was opened (its path); emitted after Document.open
    opened = Signal(object)
    #: opening failed (one-line reason); the document is unchanged
    open_failed = Signal(str)
    #: the photo was written (path); Save/Save As also mark the document saved
    saved = Signal(object)
    save_failed = Signal(str)
    mask_imported = Signal(object)
    mask_exported = Signal(object)
    recent_changed = Signal()
    #: an error was shown to the user (title, message)
    error_shown = Signal(str, str)

    def __init__(self, document: Any, parent_widget: QWidget, prefs: Preferences | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.parent_widget = parent_widget
        self.prefs = prefs if prefs is not None else Preferences()
        self._pool = serial_pool(self)
        self._tasks: set[BackgroundTask] = set()
        self._is_sample = False
        #: the file Ctrl+S may replace without asking (confirmed once, or written by Save As)
        self._confirmed_target: Path | None = None
        # bumped on every pixel change, so a save knows whether the document moved on meanwhile
        self._pixels_generation = 0
        document.pixels_changed.connect(self._on_pixels_changed)

    # state ----------------------------------------------------------------------------------

    @property
    def is_sample(self) -> bool:
        """The bundled sample is open (Save then asks where, and proposes the user's folders)."""
        return self._is_sample

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Block until pending reads/writes end (closing: a half-done save must finish)."""
        return self._pool.waitForDone(timeout_ms)

    def _on_pixels_changed(self, *_args: Any) -> None:
        self._pixels_generation += 1

    # unsaved changes ------------------------------------------------------------------------

    def resolve_unsaved(self, then: Callable[[], None]) -> None:
        """Run ``then`` once the user saved or discarded the changes; do nothing on Cancel."""
        if not self.document.is_modified:
            then()
            return
        path = self.document.path
        answer = dialogs.ask_save_changes(self.parent_widget, path.name if path else "Untitled")
        if answer == QMessageBox.StandardButton.Discard:
            then()
        elif answer == QMessageBox.StandardButton.Save:
            self.save(then=then)

    # opening --------------------------------------------------------------------------------

    def open_photo(self, path: str | Path) -> bool:
        """Read ``path`` in the background, then open it; False if not started (busy)."""
        path = Path(path)
        if self.busy:
            self.status_message.emit("Still reading or writing a file; try again in a moment.")
            return False
        self.status_message.emit(f"Opening {path.name}…")

        def loaded(photo: Photo) -> None:
            self.document.open(photo)
            self._is_sample = False
            self._confirmed_target = None
            self.prefs.remember_folder("open", path)
            self.prefs.add_recent_file(path)
            self.recent_changed.emit()
            self.status_message.emit(
                f"Opened {path.name} ({photo.width} × {photo.height}, {photo.bit_depth}-bit). "
                "Brush over what to remove, then Fill (Ctrl+Return).")
            self.opened.emit(path)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, FileNotFoundError | OSError) and not path.exists():
                self.prefs.remove_recent_file(path)
                self.recent_changed.emit()
            self._error("Cannot open photo", exc)
            self.open_failed.emit(_message(exc))

        self._run(lambda: io.load_photo(path), loaded, failed)
        return True

    def open_photo_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open Photo", self._folder("open"),
                                              image_filter())
        return bool(path) and self.open_photo(path)

    def open_sample(self) -> bool:
        """The bundled photo with its mask already drawn: one click from a first fill (small: sync)."""
        try:
            photo = io.load_photo(resource_path(SAMPLE_PHOTO))
            mask = io.load_mask(resource_path(SAMPLE_MASK), photo.pixels.shape[:2])
        except InpaintStudioError as exc:
            self._error("Cannot open the sample photo", exc)
            return False
        self.document.open(photo, mask)
        self._is_sample = True
        self._confirmed_target = None
        self.status_message.emit(
            "Sample photo with the spoon masked in red — press Fill (Ctrl+Return) to remove it.")
        return True

    def fill_recent_menu(self, menu: QMenu, open_path: Callable[[Path], None]) -> None:
        """(Re)build "Open Recent" entries; ``open_path`` handles a click (it asks about changes)."""
        menu.clear()
        recent = self.prefs.recent_files()
        for index, path in enumerate(recent, start=1):
            prefix = f"&{index} " if index < 10 else ""
            action = menu.addAction(f"{prefix}{path.name}")
            action.setStatusTip(str(path))
            action.setToolTip(str(path))
            action.setEnabled(path.exists())
            action.triggered.connect(lambda _checked=False, p=path: open_path(p))
        if not recent:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("&Clear List")
        clear.setEnabled(bool(recent))
        clear.triggered.connect(self.clear_recent)

    def clear_recent(self) -> None:
        self.prefs.set("files.recent", [])
        self.recent_changed.emit()

    # saving ---------------------------------------------------------------------------------

    def save(self, then: Callable[[], None] | None = None) -> bool:
        """Ctrl+S: to the edited file, asking once before replacing the original; else Save As."""
        photo = self.document.photo
        if photo is None:
            return False
        path = self.document.path
        if path is None or self._is_sample:
            return self.save_as(then=then)
        try:
            fmt = io.format_from_path(path)
        except InpaintStudioError:
            return self.save_as(then=then)
        if self._confirmed_target != path.resolve():
            losses = [loss for loss in io.metadata_losses(photo, fmt) if "re-compressed" not in loss]
            choice = dialogs.ask_overwrite_original(self.parent_widget, path.name, losses)
            if choice == "save_as":
                return self.save_as(then=then)
            if choice != "overwrite":
                return False
        quality = int(photo.extra.get("jpeg_quality", 95)) if fmt in ("JPEG", "WEBP") else 95
        return self._write(path, SaveOptions(fmt, min(max(quality, 1), 100)), overwrite=True, mark=True,
                           then=then)

    def save_as(self, then: Callable[[], None] | None = None) -> bool:
        """Ask for a name and options; the window then edits that file (True once started)."""
        chosen = self._ask_target("Save Photo As", self.suggested_path())
        if chosen is None:
            return False
        target, options = chosen
        return self._write(target, options, overwrite=True, mark=True, then=then)

    def export(self) -> bool:
        """Write a copy (any format/depth); the document's file and modified state stay as they are."""
        path = self.document.path
        suggestion = self.suggested_path(suffix=".jpg" if path is None else None)
        chosen = self._ask_target("Export a Copy", suggestion)
        if chosen is None:
            return False
        target, options = chosen
        return self._write(target, options, overwrite=True, mark=False)

    def save_to(self, path: str | Path, options: SaveOptions | None = None, *, overwrite: bool = False,
                mark: bool = True, then: Callable[[], None] | None = None) -> bool:
        """Write without dialogs (scripts and tests); same background path as the menu commands."""
        path = Path(path)
        if options is None:
            options = SaveOptions(io.format_from_path(path))
        return self._write(path, options, overwrite=overwrite, mark=mark, then=then)

    def suggested_path(self, suffix: str | None = None) -> Path:
        """Next to the original as ``name-edited.ext``; the sample goes to the last save folder."""
        source = self.document.path
        name = source.stem if source else "photo"
        suffix = suffix or (source.suffix if source and source.suffix else ".png")
        folder = Path(self._folder("save")) if self._is_sample or source is None else source.parent
        stem = name if name.endswith("-edited") else f"{name}-edited"
        return folder / f"{stem}{suffix}"

    # masks ----------------------------------------------------------------------------------

    def import_mask(self, path: str | Path) -> bool:
        if self.document.photo is None:
            self.status_message.emit("Open a photo before its mask.")
            return False
        path = Path(path)
        shape = self.document.photo.pixels.shape[:2]
        before = np.array(self.document.mask, copy=True) if self.document.mask is not None else None
        revision = mask_controller.mask_revision(self.document)
        label = f"Import mask {path.name}"

        def load() -> tuple[np.ndarray, list[Any]]:
            mask = io.load_mask(path, shape)
            if before is None or revision is None:
                return mask, []
            return mask_controller.prepare_mask_change(before, mask)  # compared here, off the GUI thread

        def loaded(prepared: tuple[np.ndarray, list[Any]]) -> None:
            if self.document.photo is None or self.document.photo.pixels.shape[:2] != shape:
                return  # another photo was opened meanwhile
            mask, edits = prepared
            if not mask_controller.land_mask_change(self.document, label, mask, edits, revision):
                mask_controller.apply_mask(self.document, mask, label)  # brushed meanwhile: replace anyway
            self.prefs.remember_folder("mask", path)
            self.status_message.emit(f"Mask {path.name} loaded — press Fill (Ctrl+Return).")
            self.mask_imported.emit(path)

        self._run(load, loaded, lambda exc: self._error("Cannot open mask", exc))
        return True

    # the old name, kept for callers written before "Import"
    open_mask = import_mask

    def import_mask_dialog(self) -> bool:
        if self.document.photo is None:
            self.status_message.emit("Open a photo before its mask.")
            return False
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Import Mask", self._folder("mask"),
                                              image_filter())
        return bool(path) and self.import_mask(path)

    def export_mask(self, path: str | Path, *, overwrite: bool = False) -> bool:
        mask = self.document.mask
        if mask is None:
            self.status_message.emit("There is no mask to export.")
            return False
        path = Path(path)
        snapshot = np.array(mask, dtype=np.uint8, copy=True)

        def written(out: Path) -> None:
            self.prefs.remember_folder("mask", out)
            self.status_message.emit(f"Mask saved as {Path(out).name}.")
            self.mask_exported.emit(Path(out))

        self._run(lambda: io.save_mask(snapshot, path, overwrite=overwrite), written,
                  lambda exc: self._error("Cannot save mask", exc))
        return True

    def export_mask_dialog(self) -> bool:
        if self.document.mask is None:
            self.status_message.emit("There is no mask to export.")
            return False
        source = self.document.path
        name = f"{source.stem if source else 'photo'}-mask.png"
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Export Mask",
                                              str(Path(self._folder("mask")) / name), "PNG image (*.png)")
        if not path:
            return False
        target = Path(path) if Path(path).suffix else Path(path).with_suffix(".png")
        return self.export_mask(target, overwrite=True)  # the file dialog asked before replacing

    # internals ------------------------------------------------------------------------------

    def _ask_target(self, title: str, suggestion: Path) -> tuple[Path, SaveOptions] | None:
        photo = self.document.photo
        if photo is None:
            return None
        try:
            start_filter = _filter_for(io.format_from_path(suggestion))
        except InpaintStudioError:
            start_filter = _FORMAT_FILTERS[0][1]
        path, selected = QFileDialog.getSaveFileName(self.parent_widget, title, str(suggestion),
                                                     save_filter(), start_filter)
        if not path:
            return None
        target = Path(path)
        if not target.suffix:
            fmt = _format_of_filter(selected) or "PNG"
            target = target.with_suffix(_DEFAULT_SUFFIX[fmt])
            if target.exists():  # the dialog confirmed another name; never replace this one unasked
                self._error("Cannot save", FileExistsError(17, "already exists; choose another name",
                                                           str(target)))
                return None
        try:
            fmt = io.format_from_path(target)
        except InpaintStudioError as exc:
            self._error("Cannot save", exc)
            return None
        if needs_options(photo, fmt):
            quality = int(self.prefs.get("files.jpeg_quality", 95))
            options = ask_save_options(self.parent_widget, photo, target, fmt, title, quality)
            if options is None:
                return None
            self.prefs.set("files.jpeg_quality", options.jpeg_quality)
        else:
            options = SaveOptions(fmt)
            losses = io.metadata_losses(photo, fmt)
            if losses and not dialogs.confirm_losses(self.parent_widget, target.name, losses):
                return None
        return target, options

    def _write(self, path: Path, options: SaveOptions, *, overwrite: bool, mark: bool,
               then: Callable[[], None] | None = None) -> bool:
        photo = self.document.photo
        if photo is None:
            return False
        if self.busy:
            self.status_message.emit("Still reading or writing a file; try again in a moment.")
            return False
        # the document keeps these pixels unchanged (copy-on-write) until the file is written: a fill
        # landing meanwhile cannot tear the save, and a 100 MP scan is not copied to be saved
        snapshot = photo.with_pixels(self.document.snapshot_pixels())
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.document.release_snapshot()

        generation = self._pixels_generation
        verb = "Saving" if mark else "Exporting"
        self.status_message.emit(f"{verb} {path.name}…")

        def written(out: Path) -> None:
            release()
            out = Path(out)
            self.prefs.remember_folder("save", out)
            if mark:
                self._confirmed_target = out.resolve()
                if generation == self._pixels_generation and self.document.photo is not None:
                    self.document.mark_saved(out)
                    self._is_sample = False
                    self.status_message.emit(f"Saved {out.name}.")
                else:
                    self.status_message.emit(
                        f"Saved {out.name} as it was when you pressed Save; later edits are not saved yet.")
                self.prefs.add_recent_file(out)
                self.recent_changed.emit()
            else:
                self.status_message.emit(f"Exported a copy as {out.name}.")
            self.saved.emit(out)
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            release()
            self._error("Cannot save", exc)
            self.save_failed.emit(_message(exc))

        self._run(lambda: io.save_photo(snapshot, path, format=options.format,
                                        jpeg_quality=options.jpeg_quality, bit_depth=options.bit_depth,
                                        overwrite=overwrite),
                  written, failed)
        return True

    def _run(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
             on_failed: Callable[[BaseException], None]) -> None:
        task = BackgroundTask(fn, self._pool, self)
        self._tasks.add(task)
        task.done.connect(on_done)
        task.failed.connect(on_failed)
        task.ended.connect(lambda: self._task_ended(task))
        if len(self._tasks) == 1:
            self.busy_changed.emit(True)
        task.start()

    def _task_ended(self, task: BackgroundTask) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self.busy_changed.emit(False)

    def _error(self, title: str, exc: BaseException) -> None:
        text = _message(exc)
        self.status_message.emit(f"{title}: {text}")
        details = None if isinstance(exc, InpaintStudioError | OSError) else repr(exc)
        dialogs.show_error(self.parent_widget, title, text, details)
        self.error_shown.emit(title, text)

    def _folder(self, purpose: str) -> str:
        folder = self.prefs.folder(purpose)
        if folder is not None:
            return str(folder)
        pictures = Path.home() / "Pictures"
        return str(pictures if pictures.is_dir() else Path.home())


def ask_save_options(parent: QWidget | None, photo: Photo, path: Path, fmt: str, title: str,
                     quality: int) -> SaveOptions | None:
    """The options dialog (module-level so tests can answer it without a real dialog)."""
    dialog = SaveOptionsDialog(photo, path, fmt, parent, title=title, quality=quality)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.options()
