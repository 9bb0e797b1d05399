"""The Fill button, its progress bar and Cancel — and the controller that runs a fill from them.

:class:`FillPanelView` is layout only. :class:`FillController` snapshots the document into a
FillRequest, hands it to the bridge, paints previews on the canvas as they arrive and applies the
result to the document (one undo step). A cancelled or failed fill leaves the document untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from inpaint_studio.core.document import diff_edits
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.types import BBox
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import make_params
from inpaint_studio.runtime.jobs import FillPreview, FillProgress, FillRequest, FillResult
from inpaint_studio.ui import dialogs, warmup
from inpaint_studio.ui.background import BackgroundTask, serial_pool
from inpaint_studio.ui.bridge import FillBridge
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.document import Document
from inpaint_studio.ui.method_panel import MethodPanel
from inpaint_studio.ui.qimage import rgb_to_qimage

_PROGRESS_STEPS = 1000

# the one primary action of the window gets the accent colour
_FILL_BUTTON_STYLE = """
QPushButton { background: #2f6fde; color: white; border: 1px solid #2358b8; border-radius: 5px;
              padding: 6px 18px; }
QPushButton:hover { background: #3b7cf0; }
QPushButton:pressed { background: #2358b8; }
QPushButton:disabled { background: palette(button); color: palette(mid); border-color: palette(mid); }
"""


def format_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_text(event: FillProgress, brief: bool = False) -> str:
    """"42% — region 1/2: step 30 — about 4 s left" (the bar's text).

    ``brief`` keeps only the first "·"-separated part of the method's text (DIP adds its rate and
    losses), so the bar's one line is not cut off in a narrow dock; the full text goes to the tooltip
    and the status bar.
    """
    parts = [f"{event.fraction * 100:.0f}%"]
    if event.text:
        parts.append(event.text.split(" · ")[0] if brief else event.text)
    if event.eta_s is not None and event.fraction < 1.0:
        parts.append(f"about {format_seconds(event.eta_s)} left")
    return " — ".join(parts)


def fitting_progress_text(event: FillProgress, fits: Callable[[str], bool]) -> str:
    """The most informative bar text that ``fits`` one line of the bar: the brief text, then without
    the method's label ("DIP fast: "), then percentage and time left, then the percentage alone. A
    progress bar wraps rather than elides, and a narrow dock or a wide font (as on X11) wrapped
    "… about 7.2 s left" onto a second, cut-off line."""
    brief = progress_text(event, brief=True)
    shorter = replace(event, text=(event.text or "").split(" · ")[0].split(": ")[-1])
    bare = replace(event, text="")
    for text in (brief, progress_text(shorter, brief=True), progress_text(bare)):
        if fits(text):
            return text
    return f"{event.fraction * 100:.0f}%"


class FillPanelView(QWidget):
    """Fill, Cancel and a progress bar (no logic); messages go to the window's status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fill_button = QPushButton("Fill", self)
        self.fill_button.setObjectName("fill_button")
        font = QFont(self.fill_button.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.fill_button.setFont(font)
        self.fill_button.setMinimumHeight(40)
        self.fill_button.setDefault(True)
        self.fill_button.setStyleSheet(_FILL_BUTTON_STYLE)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.setMinimumHeight(40)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("fill_progress")
        self.progress.setRange(0, _PROGRESS_STEPS)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Ready")
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)

        buttons = QHBoxLayout()
        buttons.addWidget(self.fill_button, 3)
        buttons.addWidget(self.cancel_button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)


class FillController(QObject):
    """Runs fills for one document: Fill -> request -> bridge -> previews -> result -> document."""

    #: a one-line message for the status bar
    status_message = Signal(str)
    #: True while a fill runs
    busy_changed = Signal(bool)
    #: every outcome (done, cancelled, failed), after the document has been updated
    fill_finished = Signal(object)
    #: the first preview of a fill arrived
    preview_shown = Signal(object)
    #: the user chose a method whose weights are missing and pressed Fill
    weights_missing = Signal(str)

    def __init__(self, document: Document, canvas: CanvasView, methods: MethodPanel, view: FillPanelView,
                 bridge: FillBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self.methods = methods
        self.view = view
        self.bridge = bridge
        self._base_pixels: np.ndarray | None = None
        self._base_revision: int | None = None
        self._holds_snapshot = False
        self._first_preview = True
        self._landing = False
        self._landing_cancelled = False
        self._land_pool = serial_pool(self)
        self._method_label = ""
        self.last_request: FillRequest | None = None
        view.fill_button.clicked.connect(self.start_fill)
        view.cancel_button.clicked.connect(self.cancel_fill)
        bridge.progress.connect(self._on_progress)
        bridge.preview.connect(self._on_preview)
        bridge.finished.connect(self._on_finished)
        document.pixels_changed.connect(self._update_enabled)
        document.mask_changed.connect(self._update_enabled)
        self._update_enabled()

    @property
    def busy(self) -> bool:
        return self.bridge.busy or self._landing

    # actions --------------------------------------------------------------------------------

    def start_fill(self) -> str | None:
        """Start filling the masked area with the chosen method; returns the request id (None if not)."""
        if self.busy:
            return None
        pixels, mask = self.document.pixels, self.document.mask
        if pixels is None:
            self._say("Open a photo first.")
            return None
        if mask is None or not self.document.has_hole:
            self._say("Nothing to fill: load a mask first (File ▸ Open Mask…).")
            return None
        name = self.methods.current_method()
        if name is None:
            self._say("No inpainting method is installed.")
            return None
        if not self.methods.current_ready():
            self._say("This method's weights are not installed: use “Get weights…” in the Fill panel.")
            self.weights_missing.emit(name)
            return None
        values = self.methods.values()
        try:
            cls = registry.method_class(name)
            make_params(cls.Params, values)  # say what is wrong now, not after the worker starts
        except InpaintStudioError as exc:
            dialogs.show_error(self.view.window(), "Cannot fill", str(exc))
            return None
        path = self.document.path
        snapshot = getattr(self.document, "snapshot_for_fill", None)
        if callable(snapshot):  # read-only view of the live pixels: no 300 MB copy on a 100 MP photo
            pixels, mask = snapshot()
            self._holds_snapshot = True
        extra: dict[str, Any] = {}
        painted = _painted_sampling(self.document)  # one scan of the layer per fill
        uses_sampling = painted is not None and cls.uses_sampling
        if uses_sampling:
            extra["sampling"] = painted
        # the snapshot is shared, not copied: the document keeps it unchanged until the result arrives
        request = FillRequest(pixels=pixels, mask=mask, method=name, params=values,
                              source_name=path.name if path else None, pixels_frozen=self._holds_snapshot,
                              **extra)
        #: the last request submitted (tests read it; its pixels are only guaranteed during the fill)
        self.last_request = request
        self._base_pixels = self.document.pixels
        self._base_revision = getattr(self.document, "pixels_revision", None)
        self._method_label = cls.label
        self.canvas.clear_preview()
        self._first_preview = True
        self.view.progress.setValue(0)
        if warmup.compiling(name):  # first use after an install: numba is still compiling it
            self.view.progress.setFormat(f"Preparing {cls.label} (first use only, up to a minute)…")
        else:
            self.view.progress.setFormat(f"Starting {cls.label}…")
        request_id = self.bridge.submit(request)
        self._set_busy(True)
        note = ""
        if uses_sampling:
            note = " from the sampling area"
        elif painted is not None:
            note = " (this method does not use the sampling area)"
        self._say(f"Filling with {cls.label}{note}…")
        return request_id

    def cancel_fill(self) -> None:
        if self._landing:  # the result is being compared: drop it when that ends
            self._landing_cancelled = True
            self.view.cancel_button.setEnabled(False)
            self.view.progress.setFormat("Cancelling…")
            return
        if self.busy:
            self.bridge.cancel()
            self.view.cancel_button.setEnabled(False)
            self.view.progress.setFormat("Cancelling…")
            self.canvas.clear_preview()
            self._say("Cancelling…")

    # bridge events --------------------------------------------------------------------------

    def _on_progress(self, event: FillProgress) -> None:
        self.view.progress.setValue(round(event.fraction * _PROGRESS_STEPS))
        bar = self.view.progress
        room = bar.contentsRect().width() - 4  # the style's text margins (273 px fit a 280 px bar, 285 wrap)
        metrics = bar.fontMetrics()
        bar.setFormat(fitting_progress_text(event, lambda text: metrics.horizontalAdvance(text) <= room))
        full = progress_text(event)
        self.view.progress.setToolTip(full)
        self._say(full)

    def _on_preview(self, event: FillPreview) -> None:
        first = self._first_preview
        self._first_preview = False
        self.canvas.show_preview(event.bbox, rgb_to_qimage(event.pixels))
        if event.text:
            self._say(f"{self._method_label}: {event.text}")
        if first:
            self.preview_shown.emit(event)

    def _on_finished(self, result: FillResult) -> None:
        self._release_snapshot()  # the worker is done reading the shared pixels
        base, self._base_pixels = self._base_pixels, None
        revision, self._base_revision = self._base_revision, None
        if result.status == "done" and result.pixels is not None:
            if not self._still_current(base, revision):
                self._finish(result, "Ready",
                             "The fill finished after the photo changed; its result was discarded.")
                return
            if revision is not None and hasattr(self.document, "apply_edits"):
                self._land_in_background(result, revision)
                return
            label = f"Fill ({self._method_label})"
            apply_fill = getattr(self.document, "apply_fill", None)
            if callable(apply_fill):
                apply_fill(result.pixels, result.changed, label)
            else:
                self.document.apply_pixels(result.pixels, label)
            self._finish(result, "Done", _sentence(result.message) + " Undo with Ctrl+Z.")
        elif result.status == "cancelled":
            self._finish(result, "Cancelled", "Fill cancelled — the photo is unchanged.")
        else:
            self._finish(result, "Failed", f"Fill failed: {result.message}")
            dialogs.show_error(self.view.window(), "Fill failed", result.message, result.details)

    def _still_current(self, base: np.ndarray | None, revision: int | None) -> bool:
        if revision is not None:
            return getattr(self.document, "pixels_revision", None) == revision
        return self.document.pixels is base

    def _land_in_background(self, result: FillResult, revision: int) -> None:
        """Find the changed tiles off the GUI thread (a 24 MP comparison takes about a second), then
        write them as one undo step — if the photo is still the one the fill started from."""
        assert result.pixels is not None
        self._landing = True
        self._landing_cancelled = False
        self.view.progress.setFormat("Applying the result…")
        current = self.document.pixels
        filled = result.pixels
        box = result.changed or BBox.of_shape(current.shape)

        def compare() -> list[Any]:
            return diff_edits("pixels", current[box.slices], filled[box.slices], box)

        task = BackgroundTask(compare, self._land_pool, self)
        task.done.connect(lambda edits: self._land(result, revision, edits))
        task.failed.connect(lambda exc: self._land(result, revision, None, exc))
        task.start()

    def _land(self, result: FillResult, revision: int, edits: list[Any] | None,
              error: BaseException | None = None) -> None:
        self._landing = False
        if self._landing_cancelled:
            self._finish(result, "Cancelled", "Fill cancelled — the photo is unchanged.")
        elif error is not None or edits is None:
            self._finish(result, "Failed", f"Could not apply the fill: {error}")
            dialogs.show_error(self.view.window(), "Fill failed", f"Could not apply the fill: {error}")
        elif getattr(self.document, "pixels_revision", None) != revision:
            self._finish(result, "Ready",
                         "The photo changed while the fill was applied; its result was discarded.")
        else:
            if edits:
                self.document.apply_edits(f"Fill ({self._method_label})", edits)
            self._finish(result, "Done", _sentence(result.message) + " Undo with Ctrl+Z.")

    def _finish(self, result: FillResult, state: str, message: str) -> None:
        self.canvas.clear_preview()
        self.view.progress.setToolTip("")
        self._set_busy(False)
        self.view.progress.setValue(_PROGRESS_STEPS if state == "Done" else 0)
        self.view.progress.setFormat(state)
        self._say(message)
        self.fill_finished.emit(result)

    def history_moved_over_fill(self, undone: bool) -> None:
        """Undo / redo crossed a fill: the panel and status bar stop claiming "Done … Undo with Ctrl+Z"
        for a result no longer on the photo (a fill still running keeps its own progress)."""
        if self.busy:
            return
        self.view.progress.setValue(0 if undone else _PROGRESS_STEPS)
        self.view.progress.setFormat("Ready" if undone else "Done")
        self._say("Fill undone: its mask is shown again. Pick a method and press Fill to try another."
                  if undone else "Fill redone. Undo with Ctrl+Z.")

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Closing: stop the fill and let a result being compared finish (it is then dropped)."""
        self.cancel_fill()
        self._land_pool.waitForDone(timeout_ms)

    # helpers --------------------------------------------------------------------------------

    def _release_snapshot(self) -> None:
        if self._holds_snapshot:
            self._holds_snapshot = False
            release = getattr(self.document, "release_snapshot", None)
            if callable(release):
                release()

    def _say(self, text: str) -> None:
        self.status_message.emit(text)

    def _set_busy(self, busy: bool) -> None:
        self.view.cancel_button.setEnabled(busy)
        self.methods.setEnabled(not busy)
        self._update_enabled()
        self.busy_changed.emit(busy)

    def _update_enabled(self, *_args: Any) -> None:
        ready = self.document.pixels is not None and self.document.mask is not None
        self.view.fill_button.setEnabled(ready and not self.busy)


def _painted_sampling(document: Any) -> np.ndarray | None:
    """The document's sampling area if anything is painted in it (it lives on the core document)."""
    core = getattr(document, "core", document)
    return core.sampling if core.has_sampling else None


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
