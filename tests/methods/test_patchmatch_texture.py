"""patchmatch texture features (CompletionSettings.texture_weight) and the C-channel kernels."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from inpaint_studio.methods.patchmatch import engine
from inpaint_studio.methods.patchmatch.completion import (
    CompletionSettings,
    _texture_features,
    complete,
    feature_weights,
)

# (gain_min, gain_max, bias_max): plain SSD, bias only ("low"), gain and bias ("medium")
_ADAPTATIONS = [(1.0, 1.0, 0.0), (1.0, 1.0, 0.03), (0.9, 1.1, 0.06)]


def _field(rng, n, hs, ws, r):
    ys = rng.integers(r, 40 - r, n).astype(np.int32)
    xs = rng.integers(r, 40 - r, n).astype(np.int32)
    nk = np.zeros(n, np.int32)
    ny = rng.integers(r, hs - r, n).astype(np.int32)
    nx = rng.integers(r, ws - r, n).astype(np.int32)
    return ys, xs, nk, ny, nx


def _costs(tgt, src, field, r, adaptation):
    ys, xs, nk, ny, nx = field
    cost = np.zeros(len(ys), np.float32)
    ab = np.zeros((len(ys), 6), np.float32)
    gmin, gmax, bmax = adaptation
    fw = np.ones(len(ys), np.float32)
    adapt = gmin < gmax or bmax > 0
    engine.evaluate_all(tgt, ys, xs, src, nk, ny, nx, cost, ab, r, adapt, gmin, gmax, bmax, fw)
    return cost, ab


@pytest.mark.parametrize("adaptation", _ADAPTATIONS)
def test_extra_channels_add_their_plain_ssd_and_leave_the_colour_fit_alone(adaptation):
    rng = np.random.default_rng(0)
    r = 2
    tgt3 = rng.random((40, 40, 3)).astype(np.float32)
    src3 = rng.random((1, 30, 30, 3)).astype(np.float32)
    tgt_f = rng.random((40, 40, 2)).astype(np.float32)
    src_f = rng.random((1, 30, 30, 2)).astype(np.float32)
    field = _field(rng, 50, 30, 30, r)
    base, ab3 = _costs(tgt3, src3, field, r, adaptation)
    # zero-valued features: the same costs and colour fits as the 3-channel path
    zero, ab0 = _costs(np.concatenate([tgt3, 0 * tgt_f], 2), np.concatenate([src3, 0 * src_f], 3), field, r,
                       adaptation)
    np.testing.assert_allclose(zero, base, rtol=1e-5)
    np.testing.assert_allclose(ab0, ab3, rtol=1e-5, atol=1e-6)
    # real features: plus their mean squared difference per pixel, no gain or bias applied to them
    full, abf = _costs(np.concatenate([tgt3, tgt_f], 2), np.concatenate([src3, src_f], 3), field, r,
                       adaptation)
    ys, xs, _, ny, nx = field
    extra = []
    for y, x, sy, sx in zip(ys, xs, ny, nx, strict=True):
        d = tgt_f[y - r:y + r + 1, x - r:x + r + 1] - src_f[0, sy - r:sy + r + 1, sx - r:sx + r + 1]
        extra.append(np.mean(np.sum(d * d, axis=2)))
    np.testing.assert_allclose(full, base + np.array(extra, np.float32), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(abf, ab3, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("winner", [False, True])
def test_vote_gives_the_same_colours_with_extra_channels_and_copies_the_features(winner):
    rng = np.random.default_rng(1)
    r = 2
    src = rng.random((1, 30, 30, 5)).astype(np.float32)
    field = _field(rng, 60, 30, 30, r)
    ys, xs, nk, ny, nx = field
    hole = np.zeros((40, 40), bool)
    hole[10:30, 10:30] = True
    cost = rng.random(len(ys)).astype(np.float32)
    ab = np.tile(np.array([1, 1, 1, 0.01, -0.02, 0.0], np.float32), (len(ys), 1))
    wconf = np.ones(len(ys))
    est5 = np.full((40, 40, 5), 0.5, np.float32)
    est3 = np.ascontiguousarray(est5[..., :3])
    src3 = np.ascontiguousarray(src[..., :3])
    engine.vote(est3, hole, ys, xs, src3, nk, ny, nx, cost, ab, wconf, r, 2.0, winner)
    engine.vote(est5, hole, ys, xs, src, nk, ny, nx, cost, ab, wconf, r, 2.0, winner)
    np.testing.assert_allclose(est5[..., :3], est3, rtol=1e-6, atol=1e-7)
    # features: a (weighted) mix of the sources' feature values, with no colour bias added
    voted = est5[hole][:, 3:]
    assert voted.min() >= src[..., 3:].min() - 1e-6 and voted.max() <= src[..., 3:].max() + 1e-6


def test_features_next_to_the_hole_come_from_known_pixels_only():
    image = np.full((32, 32, 3), 0.5, np.float32)
    hole = np.zeros((32, 32), bool)
    hole[10:20, 10:20] = True
    image[hole] = 0.0  # the hole's placeholder must not read as a strong edge
    feats = _texture_features(image, ~hole, 4)
    assert feats.shape == (32, 32, 2)
    assert np.abs(feats[~hole]).max() < 1e-6


def test_coarse_only_features_still_texture_the_fill_and_keep_the_finest_level_on_colour():
    image, hole, textured = _flat_beside_noise()
    truth = image.copy()
    image[hole] = 0.0
    base = CompletionSettings(patch_size=7, min_size=16, seed=1, bias_max=0.03)
    plain = complete(image, hole, None, base)
    coarse = complete(image, hole, None, dataclasses.replace(base, texture_weight=64.0, texture_finest=False))
    assert coarse.shape == image.shape and np.array_equal(coarse[~hole], image[~hole])
    assert _gradient_energy(coarse, textured) > 2.0 * _gradient_energy(plain, textured)
    assert _gradient_energy(coarse, textured) > 0.3 * _gradient_energy(truth, textured)


def test_weight_zero_is_the_plain_colour_completion():
    rng = np.random.default_rng(2)
    image = rng.random((48, 48, 3)).astype(np.float32)
    hole = np.zeros((48, 48), bool)
    hole[16:32, 16:32] = True
    base = CompletionSettings(patch_size=5, min_size=12, seed=3, bias_max=0.03)
    a = complete(image, hole, None, base)
    b = complete(image, hole, None, dataclasses.replace(base, texture_weight=0.0, texture_window=2))
    assert np.array_equal(a, b)


def _gradient_energy(image, mask):
    grey = image.mean(axis=2)
    gx = np.abs(np.diff(grey, axis=1))[:-1, :]
    gy = np.abs(np.diff(grey, axis=0))[:, :-1]
    return float((gx + gy)[mask[:-1, :-1]].mean())


def _flat_beside_noise(seed=0, height=96, width=128):
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), 0.5, np.float32)
    noise = rng.normal(0.0, 0.12, (height, width // 2, 1)).astype(np.float32)
    image[:, width // 2:] = np.clip(0.5 + noise, 0.0, 1.0)
    hole = np.zeros((height, width), bool)
    hole[30:66, width // 2 - 4: width // 2 + 28] = True
    textured = hole.copy()
    textured[:, : width // 2] = False
    return image, hole, textured


@pytest.mark.parametrize("extras", [{}, {"angles": (-10.0, 10.0), "scales": (0.8,), "mirror": True},
                                    {"init": "telea", "match_blur": 1.0}])
def test_with_features_a_hole_in_noise_is_filled_with_noise_not_flat_grey(extras):
    image, hole, textured = _flat_beside_noise()
    truth = image.copy()
    image[hole] = 0.0
    base = CompletionSettings(patch_size=7, min_size=16, seed=1, bias_max=0.03, **extras)
    plain = complete(image, hole, None, base)
    featured = complete(image, hole, None, dataclasses.replace(base, texture_weight=8.0))
    want = _gradient_energy(truth, textured)
    assert featured.shape == image.shape and np.isfinite(featured).all()
    assert np.array_equal(featured[~hole], image[~hole])
    # the textured half of the hole gets (close to) the noise's gradient energy back ...
    assert _gradient_energy(featured, textured) > (0.6 if not extras else 0.4) * want
    assert _gradient_energy(featured, textured) > 2.0 * _gradient_energy(plain, textured)
    # ... and the flat half stays flat
    assert _gradient_energy(featured, hole & ~textured) < (0.2 if not extras else 0.4) * want


def test_texture_matching_param_sets_the_feature_weight():
    from inpaint_studio.methods.base import make_params
    from inpaint_studio.methods.patchmatch.method import TEXTURE_MATCHING, PatchMatchMethod, settings_for

    for level, (weight, finest) in TEXTURE_MATCHING.items():
        settings = settings_for(make_params(PatchMatchMethod.Params, {"texture_matching": level}), seed=0)
        assert (settings.texture_weight, settings.texture_finest) == (weight, finest)
        # every level sets the edge fade and the scratch skip (inactive at weight 0)
        assert settings.texture_fade > 0.0 and settings.texture_min_radius > 0.0
    default = settings_for(make_params(PatchMatchMethod.Params, {}), seed=0)
    assert default.texture_weight == TEXTURE_MATCHING["high"][0], "the default matches texture"


def _boundary_jump(image, hole):
    """Mean |difference| across the hole's edge (4-neighbour pairs with one pixel in the hole)."""
    total, count = 0.0, 0
    for axis in (0, 1):
        a, b = (image[:-1], image[1:]) if axis == 0 else (image[:, :-1], image[:, 1:])
        h0, h1 = (hole[:-1], hole[1:]) if axis == 0 else (hole[:, :-1], hole[:, 1:])
        cross = h0 != h1
        total += float(np.abs(a - b).mean(axis=2)[cross].sum())
        count += int(cross.sum())
    return total / count


@pytest.mark.parametrize("seed", [0, 2])
def test_fading_the_features_in_from_the_edge_keeps_the_seam_of_the_colour_only_fill(seed):
    image, hole, textured = _flat_beside_noise(seed=seed)
    truth = image.copy()
    image[hole] = 0.0
    base = CompletionSettings(patch_size=7, min_size=16, seed=1, bias_max=0.03)
    plain = complete(image, hole, None, base)
    full = complete(image, hole, None, dataclasses.replace(base, texture_weight=8.0))
    faded = complete(image, hole, None, dataclasses.replace(base, texture_weight=8.0, texture_fade=4.0))
    # full weight at the edge: edge patches match busyness, not colour, and the edge shows
    assert _boundary_jump(full, hole) > 1.25 * _boundary_jump(plain, hole)
    assert _boundary_jump(faded, hole) < 1.15 * _boundary_jump(plain, hole)
    # ... while the interior still gets the texture
    assert _gradient_energy(faded, textured) > 0.5 * _gradient_energy(truth, textured)
    assert _gradient_energy(faded, textured) > 4.0 * _gradient_energy(plain, textured)


def _scratches(shape):
    hole = np.zeros(shape, bool)
    hole[20:23, 10:110] = True  # 3 px wide: 2 px deep at most
    hole[40:80, 70:72] = True
    hole[85, 5:60] = True
    return hole


def test_a_scratch_fill_with_texture_matching_is_the_colour_only_fill():
    image, _, _ = _flat_beside_noise(seed=4)
    hole = _scratches(image.shape[:2])
    image[hole] = 0.0
    base = CompletionSettings(patch_size=7, min_size=16, seed=1, bias_max=0.03)
    plain = complete(image, hole, None, base)
    featured = complete(image, hole, None, dataclasses.replace(
        base, texture_weight=64.0, texture_finest=False, texture_fade=4.0, texture_min_radius=6.0))
    assert np.array_equal(featured, plain)


def test_a_fill_with_scratches_and_a_wide_hole_still_textures_the_wide_hole():
    image, wide, textured = _flat_beside_noise(seed=0)
    truth = image.copy()
    hole = wide | _scratches(image.shape[:2])
    image[hole] = 0.0
    # the onion start, as measured: with init "best" the smoother Telea start wins this case's
    # patch-cost vote and keeps 41 % of the grain instead (the texture price in docs/benchmarks.md)
    base = CompletionSettings(patch_size=7, min_size=16, seed=1, bias_max=0.03, init="auto")
    plain = complete(image, hole, None, base)
    featured = complete(image, hole, None, dataclasses.replace(
        base, texture_weight=8.0, texture_fade=4.0, texture_min_radius=6.0))
    assert _gradient_energy(featured, textured) > 0.5 * _gradient_energy(truth, textured)
    assert _gradient_energy(featured, textured) > 4.0 * _gradient_energy(plain, textured)


def test_feature_weights_are_zero_at_the_edge_and_near_narrow_holes_and_full_deep_inside():
    hole = np.zeros((64, 64), bool)
    hole[8:40, 8:40] = True  # 16 px deep
    hole[50:52, 4:60] = True  # 1 px deep
    ys, xs = np.nonzero(cv2.dilate(hole.view(np.uint8), np.ones((5, 5), np.uint8)) > 0)
    settings = CompletionSettings(texture_weight=8.0, texture_fade=4.0, texture_min_radius=3.0)
    fw = np.full(hole.shape, np.nan, np.float32)
    fw[ys, xs] = feature_weights(hole, ys, xs, 2, settings, 1.0)
    assert fw[6, 20] == 0.0 and fw[8, 20] < 0.5  # outside the edge, on the edge
    assert fw[24, 24] == 1.0  # deep inside
    assert fw[50, 30] == 0.0 and fw[48, 30] == 0.0  # the narrow stroke and around it
    # min_radius is in full-resolution pixels: the 16 px-deep hole is too narrow for 24 on the
    # finest level, but on a level 2x coarser it stands for a 32 px-deep one
    deep = CompletionSettings(texture_weight=8.0, texture_min_radius=24.0)
    assert not feature_weights(hole, ys, xs, 2, deep, 1.0).any()
    assert feature_weights(hole, ys, xs, 2, deep, 2.0)[(ys == 24) & (xs == 24)] == 1.0


@pytest.mark.parametrize("adaptation", _ADAPTATIONS)
def test_targets_with_feature_weight_zero_do_not_read_the_feature_channels(adaptation):
    # edge and scratch targets (weight 0) cost what the colour-only path costs: the kernel skips
    # their feature loop, so NaN there changes nothing (and a weighted target does see it)
    rng = np.random.default_rng(5)
    r = 2
    tgt3 = rng.random((40, 40, 3)).astype(np.float32)
    src3 = rng.random((1, 30, 30, 3)).astype(np.float32)
    tgt = np.concatenate([tgt3, np.full((40, 40, 2), np.nan, np.float32)], 2)
    src = np.concatenate([src3, rng.random((1, 30, 30, 2)).astype(np.float32)], 3)
    ys, xs, nk, ny, nx = _field(rng, 50, 30, 30, r)
    gmin, gmax, bmax = adaptation
    adapt = gmin < gmax or bmax > 0
    base, _ = _costs(tgt3, src3, (ys, xs, nk, ny, nx), r, adaptation)
    cost = np.zeros(len(ys), np.float32)
    ab = np.zeros((len(ys), 6), np.float32)
    fw = np.zeros(len(ys), np.float32)
    fw[0] = 1.0
    engine.evaluate_all(tgt, ys, xs, src, nk, ny, nx, cost, ab, r, adapt, gmin, gmax, bmax, fw)
    np.testing.assert_allclose(cost[1:], base[1:], rtol=1e-5)
    assert not np.isfinite(cost[0]) or cost[0] >= 1e29


def _flat_hole_by_a_busy_edge(seed=0, height=96, width=128):
    """A smooth vertical ramp with a strip of noise on the left; the hole lies mostly in the ramp
    and touches the noise along its left side."""
    rng = np.random.default_rng(seed)
    yy = np.mgrid[0:height, 0:width][0]
    image = np.repeat((0.3 + 0.4 * yy / height)[..., None], 3, axis=2).astype(np.float32)
    image[:, :40] = np.clip(image[:, :40] + rng.normal(0.0, 0.12, (height, 40, 1)), 0.0, 1.0)
    hole = np.zeros((height, width), bool)
    hole[16:80, 30:100] = True
    return image, hole


def test_ring_feature_start_takes_the_busyness_of_most_of_the_edge():
    from inpaint_studio.methods.patchmatch.completion import _ring_median_features

    image, hole = _flat_hole_by_a_busy_edge()
    feats = _texture_features(image, ~hole, 4)
    est = np.concatenate([np.where(hole[..., None], 0.0, image), feats], axis=2).astype(np.float32)
    diffused = cv2.inpaint(np.ascontiguousarray(feats[..., :1]), hole.astype(np.uint8), 5.0,
                           cv2.INPAINT_TELEA)
    _ring_median_features(est, hole, 7)
    flat_level = float(np.median(feats[~hole & (np.arange(128) > 60)[None, :], 0]))
    busy_level = float(np.median(feats[~hole & (np.arange(128) < 30)[None, :], 0]))
    # the whole component starts at the flat majority's busyness, the colours are left alone
    np.testing.assert_allclose(est[hole, 3], flat_level, atol=0.25 * (busy_level - flat_level))
    assert np.array_equal(est[..., :3], np.where(hole[..., None], 0.0, image))
    # a diffused start instead carries the busy strip's level into the hole's left part
    left = hole & (np.arange(128) < 36)[None, :]
    assert float(diffused[left].mean()) > flat_level + 0.5 * (busy_level - flat_level)


@pytest.mark.parametrize("init", ["telea", "auto"])
def test_with_a_ring_feature_start_a_flat_hole_by_a_busy_edge_stays_flat(init):
    image, hole = _flat_hole_by_a_busy_edge()
    truth = image.copy()
    image[hole] = 0.0
    settings = CompletionSettings(patch_size=7, min_size=16, seed=1, bias_max=0.03, init=init,
                                  texture_weight=32.0, texture_fade=8.0, texture_min_radius=6.0,
                                  feature_start="ring")
    out = complete(image, hole, None, settings)
    flat = hole.copy()
    flat[:, :56] = False
    noise = ~hole & (np.arange(128) < 40)[None, :]
    assert _gradient_energy(out, flat) < 0.1 * _gradient_energy(truth, noise)
