"""The Qt-free document: strokes, mask operations and fills are each one exact, compact undo step."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.document import Document, diff_edits, merge_boxes
from inpaint_studio.core.errors import InvalidParameterError, MaskMismatchError
from inpaint_studio.core.photo import Photo
from inpaint_studio.core.types import BBox


def _photo(height: int = 200, width: int = 300, dtype: type = np.uint8, seed: int = 0) -> Photo:
    if height * width > 1_000_000:  # big frames: a cheap pattern, random numbers would dominate the test
        rows = (np.arange(height, dtype=np.uint32) % 251)[:, None, None]
        return Photo(pixels=np.broadcast_to(rows, (height, width, 3)).astype(dtype))
    rng = np.random.default_rng(seed)
    top = 256 if dtype == np.uint8 else 65536
    return Photo(pixels=rng.integers(0, top, (height, width, 3), dtype=dtype))


@pytest.fixture
def doc() -> Document:
    document = Document()
    document.open(_photo())
    return document


def _record(doc: Document) -> dict[str, list]:
    seen: dict[str, list] = {"pixels": [], "mask": [], "history": [], "modified": []}
    doc.events.pixels_changed.connect(seen["pixels"].append)
    doc.events.mask_changed.connect(seen["mask"].append)
    doc.events.history_changed.connect(lambda: seen["history"].append(True))
    doc.events.modified_changed.connect(seen["modified"].append)
    return seen


def test_a_stroke_is_one_undo_step_and_undo_redo_restore_the_exact_mask(doc):
    seen = _record(doc)
    doc.begin_stroke("Brush")
    boxes = [doc.stroke_to((50, 40), (60, 90), 6), doc.stroke_to((60, 90), (120, 150), 6)]
    painted = doc.mask.copy()
    doc.end_stroke()

    assert doc.history.steps() == (["Brush"], 1)
    assert seen["mask"] == boxes  # each dab announced with its own box
    assert painted[55, 60] == 255 and painted[180, 280] == 0
    assert not doc.is_modified, "the mask alone is not an unsaved change of the photo"

    assert doc.undo() == "Brush"
    assert not doc.mask.any()
    assert doc.redo() == "Brush"
    assert np.array_equal(doc.mask, painted)


def test_points_use_the_pixel_centre_convention(doc):
    doc.begin_stroke()
    doc.stroke_to((10, 10), (10, 10), 0.5)
    doc.end_stroke()
    assert doc.mask[10, 10] == 255 and np.count_nonzero(doc.mask) == 1


def test_a_long_stroke_stores_tiles_along_it_not_its_bounding_box():
    doc = Document()
    doc.open(_photo(2000, 2000))
    doc.begin_stroke()
    doc.stroke_to((0, 0), (1999, 1999), 4)
    step = doc.end_stroke()
    assert step is not None
    assert step.nbytes < 0.1 * 2 * 2000 * 2000  # a diagonal band, not the 4 MP box twice


def test_abort_stroke_leaves_no_step_and_the_mask_as_before(doc):
    doc.begin_stroke()
    doc.stroke_to((20, 20), (100, 100), 10)
    doc.abort_stroke()
    assert not doc.mask.any()
    assert len(doc.history) == 0 and not doc.can_undo


def test_eraser_removes_only_under_the_stroke(doc):
    doc.set_mask(np.full((200, 300), 255, np.uint8), "Fill mask")
    doc.begin_stroke("Eraser")
    doc.stroke_to((100, 50), (100, 250), 5, value=0)
    doc.end_stroke()
    assert doc.mask[100, 150] == 0 and doc.mask[50, 150] == 255
    doc.undo()
    assert (doc.mask == 255).all()


def test_fill_stores_only_the_changed_region_and_undo_restores_exact_pixels():
    doc = Document()
    doc.open(_photo(4000, 6000))  # 24 MP
    original = doc.pixels.copy()
    seen = _record(doc)
    box = BBox(1000, 2000, 1040, 2050)
    result = doc.pixels[box.slices].copy()
    result[5:30, 5:40] = 7

    step = doc.apply_fill(result, box, "Fill (Telea)")

    assert step is not None
    assert step.nbytes <= 2 * 40 * 50 * 3  # the fill's box, not the frame
    assert doc.history.nbytes == step.nbytes
    assert (doc.pixels[1005:1030, 2005:2040] == 7).all()
    assert seen["pixels"][-1].intersects(box)
    assert doc.is_modified and seen["modified"] == [True]

    doc.undo()
    assert np.array_equal(doc.pixels, original)
    assert not doc.is_modified
    doc.redo()
    assert (doc.pixels[1005:1030, 2005:2040] == 7).all()


def test_fill_accepts_a_full_frame_result(doc):
    full = doc.pixels.copy()
    full[10:20, 10:20] = 0
    doc.apply_fill(full, BBox(0, 0, 50, 50), "Fill")
    assert np.array_equal(doc.pixels, full)
    assert doc.apply_fill(full, None, "Fill again") is None  # nothing changed: no step


def test_mask_operations_are_undoable_and_store_only_changed_tiles():
    doc = Document()
    doc.open(_photo(1024, 1024))
    doc.begin_stroke()
    doc.stroke_to((10, 10), (20, 20), 5)
    doc.end_stroke()
    before = doc.mask.copy()

    step = doc.set_mask(None, "Clear mask")
    assert step is not None and step.nbytes < 2 * 256 * 256
    assert not doc.mask.any()
    doc.undo()
    assert np.array_equal(doc.mask, before)
    doc.redo()
    assert not doc.mask.any()


def test_set_mask_region_adds_a_selection_as_one_step(doc):
    values = np.full((30, 40), 255, np.uint8)
    doc.set_mask_region(BBox(10, 20, 40, 60), values, "Rectangle selection")
    assert doc.mask[10:40, 20:60].all() and np.count_nonzero(doc.mask) == 30 * 40
    assert doc.undo() == "Rectangle selection"
    assert not doc.mask.any()



def test_a_selection_can_set_the_sampling_area_instead_of_the_mask(doc):
    values = np.full((30, 40), 255, np.uint8)
    mask_before = doc.mask.copy()
    doc.set_mask_region(BBox(10, 20, 40, 60), values, "Sampling area: rectangle", layer="sampling")
    assert doc.sampling[10:40, 20:60].all() and np.count_nonzero(doc.sampling) == 30 * 40
    assert np.array_equal(doc.mask, mask_before), "the mask is another layer"
    assert doc.undo() == "Sampling area: rectangle"
    assert not doc.has_sampling
    with pytest.raises(InvalidParameterError):
        doc.set_mask_region(BBox(0, 0, 4, 4), np.zeros((4, 4), np.uint8), "x", layer="pixels")

def test_jump_to_goes_to_any_state(doc):
    states = [doc.mask.copy()]
    for i in range(3):
        doc.begin_stroke(f"s{i}")
        doc.stroke_to((20 + 40 * i, 20), (20 + 40 * i, 200), 8)
        doc.end_stroke()
        states.append(doc.mask.copy())
    doc.jump_to(1)
    assert np.array_equal(doc.mask, states[1])
    doc.jump_to(3)
    assert np.array_equal(doc.mask, states[3])
    doc.jump_to(0)
    assert not doc.mask.any()


def test_modified_follows_save_and_undo(doc):
    doc.apply_fill(np.zeros((5, 5, 3), np.uint8), BBox(0, 0, 5, 5), "Fill")
    doc.mark_saved()
    assert not doc.is_modified
    doc.undo()
    assert doc.is_modified, "the pixels on disk are the filled ones"
    doc.redo()
    assert not doc.is_modified


def test_modified_stays_right_when_memory_drops_old_steps():
    doc = Document(history_limit_bytes=2000)
    doc.open(_photo(100, 100))
    for i in range(5):
        doc.apply_fill(np.full((10, 10, 3), i + 1, np.uint8), BBox(0, 0, 10, 10), f"Fill {i}")
    assert len(doc.history) < 5
    doc.jump_to(0)
    assert doc.is_modified, "the oldest reachable state is not the opened one"


def test_snapshot_for_fill_is_unaffected_by_later_edits(doc):
    pixels, mask = doc.snapshot_for_fill()
    frozen_pixels, frozen_mask = pixels.copy(), mask.copy()
    doc.begin_stroke()
    doc.stroke_to((50, 50), (60, 60), 20)
    doc.end_stroke()
    doc.apply_fill(np.zeros((20, 20, 3), np.uint8), BBox(0, 0, 20, 20), "Fill")
    assert np.array_equal(pixels, frozen_pixels) and np.array_equal(mask, frozen_mask)
    assert not pixels.flags.writeable
    revision = doc.pixels_revision
    doc.undo()
    assert doc.pixels_revision > revision


def test_a_fill_landing_mid_stroke_becomes_its_own_step(doc):
    doc.begin_stroke("Brush")
    doc.stroke_to((50, 50), (60, 60), 5)
    doc.apply_fill(np.zeros((5, 5, 3), np.uint8), BBox(0, 0, 5, 5), "Fill")
    doc.stroke_to((60, 60), (70, 90), 5)
    doc.end_stroke()
    assert doc.history.steps() == (["Fill", "Brush"], 2)
    doc.undo()
    assert not doc.mask.any() and (doc.pixels[:5, :5] == 0).all()


def test_16_bit_fill_round_trips():
    doc = Document()
    doc.open(_photo(64, 64, np.uint16))
    original = doc.pixels.copy()
    doc.apply_fill(np.full((8, 8, 3), 40000, np.uint16), BBox(4, 4, 12, 12), "Fill")
    doc.undo()
    assert np.array_equal(doc.pixels, original)


def test_a_mask_of_the_wrong_size_is_refused(doc):
    with pytest.raises(MaskMismatchError):
        doc.set_mask(np.zeros((10, 10), np.uint8))
    with pytest.raises(MaskMismatchError):
        doc.open(_photo(), np.zeros((10, 10), np.uint8))


def test_set_mask_with_a_region_and_edits_prepared_elsewhere(doc):
    from inpaint_studio.core.document import diff_edits

    new = np.zeros((200, 300), np.uint8)
    new[10:20, 10:20] = 255
    doc.set_mask(new, "Grow", region=BBox(5, 5, 25, 25))
    assert np.array_equal(doc.mask, new)
    revision = doc.mask_revision
    inverted = 255 - doc.mask  # as an off-thread mask operation would compute it
    edits = diff_edits("mask", doc.mask, inverted, BBox(0, 0, 200, 300))
    assert doc.mask_revision == revision
    doc.apply_edits("Invert mask", edits)
    assert np.array_equal(doc.mask, inverted)
    assert doc.undo() == "Invert mask" and np.array_equal(doc.mask, new)


def test_the_original_survives_fills_undo_and_redo_and_keeps_only_changed_tiles():
    document = Document()
    document.open(_photo(1000, 1500, seed=3))
    opened = document.pixels.copy()
    regions: list = []
    document.events.pixels_regions_changed.connect(regions.append)
    unions: list = []
    document.events.pixels_changed.connect(unions.append)
    # two regions far apart in one fill (as a worker's diff_edits yields them): two small boxes
    a, b = BBox(10, 20, 40, 60), BBox(900, 1400, 950, 1450)
    result = opened.copy()
    result[a.slices] = 7
    result[b.slices] = 9
    edits = diff_edits("pixels", opened, result, BBox.of_shape(opened.shape))
    document.apply_edits("Fill", edits)
    assert regions == [[a, b]] and unions == [a.union(b)]
    # copy-on-write: only the 64-pixel tiles under the two regions, not the box around both
    assert document.original_tiles_kept == 3  # one 64-tile under a, two under b
    assert document.changed_tiles(BBox.of_shape(opened.shape[:2]), 256) == [(0, 0), (3, 5)]
    document.apply_fill(np.zeros((30, 30, 3), np.uint8), BBox(15, 25, 45, 55), "Fill again")
    whole = BBox.of_shape(opened.shape[:2])
    assert np.array_equal(document.original_pixels(whole), opened)
    document.undo()
    assert np.array_equal(document.original_pixels(BBox(0, 0, 100, 100)), opened[:100, :100])
    document.redo()
    assert np.array_equal(document.original_pixels(whole), opened)
    assert not np.array_equal(document.pixels, opened)
    document.open(_photo(20, 30, seed=4))
    assert document.original_tiles_kept == 0 and regions[-1] is None


def test_merge_boxes_joins_touching_pieces_and_keeps_distant_ones_apart():
    pieces = [BBox(0, 0, 10, 256), BBox(0, 256, 10, 300), BBox(500, 500, 510, 510)]
    assert merge_boxes(pieces) == [BBox(0, 0, 10, 300), BBox(500, 500, 510, 510)]


# ---------------------------------------------------------------- the sampling area (issue 5)

def test_painting_the_sampling_area_is_one_undo_step_and_leaves_the_mask_alone(doc):
    sampled: list = []
    masked: list = []
    doc.events.sampling_changed.connect(sampled.append)
    doc.events.mask_changed.connect(masked.append)
    assert doc.sampling is None and not doc.has_sampling  # nothing painted: no layer allocated

    doc.begin_stroke("Sampling brush", layer="sampling")
    box = doc.stroke_to((50, 40), (60, 90), 6)
    doc.end_stroke()
    painted = doc.sampling.copy()

    assert doc.history.steps() == (["Sampling brush"], 1)
    assert painted[55, 60] == 255 and doc.has_sampling
    assert not doc.mask.any() and masked == []
    assert sampled == [box]
    assert not doc.is_modified, "the sampling area is a working layer, not a change of the photo"

    assert doc.undo() == "Sampling brush"
    assert not doc.sampling.any() and not doc.has_sampling
    assert doc.redo() == "Sampling brush"
    assert np.array_equal(doc.sampling, painted)
    assert len(sampled) == 3 and masked == []  # undo and redo announced on the sampling layer only


def test_set_and_clear_sampling_are_undoable(doc):
    area = np.zeros(doc.mask.shape, np.uint8)
    area[:, 150:] = 255
    assert doc.set_sampling(None) is None  # nothing to clear yet
    doc.set_sampling(area, "Use the right half")
    assert np.array_equal(doc.sampling, area)
    step = doc.set_sampling(None)
    assert step is not None and step.label == "Clear sampling area"
    assert not doc.sampling.any()
    assert doc.undo() == "Clear sampling area"
    assert np.array_equal(doc.sampling, area)
    assert doc.undo() == "Use the right half"
    assert not doc.sampling.any()
    with pytest.raises(MaskMismatchError):
        doc.set_sampling(np.zeros((10, 10), np.uint8))


def test_aborting_a_sampling_stroke_restores_it_and_opening_a_photo_resets_it(doc):
    doc.set_sampling(np.full(doc.mask.shape, 255, np.uint8), "All")
    doc.begin_stroke("Erase sampling", layer="sampling")
    doc.stroke_to((100, 100), (100, 200), 10, value=0)
    doc.abort_stroke()
    assert doc.sampling.all() and doc.history.steps() == (["All"], 1)
    reset: list = []
    doc.events.sampling_changed.connect(reset.append)
    doc.open(_photo(50, 60))
    assert doc.sampling is None and reset == [None]
    with pytest.raises(Exception, match="sampling"):
        doc.begin_stroke("x", layer="pixels")
