"""Damage detector: finds a scratch and a speck on a quiet background, leaves real edges alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.damage import DamageOptions, defect_view, detect_damage, infrared_dust_mask
from inpaint_studio.core.damage import detect as detect_module
from inpaint_studio.core.errors import FillCancelled, InvalidInputError, InvalidParameterError


def _flat(h: int = 200, w: int = 240, level: float = 0.5, seed: int = 0) -> np.ndarray:
    """A mid-grey photo with mild film-grain-like noise (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    grey = level + rng.normal(0, 0.01, (h, w))
    return np.repeat(np.clip(grey * 255, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _line(img: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], value: int,
          width: int = 2) -> np.ndarray:
    out = img.copy()
    cv2.line(out, p0, p1, (value, value, value), width, cv2.LINE_AA)
    return out


def test_bright_scratch_on_flat_background_is_found() -> None:
    img = _line(_flat(), (20, 30), (220, 170), 170)
    truth = _line(np.zeros_like(img), (20, 30), (220, 170), 255)[..., 0] > 128
    mask = detect_damage(img)
    assert mask.dtype == np.uint8 and mask.shape == img.shape[:2]
    assert (mask[truth] >= 128).mean() > 0.9
    # nothing away from the line (the mask grows ~3 px to cover the anti-aliased rim)
    near = cv2.dilate(truth.astype(np.uint8), np.ones((13, 13), np.uint8)) > 0
    assert (mask[~near] >= 128).sum() == 0


def test_dark_curved_hair_is_found() -> None:
    img = _flat()
    pts = np.array([[30, 40 + 10 * np.sin(x / 25)] for x in range(30, 210)], np.float64)
    pts[:, 0] = np.arange(30, 210)
    curve = [np.round(pts).astype(np.int32).reshape(-1, 1, 2)]
    cv2.polylines(img, curve, False, (90, 90, 90), 1, cv2.LINE_AA)
    truth = np.zeros(img.shape[:2], np.uint8)
    cv2.polylines(truth, curve, False, 255, 1)
    mask = detect_damage(img, DamageOptions(kind="scratches"))
    assert (mask[truth > 0] >= 128).mean() > 0.8


def test_step_edge_is_not_flagged() -> None:
    img = _flat()
    img[:, 120:] = np.clip(img[:, 120:].astype(int) + 80, 0, 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 0.8)
    assert (detect_damage(img) >= 128).sum() == 0


def test_speck_is_found_and_kind_filters_it() -> None:
    img = _flat()
    cv2.circle(img, (100, 80), 4, (40, 40, 40), -1, cv2.LINE_AA)
    dust = detect_damage(img, DamageOptions(kind="dust"))
    assert dust[80, 100] == 255
    assert (dust >= 128).sum() < 200
    assert detect_damage(img, DamageOptions(kind="scratches")).max() == 0


def test_max_size_excludes_bigger_blobs() -> None:
    img = _flat()
    cv2.circle(img, (100, 80), 12, (40, 40, 40), -1, cv2.LINE_AA)
    assert detect_damage(img, DamageOptions(kind="dust", max_size=30))[80, 100] == 255
    assert detect_damage(img, DamageOptions(kind="dust", max_size=8))[80, 100] == 0


def test_sensitivity_controls_faint_damage() -> None:
    img = _flat()
    cv2.circle(img, (100, 80), 3, (112, 112, 112), -1, cv2.LINE_AA)  # ~6 % darker than the grey
    assert detect_damage(img, DamageOptions(kind="dust", sensitivity=0.0))[80, 100] == 0
    assert detect_damage(img, DamageOptions(kind="dust", sensitivity=1.0))[80, 100] == 255


def test_uint16_and_grey_give_the_same_mask_as_uint8() -> None:
    img = _line(_flat(), (20, 30), (220, 170), 170)
    ref = detect_damage(img)
    assert ref.max() == 255
    wide = img.astype(np.uint16) * 257
    assert np.array_equal(detect_damage(wide), ref)
    assert (detect_damage(img[..., 0]) >= 128).sum() == pytest.approx((ref >= 128).sum(), rel=0.05)


def test_tiles_give_the_same_result_as_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    img = _line(_flat(260, 300), (10, 20), (290, 240), 60)
    cv2.circle(img, (60, 200), 3, (200, 200, 200), -1, cv2.LINE_AA)
    whole = detect_damage(img)
    monkeypatch.setattr(detect_module, "TILE", 128)
    tiled = detect_damage(img)
    assert whole.max() == 255
    assert np.mean(whole != tiled) < 0.002


def test_cancel_raises_before_any_work() -> None:
    with pytest.raises(FillCancelled):
        detect_damage(_flat(), cancel=lambda: True)


@pytest.mark.parametrize("bad", [{"sensitivity": 1.5}, {"kind": "stains"}, {"min_size": 0},
                                 {"min_size": 9, "max_size": 8}, {"max_size": 500}, {"max_size": 2.5}])
def test_bad_options_are_rejected(bad: dict) -> None:
    with pytest.raises(InvalidParameterError):
        DamageOptions(**bad)


def test_bad_pixels_are_rejected() -> None:
    with pytest.raises(InvalidInputError):
        detect_damage(np.zeros((10, 10, 2), np.uint8))


def test_infrared_dust_is_dark_specks_on_a_vignetted_field() -> None:
    h, w = 300, 400
    yy, xx = np.mgrid[0:h, 0:w]
    field = 50000 - 15000 * (((yy - h / 2) / h) ** 2 + ((xx - w / 2) / w) ** 2)  # vignetting
    ir = field.astype(np.uint16)
    cv2.circle(ir, (50, 40), 3, 20000, -1)       # clear speck near a dark corner
    cv2.circle(ir, (200, 150), 2, 44000, -1)     # faint speck (~12 % drop) in the centre
    strict = infrared_dust_mask(ir, threshold=0.2)
    loose = infrared_dust_mask(ir, threshold=0.9)
    assert strict[40, 50] == 255 and strict[150, 200] == 0
    assert loose[40, 50] == 255 and loose[150, 200] == 255
    assert (loose >= 128).sum() < 200  # the vignetting itself is not dust


def test_defect_view_makes_a_faint_speck_visible() -> None:
    img = _flat()
    cv2.circle(img, (100, 80), 2, (115, 115, 115), -1)  # 12 grey levels darker: hard to see
    view = defect_view(img)
    assert view.shape == (*img.shape[:2], 3) and view.dtype == np.uint8
    assert int(np.median(view)) in range(120, 136)
    assert 127 - int(view[80, 100, 0]) > 3 * 12  # boosted well beyond its contrast in the photo
