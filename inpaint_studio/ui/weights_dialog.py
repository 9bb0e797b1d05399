""""Get weights": what a learned method needs, under which licence, and getting it installed.

Everything slow (download, import = hash + safe unpickle + key check, hashing installed files) runs
off the GUI thread through :class:`BackgroundTask` on the dialog's own one-thread pool, so the
window keeps painting and a 200 MB download can be cancelled. Errors stay in the dialog as a
message (the user is in the middle of doing something here, a modal box on top would be noise).
The runtime decides what is valid; this file only shows it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.core.errors import DownloadCancelled, InpaintStudioError
from inpaint_studio.runtime import catalogue, installer
from inpaint_studio.runtime.context import CancelToken
from inpaint_studio.runtime.weights import WeightsStatus, installed_parts, models_dir, weights_status
from inpaint_studio.ui.background import BackgroundTask, serial_pool

#: file types that are weights, not photos (a drop on the canvas is routed by these)
WEIGHTS_EXTENSIONS = (".pt", ".pth", ".ckpt", ".zip")

_FLAG_STYLE = {
    True: "color: white; background: #b3261e; padding: 2px 6px; font-weight: bold;",
    None: "color: black; background: #f2b01e; padding: 2px 6px; font-weight: bold;",
    False: "color: white; background: #2e7d32; padding: 2px 6px;",
}
_PROGRESS_INTERVAL_S = 0.1


def is_weights_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in WEIGHTS_EXTENSIONS


def weights_candidates(path: str | Path, preferred: str | None = None) -> list[str]:
    """Catalogue names ``path`` may be for, most likely first.

    The authors' file name decides when it matches; a .zip can only be an archived release; otherwise
    any entry (``preferred``, e.g. the chosen method's weights, first) and the user picks.
    """
    path = Path(path)
    names = catalogue.names()
    exact = [n for n in names if any(p.file_name == path.name for p in catalogue.entry(n).parts)]
    if exact:
        return exact
    if path.suffix.lower() == ".zip":
        zipped = [n for n in names if any(p.archive_member for p in catalogue.entry(n).parts)]
        if zipped:
            return zipped
    if preferred in names:
        names.remove(preferred)
        names.insert(0, preferred)
    return names


def ask_weights_name(parent: QWidget | None, path: Path, candidates: Sequence[str]) -> str | None:
    """Which model a dropped file is for (module-level so tests can answer it); None = cancelled."""
    if len(candidates) == 1:
        return candidates[0]
    items = [f"{catalogue.entry(n).label} — {catalogue.entry(n).licence_flag}" for n in candidates]
    item, ok = QInputDialog.getItem(parent, "Import weights", f"Which model is “{path.name}” for?", items,
                                    0, False)
    if not ok:
        return None
    return candidates[items.index(item)]


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _ProgressRelay(QObject):
    """Carries download progress from the pool thread to the dialog (queued: the relay lives here)."""

    progress = Signal(object, object)


class WeightsDialog(QDialog):
    """Licence, folder, hashes and Download / Import for the weights of one method (or catalogue name)."""

    #: the weights (catalogue name) were installed and verified: the method can fill now
    installed = Signal(str)
    #: every outcome of a download or import ends with this (message shown)
    finished_work = Signal(str)
    #: download progress as shown ("12.0 MB of 410.0 MB — 8.1 MB/s")
    progress_changed = Signal(str)

    def __init__(self, method_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.method_name = method_name
        self.status: WeightsStatus = weights_status(method_name)
        self.weights_name = self.status.weights or method_name
        self._entry = catalogue.entry(self.weights_name)
        self._pool = serial_pool(self)
        self._task: BackgroundTask | None = None
        self._cancel: CancelToken | None = None
        self._relay = _ProgressRelay(self)
        self._relay.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._started_at = 0.0
        self._start_bytes = 0
        self._last_emit = 0.0
        self.setWindowTitle(f"Get weights — {self._entry.label}")
        self.setObjectName("weights_dialog")
        self.setAcceptDrops(True)
        self.setMinimumWidth(600)
        self._build()
        self.refresh()

    # construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        e = self._entry
        title = QLabel(f"<h3>{_escape(e.label)}</h3>", self)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("weights_state")
        self.state_label.setWordWrap(True)
        paper = QLabel(_escape(e.paper), self)
        paper.setWordWrap(True)
        self.licence_label = QLabel(_escape(e.licence), self)
        self.licence_label.setObjectName("weights_licence")
        self.licence_label.setWordWrap(True)
        self.flag_label = QLabel(e.licence_flag.upper() if e.non_commercial is not False else e.licence_flag,
                                 self)
        self.flag_label.setObjectName("licence_flag")
        self.flag_label.setStyleSheet(_FLAG_STYLE[e.non_commercial])
        self.flag_label.setToolTip({
            True: "The authors allow non-commercial use only: not for client or paid work.",
            None: "The licence of these weights is not stated: check with the authors before commercial use.",
            False: "The authors' licence allows commercial use."}[e.non_commercial])
        self.page_label = QLabel(f'<a href="{_escape(e.page_url)}">{_escape(e.page_url)}</a>', self)
        self.page_label.setObjectName("weights_page")
        self.page_label.setOpenExternalLinks(True)
        self.page_label.setWordWrap(True)
        self.page_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        note = QLabel(_escape(e.note), self)
        note.setWordWrap(True)
        note.setVisible(bool(e.note))
        files = ", ".join(p.file_name for p in e.parts)
        self.folder_label = QLabel(f"{_escape(str(models_dir()))}<br><small>{_escape(files)}</small>", self)
        self.folder_label.setObjectName("weights_folder")
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder_button = QPushButton("Open folder", self)
        self.open_folder_button.setToolTip("Show the weights folder in your file manager")
        self.open_folder_button.clicked.connect(self.open_folder)
        self.hash_label = QLabel(self)
        self.hash_label.setObjectName("weights_hashes")
        self.hash_label.setWordWrap(True)
        self.hash_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        rows: list[tuple[str, QWidget]] = [("Paper:", paper), ("Licence:", self.licence_label),
                                           ("", self.flag_label), ("Published at:", self.page_label),
                                           ("", note), ("Files go to:", self.folder_label),
                                           ("SHA-256:", self.hash_label)]
        for row, (text, widget) in enumerate(rows):
            grid.addWidget(QLabel(text, self), row, 0, Qt.AlignmentFlag.AlignTop)
            if widget is self.flag_label:
                grid.addWidget(widget, row, 1, Qt.AlignmentFlag.AlignLeft)
            else:
                grid.addWidget(widget, row, 1)
        grid.addWidget(self.open_folder_button, 5, 2, Qt.AlignmentFlag.AlignTop)

        self.progress_bar = QProgressBar(self)
        self.progress_bar.setObjectName("weights_progress")
        self.progress_bar.hide()
        self.progress_label = QLabel(self)
        self.progress_label.setObjectName("weights_progress_text")
        self.message_label = QLabel(self)
        self.message_label.setObjectName("weights_message")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint = QLabel("<small>Tip: drop the downloaded file(s) onto this window to import them.</small>",
                      self)

        self.download_button = QPushButton("Download", self)
        self.download_button.setObjectName("weights_download")
        self.download_button.setToolTip(f"Download {files} ({e.direct_url}); an interrupted download resumes")
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button = QPushButton("Cancel download", self)
        self.cancel_button.setObjectName("weights_cancel")
        self.cancel_button.setToolTip(
            "Stop; the part already downloaded is kept and the next Download resumes")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.page_button = QPushButton("Open download page", self)
        self.page_button.setObjectName("weights_open_page")
        self.page_button.setToolTip("Open the authors' page in your browser; download there, then Import")
        self.page_button.clicked.connect(self.open_page)
        self.import_button = QPushButton("Import file…", self)
        self.import_button.setObjectName("weights_import")
        self.import_button.setToolTip(f"Check and install {files} you already downloaded")
        self.import_button.clicked.connect(self.import_dialog)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)
        downloadable = e.direct_url is not None
        self.download_button.setVisible(downloadable)
        self.cancel_button.setVisible(downloadable)
        self.page_button.setVisible(not downloadable)

        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.page_button, self.import_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.state_label)
        layout.addLayout(grid)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.message_label)
        layout.addWidget(hint)
        layout.addLayout(buttons)

    # public API -----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None

    def refresh(self) -> None:
        """Re-read the status (installed or not) and the installed files' hashes (off the GUI thread)."""
        self.status = weights_status(self.method_name)
        self.state_label.setText(self._state_text())
        self.state_label.setToolTip(self.status.message)  # the same, as the command line says it
        self._update_buttons()
        if not self.status.installed:
            self.hash_label.setText("—")
            return
        self.hash_label.setText("computing…")
        name = self.weights_name
        task = BackgroundTask(lambda: installed_parts(name), self._pool, self)
        task.done.connect(self._show_hashes)
        task.failed.connect(lambda exc: self.hash_label.setText(f"cannot read: {exc}"))
        task.start()

    def start_download(self) -> bool:
        if self.busy or self._entry.direct_url is None:
            return False
        token = CancelToken()
        self._cancel = token
        self._started_at = time.monotonic()
        self._start_bytes = -1
        self._last_emit = 0.0
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self.progress_label.setText("Connecting…")
        self._say("")
        name, relay = self.weights_name, self._relay

        def progress(done: int, total: int | None) -> None:  # pool thread: throttle, then hand over
            now = time.monotonic()
            if now - self._last_emit >= _PROGRESS_INTERVAL_S or (total is not None and done >= total):
                self._last_emit = now
                relay.progress.emit(done, total)

        self._run(lambda: installer.download(name, progress=progress, cancel=token),
                  "Downloaded and verified")
        return True

    def cancel_download(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.progress_label.setText("Cancelling…")

    def import_files(self, paths: Sequence[str | Path]) -> bool:
        """Verify and install ``paths`` (one per file the model has) in the background."""
        if self.busy:
            self._say("Still busy; wait for the current download or import to end.")
            return False
        files = [Path(p) for p in paths]
        self.progress_bar.setRange(0, 0)  # checking a big file takes a while: show that it is working
        self.progress_bar.show()
        self.progress_label.setText(f"Checking {', '.join(f.name for f in files)}…")
        self._say("")
        name = self.weights_name
        self._run(lambda: installer.import_files(name, files), "Imported and verified")
        return True

    def import_dialog(self) -> bool:
        count = len(self._entry.parts)
        caption = f"Import weights for {self._entry.label}" + (f" ({count} files)" if count > 1 else "")
        patterns = " ".join(f"*{ext}" for ext in WEIGHTS_EXTENSIONS)
        paths, _ = QFileDialog.getOpenFileNames(self, caption, str(Path.home() / "Downloads"),
                                                f"Weights ({patterns});;All files (*)")
        return bool(paths) and self.import_files(paths)

    def open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(models_dir())))

    def open_page(self) -> None:
        QDesktopServices.openUrl(QUrl(self._entry.page_url))

    def message(self) -> str:
        return self.message_label.text()

    # internals ------------------------------------------------------------------------------

    def _run(self, fn: Any, verb: str) -> None:
        task = BackgroundTask(fn, self._pool, self)
        self._task = task
        task.done.connect(lambda parts: self._on_installed(parts, verb))
        task.failed.connect(self._on_failed)
        task.ended.connect(self._on_ended)
        self._update_buttons()
        task.start()

    @Slot(object, object)
    def _state_text(self) -> str:
        e = self._entry
        if self.status.installed:
            return f"<b>Installed</b> — {_escape(e.label)} can fill."
        count = len(e.parts)
        files = "both files" if count == 2 else f"all {count} files" if count > 2 else "the file"
        if e.direct_url is not None:
            how = f"press <b>Download</b>, or <b>Import file…</b> if you already have {files}."
        else:
            it = "it" if count == 1 else "them"
            how = (f"get {files} in your browser (<b>Open download page</b>), then <b>Import file…</b> "
                   f"or drop {it} here.")
        return f"<b>Not installed.</b> {_escape(e.label)} cannot fill until its weights are installed: {how}"

    def _on_progress(self, done: int, total: int | None) -> None:
        if self._task is None:
            return
        if self._start_bytes < 0:  # the first report: what a resumed download already had
            self._start_bytes = done
            self._started_at = time.monotonic()
        elapsed = max(time.monotonic() - self._started_at, 1e-3)
        rate = (done - self._start_bytes) / elapsed / 1e6
        if total:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * done / total))
            text = f"{_mb(done)} of {_mb(total)} — {rate:.1f} MB/s"
        else:
            text = f"{_mb(done)} — {rate:.1f} MB/s"
        if done >= (total or -1):
            text += " — verifying…"
        self.progress_label.setText(text)
        self.progress_changed.emit(text)

    def _on_installed(self, parts: list[Any], verb: str) -> None:
        names = ", ".join(p.file_name for p in parts)
        self._say(f"{verb}: {names}. {self._entry.label} is ready to fill.", error=False)
        self.refresh()
        self.installed.emit(self.weights_name)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, DownloadCancelled):
            self._say(f"Download cancelled: {exc}.", error=False)
        elif isinstance(exc, InpaintStudioError):
            self._say(str(exc))
        elif isinstance(exc, OSError):
            self._say(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        else:
            self._say(f"{type(exc).__name__}: {exc}")
        self.refresh()

    def _on_ended(self) -> None:
        self._task = None
        self._cancel = None
        self.progress_bar.hide()
        self.progress_label.setText("")
        self._update_buttons()
        self.finished_work.emit(self.message())

    def _show_hashes(self, parts: list[Any] | None) -> None:
        if not parts:
            self.hash_label.setText("—")
            return
        self.hash_label.setText("<br>".join(
            f"<code style='font-size: small'>{_escape(p.sha256)}</code><br>"
            f"<small>{_escape(p.file_name)}, {_mb(p.size)}</small>"
            for p in parts))

    def _say(self, text: str, error: bool = True) -> None:
        self.message_label.setStyleSheet("color: #b3261e;" if error and text else "")
        self.message_label.setText(text)

    def _update_buttons(self) -> None:
        busy = self.busy
        downloading = busy and self._cancel is not None
        self.download_button.setEnabled(not busy and not self.status.installed)
        self.cancel_button.setEnabled(downloading)
        self.import_button.setEnabled(not busy)

    # events ---------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and all(u.isLocalFile() for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and all(u.isLocalFile() for u in urls):
            event.acceptProposedAction()
            self.import_files([u.toLocalFile() for u in urls])

    def done(self, result: int) -> None:
        """Closing stops a download (its partial file is kept) and waits for the thread to let go."""
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
        self._pool.waitForDone(timeout_ms)
