"""Telea and Navier-Stokes: real fills at 8 and 16 bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.pixels import from_float, to_float
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import make_params
from tests.methods.method_support import RecordingContext as _Ctx


def _hole_psnr(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    diff = a[hole].astype(np.float64) - b[hole].astype(np.float64)
    return 10 * np.log10(1.0 / max(np.mean(diff**2), 1e-12))


@pytest.fixture(scope="module")
def kodak_crop(kodak_dir):
    bgr = cv2.imread(str(kodak_dir / "images" / "kodim23.png"), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[100:228, 200:360]


def _scratch(shape):
    hole = np.zeros(shape, bool)
    cv2.line(hole.view(np.uint8), (5, 20), (150, 100), 1, 3)
    return hole


@pytest.mark.parametrize("name", ["telea", "ns"])
def test_fills_a_scratch_close_to_the_original(name, kodak_crop):
    truth = to_float(kodak_crop)
    hole = _scratch(truth.shape[:2])
    damaged = truth.copy()
    damaged[hole] = 0.0
    method = registry.get(name)
    ctx = _Ctx()
    out = method.run(damaged, hole, make_params(method.Params, {"radius": "3"}), ctx)
    assert out.shape == truth.shape and out.dtype == np.float32
    filled = _hole_psnr(out, truth, hole)
    mean_fill = damaged.copy()
    mean_fill[hole] = truth[~hole].mean(axis=0)
    assert filled > _hole_psnr(mean_fill, truth, hole) + 8  # far better than a flat patch
    assert filled > 27
    assert ctx.fractions[-1] == 1.0


@pytest.mark.parametrize("name", ["telea", "ns"])
def test_sixteen_bit_is_filled_at_full_depth(name):
    ramp = np.linspace(0, 1, 64, dtype=np.float32)
    image16 = from_float(np.dstack([np.tile(ramp, (64, 1))] * 3), np.uint16)
    hole = np.zeros((64, 64), bool)
    hole[20:40, 20:40] = True
    damaged = to_float(image16)
    damaged[hole] = 0
    method = registry.get(name)
    out16 = from_float(method.run(damaged, hole, method.default_params(), _Ctx()), np.uint16)
    filled = out16[hole]
    assert np.any(filled % 257 != 0), "values are only 8-bit steps: the fill lost depth"
    truth = image16[hole].astype(np.int64)
    assert np.abs(filled.astype(np.int64) - truth).mean() < 0.05 * 65535  # a 20 px hole in a ramp


@pytest.mark.parametrize("name", ["telea", "ns"])
def test_eight_bit_photos_match_opencvs_colour_path(name, kodak_crop):
    hole = _scratch(kodak_crop.shape[:2])
    method = registry.get(name)
    out = from_float(method.run(to_float(kodak_crop), hole, method.default_params(), _Ctx()), np.uint8)
    flags = cv2.INPAINT_TELEA if name == "telea" else cv2.INPAINT_NS
    expected = cv2.inpaint(kodak_crop, hole.astype(np.uint8) * 255, 3.0, flags)
    np.testing.assert_array_equal(out, expected)


def test_harmonic_fill_solves_laplaces_equation_exactly_and_keeps_known_pixels():
    """Checked against a dense solve of the same equations: each hole pixel is the mean of its four
    neighbours, a neighbour beyond the crop's edge counting as the pixel itself (a free edge)."""
    from inpaint_studio.methods.classical.diffusion import harmonic_fill

    rng = np.random.default_rng(3)
    image = rng.random((20, 24, 3)).astype(np.float32)
    hole = np.zeros((20, 24), bool)
    hole[5:15, 0:11] = True  # touches the left edge
    ys, xs = np.nonzero(hole)
    index = {(y, x): i for i, (y, x) in enumerate(zip(ys, xs, strict=True))}
    a = np.zeros((len(ys), len(ys)))
    b = np.zeros((len(ys), 3))
    for i, (y, x) in enumerate(zip(ys, xs, strict=True)):
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            ny, nx = y + dy, x + dx
            if not (0 <= ny < 20 and 0 <= nx < 24):
                continue
            a[i, i] += 1
            if (ny, nx) in index:
                a[i, index[ny, nx]] -= 1
            else:
                b[i] += image[ny, nx]
    exact = np.linalg.solve(a, b)
    out = harmonic_fill(image, hole)
    assert np.array_equal(out[~hole], image[~hole])
    assert np.abs(out[ys, xs] - exact).max() < 2e-3


def test_harmonic_fill_of_a_hole_in_a_ramp_is_the_ramp():
    from inpaint_studio.methods.classical.diffusion import harmonic_fill

    ramp = np.linspace(0.1, 0.9, 96, dtype=np.float32)[None, :, None].repeat(80, 0).repeat(3, 2)
    hole = np.zeros((80, 96), bool)
    hole[20:60, 30:70] = True
    assert np.abs(harmonic_fill(ramp, hole) - ramp).max() < 2e-3
