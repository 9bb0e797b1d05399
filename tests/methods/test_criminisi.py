"""criminisi: exemplar fill in edge-first order (synthetic images, a few seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.errors import FillCancelled
from inpaint_studio.core.regions import RegionOptions
from inpaint_studio.methods.base import make_params
from inpaint_studio.methods.criminisi import CriminisiMethod
from tests.methods.method_support import RecordingContext as _Ctx
from tests.methods.method_support import run_in_regions


def _run(image, hole, ctx=None, **values):
    method = CriminisiMethod()
    return method.run(image, hole, make_params(method.Params, values), ctx or _Ctx())


def _box_hole(shape, top, left, size):
    hole = np.zeros(shape, bool)
    hole[top:top + size, left:left + size] = True
    return hole


def _noise_with_a_hole(seed=0):
    """Random uint8 pixels (so every pixel value is nearly unique) and a 25 x 30 box mask."""
    pixels = np.random.default_rng(seed).integers(0, 256, (80, 120, 3), dtype=np.uint8)
    mask = np.zeros((80, 120), np.uint8)
    mask[20:45, 30:60] = 255
    return pixels, mask


def _texture(height=96, width=96, seed=1):
    rng = np.random.default_rng(seed)
    base = rng.random((height // 4, width // 4, 3)).astype(np.float32)
    return np.kron(base, np.ones((4, 4, 1), np.float32))


def test_same_seed_same_fill():
    image = _texture()
    hole = _box_hole(image.shape[:2], 30, 30, 30)
    image[hole] = 0
    assert np.array_equal(_run(image, hole, _Ctx(seed=5)), _run(image, hole, _Ctx(seed=5)))


def test_fill_is_copied_texture_and_outside_pixels_are_untouched():
    pixels, mask = _noise_with_a_hole(0)
    method = CriminisiMethod()
    keep = mask == 0
    known = {tuple(p) for p in pixels[keep]}
    # without the seam blend every filled pixel is a copy of a known pixel (exemplar copy)
    params = make_params(method.Params, {"patch_size": 5, "seam_blend": 0.0})
    out = run_in_regions(method, params, pixels, mask)
    assert np.array_equal(out[keep], pixels[keep])
    assert all(tuple(p) in known for p in out[~keep])
    # with it (the default) only the hole's two outer rings are blended; the rest are still copies
    out = run_in_regions(method, make_params(method.Params, {"patch_size": 5}), pixels, mask)
    assert np.array_equal(out[keep], pixels[keep])
    inner = np.zeros_like(keep)
    inner[22:43, 32:58] = True
    assert all(tuple(p) in known for p in out[inner])


@pytest.mark.parametrize("seam_blend", [0.0, 0.35, 0.5])
def test_fill_only_copies_from_the_sampling_area(seam_blend):
    """Neither the copies nor the seam blend take anything from outside the sampling area."""
    image = np.zeros((64, 96, 3), np.float32)
    image[:, :48] = (1.0, 0.0, 0.0)
    image[:, 48:] = (0.0, 0.0, 1.0)
    hole = _box_hole(image.shape[:2], 20, 36, 24)
    image[hole] = 0
    sampling = np.zeros(hole.shape, bool)
    sampling[:, :48] = True
    out = _run(image, hole, _Ctx(sampling_area=sampling), patch_size=5, seam_blend=seam_blend)
    assert np.array_equal(out[hole], np.broadcast_to(np.float32([1, 0, 0]), out[hole].shape))


def test_flat_colour_fills_with_that_colour():
    colour = np.array([0.2, 0.55, 0.8], np.float32)
    image = np.broadcast_to(colour, (64, 64, 3)).copy()
    hole = _box_hole(image.shape[:2], 16, 16, 30)
    image[hole] = 0
    out = _run(image, hole)
    assert np.abs(out[hole] - colour).max() < 1e-6


def test_stripes_continue_with_their_period_and_phase():
    period = 8
    x = np.arange(128)
    row = (0.5 + 0.4 * np.sin(2 * np.pi * x / period)).astype(np.float32)
    truth = np.repeat(np.repeat(row[None, :, None], 96, axis=0), 3, axis=2)
    hole = _box_hole(truth.shape[:2], 30, 40, 36)
    image = truth.copy()
    image[hole] = 0
    out = _run(image, hole, patch_size=9, seam_blend=0.0)
    assert np.abs(out[hole] - truth[hole]).max() < 1e-6
    # the default seam blend only touches the hole's two outer rings, by at most 0.35 x a step
    out = _run(image, hole, patch_size=9)
    inner = _box_hole(truth.shape[:2], 32, 42, 32)
    assert np.abs(out[inner] - truth[inner]).max() < 1e-6
    step = np.abs(np.diff(row)).max()
    assert np.abs(out[hole] - truth[hole]).max() <= 0.35 * step + 1e-6


def test_cancel_stops_the_fill_between_chunks():
    image = _texture(128, 128)
    hole = _box_hole(image.shape[:2], 30, 30, 60)
    image[hole] = 0
    ctx = _Ctx(cancel_after=2)
    with pytest.raises(FillCancelled):
        _run(image, hole, ctx, preview_every=10)
    assert ctx.checks == 3
    assert len(ctx.previews) == 2  # one per chunk of copied patches, then the cancel


def test_16_bit_values_are_copied_at_full_depth():
    from inpaint_studio.core.regions import inpaint_regions as fill_regions

    yy, xx = np.mgrid[0:80, 0:80]
    base = 20000 + 60 * xx + 35 * yy + 300 * np.sin(xx / 3.0)
    pixels = np.stack([base, base + 1000, base + 2000], axis=2).astype(np.uint16)
    mask = np.zeros((80, 80), np.uint8)
    mask[25:50, 25:50] = 255
    method = CriminisiMethod()
    params = method.default_params()
    out = fill_regions(pixels, mask, lambda task: method.run(task.image, task.hole, params, _Ctx()),
                       RegionOptions(context_margin=method.context_margin(params)))
    filled = out[mask > 0]
    assert np.count_nonzero(filled % 257) > 0.9 * filled.size


def _tower_in_the_sky():
    """A smooth, slightly noisy sky with a dark striped tower rising from the bottom; the hole covers
    the tower's top and the sky above and beside it."""
    h, w = 96, 96
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.stack([0.35 + 0.3 * yy / h, 0.55 + 0.25 * yy / h, 0.9 + 0 * yy], axis=2)
    image = sky + np.random.default_rng(0).normal(0, 0.01, sky.shape).astype(np.float32)
    tower = (xx >= 40) & (xx < 56) & (yy >= 50)
    image[tower] = (0.15, 0.1, 0.1)
    image[tower & ((xx.astype(int) // 4) % 2 == 0)] = (0.3, 0.2, 0.15)
    hole = np.zeros((h, w), bool)
    hole[14:62, 28:72] = True
    return image.astype(np.float32), hole, tower


def test_diffusion_guide_does_not_grow_the_tower_into_the_sky():
    """The default (diffusion guide) keeps the sky a sky."""
    # the 2004 method continues the tower's strong edges up through the hole (garbage propagation:
    # about 18 % of the hole's sky turns dark); with the guide the copies keep the hole's layout
    image, hole, tower = _tower_in_the_sky()
    image[hole] = 0
    sky_part = hole & ~tower
    guided = _run(image, hole)
    assert ((guided.mean(axis=2) < 0.35) & sky_part).sum() < 0.05 * sky_part.sum()
    plain = _run(image, hole, guide="none")
    assert ((plain.mean(axis=2) < 0.35) & sky_part).sum() > 0.1 * sky_part.sum()


@pytest.mark.parametrize("guide", ["diffusion", "patchmatch"])
def test_guided_fill_still_copies_whole_patches(guide):
    pixels, mask = _noise_with_a_hole(0)
    method = CriminisiMethod()
    params = make_params(method.Params, {"patch_size": 5, "guide": guide, "guide_weight": 3.0,
                                                "seam_blend": 0.0})
    out = run_in_regions(method, params, pixels, mask)
    known = {tuple(p) for p in pixels[mask == 0]}
    assert all(tuple(p) in known for p in out[mask > 0])


def test_seam_blend_softens_the_hole_border_only():
    pixels, mask = _noise_with_a_hole(2)
    method = CriminisiMethod()
    hard = run_in_regions(method, make_params(method.Params, {"patch_size": 5, "seam_blend": 0.0}),
                          pixels, mask)
    soft = run_in_regions(method, make_params(method.Params, {"patch_size": 5, "seam_blend": 0.5}),
                          pixels, mask)
    changed = np.any(hard != soft, axis=2)
    assert not changed[mask == 0].any()
    # only the two outer rings of the hole differ, and the jump across the border shrinks
    assert not changed[22:43, 32:58].any()
    assert changed[20].sum() > 20

    def border_jump(img):
        a = img.astype(float)
        return np.abs(a[19, 30:60] - a[20, 30:60]).mean() + np.abs(a[45, 30:60] - a[44, 30:60]).mean()
    assert border_jump(soft) < 0.8 * border_jump(hard)

