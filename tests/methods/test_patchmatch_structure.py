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
from tests.methods.method_support import run_in_regions

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
    # and 0 / 1 are what a fill gets when the user leaves them alone
    defaults = make_params(method.Params, {})
    if defaults.structure == 0.0 and defaults.grain == 1.0:
        assert np.array_equal(method.run(image, hole, defaults, _Ctx(seed=0)), plain)


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


def test_known_pixels_are_untouched_with_the_blend_on():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (80, 120, 3), dtype=np.uint8)
    mask = np.zeros((80, 120), np.uint8)
    mask[20:45, 30:60] = 255
    mask[60:70, 90:110] = 255
    method = PatchMatchMethod()
    out = run_in_regions(method, make_params(method.Params, {"patch_size": 5, **ON}), pixels, mask)
    keep = mask == 0
    assert np.array_equal(out[keep], pixels[keep])


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
