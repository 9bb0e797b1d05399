"""Planning thousands of dust specks: the fast paths give exactly the crops the simple definitions give."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inpaint_studio.core import regions
from inpaint_studio.core.regions import RegionOptions, plan_regions


def _sorted(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    return boxes[np.lexsort(boxes.T[::-1])]


@settings(max_examples=80, deadline=None)
@given(hole=arrays(np.bool_, st.tuples(st.integers(1, 60), st.integers(1, 60)),
                   elements=st.booleans()),
       block=st.integers(2, 9))
def test_blockwise_labelling_finds_the_same_components(hole, block):
    hole = np.ascontiguousarray(hole)
    direct = regions._component_boxes_direct(hole)
    coarse = regions._component_boxes_coarse(hole, block)
    np.testing.assert_array_equal(_sorted(coarse), _sorted(direct))


def _closure(boxes: np.ndarray) -> np.ndarray:
    """Reference merge: union any two intersecting boxes until none intersect (slow, obviously right)."""
    boxes = [list(b) for b in boxes]
    changed = True
    while changed:
        changed = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    changed = True
                    break
            if changed:
                break
    return np.array(boxes, dtype=np.int64).reshape(-1, 4)


_BOXES = st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(1, 25), st.integers(1, 25))


@settings(max_examples=150, deadline=None)
@given(data=st.lists(_BOXES, max_size=30))
def test_merge_matches_the_pairwise_definition(data):
    boxes = np.array([(t, left, t + h, left + w) for t, left, h, w in data], dtype=np.int64).reshape(-1, 4)
    np.testing.assert_array_equal(_sorted(regions._merge_overlapping(boxes)), _sorted(_closure(boxes)))


def test_thousands_of_specks_plan_into_disjoint_crops_covering_every_speck():
    rng = np.random.default_rng(0)
    height, width = 3000, 4000  # 12 MP: takes the block-wise path
    assert height * width >= regions._COARSE_FROM
    mask = np.zeros((height, width), bool)
    ys, xs = rng.integers(0, height - 4, 3000), rng.integers(0, width - 4, 3000)
    for dy in range(3):
        for dx in range(3):
            mask[ys + dy, xs + dx] = True
    boxes = plan_regions(mask, RegionOptions(context_margin=4, context_factor=0.0))
    covered = np.zeros(mask.shape, np.uint8)
    for box in boxes:
        covered[box.slices] += 1
    assert covered.max() == 1
    assert covered[mask].min() == 1
    assert 2000 < len(boxes) <= 3000
