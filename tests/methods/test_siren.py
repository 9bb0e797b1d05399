"""SIREN: smooth holes filled well, previews in order, cancel, determinism, compositing, lazy torch."""

from __future__ import annotations

import re

import numpy as np
import pytest

from inpaint_studio.core.errors import FillCancelled
from inpaint_studio.methods.base import make_params
from inpaint_studio.methods.siren import SirenMethod
from tests.methods.method_support import RecordingContext as _Ctx
from tests.methods.method_support import run_in_regions

torch = pytest.importorskip("torch")

_ITER = re.compile(r"iter (\d+)")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one thread avoids OpenMP hand-offs that stall badly on a loaded 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _gradient(h: int = 40, w: int = 48) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([0.2 + 0.6 * xx / w, 0.8 - 0.5 * yy / h, 0.3 + 0.2 * (xx + yy) / (h + w)],
                    axis=-1).astype(np.float32)


def _hole(h: int = 40, w: int = 48) -> np.ndarray:
    hole = np.zeros((h, w), bool)
    hole[14:26, 16:32] = True
    return hole


def _params(**values):
    base = {"iterations": 150, "time_limit": 600, "preview_every": 10, "preview_ms": 0, "working_size": 48}
    base.update(values)
    return make_params(SirenMethod.Params, base)


def _hole_psnr(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    diff = a[hole].astype(np.float64) - b[hole].astype(np.float64)
    return float(10 * np.log10(1.0 / max(np.mean(diff**2), 1e-12)))


@pytest.mark.parametrize(("encoding", "size", "floor"), [
    ("siren", {}, 28.0),
    ("fourier", {"hidden": 64, "iterations": 100}, 25.0),
])
def test_fills_a_smooth_gradient_hole_well(encoding, size, floor):
    image, hole = _gradient(), _hole()
    blank = image.copy()
    blank[hole] = 0.0
    out = SirenMethod().run(blank, hole, _params(encoding=encoding, **size), _Ctx())
    assert _hole_psnr(out, image, hole) > floor


def test_previews_are_in_iteration_order():
    ctx = _Ctx()
    SirenMethod().run(_gradient(), _hole(), _params(iterations=40), ctx)
    iterations = [int(_ITER.search(t).group(1)) for t in ctx.preview_texts]
    assert iterations == [0, 10, 20, 30, 40]
    assert "initial fill" in ctx.preview_texts[0]
    assert re.search(r"iter 40/40 · [\d.]+ it/s · loss [\d.]+", ctx.texts[-1])


def test_cancel_stops_within_one_iteration():
    ctx = _Ctx(cancel_after=3)
    with pytest.raises(FillCancelled):
        SirenMethod().run(_gradient(), _hole(), _params(), ctx)
    assert max(int(_ITER.search(t).group(1)) for t in ctx.texts) <= 3


def test_same_seed_same_output_on_cpu():
    image, hole = _gradient(), _hole()
    a = SirenMethod().run(image, hole, _params(iterations=20), _Ctx(seed=5))
    b = SirenMethod().run(image, hole, _params(iterations=20), _Ctx(seed=5))
    assert np.array_equal(a, b)


def test_unmasked_pixels_are_untouched_after_compositing():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 65536, (36, 44, 3), dtype=np.uint16)
    mask = np.zeros((36, 44), np.uint8)
    mask[10:20, 12:30] = 255
    method, params = SirenMethod(), _params(iterations=5)
    out = run_in_regions(method, params, pixels, mask, working_size=method.working_size)
    assert np.array_equal(out[mask == 0], pixels[mask == 0])
