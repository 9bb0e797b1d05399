"""patchmatch: content-aware fill behaves as a user expects (synthetic images, a few seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.errors import FillCancelled, InvalidParameterError
from inpaint_studio.core.pixels import from_float, to_float
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import make_params
from inpaint_studio.methods.patchmatch import PatchMatchMethod
from tests.methods.method_support import RecordingContext as _Ctx
from tests.methods.method_support import run_in_regions


def _run(image, hole, ctx=None, **values):
    method = PatchMatchMethod()
    params = make_params(method.Params, values)
    return method.run(image, hole, params, ctx or _Ctx())


def _box_hole(shape, top, left, size):
    hole = np.zeros(shape, bool)
    hole[top:top + size, left:left + size] = True
    return hole


def _texture(height=96, width=96, seed=1):
    rng = np.random.default_rng(seed)
    base = rng.random((height // 4, width // 4, 3)).astype(np.float32)
    return np.kron(base, np.ones((4, 4, 1), np.float32))


def test_same_seed_same_fill_and_the_seed_matters():
    image = _texture()
    hole = _box_hole(image.shape[:2], 30, 30, 30)
    image[hole] = 0
    a = _run(image, hole, _Ctx(seed=3))
    b = _run(image, hole, _Ctx(seed=3))
    c = _run(image, hole, _Ctx(seed=4))
    assert np.array_equal(a, b)
    assert not np.array_equal(a[hole], c[hole])


@pytest.mark.parametrize("blend", [{"structure": 0.0, "grain": 1.0}, {}, {"structure": 0.7, "grain": 1.2}],
                         ids=["plain", "default", "structure-blend"])
def test_pixels_outside_the_mask_are_untouched_after_compositing(blend):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (80, 120, 3), dtype=np.uint8)
    mask = np.zeros((80, 120), np.uint8)
    mask[20:45, 30:60] = 255
    mask[60:70, 90:110] = 255
    method = PatchMatchMethod()
    params = make_params(method.Params, {"patch_size": 5, **blend})
    out = run_in_regions(method, params, pixels, mask)
    keep = mask == 0
    assert np.array_equal(out[keep], pixels[keep])
    assert not np.array_equal(out[~keep], pixels[~keep])


def test_fill_only_copies_from_the_sampling_area():
    image = np.zeros((64, 96, 3), np.float32)
    image[:, :48] = (1.0, 0.0, 0.0)  # red left half
    image[:, 48:] = (0.0, 0.0, 1.0)  # blue right half
    hole = _box_hole(image.shape[:2], 20, 36, 24)  # straddles the two halves
    image[hole] = 0
    sampling = np.zeros(hole.shape, bool)
    sampling[:, :48] = True
    out = _run(image, hole, _Ctx(sampling_area=sampling), patch_size=5, color_adaptation="none")
    assert np.allclose(out[hole], (1.0, 0.0, 0.0), atol=1e-4)


def test_flat_colour_fills_with_that_colour():
    colour = np.array([0.2, 0.55, 0.8], np.float32)
    image = np.broadcast_to(colour, (64, 64, 3)).copy()
    hole = _box_hole(image.shape[:2], 16, 16, 30)
    image[hole] = 0
    out = _run(image, hole)
    assert np.abs(out[hole] - colour).max() < 1e-3


@pytest.mark.parametrize(("blend", "max_error"), [({"structure": 0.0, "grain": 1.0}, 0.02), ({}, 0.07)],
                         ids=["patches-only", "default"])
def test_stripes_continue_with_their_period_and_phase(blend, max_error):
    period = 8
    x = np.arange(128)
    row = (0.5 + 0.4 * np.sin(2 * np.pi * x / period)).astype(np.float32)
    truth = np.repeat(np.repeat(row[None, :, None], 96, axis=0), 3, axis=2)
    hole = _box_hole(truth.shape[:2], 30, 40, 36)
    image = truth.copy()
    image[hole] = 0
    out = _run(image, hole, patch_size=7, **blend)
    filled = out[30:66, 40:76, 0]
    # period: the dominant frequency of every filled row is the stripes' one
    spectrum = np.abs(np.fft.rfft(filled - filled.mean(axis=1, keepdims=True), axis=1))
    freqs = np.fft.rfftfreq(filled.shape[1])
    assert np.allclose(freqs[spectrum.argmax(axis=1)], 1 / period, atol=1 / filled.shape[1])
    # phase: the stripes line up with the ones outside (error well below a quarter period).
    # Measured: patches only 0.005. The default structure blend (0.7 / 1.35) costs 0.061: a known
    # limit, not a goal: the harmonic fill's low band comes from the edge pixels themselves, which
    # on stripes this fine are the stripes' phase where the hole's sides cut them (a bright or
    # dark column), so it lays a left-right ramp over the copied stripes (0.050 with grain 1);
    # grain 1.35 alone (structure 0) gives 0.036: it strengthens the copied stripes' small misfits.
    assert np.abs(out[hole] - truth[hole]).mean() < max_error


def test_cancel_stops_the_fill_quickly():
    image = _texture(128, 128)
    hole = _box_hole(image.shape[:2], 30, 30, 60)
    image[hole] = 0
    ctx = _Ctx(cancel_after=2)
    with pytest.raises(FillCancelled):
        _run(image, hole, ctx)
    assert ctx.checks == 3


def test_16_bit_fill_keeps_full_depth():
    # a smooth 16-bit gradient with a fine ripple: true values between 8-bit steps
    yy, xx = np.mgrid[0:80, 0:80]
    base = 20000 + 60 * xx + 35 * yy + 300 * np.sin(xx / 3.0)
    pixels = np.stack([base, base + 1000, base + 2000], axis=2).astype(np.uint16)
    mask = np.zeros((80, 80), np.uint8)
    mask[25:50, 25:50] = 255
    method = PatchMatchMethod()
    params = method.default_params()
    out = run_in_regions(method, params, pixels, mask)
    filled = out[mask > 0]
    assert out.dtype == np.uint16
    assert np.count_nonzero(filled % 257) > 0.9 * filled.size
    # and close to the gradient it continues (no 8-bit quantisation, no wild values)
    assert np.abs(filled.astype(np.float64) - pixels[mask > 0]).mean() < 1500


def test_previews_per_level_and_progress_never_goes_back():
    image = _texture(128, 128)
    hole = _box_hole(image.shape[:2], 40, 40, 40)
    image[hole] = 0
    ctx = _Ctx()
    out = _run(image, hole, ctx, min_size=16)
    assert len(ctx.previews) >= 2
    assert all(p.shape == image.shape and p.dtype == np.float32 for p in ctx.previews)
    assert ctx.fractions == sorted(ctx.fractions) and ctx.fractions[-1] == pytest.approx(1.0)
    assert np.array_equal(ctx.previews[-1], out)


@pytest.mark.parametrize("values", [{"rotation": "low", "scale": True, "mirror": True},
                                    {"color_adaptation": "high"}])
def test_adaptation_options_fill_a_texture(values):
    image = _texture()
    hole = _box_hole(image.shape[:2], 30, 30, 24)
    truth = image.copy()
    image[hole] = 0
    out = _run(image, hole, **values)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    # the fill is texture from around it, not a flat average
    assert out[hole].std() > 0.5 * truth[hole].std()


def test_bad_params_are_rejected_by_name():
    with pytest.raises(InvalidParameterError, match="color_adaptation"):
        make_params(PatchMatchMethod.Params, {"color_adaptation": "extreme"})
    with pytest.raises(InvalidParameterError, match="patch_size"):
        make_params(PatchMatchMethod.Params, {"patch_size": "1"})


def test_runs_through_the_runtime_by_name(kodak_dir):
    import cv2

    from inpaint_studio.runtime.jobs import FillRequest, run_fill

    bgr = cv2.imread(str(kodak_dir / "images" / "kodim13.png"), cv2.IMREAD_COLOR)
    pixels = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[200:328, 300:460]
    mask = np.zeros(pixels.shape[:2], np.uint8)
    mask[40:80, 60:100] = 255
    registry.register(PatchMatchMethod)
    try:
        result = run_fill(FillRequest(pixels=pixels, mask=mask, method="patchmatch", params={"patch_size": 5},
                                      seed=1))
    finally:
        registry.unregister("patchmatch")
    assert result.status == "done", result.message
    hole = mask > 0
    assert np.array_equal(result.pixels[~hole], pixels[~hole])
    err = np.abs(to_float(result.pixels)[hole] - to_float(pixels)[hole]).mean()
    flat = np.abs(to_float(pixels)[~hole].mean(axis=0) - to_float(pixels)[hole]).mean()
    assert err < flat  # better than painting the hole with the mean colour
    assert from_float(to_float(result.pixels), np.uint8).dtype == np.uint8
