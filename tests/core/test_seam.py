"""Seam check: a fill that does not continue its surroundings is pointed out; a faithful one is not."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_studio.core.seam import SeamReport, seam_overlay, seam_scores
from inpaint_studio.core.types import BBox

SPECKS = [(60, 70, 7), (150, 300, 6), (250, 120, 8), (320, 420, 6), (90, 520, 7)]


@pytest.fixture(scope="module")
def photo(kodak_dir: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(kodak_dir / "images" / "kodim23.png")), cv2.COLOR_BGR2RGB)


def _specks(shape: tuple[int, ...], specks=SPECKS) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    for y, x, r in specks:
        cv2.circle(mask, (x, y), r, 255, -1)
    return mask


def _damaged(photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """What the scan looked like before the fill: garbage in the holes (the score must not read it)."""
    before = photo.copy()
    before[mask > 0] = np.random.default_rng(0).integers(0, 256, size=(int((mask > 0).sum()), 3))
    return before


@pytest.mark.parametrize("depth", [8, 16])
def test_wrong_colour_fill_is_flagged_and_ground_truth_is_not(photo, depth):
    mask = _specks(photo.shape)
    truth = photo if depth == 8 else photo.astype(np.uint16) * np.uint16(257)
    before = _damaged(truth, mask)
    wrong = truth.copy()
    wrong[mask > 0] = np.array([255, 0, 255]) * (257 if depth == 16 else 1)

    good_reports = seam_scores(before, truth, mask)
    bad_reports = seam_scores(before, wrong, mask)

    assert len(good_reports) == len(bad_reports) == len(SPECKS)
    assert not any(r.bad for r in good_reports), [r.score for r in good_reports]
    assert all(r.bad for r in bad_reports), [r.score for r in bad_reports]
    assert min(r.score for r in bad_reports) > 3 * max(r.score for r in good_reports)


def test_one_bad_region_among_good_ones_is_the_one_reported(photo):
    mask = _specks(photo.shape)
    after = photo.copy()
    y, x, _r = SPECKS[2]
    wrong = _specks(photo.shape, [SPECKS[2]]) > 0
    after[wrong] = (0, 0, 0)
    reports = seam_scores(_damaged(photo, mask), after, mask)
    flagged = [rep.bbox for rep in reports if rep.bad]
    assert len(flagged) == 1
    assert flagged[0].top <= y <= flagged[0].bottom and flagged[0].left <= x <= flagged[0].right


def test_given_boxes_are_scored_in_order_and_empty_ones_skipped(photo):
    mask = _specks(photo.shape, SPECKS[:2])
    boxes = [BBox(130, 280, 170, 320), BBox(0, 0, 10, 10), BBox(40, 50, 80, 90)]
    reports = seam_scores(photo, photo, mask, boxes=boxes)
    assert [r.bbox for r in reports] == [boxes[0], boxes[2]]


def test_threshold_decides_bad(photo):
    mask = _specks(photo.shape, SPECKS[:1])
    after = photo.copy()
    after[mask > 0] = (128, 128, 128)
    (report,) = seam_scores(photo, after, mask)
    assert seam_scores(photo, after, mask, threshold=report.score + 1)[0].bad is False
    assert seam_scores(photo, after, mask, threshold=report.score - 0.01)[0].bad is True


def test_no_hole_no_reports(photo):
    assert seam_scores(photo, photo, np.zeros(photo.shape[:2], bool)) == []


def test_overlay_heats_the_edge_of_a_bad_fill_only(photo):
    mask = _specks(photo.shape, SPECKS[:2])
    after = photo.copy()
    bad_hole = _specks(photo.shape, [SPECKS[0]]) > 0
    after[bad_hole] = (255, 0, 255)
    reports = seam_scores(photo, after, mask)
    heat = seam_overlay(after, mask, reports)

    assert heat.dtype == np.float32 and heat.shape == mask.shape
    assert heat.min() >= 0.0 and heat.max() <= 1.0
    assert (heat[mask == 0] == 0).all(), "heat outside the hole"
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    edge = bad_hole & ~(cv2.erode(bad_hole.view(np.uint8), cross) > 0)  # 4-neighbour of a known pixel
    assert heat[edge].mean() > 0.8
    good_hole = (mask > 0) & ~bad_hole
    assert heat[good_hole].mean() < 0.15
    # only the reports passed in are drawn
    only_good = [r for r in reports if not r.bad]
    assert seam_overlay(after, mask, only_good)[bad_hole].max() == 0


def test_report_is_a_frozen_value():
    report = SeamReport(BBox(0, 0, 1, 1), 1.0, False)
    with pytest.raises(AttributeError):
        report.score = 2.0  # type: ignore[misc]
