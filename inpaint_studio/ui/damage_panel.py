"""Detect damage: a panel of detector settings, a live proposal on the canvas, Apply into the mask.

A restorer tunes the detector by eye, so every slider move re-runs it (debounced): the part of the
photo on screen first — a crop, so the answer comes back in a fraction of a second even on a
100 MP scan — then the whole photo, in the background. A newer setting cancels an older run
(``detect_damage``'s ``cancel``), and any result that arrives for an older setting or older
pixels is dropped. The proposal is a tinted overlay only; "Apply" writes it into the mask as one
undo step (added to the mask or replacing it), and from then on the normal brush and eraser edit it.

:class:`DamagePanelView` is layout only; :class:`DamageController` holds the logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.core import mask_ops
from inpaint_studio.core.damage import (
    DamageOptions,
    detect_damage,
    infrared_dust_mask,
    learned,
    scratch_learned,
)
from inpaint_studio.core.errors import FillCancelled, InpaintStudioError
from inpaint_studio.core.types import BBox
from inpaint_studio.ui.background import BackgroundTask, serial_pool
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.mask_controller import (
    BACKGROUND_PIXELS,
    apply_mask,
    land_mask_change,
    mask_revision,
    prepare_mask_change,
)

#: the canvas layer showing the proposal
LAYER = "damage_proposal"
#: cyan: apart from the red mask and the green sampling area
PROPOSAL_COLOUR = QColor(0, 210, 255)
PROPOSAL_OPACITY = 0.55
#: slider moves closer together than this run the detector once
DEBOUNCE_MS = 150
#: the visible area is computed on its own first when it is less than this share of the photo
VISIBLE_FIRST_SHARE = 0.6
#: largest detector size (core.damage.options.MAX_SIZE_LIMIT)
MAX_SIZE = 64

KINDS = (("all", "Scratches and dust"), ("scratches", "Scratches, hairs, cracks"),
         ("dust", "Dust and specks"))


class _SliderRow(QHBoxLayout):
    """A slider with its value written next to it, kept current by the row itself."""

    def __init__(self, slider: QSlider, unit: str) -> None:
        super().__init__()
        self.label = QLabel(slider.parentWidget())
        self.label.setMinimumWidth(44)
        self._unit = unit
        self.addWidget(slider, 1)
        self.addWidget(self.label)
        slider.valueChanged.connect(self._show)
        self._show(slider.value())

    def _show(self, value: int) -> None:
        self.label.setText(f"{value} {self._unit}")


def _labelled_slider(parent: QWidget, name: str, low: int, high: int, value: int, unit: str,
                     tooltip: str) -> tuple[QSlider, _SliderRow]:
    """Sliders rather than spin boxes: the proposal follows a drag live, which is how a restorer
    finds the setting that covers the damage and nothing else."""
    slider = QSlider(Qt.Orientation.Horizontal, parent)
    slider.setObjectName(name)
    slider.setRange(low, high)
    slider.setValue(value)
    slider.setToolTip(tooltip)
    return slider, _SliderRow(slider, unit)


class DamagePanelView(QWidget):
    """Detector settings, infrared section, Apply (layout only)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel("Cyan marks the damage found. Tune the settings until it covers the scratches "
                           "and dust, then Apply to Mask and Fill.", self)
        self.hint.setObjectName("damage_hint")
        self.hint.setWordWrap(True)
        self.kind = QComboBox(self)
        self.kind.setObjectName("damage_kind")
        for value, label in KINDS:
            self.kind.addItem(label, value)
        self.kind.setToolTip("What to look for: long thin scratches, small round specks, or both")
        self.dust_finder = QComboBox(self)
        self.dust_finder.setObjectName("damage_dust_finder")
        self.dust_finder.addItem("Learned from this photo (5-15 s)", "learned")
        self.dust_finder.addItem("Classic filters (instant)", "classic")
        self.dust_finder.setToolTip(
            "Learned: a small classifier fitted to this photo finds dust with fewer false alarms on\n"
            "texture (foliage, fabric, wallpaper); classic: the filters alone, instant")
        self.line_finder = QComboBox(self)
        self.line_finder.setObjectName("damage_line_finder")
        self.line_finder.addItem("Classic filters (quick)", "classic")
        self.line_finder.addItem("Checked against this photo (slower first run)", "verified")
        self.line_finder.setToolTip(
            "Classic: the line filters alone.\n"
            "Checked: each line the filters find is also judged by a small classifier fitted to this\n"
            "photo, which drops real lines in texture (branches, rigging, outlines): fewer false\n"
            "alarms, about as many scratches found. Colour photos only (on toned prints it is classic).\n"
            "The first search on a photo fits it and takes 2-3x the classic time (20-40 s at 12 MP);\n"
            "later searches on the same photo reuse the fit.")
        self.sensitivity, sensitivity_row = _labelled_slider(
            self, "damage_sensitivity", 0, 100, 50, "%",
            "Higher finds fainter damage (and more false alarms)")
        self.min_size, min_size_row = _labelled_slider(
            self, "damage_min_size", 1, MAX_SIZE, 1, "px",
            "Smallest defect kept (width of a scratch, diameter of a speck)")
        self.max_size, max_size_row = _labelled_slider(
            self, "damage_max_size", 1, MAX_SIZE, 15, "px",
            "Widest scratch / largest speck; anything wider is treated as picture")

        self.infrared = QGroupBox("Infrared dust (scanner IR channel)", self)
        self.infrared.setObjectName("damage_infrared")
        self.infrared.setCheckable(True)
        self.infrared.setChecked(True)
        self.infrared.setToolTip("Dust and scratches block infrared light; the picture does not")
        self.ir_threshold, ir_row = _labelled_slider(
            self.infrared, "damage_ir_threshold", 0, 100, 50, "%",
            "Higher finds fainter specks in the infrared channel")
        ir_form = QFormLayout(self.infrared)
        ir_form.addRow("Sensitivity:", ir_row)
        self.infrared.hide()

        self.mode = QComboBox(self)
        self.mode.setObjectName("damage_apply_mode")
        self.mode.addItem("Add to the mask", "add")
        self.mode.addItem("Replace the mask", "replace")
        self.apply_button = QPushButton("Apply to Mask", self)
        self.apply_button.setObjectName("damage_apply")
        self.apply_button.setToolTip("Put the proposal into the mask (one undo step); then edit it with "
                                     "the brush and eraser")
        self.summary = QLabel("", self)
        self.summary.setObjectName("damage_summary")
        self.summary.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Find:", self.kind)
        form.addRow("Line finder:", self.line_finder)
        form.addRow("Dust finder:", self.dust_finder)
        form.addRow("Sensitivity:", sensitivity_row)
        form.addRow("Min size:", min_size_row)
        form.addRow("Max size:", max_size_row)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.mode, 1)
        apply_row.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.addWidget(self.hint)
        layout.addLayout(form)
        layout.addWidget(self.infrared)
        layout.addLayout(apply_row)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        self.setMinimumWidth(260)


#: the first dust search on a photo trains its detector (5-15 s), later slider moves reuse it
LEARNING_TEXT = "Learning what this photo looks like (once per photo, a few seconds)…"


@dataclass(frozen=True)
class _Job:
    """What one detection run was started from (to know whether its answer is still wanted)."""

    generation: int
    revision: int | None
    options: DamageOptions
    ir_threshold: float | None


class DamageController(QObject):
    """Runs the detector for the panel, shows its proposal on the canvas, applies it to the mask."""

    status_message = Signal(str)
    #: the proposal on the canvas changed (partial=True: only the visible area so far)
    proposal_changed = Signal(bool)
    #: the proposal went into the mask (its history label)
    applied = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, document: Any, canvas: CanvasView, view: DamagePanelView,
                 parent: QObject | None = None, *, background_pixels: int = BACKGROUND_PIXELS) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self.view = view
        self.background_pixels = background_pixels
        self._pool = serial_pool(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self._active = False
        self._generation = 0
        self._running = 0
        self._job: _Job | None = None
        self._proposal: np.ndarray | None = None
        #: the whole photo has been searched with the current settings
        self._complete = False
        self._apply_pending = False
        self._applying = False
        #: (pixels revision, max size) the dust detector has learned this photo for: a first run
        #: trains for a few seconds, and the panel says so instead of looking stuck
        self._learned: tuple[int | None, int] | None = None
        canvas.set_layer(LAYER, lambda: self._proposal, PROPOSAL_COLOUR, PROPOSAL_OPACITY, with_mask=False)
        for widget_signal in (view.sensitivity.valueChanged, view.min_size.valueChanged,
                              view.max_size.valueChanged, view.ir_threshold.valueChanged):
            widget_signal.connect(self._settings_changed)
        view.kind.currentIndexChanged.connect(self._settings_changed)
        view.dust_finder.currentIndexChanged.connect(self._settings_changed)
        view.line_finder.currentIndexChanged.connect(self._settings_changed)
        view.infrared.toggled.connect(self._settings_changed)
        view.apply_button.clicked.connect(self.apply)
        document.pixels_changed.connect(self._pixels_changed)
        document.photo_replaced.connect(self._photo_replaced)
        self._photo_replaced()

    # state ----------------------------------------------------------------------------------

    @property
    def proposal(self) -> np.ndarray | None:
        """The soft damage mask shown (HxW uint8), or None."""
        return self._proposal

    @property
    def complete(self) -> bool:
        """The proposal covers the whole photo for the current settings and pixels."""
        return self._complete

    @property
    def busy(self) -> bool:
        return self._running > 0 or self._timer.isActive() or self._applying

    def options(self) -> DamageOptions:
        view = self.view
        low, high = sorted((view.min_size.value(), view.max_size.value()))
        return DamageOptions(kind=view.kind.currentData(), sensitivity=view.sensitivity.value() / 100,
                             min_size=int(low), max_size=int(high),
                             dust_finder=view.dust_finder.currentData(),
                             scratch_finder=view.line_finder.currentData())

    def _ir_threshold(self) -> float | None:
        if self._infrared() is None or not self.view.infrared.isChecked():
            return None
        return self.view.ir_threshold.value() / 100

    def _infrared(self) -> np.ndarray | None:
        photo = self.document.photo
        infrared = getattr(photo, "infrared", None) if photo is not None else None
        pixels = self.document.pixels
        if infrared is None or pixels is None or infrared.shape[:2] != pixels.shape[:2]:
            return None
        return infrared

    # activation -----------------------------------------------------------------------------

    def set_active(self, active: bool) -> None:
        """Panel shown: detect and show the proposal; hidden: stop and hide it."""
        if active == self._active:
            return
        self._active = active
        if active:
            self._start()
        else:
            self._invalidate()
            self._set_proposal(None)
            self.view.summary.setText("")

    @property
    def active(self) -> bool:
        return self._active

    def refresh(self) -> None:
        """Detect again now (no debounce)."""
        if self._active:
            self._timer.stop()
            self._start()

    # events ---------------------------------------------------------------------------------

    def _settings_changed(self, *_args: Any) -> None:
        if self.view.min_size.value() > self.view.max_size.value():
            sender = self.sender()
            other = self.view.max_size if sender is self.view.min_size else self.view.min_size
            other.blockSignals(True)
            other.setValue(self.view.min_size.value() if other is self.view.max_size
                           else self.view.max_size.value())
            other.blockSignals(False)
        if self._active:
            self._invalidate()
            self._timer.start()

    def _pixels_changed(self, *_args: Any) -> None:
        if self._active:
            self._invalidate()
            self._timer.start()

    def _photo_replaced(self) -> None:
        self._invalidate()
        self._set_proposal(None)
        self.view.infrared.setVisible(self._infrared() is not None)
        if self._active:
            self._timer.start()

    def _invalidate(self) -> None:
        """Whatever runs now answers an old question: cancel it and drop its answer."""
        self._generation += 1
        self._complete = False

    # detection ------------------------------------------------------------------------------

    def _start(self) -> None:
        pixels = self.document.pixels
        if not self._active or pixels is None:
            return
        try:
            options = self.options()
        except InpaintStudioError as exc:
            self._say(str(exc))
            return
        self._invalidate()
        generation = self._generation
        job = _Job(generation, getattr(self.document, "pixels_revision", None), options, self._ir_threshold())
        self._job = job
        infrared = self._infrared() if job.ir_threshold is not None else None
        full = BBox.of_shape(pixels.shape)
        visible = self.canvas.visible_image_box()
        learns = _learns(options) and self._learned != (job.revision, options.max_size)
        self.view.summary.setText(LEARNING_TEXT if learns else "Looking for damage…")
        if visible is not None and visible.area < VISIBLE_FIRST_SHARE * full.area:
            margin = max(64, 2 * options.max_size + 8) + 8
            outer = visible.expanded(margin, pixels.shape[:2])
            crop = np.array(pixels[outer.slices])  # small: copied, so it can never tear
            ir_crop = None if infrared is None else np.array(infrared[outer.slices])
            self._submit(job, lambda: (visible, _detect(crop, ir_crop, job, self._cancelled(generation),
                                                        inner=visible.relative_to(outer), photo=pixels)))
        self._submit(job, lambda: (full, _detect(pixels, infrared, job, self._cancelled(generation))))

    def _cancelled(self, generation: int) -> Any:
        return lambda: generation != self._generation

    def _submit(self, job: _Job, fn: Any) -> None:
        task = BackgroundTask(fn, self._pool, self)
        task.done.connect(lambda result: self._landed(job, *result))
        task.failed.connect(self._failed)
        task.ended.connect(self._ended)
        self._running += 1
        if self._running == 1:
            self.busy_changed.emit(True)
        task.start()

    def _ended(self) -> None:
        self._running -= 1
        if self._running == 0:
            self.busy_changed.emit(False)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, FillCancelled):
            return
        message = str(exc) if isinstance(exc, InpaintStudioError) else f"{type(exc).__name__}: {exc}"
        self.view.summary.setText(f"Detection failed: {message}")
        self._say(f"Damage detection failed: {message}")

    def _landed(self, job: _Job, box: BBox, values: np.ndarray) -> None:
        if (job.generation != self._generation or not self._active
                or getattr(self.document, "pixels_revision", None) != job.revision):
            return  # settings or pixels changed since: a newer run is on its way
        pixels = self.document.pixels
        if pixels is None:
            return
        if _learns(job.options):
            self._learned = (job.revision, job.options.max_size)
        shape = pixels.shape[:2]
        if box == BBox.of_shape(shape):
            self._complete = True
            self._set_proposal(values)
            share = np.count_nonzero(values) / max(1, values.size) * 100
            self.view.summary.setText(_summary(values, share))
            self.proposal_changed.emit(False)
            if self._apply_pending:
                self._apply_pending = False
                self.apply()
            return
        if self._proposal is None or self._proposal.shape != shape:
            self._proposal = np.zeros(shape, np.uint8)
            self.canvas.update_layer(LAYER, None)
        self._proposal[box.slices] = values
        self.canvas.update_layer(LAYER, box)
        self.view.summary.setText("Shown for the visible area; searching the whole photo…")
        self.proposal_changed.emit(True)

    def _set_proposal(self, values: np.ndarray | None) -> None:
        self._proposal = values
        self.canvas.update_layer(LAYER, None)

    # apply ----------------------------------------------------------------------------------

    def apply(self) -> bool:
        """Write the proposal into the mask as one undo step (waits for the whole-photo result)."""
        document = self.document
        if document.photo is None or document.mask is None:
            self._say("Open a photo first.")
            return False
        if self._applying:
            return False
        if not self._complete or self._proposal is None:
            if not self._active:
                self._say("Open Detect Damage first.")
                return False
            self._apply_pending = True
            self._say("Applying as soon as the whole photo has been searched…")
            if not self.busy:
                self.refresh()
            return True
        proposal = self._proposal
        if not proposal.any():
            self._say("No damage found with these settings: nothing to apply.")
            return False
        mode = self.view.mode.currentData()
        label = "Detect damage" + (" (replace mask)" if mode == "replace" else "")
        mask = document.mask
        if mask.size >= self.background_pixels and mask_revision(document) is not None:
            self._apply_in_background(label, mode, proposal)
            return True
        if mode == "replace":
            new, region = proposal, None
        else:
            region = mask_ops.bbox_of(proposal)
            new = np.maximum(mask, proposal)
        apply_mask(document, new, label, region)
        self._applied(label)
        return True

    def _apply_in_background(self, label: str, mode: str, proposal: np.ndarray) -> None:
        snapshot = np.array(self.document.mask, copy=True)
        revision = mask_revision(self.document)
        after = proposal if mode == "replace" else None

        def prepare() -> tuple[np.ndarray, list[Any]]:
            return prepare_mask_change(snapshot, np.maximum(snapshot, proposal) if after is None else after)

        self._applying = True
        self.busy_changed.emit(True)
        task = BackgroundTask(prepare, self._pool, self)

        def landed(prepared: tuple[np.ndarray, list[Any]]) -> None:
            self._applying = False
            self.busy_changed.emit(False)
            if land_mask_change(self.document, label, prepared[0], prepared[1], revision):
                self._applied(label)
            else:
                self._say("The mask changed while the damage was being applied; apply it again.")

        task.done.connect(landed)
        task.failed.connect(self._apply_failed)
        task.start()

    def _apply_failed(self, exc: BaseException) -> None:
        self._applying = False
        self.busy_changed.emit(False)
        self._failed(exc)

    def _applied(self, label: str) -> None:
        share = mask_ops.coverage_fraction(self.document.mask) * 100
        self._invalidate()
        self._set_proposal(None)
        self.view.summary.setText("Applied. Edit the mask with the brush (B) and eraser (E), then Fill.")
        self._say(f"{label}: the mask now covers {share:.2f} % of the photo. Undo with Ctrl+Z.")
        self.applied.emit(label)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        self._active = False
        self._invalidate()
        self._timer.stop()
        self._pool.waitForDone(timeout_ms)

    def _say(self, text: str) -> None:
        self.status_message.emit(text)


def _detect(pixels: np.ndarray, infrared: np.ndarray | None, job: _Job, cancel: Any,
            inner: BBox | None = None, photo: np.ndarray | None = None) -> np.ndarray:
    """Worker thread: the detector, merged with the infrared mask; ``inner`` crops the answer.

    ``photo``: the whole photo when ``pixels`` is a crop of it. The dust detector learns from the
    whole photo once (cached), so the visible area and the later whole-photo pass, and every slider
    move after them, share one fitted model.
    """
    detector = lines = None
    if photo is not None and _learns_dust(job.options):
        detector = learned.detector_for(photo, job.options.max_size, cancel=cancel)
    if photo is not None and _checks_lines(job.options):
        lines = scratch_learned.detector_for(photo, job.options.max_size, cancel=cancel)
    found = detect_damage(pixels, job.options, cancel=cancel, detector=detector, scratch_detector=lines)
    if infrared is not None and job.ir_threshold is not None:
        if cancel():
            raise FillCancelled("damage detection cancelled")
        np.maximum(found, infrared_dust_mask(infrared, job.ir_threshold), out=found)
    return found if inner is None else np.ascontiguousarray(found[inner.slices])


def _learns(options: DamageOptions) -> bool:
    """Whether this search fits (or reuses) a per-photo classifier (dust, or the line checker)."""
    return _learns_dust(options) or _checks_lines(options)


def _learns_dust(options: DamageOptions) -> bool:
    return options.kind != "scratches" and options.dust_finder == "learned"


def _checks_lines(options: DamageOptions) -> bool:
    return options.kind != "dust" and options.scratch_finder == "verified"


def _summary(values: np.ndarray, share: float) -> str:
    if share == 0:
        return "No damage found. Raise the sensitivity or the max size."
    count = _count_defects(values)
    return f"Found {count} defect{'s' if count != 1 else ''} covering {share:.2f} % of the photo."


def _count_defects(values: np.ndarray) -> int:
    if values.size > 40_000_000:  # counting blobs on a huge frame costs more than it tells
        return int(cv2.connectedComponents((values[::4, ::4] > 0).view(np.uint8), connectivity=8)[0] - 1)
    return int(cv2.connectedComponents((values > 0).view(np.uint8), connectivity=8)[0] - 1)
