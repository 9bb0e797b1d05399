"""DIP fast: mix weights fitted on pseudo-holes (the ``stack_mix`` option)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.methods.base import make_params
from inpaint_studio.methods.dip import DeepImagePriorMethod
from inpaint_studio.methods.dip import pseudo as stacking
from inpaint_studio.methods.dip.pseudo import fit_mix, pseudo_holes, simplex_grid, stacked_fill
from tests.methods.method_support import RecordingContext as _Ctx
from tests.methods.method_support import run_in_regions

PRIOR = np.array([0.4, 0.3, 0.3])


def _blob(h: int = 120, w: int = 160) -> np.ndarray:
    hole = np.zeros((h, w), np.uint8)
    cv2.ellipse(hole, (w // 2, h // 2), (22, 14), 30, 0, 360, 1, -1)
    return hole > 0


def _stroke(h: int = 120, w: int = 160) -> np.ndarray:
    hole = np.zeros((h, w), np.uint8)
    cv2.line(hole, (20, 100), (140, 30), 1, 9)
    return hole > 0


def _gradient(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([0.1 + 0.8 * xx / w, 0.2 + 0.6 * yy / h, 0.9 - 0.5 * (xx + yy) / (h + w)], -1)


@pytest.mark.parametrize("shape", [_blob, _stroke])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pseudo_holes_lie_on_known_pixels_away_from_the_hole_the_edge_and_each_other(shape, seed):
    hole = shape()
    gap = 6
    labels = pseudo_holes(hole, np.random.default_rng(seed), gap=gap)
    assert labels.max() >= 1
    assert not (labels > 0)[hole].any()
    near_hole = cv2.dilate(hole.astype(np.uint8), np.ones((2 * gap - 1, 2 * gap - 1), np.uint8)) > 0
    assert not (labels > 0)[near_hole].any()
    inner = np.zeros_like(hole)
    inner[gap:-gap, gap:-gap] = True
    assert not (labels > 0)[~inner].any()
    for k in range(1, labels.max() + 1):
        grown = cv2.dilate((labels == k).astype(np.uint8), np.ones((gap, gap), np.uint8)) > 0
        assert not ((labels > 0) & (labels != k))[grown].any()


def test_pseudo_holes_are_copies_of_the_hole_or_of_its_parts():
    hole = _blob(200, 260)
    labels = pseudo_holes(hole, np.random.default_rng(0), max_copies=1)
    ys, xs = np.nonzero(labels == 1)
    copy = labels[ys.min():ys.max() + 1, xs.min():xs.max() + 1] == 1
    hy, hx = np.nonzero(hole)
    original = hole[hy.min():hy.max() + 1, hx.min():hx.max() + 1]
    assert np.array_equal(copy, original)  # room for the whole shape: the whole shape


def test_no_room_means_no_pseudo_holes():
    hole = np.ones((40, 40), bool)
    hole[0, 0] = False
    assert not pseudo_holes(hole, np.random.default_rng(0)).any()


def test_simplex_grid_weights_are_non_negative_and_sum_to_one():
    grid = simplex_grid(3, 0.1)
    assert len(grid) == 66 and (grid >= 0).all() and np.allclose(grid.sum(1), 1)


def test_fitted_weights_favour_the_fill_that_is_right_on_a_smooth_gradient():
    truth = _gradient(60, 80)
    rng = np.random.default_rng(0)
    net = truth + rng.normal(0, 0.08, truth.shape).astype(np.float32)
    patchmatch = np.roll(truth, 9, axis=1)  # copied from the wrong place
    parts = np.stack([net, patchmatch, truth])  # NS is exact on a linear ramp
    hole, pseudo = np.zeros((60, 80), bool), np.zeros((60, 80), bool)
    hole[20:40, 30:50], pseudo[5:20, 5:20] = True, True
    filled, weights = stacked_fill(parts, np.zeros_like(truth), truth, hole, pseudo, PRIOR)
    assert weights[2] > 0.6 and np.isclose(weights.sum(), 1) and (weights >= 0).all()
    default = np.clip(np.tensordot(PRIOR, parts, axes=1), 0, 1)
    err = np.mean((filled[hole] - truth[hole]) ** 2)
    assert err < 0.5 * np.mean((default[hole] - truth[hole]) ** 2)
    assert np.array_equal(filled[~hole], truth[~hole])


def test_few_pseudo_pixels_keep_the_default_weights_close():
    truth = _gradient(40, 40)
    parts = np.stack([truth + 0.2, truth - 0.2, truth])
    hole, pseudo = np.zeros((40, 40), bool), np.zeros((40, 40), bool)
    hole[10:30, 10:30], pseudo[2, 2] = True, True
    _, weights = stacked_fill(parts, np.zeros_like(truth), truth, hole, pseudo, PRIOR)
    assert np.abs(weights - PRIOR).max() < 0.05
    assert np.allclose(fit_mix(parts[:, pseudo], np.zeros((1, 3)), truth[pseudo], PRIOR, 0.0), PRIOR)


torch = pytest.importorskip("torch")


@pytest.fixture
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _params(**values):
    base = {"iterations": 40, "time_limit": 600, "preview_every": 1000, "preview_ms": 0, "working_size": 64,
            "stack_mix": True}
    base.update(values)
    return make_params(DeepImagePriorMethod.Params, base)


def test_the_fitted_mix_reproduces_the_pseudo_holes_at_least_as_well_as_the_default(monkeypatch,
                                                                                   _one_torch_thread):
    seen = []
    original = stacking.stacked_fill

    def spy(parts, detail, image, hole, pseudo, prior, *args):
        filled, weights = original(parts, detail, image, hole, pseudo, prior, *args)
        seen.append((parts[:, pseudo], detail[pseudo], image[pseudo], weights, prior))
        return filled, weights

    monkeypatch.setattr(stacking, "stacked_fill", spy)
    image, hole = _gradient(96, 128), _blob(96, 128)
    image = image + 0.1 * np.sin(np.mgrid[0:96, 0:128][1] / 3.0)[..., None].astype(np.float32)
    blank = np.where(hole[..., None], 0.0, image).astype(np.float32)
    out = DeepImagePriorMethod().run(blank, hole, _params(), _Ctx())
    assert len(seen) == 1
    parts, detail, truth, weights, prior = seen[0]

    def error(w: np.ndarray) -> float:
        return float(np.mean((np.clip(np.tensordot(w, parts, axes=1) + detail, 0, 1) - truth) ** 2))

    assert not np.allclose(weights, prior) and error(weights) < error(prior)
    assert np.array_equal(out[~hole], blank[~hole])


def test_stacked_fill_is_seeded_and_keeps_unmasked_pixels(_one_torch_thread):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (72, 96, 3), dtype=np.uint8)
    mask = np.zeros((72, 96), np.uint8)
    mask[30:42, 40:56] = 255
    method = DeepImagePriorMethod()
    params = _params(iterations=5)
    a = run_in_regions(method, params, pixels, mask, working_size=method.working_size)
    b = run_in_regions(DeepImagePriorMethod(), params, pixels, mask, working_size=method.working_size)
    assert np.array_equal(a, b)
    assert np.array_equal(a[mask == 0], pixels[mask == 0])
