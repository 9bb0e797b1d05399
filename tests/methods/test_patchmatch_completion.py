"""patchmatch engine settings (CompletionSettings) that are not user params: small synthetic cases."""

from __future__ import annotations

import dataclasses

import numpy as np

from inpaint_studio.methods.patchmatch.completion import CompletionSettings, _pyramid, complete


def _two_region_image(height=128, width=192):
    """Flat yellow 'sky' on top, a fine two-colour checker 'sea' below (no whole patch of it
    survives coarse levels once dense strokes cover it)."""
    image = np.empty((height, width, 3), np.float32)
    image[: height // 4] = (0.95, 0.9, 0.6)
    yy, xx = np.mgrid[0: height - height // 4, 0:width]
    checker = ((yy // 2 + xx // 2) % 2).astype(np.float32)[..., None]
    image[height // 4:] = (0.1, 0.5, 0.5) + 0.15 * checker
    return image


def _dense_strokes(shape, step=14, width=5):
    hole = np.zeros(shape, bool)
    for x in range(6, shape[1], step):
        hole[shape[0] // 4 + 4:, x:x + width] = True
    for y in range(shape[0] // 4 + 10, shape[0], 2 * step):
        hole[y:y + width, :] = True
    return hole


def test_min_source_share_stops_coarsening_before_sources_run_out():
    image = _two_region_image()
    hole = _dense_strokes(image.shape[:2])
    known = ~hole
    plain, _, _ = _pyramid(image, known, known, CompletionSettings(min_size=8, min_source_share=0.0))
    guarded, _, _ = _pyramid(image, known, known, CompletionSettings(min_size=8, min_source_share=0.5))
    assert len(guarded) < len(plain)
    assert len(guarded) >= 1


def test_dense_strokes_are_filled_from_the_region_around_them_not_the_far_one():
    image = _two_region_image()
    truth = image.copy()
    hole = _dense_strokes(image.shape[:2], step=20, width=5)
    image[hole] = 0
    settings = CompletionSettings(patch_size=5, min_size=8, seed=1)
    plain = complete(image, hole, None, dataclasses.replace(settings, min_source_share=0.0))
    out = complete(image, hole, None, dataclasses.replace(settings, min_source_share=0.5))
    sea = hole.copy()
    sea[: image.shape[0] // 4 + 8] = False
    # no sky colour in the sea: the red channel stays near the sea's, far from the sky's 0.95
    err = np.abs(out[sea, 0] - truth[sea, 0]).mean()
    assert err < 0.02
    assert err < 0.5 * np.abs(plain[sea, 0] - truth[sea, 0]).mean()


def test_edge_diffusion_and_narrow_radius_only_change_the_hole():
    rng = np.random.default_rng(0)
    image = rng.random((64, 64, 3)).astype(np.float32)
    hole = np.zeros((64, 64), bool)
    hole[20:40, 20:40] = True  # wide: patches inside, diffusion along the edge
    hole[50:52, 5:60] = True  # narrow: diffused entirely
    image[hole] = 0
    base = CompletionSettings(patch_size=5, min_size=16, seed=2)
    plain = complete(image, hole, None, base)
    hybrid = complete(image, hole, None, dataclasses.replace(base, edge_diffusion=3.0, narrow_radius=2.0))
    assert np.array_equal(plain[~hole], hybrid[~hole])
    assert np.isfinite(hybrid).all() and hybrid.min() >= 0.0 and hybrid.max() <= 1.0
    # the centre of the wide hole (beyond the ramp) is untouched by the blend
    assert np.array_equal(plain[28:32, 28:32], hybrid[28:32, 28:32])
    assert not np.array_equal(plain[50:52, 10:55], hybrid[50:52, 10:55])


def test_detail_sigma_zero_takes_the_best_patches_whole():
    rng = np.random.default_rng(3)
    base_tile = rng.random((16, 16, 3)).astype(np.float32)
    image = np.kron(base_tile, np.ones((4, 4, 1), np.float32))
    truth = image.copy()
    hole = np.zeros(image.shape[:2], bool)
    hole[20:44, 20:44] = True
    image[hole] = 0
    base = CompletionSettings(patch_size=5, min_size=16, seed=1, detail=1.0, detail_sigma=1.0,
                              detail_ramp=0.0)
    mean_like = complete(image, hole, None, base)
    winner = complete(image, hole, None, dataclasses.replace(base, detail_sigma=0.0))
    # whole best patches keep more of the texture's contrast than the fine band alone
    assert winner[hole].std() >= mean_like[hole].std() - 1e-3
    assert winner[hole].std() > 0.6 * truth[hole].std()


def _grain(image, mask):
    """Mean horizontal |difference| of the grey image over ``mask``."""
    return float(np.abs(np.diff(image.mean(axis=2), axis=1))[mask[:, 1:]].mean())


def test_detail_gain_adds_the_best_patches_grain_inside_and_keeps_the_edge():
    rng = np.random.default_rng(4)
    image = np.clip(0.5 + rng.normal(0.0, 0.1, (96, 96, 1)), 0.0, 1.0).repeat(3, axis=2).astype(np.float32)
    hole = np.zeros(image.shape[:2], bool)
    hole[28:68, 28:68] = True
    image[hole] = 0
    base = CompletionSettings(patch_size=5, min_size=16, seed=1, detail_sigma=1.0, detail_ramp=4.0)
    plain = complete(image, hole, None, base)
    gained = complete(image, hole, None, dataclasses.replace(base, detail_gain=2.0))
    inner = np.zeros_like(hole)
    inner[34:62, 34:62] = True
    # twice the fine band: clearly more grain in the interior ...
    assert _grain(gained, inner) > 1.3 * _grain(plain, inner)
    # ... while the edge pixels (depth 1 of the ramp's 4) change far less than the interior
    edge = hole & ~np.pad(hole[1:-1, 1:-1] & hole[:-2, 1:-1] & hole[2:, 1:-1] & hole[1:-1, :-2]
                          & hole[1:-1, 2:], 1)
    assert np.abs(gained - plain)[edge].mean() < 0.5 * np.abs(gained - plain)[inner].mean()


def test_scratch_ramp_changes_only_the_narrow_components():
    rng = np.random.default_rng(6)
    image = np.clip(0.5 + rng.normal(0.0, 0.1, (96, 128, 1)), 0.0, 1.0).repeat(3, axis=2).astype(np.float32)
    hole = np.zeros(image.shape[:2], bool)
    hole[20:60, 20:60] = True  # wide: 20 px deep
    hole[75:78, 10:120] = True  # a 3 px scratch
    image[hole] = 0
    base = CompletionSettings(patch_size=5, min_size=16, seed=1, texture_min_radius=6.0)
    plain = complete(image, hole, None, base)
    sharp = complete(image, hole, None, dataclasses.replace(base, scratch_ramp=0.0))
    scratch = np.zeros_like(hole)
    scratch[75:78, 10:120] = True
    # the scratch takes the best patches whole (more grain), the wide hole keeps the general ramp
    assert _grain(sharp, scratch) > 1.1 * _grain(plain, scratch)
    assert np.array_equal(sharp[20:60, 20:60], plain[20:60, 20:60])


def _sky_above_a_sail(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blue sky (a faint vertical gradient) over a white sail with a dark blue band at its top;
    the hole covers the sky up to the image's top edge (Kodak kodim09's layout)."""
    h, w = 96, 128
    yy = np.linspace(0.0, 1.0, h)[:, None] * np.ones((1, w))
    image = np.stack([0.45 + 0.1 * yy, 0.65 + 0.1 * yy, 0.95 + 0.0 * yy], -1).astype(np.float32)
    image += rng.normal(0.0, 0.01, image.shape).astype(np.float32)
    image[40:, 40:90] = (0.95, 0.95, 0.92)
    image[40:52, 40:90] = (0.1, 0.15, 0.5)
    image[80:] = (0.1, 0.3, 0.4)
    hole = np.zeros((h, w), bool)
    hole[:30, 20:110] = True
    return image, hole


def _flat_by_a_textured_object(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A flat grey-green background with a yellow checkered disc; the hole is background only,
    right next to the disc (kodim23's parrot against bokeh)."""
    h, w = 96, 128
    image = np.full((h, w, 3), (0.35, 0.4, 0.35), np.float32)
    image += rng.normal(0.0, 0.005, image.shape).astype(np.float32)
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 48) ** 2 + (xx - 40) ** 2 < 26 ** 2
    checker = 0.15 * ((yy // 3 + xx // 3) % 2)
    image[disc] = np.stack([0.85 + checker, 0.7 + checker, 0.1 + 0.0 * checker], -1)[disc]
    hole = np.zeros((h, w), bool)
    hole[25:75, 68:108] = True
    return image, hole


def _fill_error(case, init: str) -> float:
    image, hole = case(np.random.default_rng(0))
    out = complete(np.where(hole[..., None], 0.0, image).astype(np.float32), hole, None,
                   CompletionSettings(init=init, seed=1))
    return float(np.sqrt(np.mean((out[hole] - image[hole]) ** 2)))


def test_with_the_best_start_a_hole_in_the_sky_at_the_top_border_is_filled_with_sky_not_sail():
    # the onion peel (the "auto" start here) copies the sail's band up into the sky
    assert _fill_error(_sky_above_a_sail, "auto") > 0.2
    assert _fill_error(_sky_above_a_sail, "best") < 0.03


def test_with_the_best_start_a_flat_hole_next_to_a_textured_object_stays_flat():
    # the onion peel grows the yellow disc into the hole; the best start keeps the background
    assert _fill_error(_flat_by_a_textured_object, "auto") > 0.1
    assert _fill_error(_flat_by_a_textured_object, "best") < 0.08


def _start_costs(image: np.ndarray, hole: np.ndarray, settings: CompletionSettings):
    """The fill and the two starts' patch costs (Telea's first) that init "best" compared."""
    from inpaint_studio.methods.patchmatch import completion

    seen: list[float] = []
    energy = completion.start_energy

    def spy(level):
        seen.append(energy(level))
        return seen[-1]

    try:
        completion.start_energy = spy
        out = complete(np.where(hole[..., None], 0.0, image).astype(np.float32), hole, None, settings)
    finally:
        completion.start_energy = energy
    return out, seen


def test_the_best_start_keeps_the_start_of_lower_patch_cost():
    settings = CompletionSettings(init="best", seed=1)
    image, hole = _sky_above_a_sail(np.random.default_rng(0))
    _, (telea_cost, onion_cost) = _start_costs(image, hole, settings)
    assert telea_cost < onion_cost
    # a hole inside the checkered disc: the onion start (copied checker) wins, and then the fill
    # is exactly init "auto"'s (the onion run sees the same random numbers)
    image, hole = _flat_by_a_textured_object(np.random.default_rng(0))
    hole[:] = False
    hole[34:48, 30:50] = True
    best, (telea_cost, onion_cost) = _start_costs(image, hole, settings)
    assert onion_cost < telea_cost
    auto = complete(np.where(hole[..., None], 0.0, image).astype(np.float32), hole, None,
                    dataclasses.replace(settings, init="auto"))
    assert np.array_equal(best, auto)
