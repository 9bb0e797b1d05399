"""The region strategy: holes are filled crop by crop and nothing outside the mask changes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inpaint_studio.core.regions import (
    RegionOptions,
    RegionTask,
    blend_weight,
    inpaint_regions,
    plan_regions,
    prepare_region,
    working_shape,
)
from inpaint_studio.core.types import BBox

DTYPES = [np.uint8, np.uint16]


def _random_image(rng: np.random.Generator, shape: tuple[int, int], dtype: type) -> np.ndarray:
    top = np.iinfo(dtype).max
    return rng.integers(0, top + 1, size=(*shape, 3), dtype=np.uint64).astype(dtype)


def _constant_fill(value: float):
    def fill(task: RegionTask) -> np.ndarray:
        return np.full_like(task.image, value)
    return fill


masks = arrays(np.bool_, st.tuples(st.integers(4, 48), st.integers(4, 48)))


@settings(max_examples=60, deadline=None)
@given(mask=masks, margin=st.integers(0, 12), factor=st.sampled_from([0.0, 0.5, 1.0]))
def test_plan_regions_are_disjoint_and_cover_every_hole_pixel(mask, margin, factor):
    boxes = plan_regions(mask, RegionOptions(context_margin=margin, context_factor=factor))
    if not mask.any():
        assert boxes == []
        return
    covered = np.zeros(mask.shape, np.int32)
    for box in boxes:
        assert 0 <= box.top < box.bottom <= mask.shape[0]
        assert 0 <= box.left < box.right <= mask.shape[1]
        covered[box.slices] += 1
    assert covered.max() == 1, "crops overlap"
    assert covered[mask].min() == 1, "a hole pixel is in no crop"


@settings(max_examples=40, deadline=None)
@given(mask=masks, dtype=st.sampled_from(DTYPES), feather=st.integers(0, 4),
       working=st.sampled_from([None, 8, 16]), seed=st.integers(0, 2**16))
def test_pixels_outside_the_mask_are_bit_identical(mask, dtype, feather, working, seed):
    rng = np.random.default_rng(seed)
    image = _random_image(rng, mask.shape, dtype)
    options = RegionOptions(context_margin=3, feather=feather, working_size=working)
    out = inpaint_regions(image, mask, _constant_fill(0.5), options)
    assert out.dtype == image.dtype and out.shape == image.shape
    np.testing.assert_array_equal(out[~mask], image[~mask])


@pytest.mark.parametrize("dtype", DTYPES)
def test_hard_mask_hole_gets_the_fill_exactly(dtype):
    image = np.zeros((40, 50, 3), dtype)
    mask = np.zeros((40, 50), bool)
    mask[10:20, 15:30] = True
    out = inpaint_regions(image, mask, _constant_fill(1.0))
    top = np.iinfo(dtype).max
    assert (out[mask] == top).all()
    assert (out[~mask] == 0).all()


def test_soft_mask_blends_by_coverage_and_leaves_zero_coverage_alone():
    image = np.zeros((20, 20, 3), np.uint8)
    mask = np.zeros((20, 20), np.uint8)
    mask[5:10, 5:10] = 255
    mask[5:10, 10:12] = 128
    out = inpaint_regions(image, mask, _constant_fill(1.0))
    assert (out[5:10, 5:10] == 255).all()
    assert (out[5:10, 10:12] == 128).all()
    assert (out[mask == 0] == 0).all()


def test_feather_ramps_inside_the_hole_only():
    coverage = np.zeros((30, 30), np.uint8)
    coverage[5:25, 5:25] = 255
    weight = blend_weight(coverage, feather=3)
    assert weight[coverage == 0].max() == 0.0
    assert weight[15, 15] == pytest.approx(1.0)
    assert 0.0 < weight[5, 15] < 0.5  # the hole's outermost row keeps part of the original
    assert np.all(np.diff(weight[15, 5:15]) >= 0)  # rises towards the centre


def test_each_region_is_cropped_with_context_not_the_whole_frame():
    image = np.zeros((400, 600, 3), np.uint8)
    mask = np.zeros((400, 600), bool)
    mask[10:20, 10:20] = True
    mask[300:330, 500:520] = True
    seen: list[RegionTask] = []

    def fill(task: RegionTask) -> np.ndarray:
        seen.append(task)
        return np.full_like(task.image, 1.0)

    inpaint_regions(image, mask, fill, RegionOptions(context_margin=16, context_factor=0.5))
    assert len(seen) == 2
    assert all(t.bbox.area < 100 * 100 for t in seen)
    assert [t.index for t in seen] == [0, 1] and all(t.count == 2 for t in seen)


def test_nearby_holes_share_one_crop():
    mask = np.zeros((100, 100), bool)
    mask[40:45, 40:45] = True
    mask[40:45, 52:57] = True
    assert len(plan_regions(mask, RegionOptions(context_margin=8))) == 1


def test_large_crop_is_downscaled_to_the_working_size_and_pasted_at_full_size():
    rng = np.random.default_rng(0)
    image = _random_image(rng, (300, 200), np.uint16)
    mask = np.zeros((300, 200), bool)
    mask[100:200, 50:150] = True
    seen = []

    def fill(task: RegionTask) -> np.ndarray:
        seen.append(task)
        assert not task.image[task.hole].any(), "hole content must be hidden from the method"
        return np.full_like(task.image, 0.25)

    out = inpaint_regions(image, mask, fill, RegionOptions(working_size=64, context_margin=10))
    assert max(seen[0].image.shape[:2]) == 64 and seen[0].scale < 1
    np.testing.assert_array_equal(out[~mask], image[~mask])
    assert np.abs(out[mask].astype(np.int64) - round(0.25 * 65535)).max() <= 1


def test_whole_mode_uses_one_region_covering_the_frame():
    mask = np.zeros((50, 60), bool)
    mask[1, 1] = mask[48, 58] = True
    assert plan_regions(mask, RegionOptions(mode="whole")) == [BBox(0, 0, 50, 60)]


def test_working_shape_keeps_aspect_and_never_upscales():
    assert working_shape(BBox(0, 0, 100, 50), 512) == (100, 50)
    assert working_shape(BBox(0, 0, 1000, 500), 512) == (512, 256)


def test_hole_touching_the_border_is_filled():
    image = np.full((30, 30, 3), 7, np.uint8)
    mask = np.zeros((30, 30), bool)
    mask[0:5, 0:30] = True
    out = inpaint_regions(image, mask, _constant_fill(1.0), RegionOptions(feather=2))
    assert (out[0:3, 10:20] > 200).all()  # the border row is not treated as a known edge


def test_method_returning_the_wrong_shape_is_a_clear_error():
    from inpaint_studio.core.errors import MethodFailedError

    image = np.zeros((20, 20, 3), np.uint8)
    mask = np.zeros((20, 20), bool)
    mask[5:8, 5:8] = True
    with pytest.raises(MethodFailedError, match="shape"):
        inpaint_regions(image, mask, lambda task: np.zeros((3, 3, 3), np.float32))


def test_prepare_region_never_shrinks_the_hole():
    mask = np.zeros((200, 200), bool)
    mask[50, 50:150] = True  # a 1-px scratch must survive downscaling
    image = np.zeros((200, 200, 3), np.uint8)
    box = plan_regions(mask, RegionOptions(working_size=32))[0]
    task = prepare_region(image, mask, box, RegionOptions(working_size=32))
    assert task.hole.any() and task.scale < 1


# ---------------------------------------------------------------- sampling area (issue 5)

def _far_sampling_case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 20 px hole at the left, a sampling area 480 px away at the right of a 200 x 700 frame."""
    image = np.full((200, 700, 3), 100, np.uint8)
    image[:, 600:] = (20, 200, 20)
    mask = np.zeros((200, 700), np.uint8)
    mask[90:110, 90:110] = 255
    sampling = np.zeros((200, 700), np.uint8)
    sampling[:, 600:] = 255
    return image, mask, sampling


def test_a_crop_grows_to_reach_a_distant_sampling_area():
    _image, mask, sampling = _far_sampling_case()
    options = RegionOptions(context_margin=32)
    (plain,) = plan_regions(mask, options)
    assert plain.right < 600  # without help the method would never see the sampling area
    (box,) = plan_regions(mask, options, sampling)
    assert box.top <= 90 and box.left <= 90 and box.bottom >= 110  # still holds the hole
    # as many sampling pixels as half the known context the method asked for, not a sliver
    assert (sampling[box.slices] > 0).sum() >= (plain.area - 400) // 2
    assert box.right < 700  # only as far as needed: not the whole sampling area


def test_a_crop_that_already_holds_the_sampling_area_keeps_its_size():
    _image, mask, _sampling = _far_sampling_case()
    options = RegionOptions(context_margin=32)
    everywhere = np.full(mask.shape, 255, np.uint8)
    assert plan_regions(mask, options, everywhere) == plan_regions(mask, options)


def test_a_sampling_area_out_of_reach_is_a_clear_error():
    from inpaint_studio.core.errors import InvalidInputError
    from inpaint_studio.core.regions import SAMPLING_REACH

    width = 3 * SAMPLING_REACH
    mask = np.zeros((40, width), bool)
    mask[15:25, 10:20] = True
    sampling = np.zeros((40, width), np.uint8)
    sampling[:, -10:] = 255
    with pytest.raises(InvalidInputError, match="sampling area is more than"):
        plan_regions(mask, RegionOptions(), sampling)


def test_grown_crops_stay_disjoint_and_cover_every_hole():
    mask = np.zeros((120, 400), bool)
    mask[20:26, 20:26] = True
    mask[90:96, 40:46] = True
    sampling = np.zeros((120, 400), np.uint8)
    sampling[:, 330:] = 255
    boxes = plan_regions(mask, RegionOptions(context_margin=8, context_factor=0.0), sampling)
    cover = np.zeros(mask.shape, np.int32)
    for box in boxes:
        cover[box.slices] += 1
    assert cover.max() == 1 and (cover[mask] == 1).all()
    assert all((sampling[box.slices] > 0).any() for box in boxes)


def test_tasks_carry_the_sampling_area_at_working_size_never_in_the_hole():
    image = np.zeros((100, 100, 3), np.uint8)
    mask = np.zeros((100, 100), bool)
    mask[40:60, 40:60] = True
    sampling = np.zeros((100, 100), np.uint8)
    sampling[:, 50:] = 255  # half of it lies in the hole
    seen = []

    def fill(task: RegionTask) -> np.ndarray:
        seen.append(task)
        return task.image

    inpaint_regions(image, mask, fill, RegionOptions(mode="whole", working_size=50), sampling=sampling)
    (task,) = seen
    assert task.sampling is not None and task.sampling.dtype == bool
    assert task.sampling.shape == task.hole.shape == (50, 50)
    assert not (task.sampling & task.hole).any()
    assert task.sampling[:, 26:].any() and not task.sampling[:, :24].any()  # the right half, downscaled
    seen.clear()
    inpaint_regions(image, mask, fill, RegionOptions(mode="whole"))
    assert seen[0].sampling is None


def test_a_sampling_area_of_another_size_is_a_clear_error():
    from inpaint_studio.core.errors import InvalidInputError

    image = np.zeros((20, 30, 3), np.uint8)
    mask = np.zeros((20, 30), bool)
    mask[5:8, 5:8] = True
    with pytest.raises(InvalidInputError, match="sampling area is 20x30 but the image is 30x20"):
        inpaint_regions(image, mask, _constant_fill(0.5), sampling=np.ones((30, 20), np.uint8))
