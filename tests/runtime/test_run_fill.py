"""run_fill: one synchronous fill, every outcome a result, never an exception."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.errors import (
    EmptyMaskError,
    FillCancelled,
    FullMaskError,
    InvalidParameterError,
    MaskMismatchError,
    MethodFailedError,
    UnknownMethodError,
    UnsupportedFormatError,
)
from inpaint_studio.core.regions import RegionOptions
from inpaint_studio.core.types import BBox
from inpaint_studio.methods import registry
from inpaint_studio.runtime.jobs import (
    CancelToken,
    FillPreview,
    FillProgress,
    FillRequest,
    default_region_options,
    frozen_view,
    run_fill,
)
from tests.runtime.runtime_fakes import HOLE, SlowMethod, make_mask, make_photo, two_hole_mask

SMALL_CONTEXT = RegionOptions(context_margin=4, context_factor=0.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_telea_fills_the_hole_and_keeps_everything_else_bit_identical(dtype: type) -> None:
    pixels, mask = make_photo(dtype), make_mask()
    result = run_fill(FillRequest(pixels, mask, "telea", {"radius": "5"}))
    assert result.status == "done", result.message
    assert result.ok and result.error is None
    out = result.pixels
    assert out.dtype == pixels.dtype and out.shape == pixels.shape
    keep = mask == 0
    assert np.array_equal(out[keep], pixels[keep])
    # the magenta blob is gone: the hole now continues the surrounding gradients
    assert not np.array_equal(out[HOLE], pixels[HOLE])
    green = out[HOLE][..., 1].astype(float) / np.iinfo(dtype).max
    assert green.min() > 0.2
    assert result.changed is not None
    assert result.changed.slices[0].start <= HOLE[0].start and result.changed.bottom >= HOLE[0].stop
    assert "Telea" in result.message


def test_the_callers_arrays_are_never_touched(photo: np.ndarray, mask: np.ndarray) -> None:
    photo_before, mask_before = photo.copy(), mask.copy()
    run_fill(FillRequest(photo, mask, "telea"))
    assert np.array_equal(photo, photo_before) and np.array_equal(mask, mask_before)


def test_a_request_is_an_immutable_snapshot(photo: np.ndarray, mask: np.ndarray) -> None:
    params = {"radius": 4}
    request = FillRequest(photo, mask, "telea", params)
    photo[:] = 0
    mask[:] = 0
    params["radius"] = 40
    assert request.pixels.any() and request.mask.any()
    assert request.params["radius"] == 4
    assert not request.pixels.flags.writeable and not request.mask.flags.writeable
    with pytest.raises(ValueError):
        request.pixels[0, 0, 0] = 1
    with pytest.raises(TypeError):
        request.params["radius"] = 1  # type: ignore[index]
    assert len(request.request_id) == 32
    assert request.request_id != FillRequest(photo, mask, "telea").request_id


def test_a_bool_mask_fills_like_its_coverage(photo: np.ndarray, mask: np.ndarray) -> None:
    from_bool = run_fill(FillRequest(photo, mask > 0, "telea"))
    from_u8 = run_fill(FillRequest(photo, mask, "telea"))
    assert from_bool.ok and np.array_equal(from_bool.pixels, from_u8.pixels)


@pytest.mark.parametrize(
    ("mask", "method", "params", "error", "words"),
    [
        (np.zeros((64, 80), np.uint8), "telea", {}, EmptyMaskError, ""),
        (np.full((64, 80), 255, np.uint8), "telea", {}, FullMaskError, ""),
        (np.full((10, 10), 255, np.uint8), "telea", {}, MaskMismatchError, ""),
        (make_mask(), "nope", {}, UnknownMethodError, "nope"),
        (make_mask(), "telea", {"radius": -1}, InvalidParameterError, "radius"),
        (make_mask(), "telea", {"radius": "wide"}, InvalidParameterError, "radius"),
        (make_mask(), "telea", {"strength": 2}, InvalidParameterError, "strength"),
    ],
    ids=["empty-mask", "full-mask", "mismatched-mask", "unknown-method", "out-of-range", "not-a-number",
         "unknown-param"],
)
def test_bad_requests_give_failed_results(
    mask: np.ndarray, method: str, params: dict, error: type, words: str
) -> None:
    pixels = make_photo()
    got: list[FillProgress] = []
    result = run_fill(FillRequest(pixels, mask, method, params), on_progress=got.append)
    assert result.status == "failed"
    assert isinstance(result.error, error)
    assert result.message == str(result.error) and words in result.message
    assert result.pixels is None and result.changed is None
    assert result.details is None  # an expected problem, not a bug
    assert result.provenance is not None and result.provenance.status == "failed"
    assert all(p.fraction < 1.0 for p in got)  # nothing claimed to be done


@pytest.mark.parametrize(
    ("pixels", "words"),
    [
        (np.zeros((64, 80, 3), np.float32), "float32"),
        (np.zeros((64, 80), np.uint8), "shape"),
        (np.zeros((64, 80, 4), np.uint8), "shape"),
    ],
)
def test_unsupported_pixels_give_failed_results(pixels: np.ndarray, words: str) -> None:
    result = run_fill(FillRequest(pixels, make_mask(), "telea"))
    assert result.status == "failed"
    assert isinstance(result.error, UnsupportedFormatError) and words in result.message


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True])
def test_a_bad_seed_gives_a_failed_result(photo: np.ndarray, mask: np.ndarray, seed: object) -> None:
    result = run_fill(FillRequest(photo, mask, "telea", seed=seed))  # type: ignore[arg-type]
    assert isinstance(result.error, InvalidParameterError) and "seed" in result.message


def test_a_junk_device_gives_a_failed_result(photo: np.ndarray, mask: np.ndarray) -> None:
    result = run_fill(FillRequest(photo, mask, "telea", device="gpu"))
    assert isinstance(result.error, InvalidParameterError) and "device" in result.message


def test_a_crashing_method_becomes_a_readable_failure(fakes: None, photo: np.ndarray,
                                                     mask: np.ndarray) -> None:
    result = run_fill(FillRequest(photo, mask, "test-raise"))
    assert result.status == "failed"
    assert isinstance(result.error, MethodFailedError)
    assert result.message == "test-raise failed: ValueError: boom"
    assert result.details is not None and "Traceback" in result.details and "boom" in result.details
    assert result.error.__cause__ is not None and result.error.__cause__.__traceback__ is None


def test_a_cancelled_token_cancels_without_changing_anything(photo: np.ndarray, mask: np.ndarray) -> None:
    token = CancelToken()
    token.cancel()
    result = run_fill(FillRequest(photo, mask, "telea"), cancel=token)
    assert result.status == "cancelled"
    assert isinstance(result.error, FillCancelled)
    assert result.pixels is None and result.changed is None


def test_progress_covers_all_regions_in_order(fakes: None) -> None:
    pixels, mask = make_photo(), two_hole_mask()
    got: list[FillProgress] = []
    request = FillRequest(pixels, mask, "test-slow", {"iterations": 4}, regions=SMALL_CONTEXT)
    result = run_fill(request, on_progress=got.append)
    assert result.ok, result.message
    fractions = [p.fraction for p in got]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert got[-1].eta_s == 0.0
    texts = [p.text for p in got]
    assert "region 1/2: step 2" in texts and "region 2/2: step 4" in texts
    # region 1's half-way step is a quarter of the whole fill
    assert got[texts.index("region 1/2: step 2")].fraction == pytest.approx(0.25)
    assert all(p.request_id == request.request_id for p in got)
    assert result.changed == BBox(1, 1, 16, 16).union(BBox(46, 61, 62, 79))


def test_previews_are_composited_crops_in_document_coordinates(fakes: None) -> None:
    pixels, mask = make_photo(np.uint16), two_hole_mask()
    got: list[FillPreview] = []
    request = FillRequest(pixels, mask, "test-slow", {"iterations": 3}, regions=SMALL_CONTEXT)
    result = run_fill(request, on_preview=got.append)
    assert result.ok
    boxes = {BBox(1, 1, 16, 16), BBox(46, 61, 62, 79)}
    assert {p.bbox for p in got} == boxes
    for preview in got:
        crop = pixels[preview.bbox.slices]
        assert preview.pixels.dtype == np.uint16 and preview.pixels.shape == crop.shape
        keep = mask[preview.bbox.slices] == 0
        assert np.array_equal(preview.pixels[keep], crop[keep])
        assert not np.array_equal(preview.pixels[~keep], crop[~keep])


def test_same_seed_same_output_different_seed_different_output(fakes: None, photo: np.ndarray,
                                                                mask: np.ndarray) -> None:
    def fill(seed: int) -> np.ndarray:
        np.random.seed(12345)  # whatever state the process RNG is in must not matter
        np.random.random(7)
        result = run_fill(FillRequest(photo, mask, "test-noise", seed=seed))
        assert result.ok, result.message
        return result.pixels

    first = fill(7)
    assert np.array_equal(first, fill(7))
    assert not np.array_equal(first, fill(8))


def test_regions_default_to_what_the_method_asks_for() -> None:
    telea = registry.get("telea")
    params = telea.Params(radius=5.0)
    options = default_region_options(telea, params)
    assert options.context_margin == telea.context_margin(params)
    assert options.working_size is None


def test_the_method_gets_the_requested_seed(fakes: None, photo: np.ndarray, mask: np.ndarray,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    original = SlowMethod.run

    def spy(self, image, hole, params, ctx):
        seen.append((ctx.seed, ctx.device))
        return original(self, image, hole, params, ctx)

    monkeypatch.setattr(SlowMethod, "run", spy)
    assert run_fill(FillRequest(photo, mask, "test-slow", seed=99, device="cuda")).ok
    assert seen == [(99, "cpu")]


# ---------------------------------------------------------------- sampling area (issue 5)

def _spy_sampling(monkeypatch: pytest.MonkeyPatch, uses_sampling: bool) -> list:
    """Record what ``ctx.sampling_area`` (and the region bookkeeping) the fake method sees."""
    seen = []
    original = SlowMethod.run

    def spy(self, image, hole, params, ctx):
        area = ctx.sampling_area
        seen.append({"area": None if area is None else area.copy(), "hole": hole.copy(),
                     "index": ctx.region_index, "count": ctx.region_count, "share": ctx.hole_share})
        return original(self, image, hole, params, ctx)

    monkeypatch.setattr(SlowMethod, "run", spy)
    monkeypatch.setattr(SlowMethod, "uses_sampling", uses_sampling, raising=False)
    return seen


def test_a_method_that_samples_sees_the_sampling_area_of_its_crop(
        fakes: None, photo: np.ndarray, mask: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy_sampling(monkeypatch, uses_sampling=True)
    sampling = np.zeros(mask.shape, bool)
    sampling[:, 38:] = True  # the right part of the hole and what lies right of it
    request = FillRequest(photo, mask, "test-slow", params={"iterations": 1}, regions=SMALL_CONTEXT,
                          sampling=sampling)
    result = run_fill(request)
    assert result.ok, result.message
    (call,) = seen
    area, hole = call["area"], call["hole"]
    assert area is not None and area.dtype == bool and area.shape == hole.shape
    assert area.any() and not (area & hole).any()  # never inside the hole
    box = result.changed
    expected = sampling[box.slices] & (mask[box.slices] == 0)
    assert np.array_equal(area, expected)
    assert "sampling" not in result.message
    # the record says which area the patches came from, so a fill can be reproduced
    recorded = result.provenance.to_json()["input"]["sampling"]
    assert recorded["shape"] == list(mask.shape) and len(recorded["sha256"]) == 64


def test_a_method_that_cannot_sample_ignores_the_area_and_says_so(
        fakes: None, photo: np.ndarray, mask: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy_sampling(monkeypatch, uses_sampling=False)
    sampling = np.zeros(mask.shape, np.uint8)
    sampling[:, 70:] = 255  # far away: a sampling method's crop would grow to it
    plain = run_fill(FillRequest(photo, mask, "test-slow", params={"iterations": 1}, regions=SMALL_CONTEXT))
    result = run_fill(FillRequest(photo, mask, "test-slow", params={"iterations": 1}, regions=SMALL_CONTEXT,
                                  sampling=sampling))
    assert result.ok and seen[-1]["area"] is None
    assert result.changed == plain.changed  # the crop did not grow for nothing
    assert "does not use a sampling area" in result.message
    assert "sampling" not in result.provenance.to_json()["input"]  # it played no part in the fill


@pytest.mark.parametrize(("sampling", "words"), [
    (np.ones((10, 10), np.uint8), "sampling area is 10x10 but the image is 80x64"),
    (make_mask(), "entirely inside the area to fill"),
    (np.full((64, 80), 2.0, np.float32), "sampling area: "),
])
def test_a_bad_sampling_area_gives_a_failed_result(fakes: None, photo: np.ndarray, mask: np.ndarray,
                                                   sampling: np.ndarray, words: str) -> None:
    result = run_fill(FillRequest(photo, mask, "test-slow", params={"iterations": 1}, sampling=sampling))
    assert result.status == "failed"
    assert words in result.message
    assert result.details is None  # a user's mistake, not a crash with a traceback



def test_pixels_promised_frozen_are_shared_not_copied(photo: np.ndarray, mask: np.ndarray) -> None:
    # a 100 MP 16-bit scan is 577 MB: a caller that guarantees the pixels stay put saves the copy
    shared = FillRequest(frozen_view(photo), mask, "telea", pixels_frozen=True)
    assert np.shares_memory(shared.pixels, photo) and not shared.pixels.flags.writeable
    # ...but only read-only arrays: a writeable one could change under the fill, so it is copied
    writeable = FillRequest(photo, mask, "telea", pixels_frozen=True)
    assert not np.shares_memory(writeable.pixels, photo)
    assert not np.shares_memory(FillRequest(frozen_view(photo), mask, "telea").pixels, photo)
    result = run_fill(shared)
    assert result.ok and result.pixels is not None
    assert not np.shares_memory(result.pixels, photo), "the result is a new array; the input is untouched"

def test_the_sampling_area_is_snapshotted(photo: np.ndarray, mask: np.ndarray) -> None:
    sampling = np.zeros(mask.shape, np.uint8)
    sampling[:, :20] = 255
    request = FillRequest(photo, mask, "telea", sampling=sampling)
    sampling[:] = 0
    assert request.sampling is not None and request.sampling[:, :20].all()
    assert not request.sampling.flags.writeable


def test_regions_know_their_share_of_the_fill(fakes: None, photo: np.ndarray,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy_sampling(monkeypatch, uses_sampling=False)
    mask = two_hole_mask()
    assert run_fill(FillRequest(photo, mask, "test-slow", params={"iterations": 1}, regions=SMALL_CONTEXT)).ok
    assert [(c["index"], c["count"]) for c in seen] == [(0, 2), (1, 2)]
    assert [round(c["share"], 4) for c in seen] == [round(49 / 129, 4), round(80 / 129, 4)]
