"""Extra tinted layers, patch overlays and outlines the canvas draws over the photo.

Why a separate list rather than more fields on the canvas: the restorer workflow adds several
overlays that come and go (the detected-damage proposal, the sampling area, the seam-check heat
and its red outlines), each with its own colour. Full-frame layers (HxW uint8 coverage) get a
display pyramid like the mask, so a 100 MP proposal is drawn from the level nearest the zoom and
refreshed box by box; small results (a seam heat crop) are drawn as one QImage at their box.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QColor, QImage

from inpaint_studio.core.types import BBox
from inpaint_studio.ui.canvas_pyramid import Pyramid, Schedule

#: source() returns the layer's current HxW uint8 coverage (None: nothing to draw)
LayerSource = Callable[[], "np.ndarray | None"]


def colour_table(colour: QColor, opacity: float) -> list[int]:
    """ARGB entries for an Indexed8 coverage image: index i tints with alpha i * opacity."""
    red, green, blue = colour.red(), colour.green(), colour.blue()
    opacity = min(1.0, max(0.0, float(opacity)))
    return [(round(i * opacity) << 24) | (red << 16) | (green << 8) | blue for i in range(256)]


@dataclass
class OverlayLayer:
    """One full-frame coverage layer over a live source array."""

    source: LayerSource
    colour: QColor
    opacity: float
    #: hidden together with the mask overlay (M)
    with_mask: bool = True
    visible: bool = True
    table: list[int] = field(default_factory=list)
    pyramid: Pyramid | None = None
    #: the array the pyramid was built over (a new array means a new pyramid)
    built_on: int | None = None

    def __post_init__(self) -> None:
        self.table = colour_table(self.colour, self.opacity)

    def current(self, schedule: Schedule | None, on_ready: Callable[[], None] | None) -> Pyramid | None:
        """The pyramid over the source as it is now (rebuilt if the source array was replaced)."""
        values = self.source()
        if values is None:
            self.pyramid, self.built_on = None, None
            return None
        if self.pyramid is None or self.built_on != id(values) or self.pyramid.shape != values.shape[:2]:
            self.pyramid = Pyramid(lambda: _require(self.source()), schedule, on_ready)
            self.built_on = id(values)
        return self.pyramid

    def update(self, bbox: BBox | None) -> None:
        if self.pyramid is not None:
            values = self.source()
            if values is None or id(values) != self.built_on:
                self.pyramid, self.built_on = None, None
            else:
                self.pyramid.update(bbox)


@dataclass
class PatchOverlay:
    """A QImage drawn over the photo at ``bbox`` (image coordinates), scaled with the zoom."""

    bbox: BBox
    image: QImage
    #: outlines drawn on top (image coordinates) and their colour
    outlines: list[BBox] = field(default_factory=list)
    outline_colour: QColor = field(default_factory=lambda: QColor(255, 40, 40))


def _require(values: np.ndarray | None) -> np.ndarray:
    if values is None:  # replaced by None between current() and a paint: draw nothing new
        return np.zeros((1, 1), np.uint8)
    return values


def heat_to_qimage(heat: np.ndarray, colour: QColor, opacity: float = 0.9) -> QImage:
    """float HxW 0..1 heat -> an image tinting ``colour`` with alpha = heat * opacity (an owned copy)."""
    alpha = np.clip(np.asarray(heat, np.float32) * (255.0 * opacity), 0, 255).astype(np.uint8)
    alpha = np.ascontiguousarray(alpha)
    height, width = alpha.shape
    image = QImage(alpha.data, width, height, alpha.strides[0], QImage.Format.Format_Indexed8)
    image.setColorTable(colour_table(colour, 1.0))
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)  # a copy: ``alpha`` dies here
