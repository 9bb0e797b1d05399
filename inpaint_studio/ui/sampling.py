"""The sampling area (issue 5): a second paint layer saying where content-aware fills may copy from.

A photographer removing a person from a beach wants sand copied in, not the sea or the next
person. They switch the tools to "Paint Sampling Area" (S) and brush the sand with the same
brush, eraser and selections they use for the mask; it shows in green, apart from the red mask.
The layer lives on the core document (``document.sampling``, one undo step per stroke) and goes
into ``FillRequest.sampling`` for methods that copy patches (PatchMatch, Criminisi); the others
ignore it (the fill controller says so). Like the mask, it is a working layer, never saved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from inpaint_studio.core import mask_ops
from inpaint_studio.core.types import BBox
from inpaint_studio.ui.canvas import CanvasView

LAYER = "sampling"
#: green: reads as "take from here", distinct from the red mask and the cyan damage proposal
SAMPLING_COLOUR = QColor(40, 220, 90)
SAMPLING_OPACITY = 0.4


def core_of(document: Any) -> Any:
    """The Qt-free document behind the Qt adapter (where the sampling layer lives)."""
    return getattr(document, "core", document)


class SamplingController(QObject):
    """Shows the document's sampling area on the canvas and clears it."""

    status_message = Signal(str)
    #: the sampling area changed (box or None)
    changed = Signal(object)

    def __init__(self, document: Any, canvas: CanvasView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        canvas.set_layer(LAYER, self.values, SAMPLING_COLOUR, SAMPLING_OPACITY, with_mask=True)
        events = getattr(core_of(document), "events", None)
        event = getattr(events, "sampling_changed", None)
        if event is not None:
            event.connect(self._on_changed)  # a core Event holds this bound method weakly

    def values(self) -> np.ndarray | None:
        """The live sampling layer (HxW uint8) or None."""
        return getattr(core_of(self.document), "sampling", None)

    @property
    def has_area(self) -> bool:
        values = self.values()
        return values is not None and bool(values.any())

    def clear(self) -> bool:
        """Remove the whole sampling area (one undo step): fills copy from anywhere again."""
        core = core_of(self.document)
        if core.photo is None or not self.has_area:
            self.status_message.emit("There is no sampling area to clear.")
            return False
        core.set_sampling(None, "Clear sampling area")
        self.status_message.emit("Sampling area cleared: fills copy from anywhere again. Undo with Ctrl+Z.")
        return True

    def describe(self) -> str:
        values = self.values()
        if values is None or not values.any():
            return "No sampling area: fills copy from anywhere around the hole."
        share = mask_ops.coverage_fraction(values) * 100
        return f"Sampling area: {share:.1f} % of the photo."

    def _on_changed(self, bbox: BBox | None) -> None:
        self.canvas.update_layer(LAYER, bbox)
        self.changed.emit(bbox)
