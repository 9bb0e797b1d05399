"""Mask operations: grow/shrink/feather behave like a selection tool, the brush stays inside its box."""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inpaint_studio.core.errors import (
    EmptyMaskError,
    FullMaskError,
    InvalidInputError,
    InvalidParameterError,
    MaskMismatchError,
)
from inpaint_studio.core.mask_ops import (
    as_coverage,
    bbox_of,
    check_mask_usable,
    connected_regions,
    coverage_fraction,
    dilate,
    disc,
    erode,
    feather,
    hole_of,
    invert,
    paint_disc,
    paint_segment,
    region_labels,
    segment_bbox,
    threshold,
)
from inpaint_studio.core.types import BBox

FAST = settings(max_examples=40, deadline=None)

shapes = st.tuples(st.integers(1, 18), st.integers(1, 18))
# Hard masks are mostly empty so they have separate blobs, holes and borders; soft ones are noise.
hard_masks = arrays(np.uint8, shapes, elements=st.sampled_from([0, 0, 0, 255]))
soft_masks = arrays(np.uint8, shapes, elements=st.integers(0, 255))
any_masks = st.one_of(hard_masks, soft_masks)
radii = st.integers(0, 5)


# ---------------------------------------------------------------------------------------------
# independent references (slow, obvious, only for tiny masks)


def _components_by_flood_fill(hole: np.ndarray) -> list[set[tuple[int, int]]]:
    seen = np.zeros_like(hole, dtype=bool)
    components = []
    height, width = hole.shape
    for start in zip(*np.nonzero(hole), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        pixels, queue = set(), deque([start])
        while queue:
            r, c = queue.popleft()
            pixels.add((int(r), int(c)))
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < height and 0 <= nc < width and hole[nr, nc] and not seen[nr, nc]:
                        seen[nr, nc] = True
                        queue.append((nr, nc))
        components.append(pixels)
    return components


def _box_of_pixels(pixels: set[tuple[int, int]]) -> BBox:
    rows = [r for r, _ in pixels]
    cols = [c for _, c in pixels]
    return BBox(min(rows), min(cols), max(rows) + 1, max(cols) + 1)


def _distance_to_segment(shape: tuple[int, int], p0: tuple[float, float],
                         p1: tuple[float, float]) -> np.ndarray:
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    vr, vc = p1[0] - p0[0], p1[1] - p0[1]
    length2 = vr * vr + vc * vc
    if length2 == 0:
        t = np.zeros_like(rows)
    else:
        t = np.clip(((rows - p0[0]) * vr + (cols - p0[1]) * vc) / length2, 0, 1)
    return np.hypot(rows - (p0[0] + t * vr), cols - (p0[1] + t * vc))


# ---------------------------------------------------------------------------------------------
# conversion and validation


def test_as_coverage_converts_bool_and_float_masks() -> None:
    assert as_coverage(np.array([[True, False]])).tolist() == [[255, 0]]
    assert as_coverage(np.array([[0.0, 0.5, 1.0]], dtype=np.float32)).tolist() == [[0, 128, 255]]
    assert as_coverage(np.array([[0.0, 1.0]])).dtype == np.uint8


def test_as_coverage_returns_a_copy_the_caller_can_change() -> None:
    mask = np.zeros((3, 3), np.uint8)
    coverage = as_coverage(mask)
    coverage[0, 0] = 255
    assert mask[0, 0] == 0


@pytest.mark.parametrize(("bad", "words"), [
    (np.zeros((4, 4, 3), np.uint8), "2-D"),
    (np.zeros(4, np.uint8), "2-D"),
    (np.zeros((4, 4), np.int64), "int64"),
    (np.array([[0.0, 1.5]]), "[0, 1]"),
    (np.array([[-0.1, 0.5]]), "[0, 1]"),
    (np.array([[0.0, np.nan]]), "NaN"),
])
def test_as_coverage_rejects_unusable_masks_naming_the_problem(bad: np.ndarray, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words.replace("[", r"\[").replace("]", r"\]")):
        as_coverage(bad)


def test_hole_of_is_every_pixel_with_any_coverage() -> None:
    mask = np.array([[0, 1, 128, 255]], np.uint8)
    assert hole_of(mask).tolist() == [[False, True, True, True]]
    assert hole_of(mask).dtype == np.bool_


def test_check_mask_usable_reports_size_mismatch_as_width_x_height() -> None:
    with pytest.raises(MaskMismatchError, match="the mask is 5x4 but the image is 7x6"):
        check_mask_usable(np.full((4, 5), 255, np.uint8), (6, 7, 3))


def test_check_mask_usable_refuses_an_empty_mask() -> None:
    with pytest.raises(EmptyMaskError, match="the mask is empty: paint over what should be removed"):
        check_mask_usable(np.zeros((4, 5), np.uint8), (4, 5))


@pytest.mark.parametrize("value", [1, 255])
def test_check_mask_usable_refuses_a_mask_with_no_known_pixel(value: int) -> None:
    with pytest.raises(FullMaskError, match="covers the whole image: at least some pixels must stay"):
        check_mask_usable(np.full((4, 5), value, np.uint8), (4, 5, 3))


def test_check_mask_usable_accepts_a_mask_leaving_a_single_known_pixel() -> None:
    mask = np.ones((4, 5), bool)
    mask[3, 4] = False
    check_mask_usable(mask, (4, 5))


def test_check_mask_usable_validates_the_mask_itself() -> None:
    with pytest.raises(InvalidInputError, match="2-D"):
        check_mask_usable(np.zeros((4, 5, 1), np.uint8), (4, 5))


# ---------------------------------------------------------------------------------------------
# grow / shrink


def test_dilate_by_one_grows_a_dot_to_a_full_3x3_square_and_by_two_to_a_round_disc() -> None:
    mask = np.zeros((7, 7), np.uint8)
    mask[3, 3] = 255
    assert (dilate(mask, 1)[2:5, 2:5] == 255).all()
    assert dilate(mask, 1).sum() == 9 * 255
    grown = dilate(mask, 2) > 0
    assert grown[1:6, 1:6].sum() == 21  # 5x5 without its four corners
    assert not grown[1, 1] and grown[1, 2] and grown[3, 1]


@FAST
@given(mask=any_masks, px=radii)
def test_dilate_contains_and_erode_is_contained_in_the_mask(mask: np.ndarray, px: int) -> None:
    original = mask.copy()
    grown, shrunk = dilate(mask, px), erode(mask, px)
    assert (grown >= mask).all()
    assert (shrunk <= mask).all()
    assert np.array_equal(mask, original)  # pure


@FAST
@given(mask=any_masks, px=radii)
def test_dilate_then_erode_never_loses_any_of_the_hole(mask: np.ndarray, px: int) -> None:
    closed = erode(dilate(mask, px), px)
    assert (closed >= mask).all()
    assert (hole_of(closed) | ~hole_of(mask)).all()


@settings(max_examples=25, deadline=None)
@given(mask=arrays(np.uint8, st.tuples(st.integers(1, 60), st.integers(1, 60)),
                   elements=st.sampled_from([0, 0, 0, 0, 255])),
       px=st.sampled_from([1, 3, 15, 16, 17, 24]))
def test_dilate_and_erode_equal_a_disc_kernel_on_hard_masks(mask: np.ndarray, px: int) -> None:
    # Large radii on hard masks take a distance-transform shortcut; it must not change the answer.
    assert np.array_equal(dilate(mask, px), cv2.dilate(mask, disc(px)))
    assert np.array_equal(erode(mask, px), cv2.erode(mask, disc(px)))


def test_erode_does_not_eat_into_a_hole_from_the_image_border() -> None:
    mask = np.zeros((10, 10), np.uint8)
    mask[:, :5] = 255
    shrunk = erode(mask, 2)
    assert (shrunk[:, :3] == 255).all()
    assert (shrunk[:, 3:] == 0).all()
    assert (erode(np.full((6, 6), 255, np.uint8), 20) == 255).all()


def test_grey_dilation_spreads_the_largest_nearby_coverage() -> None:
    mask = np.zeros((5, 5), np.uint8)
    mask[2, 2], mask[2, 3] = 100, 200
    grown = dilate(mask, 1)
    assert grown[2, 1] == 100 and grown[2, 2] == 200 and grown[2, 4] == 200 and grown[0, 0] == 0


@pytest.mark.parametrize("op", [dilate, erode, feather])
def test_radius_zero_returns_an_equal_copy_and_negative_is_refused(op) -> None:
    mask = np.array([[0, 128], [255, 0]], np.uint8)
    same = op(mask, 0)
    assert np.array_equal(same, mask) and same is not mask
    same[0, 0] = 1
    assert mask[0, 0] == 0
    with pytest.raises(InvalidParameterError):
        op(mask, -1)
    with pytest.raises(InvalidParameterError):
        op(mask, 2.5)


def test_bool_masks_are_accepted_everywhere() -> None:
    mask = np.zeros((5, 5), bool)
    mask[2, 2] = True
    assert dilate(mask, 1).sum() == 9 * 255
    assert erode(mask, 1).sum() == 0
    assert feather(mask, 1)[2, 2] > 0
    assert connected_regions(mask) == [BBox(2, 2, 3, 3)]


# ---------------------------------------------------------------------------------------------
# feather


@FAST
@given(mask=hard_masks, px=st.integers(1, 4))
def test_feather_keeps_pixels_deep_inside_and_far_outside(mask: np.ndarray, px: int) -> None:
    soft = feather(mask, px)
    square = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    # pixels whose whole neighbourhood of radius px (within the image) is hole / is known
    deep_inside = cv2.erode((mask == 255).view(np.uint8), square) > 0
    far_outside = cv2.erode((mask == 0).view(np.uint8), square) > 0
    assert (soft[deep_inside] == 255).all()
    assert (soft[far_outside] == 0).all()


def test_feather_turns_a_straight_edge_into_a_ramp_centred_on_it() -> None:
    mask = np.zeros((9, 40), np.uint8)
    mask[:, 20:] = 255
    row = feather(mask, 6)[4].astype(int)
    assert (np.diff(row) >= 0).all()
    assert row[13] == 0 and row[26] == 255  # beyond px from the edge: untouched
    assert 0 < row[15] < 64 and 192 < row[24] < 255
    # symmetric about the edge between columns 19 and 20
    assert all(abs(row[19 - k] + row[20 + k] - 255) <= 1 for k in range(8))
    # "about px wide": 10 %..90 % of the ramp spans roughly px columns
    width = np.count_nonzero((row > 25) & (row < 230))
    assert 4 <= width <= 9


def test_feather_does_not_fade_a_hole_at_the_image_border() -> None:
    mask = np.zeros((12, 12), np.uint8)
    mask[:, :3] = 255
    assert (feather(mask, 4)[:, 0] > 200).all()


# ---------------------------------------------------------------------------------------------
# invert / threshold / fraction


@FAST
@given(mask=any_masks)
def test_invert_twice_is_identity(mask: np.ndarray) -> None:
    assert np.array_equal(invert(invert(mask)), mask)
    assert np.array_equal(hole_of(invert(mask)), mask < 255)


def test_threshold_makes_a_hard_mask() -> None:
    mask = np.array([[0, 1, 127, 128, 255]], np.uint8)
    assert threshold(mask).tolist() == [[0, 0, 0, 255, 255]]
    assert threshold(mask, 1).tolist() == [[0, 255, 255, 255, 255]]
    with pytest.raises(InvalidParameterError):
        threshold(mask, 0)
    with pytest.raises(InvalidParameterError):
        threshold(mask, 256)


def test_coverage_fraction_weights_soft_pixels() -> None:
    assert coverage_fraction(np.zeros((4, 4), np.uint8)) == 0.0
    assert coverage_fraction(np.full((4, 4), 255, np.uint8)) == 1.0
    mask = np.zeros((2, 2), np.uint8)
    mask[0, 0] = 255
    mask[1, 1] = 51
    assert coverage_fraction(mask) == pytest.approx(0.3)
    assert coverage_fraction(np.zeros((0, 3), np.uint8)) == 0.0


# ---------------------------------------------------------------------------------------------
# regions


@FAST
@given(mask=any_masks)
def test_connected_regions_match_a_flood_fill_of_the_hole(mask: np.ndarray) -> None:
    components = _components_by_flood_fill(mask > 0)
    expected = sorted((_box_of_pixels(pixels) for pixels in components),
                      key=lambda b: (b.top, b.left, b.bottom, b.right))
    regions = connected_regions(mask)
    assert regions == expected
    for box in regions:  # tight: every edge row and column touches the hole
        crop = mask[box.slices] > 0
        assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()


@FAST
@given(mask=any_masks)
def test_region_labels_partition_the_hole_in_region_order(mask: np.ndarray) -> None:
    count, labels = region_labels(mask)
    regions = connected_regions(mask)
    assert count == len(regions)
    assert labels.shape == mask.shape and labels.dtype == np.int32
    assert np.array_equal(labels > 0, mask > 0)
    for index, box in enumerate(regions, start=1):
        pixels = labels == index
        assert bbox_of(pixels) == box
    # no two different components touch (8-neighbourhood): they are maximal
    padded = np.pad(labels, 1)
    height, width = labels.shape
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = padded[1:height + 1, 1:width + 1]
        b = padded[1 + dr:height + 1 + dr, 1 + dc:width + 1 + dc]
        assert not ((a > 0) & (b > 0) & (a != b)).any()


@FAST
@given(mask=any_masks)
def test_bbox_of_is_the_union_of_region_boxes(mask: np.ndarray) -> None:
    regions = connected_regions(mask)
    box = bbox_of(mask)
    if not regions:
        assert box is None
        return
    union = regions[0]
    for other in regions[1:]:
        union = union.union(other)
    assert box == union
    rows, cols = np.nonzero(mask)
    assert box == BBox(int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)


def test_connected_regions_sorts_top_left_first_and_keeps_nested_blobs() -> None:
    mask = np.zeros((12, 12), np.uint8)
    mask[1:8, 1:8] = 255
    mask[2:7, 2:7] = 0  # a ring ...
    mask[4, 4] = 255  # ... with a dot inside it
    mask[0, 10] = 255
    mask[10, 0:2] = 128
    assert connected_regions(mask) == [BBox(0, 10, 1, 11), BBox(1, 1, 8, 8), BBox(4, 4, 5, 5),
                                       BBox(10, 0, 11, 2)]
    assert connected_regions(np.zeros((3, 3), np.uint8)) == []
    assert bbox_of(np.zeros((3, 3), np.uint8)) is None
    assert bbox_of(np.zeros((0, 3), np.uint8)) is None


def test_diagonal_neighbours_are_one_region() -> None:
    mask = np.eye(4, dtype=bool)
    assert connected_regions(mask) == [BBox(0, 0, 4, 4)]


# ---------------------------------------------------------------------------------------------
# brush

points = st.tuples(st.floats(-8, 28, allow_nan=False), st.floats(-8, 28, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(mask=soft_masks, p0=points, p1=points, radius=st.floats(0, 6), value=st.sampled_from([0, 90, 255]),
       hardness=st.sampled_from([0.0, 0.5, 0.9, 1.0]))
def test_paint_segment_changes_only_pixels_in_its_box_and_near_the_segment(
        mask: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], radius: float, value: int,
        hardness: float) -> None:
    before = mask.copy()
    box = paint_segment(mask, p0, p1, radius, value, hardness)
    assert box == segment_bbox(mask.shape, p0, p1, radius)
    changed = mask != before
    inside = np.zeros_like(changed)
    inside[box.slices] = True
    assert not (changed & ~inside).any()
    assert (_distance_to_segment(mask.shape, p0, p1)[changed] <= radius + 1).all()
    if value:
        assert (mask >= before).all()
    else:
        assert (mask <= before).all()


@settings(max_examples=60, deadline=None)
@given(mask=soft_masks, p0=points, p1=points, radius=st.floats(0, 6))
def test_hard_erase_along_the_painted_stroke_restores_zero(
        mask: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> None:
    before = mask.copy()
    paint_segment(mask, p0, p1, radius)
    stroke = mask != before
    paint_segment(mask, p0, p1, radius, value=0)
    distance = _distance_to_segment(mask.shape, p0, p1)
    assert (mask[stroke] == 0).all()
    assert (mask[distance <= radius - 1e-3] == 0).all()
    assert np.array_equal(mask[distance > radius + 1e-3], before[distance > radius + 1e-3])


def test_hard_brush_paints_exactly_the_capsule() -> None:
    mask = np.zeros((20, 30), np.uint8)
    box = paint_segment(mask, (5.0, 4.0), (12.0, 22.0), 3.5)
    distance = _distance_to_segment(mask.shape, (5.0, 4.0), (12.0, 22.0))
    assert np.array_equal(mask == 255, distance <= 3.5)
    assert set(np.unique(mask)) == {0, 255}
    assert box == BBox(2, 1, 16, 26)


def test_a_long_drag_is_one_exact_capsule() -> None:
    # long enough to be stamped in pieces internally; the result must not show the joins
    mask = np.zeros((24, 1400), np.uint8)
    p0, p1 = (3.3, -5.0), (20.6, 1390.2)
    box = paint_segment(mask, p0, p1, 2.5)
    assert np.array_equal(mask == 255, _distance_to_segment(mask.shape, p0, p1) <= 2.5)
    assert box == BBox(1, 0, 24, 1393)


def test_soft_brush_falls_off_from_the_centre() -> None:
    mask = np.zeros((21, 21), np.uint8)
    paint_disc(mask, (10.0, 10.0), 8.0, hardness=0.0)
    row = mask[10].astype(int)
    assert row[10] == 255 and row[2] == 0 and row[18] == 0
    assert (np.diff(row[2:11]) >= 0).all() and 0 < row[6] < 255
    half = np.zeros((21, 21), np.uint8)
    paint_disc(half, (10.0, 10.0), 8.0, hardness=0.5)
    assert (half[10, 6:15] == 255).all() and 0 < half[10, 4] < 255


def test_painting_keeps_the_strongest_coverage_and_partial_value_paints_partial() -> None:
    mask = np.zeros((9, 9), np.uint8)
    mask[4, 4] = 200
    paint_disc(mask, (4.0, 4.0), 2.0, value=100)
    assert mask[4, 4] == 200 and mask[4, 5] == 100 and mask[0, 0] == 0
    paint_disc(mask, (4.0, 4.0), 2.0, value=100)  # the same dab again: no build-up
    assert mask[4, 5] == 100


def test_brush_outside_the_image_is_clipped_or_ignored() -> None:
    mask = np.zeros((10, 10), np.uint8)
    box = paint_disc(mask, (-2.0, 5.0), 3.0)
    assert box == BBox(0, 2, 2, 9)
    assert (mask[0, 4:7] == 255).all() and mask[2:].sum() == 0
    assert paint_segment(mask, (-50.0, -50.0), (-40.0, -60.0), 3.0).is_empty
    assert paint_disc(mask, (1e9, 1e9), 5.0).is_empty


def test_brush_validates_its_arguments() -> None:
    mask = np.zeros((5, 5), np.uint8)
    for bad in ({"radius": -1.0}, {"value": 256}, {"hardness": 1.5}, {"p0": (float("nan"), 0.0)},
                {"p1": (1.0,)}):
        kwargs = {"p0": (1.0, 1.0), "p1": (2.0, 2.0), "radius": 1.0} | bad
        with pytest.raises(InvalidParameterError):
            paint_segment(mask, **kwargs)
    with pytest.raises(InvalidInputError):
        paint_segment(np.zeros((5, 5), bool), (1.0, 1.0), (2.0, 2.0), 1.0)
    with pytest.raises(InvalidInputError):
        paint_segment(np.zeros((5, 5, 3), np.uint8), (1.0, 1.0), (2.0, 2.0), 1.0)


def test_brush_paints_through_a_view_into_the_callers_mask() -> None:
    document_mask = np.zeros((10, 10), np.uint8)
    paint_disc(document_mask[2:8, 2:8], (0.0, 0.0), 1.0)
    assert document_mask[2, 2] == 255 and document_mask[3, 2] == 255 and document_mask[1, 2] == 0

