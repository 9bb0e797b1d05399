"""Tiling of huge crops: a scratch across a whole scan is filled tile by tile, with no seam between tiles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inpaint_studio.core.errors import InvalidInputError
from inpaint_studio.core.regions import RegionOptions, RegionTask, inpaint_regions

DTYPES = [np.uint8, np.uint16]


def _gradient(height: int, width: int, dtype: type) -> np.ndarray:
    """Left-to-right ramp 0..max: a constant fill per tile would differ a lot from tile to tile."""
    top = np.iinfo(dtype).max
    row = np.linspace(0, top, width).round().astype(dtype)
    return np.repeat(np.repeat(row[None, :, None], height, axis=0), 3, axis=2)


def _tile_mean_fill(tasks: list[RegionTask]):
    """Each tile filled with the mean of its own known pixels: tile-dependent, so seams would show."""
    def fill(task: RegionTask) -> np.ndarray:
        tasks.append(task)
        known = task.image[~task.hole]
        value = known.mean(axis=0) if len(known) else 0.5
        return np.broadcast_to(value, task.image.shape).astype(np.float32)
    return fill


def _scratch(height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[height // 2 - 1:height // 2 + 2, 2:width - 2] = True  # a 3 px scratch across the frame
    return mask


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_scratch_is_filled_in_tiles_without_a_seam(dtype):
    height, width = 60, 400
    image, mask = _gradient(height, width, dtype), _scratch(height, width)
    options = RegionOptions(context_margin=8, context_factor=0.0, tile_size=64, tile_overlap=16)
    tasks: list[RegionTask] = []
    out = inpaint_regions(image, mask, _tile_mean_fill(tasks), options)

    assert len(tasks) > 4, "the long crop was not split"
    assert all(max(t.bbox.height, t.bbox.width) <= 64 for t in tasks)
    # tile means step by ~64/400 of the range between neighbours; hard pasting would jump that much
    # at every tile edge, the blend spreads it over the 16 px overlap
    row = out[height // 2, 2:width - 2, 0].astype(np.float64) / np.iinfo(dtype).max
    hard_jump = abs(tasks[1].image[~tasks[1].hole].mean() - tasks[0].image[~tasks[0].hole].mean())
    assert hard_jump > 0.05
    assert np.abs(np.diff(row)).max() < hard_jump / 4
    # and the fill follows the ramp (each tile's mean), it is not flat
    assert row[-1] - row[0] > 0.5


@settings(max_examples=30, deadline=None)
@given(mask=arrays(np.bool_, st.tuples(st.integers(20, 90), st.integers(20, 90))),
       dtype=st.sampled_from(DTYPES), overlap=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_tiled_fill_keeps_pixels_outside_the_mask_bit_identical(mask, dtype, overlap, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, np.iinfo(dtype).max + 1, size=(*mask.shape, 3), dtype=np.uint64).astype(dtype)
    options = RegionOptions(context_margin=4, tile_size=4 * overlap + 4, tile_overlap=overlap)
    tasks: list[RegionTask] = []
    out = inpaint_regions(image, mask, _tile_mean_fill(tasks), options)
    np.testing.assert_array_equal(out[~mask], image[~mask])
    assert all(task.hole.any() for task in tasks), "a tile without a hole was filled"
    assert sum(task.hole.sum() for task in tasks) >= mask.sum()


def test_hole_pixels_away_from_overlaps_get_their_tiles_fill_exactly():
    image = np.zeros((40, 300, 3), np.uint8)
    mask = _scratch(40, 300)
    values = iter(np.linspace(0.1, 0.9, 50))
    tasks: list[RegionTask] = []

    def fill(task: RegionTask) -> np.ndarray:
        tasks.append(task)
        return np.full_like(task.image, next(values))

    out = inpaint_regions(image, mask, fill, RegionOptions(context_margin=4, tile_size=80, tile_overlap=20))
    first = tasks[0].bbox
    middle = out[20, first.left + 5:first.right - 25, 0]  # inside tile 0, before its overlap with tile 1
    assert (middle == round(0.1 * 255)).all()


def test_tiles_without_a_hole_are_not_filled():
    image = np.zeros((300, 300, 3), np.uint8)
    mask = np.zeros((300, 300), bool)
    mask[5:295, 5] = True  # vertical scratch on the left edge
    mask[5, 5:295] = True  # and one along the top: an L, whose crop is the whole frame
    tasks: list[RegionTask] = []
    inpaint_regions(image, mask, _tile_mean_fill(tasks), RegionOptions(tile_size=80, tile_overlap=20))
    assert tasks and all(t.bbox.top < 100 or t.bbox.left < 100 for t in tasks)
    assert all(t.hole.any() for t in tasks)


def test_tiling_can_be_switched_off():
    image, mask = _gradient(40, 300, np.uint8), _scratch(40, 300)
    tasks: list[RegionTask] = []
    inpaint_regions(image, mask, _tile_mean_fill(tasks), RegionOptions(tile_size=None))
    assert len(tasks) == 1 and tasks[0].bbox.width == 300


def test_default_tile_size_leaves_ordinary_crops_whole():
    image, mask = _gradient(200, 1500, np.uint8), _scratch(200, 1500)
    tasks: list[RegionTask] = []
    inpaint_regions(image, mask, _tile_mean_fill(tasks))
    assert len(tasks) == 1


@pytest.mark.parametrize("size, overlap", [(10, 3), (64, 0)])
def test_bad_tile_options_are_rejected(size, overlap):
    with pytest.raises(InvalidInputError):
        RegionOptions(tile_size=size, tile_overlap=overlap)
