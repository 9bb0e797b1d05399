"""Shared test scaffolding for method tests: one recording RunContext instead of a copy per test file."""

from __future__ import annotations

import numpy as np

from inpaint_studio.core.errors import FillCancelled
from inpaint_studio.core.regions import RegionOptions, inpaint_regions
from inpaint_studio.methods.base import Method


class RecordingContext:
    """A RunContext recording progress and previews (values and texts); cancels after N checks."""

    device = "cpu"

    def __init__(self, seed: int = 0, sampling_area: np.ndarray | None = None,
                 cancel_after: int | None = None) -> None:
        self.seed = seed
        self.sampling_area = sampling_area
        self.cancel_after = cancel_after
        self.checks = 0
        self.fractions: list[float] = []
        self.previews: list[np.ndarray] = []
        self.texts: list[str] = []
        self.preview_texts: list[str] = []

    def progress(self, fraction: float, text: str = "") -> None:
        self.fractions.append(fraction)
        self.texts.append(text)

    def preview(self, image: np.ndarray, text: str = "") -> None:
        self.previews.append(np.array(image))
        self.preview_texts.append(text)

    def check_cancelled(self) -> None:
        self.checks += 1
        if self.cancel_after is not None and self.checks > self.cancel_after:
            raise FillCancelled("cancelled by the test")


def run_in_regions(method: Method, params: object, pixels: np.ndarray, mask: np.ndarray, *,
                   working_size: int | None = None) -> np.ndarray:
    """Fill through core.regions.inpaint_regions as the app does, with the method's own context margin."""
    options = RegionOptions(context_margin=method.context_margin(params), working_size=working_size)
    return inpaint_regions(pixels, mask, lambda t: method.run(t.image, t.hole, params, RecordingContext()),
                           options)
