"""Throttling rules of progress and previews, driven by a fake clock (no sleeps, no timing)."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.errors import FillCancelled
from inpaint_studio.core.types import BBox
from inpaint_studio.runtime.context import CancelToken, FillPreview, FillProgress, FillReporter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_throttled_but_first_and_last_arrive() -> None:
    clock, got = Clock(), []
    reporter = FillReporter("r", on_progress=got.append, progress_interval_s=0.05, clock=clock)
    reporter.progress(0.0, "start")
    for step in range(1, 10):
        clock.now += 0.001
        reporter.progress(step / 10, f"step {step}")
    reporter.flush_progress()
    assert [p.text for p in got] == ["start", "step 9"]
    assert all(isinstance(p, FillProgress) for p in got)


def test_progress_is_delivered_once_the_interval_has_passed() -> None:
    clock, got = Clock(), []
    reporter = FillReporter("r", on_progress=got.append, progress_interval_s=0.05, clock=clock)
    reporter.progress(0.1)
    clock.now += 0.06
    reporter.progress(0.2)
    assert [p.fraction for p in got] == [0.1, 0.2]


def test_progress_never_goes_backwards_and_stays_in_range() -> None:
    got: list[FillProgress] = []
    reporter = FillReporter("r", on_progress=got.append)
    for value in (0.5, 0.2, 7.0, float("nan"), -1.0):
        reporter.progress(value)
    assert [p.fraction for p in got] == [0.5, 0.5, 1.0, 1.0, 1.0]


def test_eta_comes_from_elapsed_time_and_fraction() -> None:
    clock, got = Clock(), []
    reporter = FillReporter("r", on_progress=got.append, clock=clock)
    reporter.progress(0.0)
    clock.now += 10.0
    reporter.progress(0.25)
    reporter.progress(1.0)
    assert got[0].eta_s is None
    assert got[1].elapsed_s == pytest.approx(10.0)
    assert got[1].eta_s == pytest.approx(30.0)
    assert got[2].eta_s == 0.0


def test_previews_are_latest_wins_and_only_delivered_ones_are_built() -> None:
    clock, got, built = Clock(), [], []
    reporter = FillReporter("r", on_preview=got.append, preview_interval_s=0.1, clock=clock)
    box = BBox(0, 0, 2, 2)

    def offer(name: str) -> None:
        def make() -> np.ndarray:
            built.append(name)
            return np.zeros((2, 2, 3), np.uint8)
        reporter.offer_preview(box, make, name)

    offer("a")           # first: delivered at once
    clock.now += 0.02
    offer("b")           # too soon: held
    clock.now += 0.02
    offer("c")           # replaces b
    clock.now += 0.1
    reporter.progress(0.5)  # any report lets a due preview out
    offer_after = len(got)
    clock.now += 0.01
    offer("d")           # held...
    reporter.drop_previews()  # ...and dropped: the result supersedes it
    clock.now += 1.0
    reporter.progress(0.9)
    assert [p.text for p in got] == ["a", "c"]
    assert offer_after == 2
    assert built == ["a", "c"]
    assert all(isinstance(p, FillPreview) and p.bbox == box for p in got)


def test_cancel_token() -> None:
    token = CancelToken()
    token.raise_if_cancelled()
    assert not token.cancelled
    token.cancel()
    assert token.cancelled
    assert token.wait(0)
    with pytest.raises(FillCancelled):
        token.raise_if_cancelled()
