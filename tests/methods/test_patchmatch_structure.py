"""patchmatch's structure blend (``structure`` / ``grain`` params): smooth shading from a harmonic
fill under the copied grain. Small synthetic images; each fill takes well under a second."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.methods.base import make_params
from inpaint_studio.methods.patchmatch import PatchMatchMethod
from inpaint_studio.methods.patchmatch.completion import complete
from inpaint_studio.methods.patchmatch.method import settings_for
from inpaint_studio.runtime.jobs import FillRequest, run_fill
from tests.methods.method_support import RecordingContext as _Ctx

ON = {"structure": 0.7, "grain": 1.2}


def _run(image, hole, ctx=None, **values):
    method = PatchMatchMethod()
    return method.run(image, hole, make_params(method.Params, values), ctx or _Ctx())


def _lit_grain(seed: int = 0, height: int = 128, width: int = 160) -> np.ndarray:
    """A wall in soft light (a broad 2-D brightness falloff) with fine film grain on top."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 0.25 + 0.5 * np.exp(-((yy - 10) ** 2 + (xx - 20) ** 2) / (2 * 70.0 ** 2))
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 0.7)
    grain *= 0.04 / grain.std()
    image = np.stack([light, light * 0.85, light * 0.7], -1) + grain[..., None]
    return np.clip(image, 0, 1).astype(np.float32)


def _hole(shape) -> np.ndarray:
    hole = np.zeros(shape, bool)
    hole[40:88, 56:112] = True
    return hole


def test_structure_off_is_the_plain_patchmatch_fill_bit_for_bit():
    image = _lit_grain()
    hole = _hole(image.shape[:2])
    image[hole] = 0
    method = PatchMatchMethod()
    params = make_params(method.Params, {"structure": 0.0, "grain": 1.0})
    plain = complete(image, hole, None, settings_for(params, 0))
    assert np.array_equal(method.run(image, hole, params, _Ctx(seed=0)), plain)


def test_the_blend_is_on_by_default():
    # structure 0.7 / grain 1.35: the Kodak benchmark's setting (docs/benchmarks.md)
    method = PatchMatchMethod()
    defaults = make_params(method.Params, {})
    assert (defaults.structure, defaults.grain) == (0.7, 1.35)
    image = _lit_grain()
    hole = _hole(image.shape[:2])
    image[hole] = 0
    plain = complete(image, hole, None, settings_for(defaults, 0))
    out = method.run(image, hole, defaults, _Ctx(seed=0))
    assert np.abs(out - plain)[hole].max() > 0.01
    assert np.array_equal(out[~hole], plain[~hole])


def test_a_hole_in_soft_light_gets_the_shading_right_and_keeps_the_grain():
    # what the blend is for: copied patches come from brighter or darker parts of the light, so the
    # hole's shading is off; the harmonic low band follows the light, the copied grain stays
    truth = _lit_grain()
    hole = _hole(truth.shape[:2])
    out = _run(np.where(hole[..., None], 0.0, truth).astype(np.float32), hole, **ON)
    truth_low = cv2.GaussianBlur(truth, (0, 0), 4)
    low = cv2.GaussianBlur(out, (0, 0), 4)
    shading_error = float(np.sqrt(np.mean((low - truth_low)[hole] ** 2)))
    grain_ratio = float((out - low)[hole].std() / (truth - truth_low)[hole].std())
    # plain patchmatch (structure 0, grain 1) measured: shading error 0.0165, grain 0.89
    assert shading_error < 0.012
    assert 0.92 < grain_ratio < 1.2


def test_16_bit_range_is_kept_in_float():
    image = _lit_grain()
    hole = _hole(image.shape[:2])
    out = _run(np.where(hole[..., None], 0.0, image).astype(np.float32), hole, **ON)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    # not quantised to 8 bits: many distinct levels between two 8-bit steps
    levels = np.unique(np.round(out[hole][:, 0] * 65535))
    assert len(levels) > 4 * len(np.unique(np.round(out[hole][:, 0] * 255)))


@pytest.mark.parametrize(("side", "colour"), [("right", (30, 30, 220)), ("left", (220, 30, 30))])
def test_the_structure_comes_from_the_sampling_area_only(side, colour):
    # a hole on a red | blue border: the harmonic fill of the whole edge would be purple
    image = np.zeros((40, 64, 3), np.uint8)
    image[:, :32] = (220, 30, 30)
    image[:, 32:] = (30, 30, 220)
    mask = np.zeros((40, 64), np.uint8)
    mask[14:26, 24:40] = 255
    sampling = np.zeros(mask.shape, np.uint8)
    sampling[:, 32:] = 255 if side == "right" else 0
    sampling[:, :32] = 255 if side == "left" else 0
    result = run_fill(FillRequest(image, mask, "patchmatch", params=dict(ON), sampling=sampling))
    assert result.ok, result.message
    filled = result.pixels[mask > 0].astype(int)
    assert (np.abs(filled - np.array(colour)) <= 40).all()
    assert np.array_equal(result.pixels[mask == 0], image[mask == 0])


def test_params_are_exposed_with_ranges():
    method = PatchMatchMethod()
    params = make_params(method.Params, {"structure": "0.5", "grain": "1.3"})
    assert params.structure == 0.5 and params.grain == 1.3
    from inpaint_studio.core.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError):
        make_params(method.Params, {"structure": "1.5"})
    with pytest.raises(InvalidParameterError):
        make_params(method.Params, {"grain": "0"})


def test_dip_content_aware_fill_pins_the_blend_off(monkeypatch):
    from inpaint_studio.methods.dip import method as dip
    from inpaint_studio.methods.patchmatch import method as pm

    seen = []
    original = pm.settings_for
    monkeypatch.setattr(pm, "settings_for", lambda p, s: (seen.append(p), original(p, s))[1])
    image = _lit_grain(height=64, width=64)
    hole = np.zeros(image.shape[:2], bool)
    hole[20:40, 20:40] = True
    dip.content_aware_fill(image, hole, _Ctx())
    assert seen and seen[0].structure == 0.0 and seen[0].grain == 1.0


def test_cli_takes_the_blend_as_params(tmp_path):
    from inpaint_studio.cli.main import main

    truth = (_lit_grain() * 255).round().astype(np.uint8)
    hole = _hole(truth.shape[:2])
    photo, mask = tmp_path / "wall.png", tmp_path / "mask.png"
    assert cv2.imwrite(str(photo), truth) and cv2.imwrite(str(mask), hole.astype(np.uint8) * 255)
    outs = {}
    for name, extra in (("off", ["--param", "structure=0", "--param", "grain=1"]),
                        ("on", ["--param", "structure=0.7", "--param", "grain=1.2"])):
        out = tmp_path / f"{name}.png"
        args = ["fill", str(photo), str(mask), "-o", str(out), "--method", "patchmatch", "-q", *extra]
        assert main(args) == 0
        outs[name] = cv2.imread(str(out)).astype(np.float32)
    low = {k: cv2.GaussianBlur(v, (0, 0), 4) for k, v in outs.items()}
    truth_low = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 4)
    errors = {k: float(np.sqrt(np.mean((v - truth_low)[hole] ** 2))) for k, v in low.items()}
    assert errors["on"] < 0.8 * errors["off"]


# the exact sparse solve behind the structure (diffusion.harmonic_exact / structure._harmonic_low_res)


def _smooth_field(height: int = 72, width: int = 96) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([0.5 + 0.3 * np.sin(xx / 17.0) * np.cos(yy / 23.0), 0.2 + xx / (2 * width),
                     0.8 - yy / (2 * height)], -1).astype(np.float32)


def test_the_exact_solve_agrees_with_the_iterative_harmonic_fill():
    from inpaint_studio.methods.classical.diffusion import harmonic_exact, harmonic_fill

    image = _smooth_field()
    rng = np.random.default_rng(3)
    image += rng.normal(0, 0.05, image.shape).astype(np.float32)  # a rough boundary to interpolate
    hole = np.zeros(image.shape[:2], bool)
    hole[15:50, 20:70] = True
    hole[55:60, 5:90] = True
    exact = harmonic_exact(np.where(hole[..., None], 0.0, image).astype(np.float32), hole)
    iterative = harmonic_fill(image, hole, tolerance=1e-6, max_steps=4000)
    assert np.abs(exact - iterative)[hole].max() < 2e-3
    # Laplace's equation holds exactly inside the hole (interior pixels: the mean of 4 neighbours)
    inner = hole.copy()
    inner[[0, -1], :] = inner[:, [0, -1]] = False
    mean4 = (np.roll(exact, 1, 0) + np.roll(exact, -1, 0) + np.roll(exact, 1, 1) + np.roll(exact, -1, 1)) / 4
    assert np.abs(exact - mean4)[inner].max() < 1e-5
    assert np.array_equal(exact[~hole], image[~hole])


def test_the_exact_solve_of_a_hole_crossing_the_image_border():
    from inpaint_studio.methods.classical.diffusion import harmonic_exact

    # a horizontal ramp: with the border free (no flux across it), the harmonic fill of a hole
    # reaching the top or bottom border is the ramp itself
    ramp = np.broadcast_to(np.linspace(0, 1, 80, dtype=np.float32)[None, :, None], (60, 80, 3)).copy()
    hole = np.zeros((60, 80), bool)
    hole[:25, 30:55] = True  # touches the top border
    hole[40:, 5:20] = True  # and the bottom one
    out = harmonic_exact(np.where(hole[..., None], 0.5, ramp).astype(np.float32), hole)
    assert np.abs(out - ramp)[hole].max() < 1e-4
    # a corner: each pixel the mean of its in-image neighbours, within the known values' range
    corner = np.zeros((60, 80), bool)
    corner[40:, 60:] = True
    out = harmonic_exact(np.where(corner[..., None], 0.0, ramp).astype(np.float32), corner)
    assert np.isclose(out[-1, -1, 0], (out[-2, -1, 0] + out[-1, -2, 0]) / 2, atol=1e-5)
    assert out[corner].min() >= ramp[~corner].min() and out[corner].max() <= ramp[~corner].max() + 1e-6


def test_nothing_known_to_solve_from_gives_the_known_mean_instead_of_a_singular_solve():
    from inpaint_studio.methods.classical.diffusion import harmonic_exact
    from inpaint_studio.methods.patchmatch.structure import _harmonic_low_res

    image = _smooth_field(64, 64)
    # on a 4-connected grid an unknown region touches no known pixel only when none is known
    out = harmonic_exact(image, np.ones((64, 64), bool))
    assert np.isfinite(out).all() and np.abs(out).max() == 0.0
    assert np.allclose(harmonic_exact(image, np.ones((64, 64), bool), np.array([0.1, 0.2, 0.3])),
                       [0.1, 0.2, 0.3])
    # at reduced scale: a sparse sampling area leaves no cell half known -> its pixels' mean
    usable = np.zeros((64, 64), bool)
    usable[::8, ::8] = True
    out = _harmonic_low_res(image, usable, 4)
    assert np.allclose(out, image[usable].mean(0), atol=1e-5)
    # one known pixel, the border free: the harmonic fill is that constant
    one = np.zeros((5, 5, 3), np.float32)
    one[0, 0] = 0.9
    unknown = np.ones((5, 5), bool)
    unknown[0, 0] = False
    assert np.allclose(harmonic_exact(one, unknown), 0.9, atol=1e-5)


def test_the_blend_when_the_hole_is_the_whole_crop_does_not_crash():
    from inpaint_studio.methods.patchmatch.structure import blend_structure

    image = _smooth_field(48, 48)
    hole = np.ones((48, 48), bool)
    out = blend_structure(image, hole, image, None, 0.7, 1.2)
    assert np.isfinite(out).all()


def test_the_solve_resolution_grows_coarser_with_the_unknowns():
    from inpaint_studio.methods.patchmatch.structure import MAX_UNKNOWNS, solve_scale

    assert solve_scale(0) == 1 and solve_scale(MAX_UNKNOWNS) == 1
    assert solve_scale(MAX_UNKNOWNS + 1) == 2 and solve_scale(4 * MAX_UNKNOWNS) == 2
    assert solve_scale(4 * MAX_UNKNOWNS + 1) == 4


def test_the_blend_with_the_exact_solve_is_close_to_the_iterative_one():
    from inpaint_studio.methods.classical.diffusion import harmonic_fill
    from inpaint_studio.methods.patchmatch.structure import _harmonic_low_res

    image = _smooth_field(96, 128)
    usable = np.ones(image.shape[:2], bool)
    usable[30:70, 40:100] = False
    assert np.abs(_harmonic_low_res(image, usable, 1) - harmonic_fill(image, ~usable))[~usable].max() < 5e-3
    # and at reduced scale the low band still follows it (cell rule: half-known cells keep their mean)
    assert np.abs(_harmonic_low_res(image, usable, 4) - harmonic_fill(image, ~usable))[~usable].max() < 0.03


# holes no deeper than a scratch (TEXTURE_MIN_RADIUS) keep the PatchMatch fill: the blend buys them
# almost nothing and cost ~0.1 s of a 0.4-0.5 s fill


def _scratch(shape) -> np.ndarray:
    """A 3 px wide diagonal-ish scratch across the left of the frame (depth ~2 px)."""
    hole = np.zeros(shape, bool)
    line = np.zeros(shape, np.uint8)
    cv2.line(line, (6, 10), (44, 118), 255, 3)
    hole[line > 0] = True
    return hole


def _plain_and_blended(image, hole, **values):
    method = PatchMatchMethod()
    params = make_params(method.Params, {"structure": 0.7, "grain": 1.1, **values})
    image = np.where(hole[..., None], 0.0, image).astype(np.float32)
    plain = complete(image, hole, None, settings_for(params, 0))
    return plain, method.run(image, hole, params, _Ctx(seed=0))


def test_a_scratch_keeps_the_patchmatch_fill_bit_for_bit_with_the_blend_on():
    from inpaint_studio.methods.patchmatch.completion import _wide
    from inpaint_studio.methods.patchmatch.method import TEXTURE_MIN_RADIUS

    truth = _lit_grain()
    hole = _scratch(truth.shape[:2])
    assert hole.sum() > 250 and not _wide(hole, TEXTURE_MIN_RADIUS).any()
    plain, out = _plain_and_blended(truth, hole)
    assert np.array_equal(out, plain)


def test_a_thick_hole_still_gets_the_blend():
    truth = _lit_grain()
    hole = _hole(truth.shape[:2])
    plain, out = _plain_and_blended(truth, hole)
    assert np.abs(out - plain)[hole].max() > 0.01
    assert np.array_equal(out[~hole], plain[~hole])


def test_a_scratch_beside_a_thick_hole_the_blend_changes_only_the_thick_one():
    truth = _lit_grain()
    thick, scratch = _hole(truth.shape[:2]), _scratch(truth.shape[:2])
    assert not (cv2.dilate(thick.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & scratch).any()
    hole = thick | scratch
    plain, out = _plain_and_blended(truth, hole)
    assert np.array_equal(out[~thick], plain[~thick])  # the scratch and the known pixels
    assert np.abs(out - plain)[thick].max() > 0.01
    # the thick hole gets the same blend as without the scratch beside it (its harmonic fill
    # depends only on its own edge; the crop around it changes nothing)
    from inpaint_studio.methods.patchmatch.structure import blend_structure

    image = np.where(hole[..., None], 0.0, truth).astype(np.float32)
    alone = blend_structure(image, thick, plain, None, 0.7, 1.1)
    assert np.array_equal(out[thick], alone[thick])


def test_the_crop_to_the_deep_components_changes_nothing():
    from inpaint_studio.methods.patchmatch.structure import blend_structure

    truth = _lit_grain(1, 200, 240)
    hole = np.zeros(truth.shape[:2], bool)
    hole[30:70, 20:70] = True
    hole[150:190, 190:236] = True
    hole |= _scratch(hole.shape)
    image = np.where(hole[..., None], 0.0, truth).astype(np.float32)
    fill = np.where(hole[..., None], cv2.GaussianBlur(truth, (0, 0), 3), truth).astype(np.float32)
    for scale in (None, 2):
        whole = blend_structure(image, hole, fill, None, 0.7, 1.1, scale=scale, min_radius=6.0, crop=False)
        cropped = blend_structure(image, hole, fill, None, 0.7, 1.1, scale=scale, min_radius=6.0, crop=True)
        assert np.array_equal(whole, cropped)
    # no deep component: the fill itself comes back
    assert blend_structure(image, _scratch(hole.shape), fill, None, 0.7, 1.1, min_radius=6.0) is fill


def test_the_grain_gain_fades_in_so_thin_strokes_keep_close_to_their_copied_grain():
    from inpaint_studio.methods.patchmatch.structure import blend_structure

    truth = _lit_grain(2, 128, 200)
    stroke, wide = np.zeros(truth.shape[:2], bool), np.zeros(truth.shape[:2], bool)
    stroke[20:34, 20:180] = True  # 14 px across: at most 7 px from its edge
    wide[56:120, 60:140] = True
    hole = stroke | wide
    image = np.where(hole[..., None], 0.0, truth).astype(np.float32)
    out = blend_structure(image, hole, truth, None, 0.0, 1.35)  # the "copied" fill: the truth itself

    def grain_ratio(where):
        detail = truth - cv2.GaussianBlur(truth, (0, 0), 4)
        return float((out - truth)[where].std() / detail[where].std())  # the added share of the detail

    inner_wide = np.zeros_like(hole)
    inner_wide[72:104, 76:124] = True  # >= 16 px from the wide hole's edge
    # the wide hole's interior gets the full gain (0.35 more grain), the stroke a fraction of it
    assert 0.3 < grain_ratio(inner_wide) < 0.4
    assert grain_ratio(stroke) < 0.15
    assert np.array_equal(out[~hole], truth[~hole])
