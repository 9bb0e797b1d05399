"""Deep Image Prior: published network sizes, live previews, cancel, determinism, compositing, quality."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from inpaint_studio.core.errors import FillCancelled
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import make_params
from inpaint_studio.methods.classical.diffusion import diffusion_fill
from inpaint_studio.methods.dip import DeepImagePriorMethod
from inpaint_studio.runtime.jobs import CancelToken, FillRequest, run_fill
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


def _stripes(h: int = 48, w: int = 64) -> np.ndarray:
    """A structured image: diagonal colour stripes over a vertical gradient."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.35 * np.sin((xx + yy) * 2 * np.pi / 16)
    return np.stack([base, 0.3 + 0.4 * yy / h, 1.0 - base], axis=-1).astype(np.float32)


def _box_hole(h: int = 48, w: int = 64) -> np.ndarray:
    hole = np.zeros((h, w), bool)
    hole[18:30, 24:40] = True
    return hole


def _params(**values):
    base = {"iterations": 12, "time_limit": 600, "preview_every": 1, "preview_ms": 0, "working_size": 64}
    base.update(values)
    return make_params(DeepImagePriorMethod.Params, base)


def _hole_psnr(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    diff = a[hole].astype(np.float64) - b[hole].astype(np.float64)
    return float(10 * np.log10(1.0 / max(np.mean(diff**2), 1e-12)))


def test_module_is_listable_without_torch():
    """The registry imports the method module to list it; torch must not come with it."""
    import subprocess
    import sys

    code = ("import sys; import inpaint_studio.methods.dip, inpaint_studio.methods.siren; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("name", ["vase", "kate", "library"])
def test_paper_preset_builds_the_published_networks(name):
    from inpaint_studio.methods.dip.nets import PAPER_NETS, SkipNet, parameter_count

    expected = {"vase": 2_157_955, "kate": 3_002_627, "library": 2_996_467}[name]
    assert parameter_count(SkipNet(PAPER_NETS[name])) == expected


def test_paper_preset_runs_its_network_end_to_end():
    ctx = _Ctx()
    image, hole = _stripes(32, 32), _box_hole(32, 32)
    params = _params(preset="paper", paper_net="library", iterations=2)
    out = DeepImagePriorMethod().run(image, hole, params, ctx)
    assert out.shape == image.shape and np.isfinite(out).all()
    assert "library" in ctx.texts[-1]


def test_previews_arrive_in_iteration_order_with_rate_in_the_text():
    ctx = _Ctx()
    image, hole = _stripes(), _box_hole()
    out = DeepImagePriorMethod().run(image, hole, _params(), ctx)
    assert out.shape == image.shape
    iterations = [int(_ITER.search(text).group(1)) for text in ctx.preview_texts]
    assert iterations[0] == 0 and len(iterations) >= 5
    assert iterations == sorted(set(iterations))
    assert all(p.shape == image.shape for p in ctx.previews)
    assert re.search(r"iter \d+/12 · [\d.]+ it/s · loss [\d.]+", ctx.texts[-1])


def test_preview_interval_counts_iterations():
    ctx = _Ctx()
    DeepImagePriorMethod().run(_stripes(), _box_hole(), _params(preview_every=5, keep_best=False), ctx)
    iterations = [int(_ITER.search(text).group(1)) for text in ctx.preview_texts]
    assert iterations == [0, 5, 10]


def test_cancel_stops_within_one_iteration():
    ctx = _Ctx(cancel_after=4)
    # a diffusion start without texture detail: every check after the first is one iteration
    params = _params(iterations=50, initial_fill="diffusion", detail=0.0)
    with pytest.raises(FillCancelled):
        DeepImagePriorMethod().run(_stripes(), _box_hole(), params, ctx)
    done = [int(_ITER.search(t).group(1)) for t in ctx.texts if _ITER.search(t)]
    assert done and max(done) <= 4


def test_cancel_during_the_content_aware_start_stops_before_fitting():
    ctx = _Ctx(cancel_after=2)
    with pytest.raises(FillCancelled):
        DeepImagePriorMethod().run(_stripes(), _box_hole(), _params(iterations=50), ctx)
    assert not any(_ITER.search(t) for t in ctx.texts)


def test_cancel_through_the_runtime_leaves_no_result():
    registry.register(DeepImagePriorMethod)
    try:
        token = CancelToken()
        seen = []

        def on_progress(event):
            seen.append(event.text)
            if "iter 3/" in event.text:
                token.cancel()

        pixels = (_stripes() * 255).astype(np.uint8)
        request = FillRequest(pixels=pixels, mask=_box_hole(), method="dip", device="cpu",
                              params={"iterations": 200, "working_size": 64})
        result = run_fill(request, on_progress=on_progress, cancel=token)
    finally:
        registry.unregister(DeepImagePriorMethod)
    assert result.status == "cancelled" and result.pixels is None
    assert not any("iter 5/" in text for text in seen)


def test_same_seed_same_output_on_cpu():
    image, hole = _stripes(), _box_hole()
    a = DeepImagePriorMethod().run(image, hole, _params(), _Ctx(seed=7))
    b = DeepImagePriorMethod().run(image, hole, _params(), _Ctx(seed=7))
    c = DeepImagePriorMethod().run(image, hole, _params(), _Ctx(seed=8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a[hole], c[hole])


def test_unmasked_pixels_are_untouched_after_compositing():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    mask = np.zeros((40, 56), np.uint8)
    mask[12:22, 20:33] = 255
    method = DeepImagePriorMethod()
    params = _params(iterations=3)
    out = run_in_regions(method, params, pixels, mask, working_size=method.working_size)
    assert np.array_equal(out[mask == 0], pixels[mask == 0])
    assert not np.array_equal(out[mask > 0], pixels[mask > 0])


def test_fast_preset_improves_on_its_initial_fill():
    image, hole = _stripes(), _box_hole()
    blank = image.copy()
    blank[hole] = 0.0
    guess = diffusion_fill(blank, hole, 5.0, cv2.INPAINT_NS)
    out = DeepImagePriorMethod().run(blank, hole, _params(iterations=150, preview_every=1000), _Ctx())
    assert _hole_psnr(out, image, hole) > _hole_psnr(guess, image, hole) + 0.5


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_fill_budget_splits_the_time_left_by_hole_area():
    from inpaint_studio.methods.dip.budget import FillBudget

    clock = _Clock()
    budget = FillBudget(30.0, clock=clock)
    assert budget.region_seconds(0.5, 0) == pytest.approx(15.0)
    clock.now += 20.0  # the first region overran its share
    # 10 s left for the other half of the hole area: split 0.25 / 0.25
    assert budget.region_seconds(0.25, 1) == pytest.approx(5.0)
    clock.now += 5.0
    assert budget.region_seconds(0.25, 2) == pytest.approx(5.0)
    # index 0 is a new fill: the whole budget again
    assert budget.region_seconds(1.0, 0) == pytest.approx(30.0)


def test_fill_budget_without_shares_never_exceeds_the_total():
    from inpaint_studio.methods.dip.budget import FillBudget

    clock = _Clock()
    budget = FillBudget(10.0, clock=clock)
    assert budget.region_seconds() == pytest.approx(10.0)
    clock.now += 7.0
    assert budget.region_seconds() == pytest.approx(3.0)
    clock.now += 5.0
    assert budget.region_seconds() == 0.0


def _spread_holes(size: int = 160) -> np.ndarray:
    """Four small holes far apart: the region strategy cuts four regions."""
    mask = np.zeros((size, size), np.uint8)
    for y, x in ((10, 10), (10, 130), (130, 10), (130, 130)):
        mask[y:y + 12, x:x + 12] = 255
    return mask


def test_the_time_limit_is_for_the_whole_fill_not_per_region():
    import time

    registry.register(DeepImagePriorMethod)
    try:
        image = (np.tile(_stripes(80, 80), (2, 2, 1)) * 255).astype(np.uint8)
        mask = _spread_holes()
        params = {"iterations": 100_000, "time_limit": 2.0, "working_size": 64,
                  "initial_fill": "diffusion", "detail": 0.0}
        t0 = time.perf_counter()
        result = run_fill(FillRequest(pixels=image, mask=mask, method="dip", device="cpu", params=params))
        elapsed = time.perf_counter() - t0
    finally:
        registry.unregister(DeepImagePriorMethod)
    assert result.ok and len(result.provenance.regions) == 4
    # a per-region limit would take 4 x 2 s; set-up (torch import, nets) is the slack
    assert elapsed < 5.0
    assert np.array_equal(result.pixels[mask == 0], image[mask == 0])


def _texture(image: np.ndarray, hole: np.ndarray) -> float:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    return float(np.hypot(gx, gy)[hole].mean())


def test_texture_detail_restores_fine_texture_in_the_hole():
    rng = np.random.default_rng(3)
    _, xx = np.mgrid[0:96, 0:96].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(xx / 9.0)
    grain = rng.normal(0.0, 0.08, (96, 96)).astype(np.float32)  # fine texture a small net cannot hold
    image = np.clip(np.stack([base + grain] * 3, axis=-1), 0, 1).astype(np.float32)
    hole = np.zeros((96, 96), bool)
    hole[30:66, 30:66] = True
    blank = np.where(hole[..., None], 0.0, image).astype(np.float32)
    common = {"iterations": 20, "working_size": 48, "preview_every": 1000}
    plain = DeepImagePriorMethod().run(blank, hole, _params(detail=0.0, **common), _Ctx())
    detailed = DeepImagePriorMethod().run(blank, hole, _params(detail=1.0, **common), _Ctx())
    truth = _texture(image, hole)
    assert _texture(detailed, hole) > 0.6 * truth > _texture(plain, hole)


def test_consensus_weights_the_low_passed_fills_and_keeps_the_known_pixels():
    from inpaint_studio.methods.dip import method as dip_method

    image, hole = _stripes(96, 128), np.zeros((96, 128), bool)
    hole[30:60, 40:90] = True
    source = np.where(hole[..., None], 0.8, image).astype(np.float32)
    diffused_small = np.full((48, 64, 3), 0.2, np.float32)  # a working-size fill, upscaled inside
    shape = (48, 64)
    out = dip_method.consensus(source, diffused_small, image, hole, shape)
    diffused = np.where(hole[..., None], 0.2, image).astype(np.float32)
    share_pm, share_ns = dip_method.PATCHMATCH_SHARE, dip_method.DIFFUSION_SHARE
    low_pm, low_ns = dip_method.low_pass(source, shape), dip_method.low_pass(diffused, shape)
    expected = (share_pm * low_pm + share_ns * low_ns) / (share_pm + share_ns)
    assert np.allclose(out, expected, atol=1e-5)
    inner = np.zeros_like(hole)
    inner[38:52, 50:80] = True
    want = (share_pm * 0.8 + share_ns * 0.2) / (share_pm + share_ns)
    assert np.allclose(out[inner], want, atol=0.02)


def test_consensus_averages_several_content_aware_fills_before_weighting():
    from inpaint_studio.methods.dip import method as dip_method

    image, hole = _stripes(96, 128), np.zeros((96, 128), bool)
    hole[30:60, 40:90] = True
    fills = [np.where(hole[..., None], value, image).astype(np.float32) for value in (0.9, 0.7, 0.5)]
    diffused_small = np.full((48, 64, 3), 0.1, np.float32)
    out = dip_method.consensus(fills, diffused_small, image, hole, (48, 64), (0.6, 0.2))
    inner = np.zeros_like(hole)
    inner[38:52, 50:80] = True
    assert np.allclose(out[inner], (0.6 * 0.7 + 0.2 * 0.1) / 0.8, atol=0.02)


def test_consensus_fills_run_distinct_content_aware_fills_deterministically(monkeypatch):
    from inpaint_studio.methods.dip import method as dip_method

    calls = []
    original = dip_method.content_aware_fill

    def recording(image, hole, ctx, variant=None):
        calls.append(dict(variant or {}))
        return original(image, hole, ctx, variant)

    monkeypatch.setattr(dip_method, "content_aware_fill", recording)
    image, hole = _stripes(), _box_hole()
    params = _params(iterations=3, consensus_fills=3)
    a = DeepImagePriorMethod().run(image, hole, params, _Ctx(seed=5))
    assert calls == list(dip_method.CONSENSUS_VARIANTS[:3])
    assert len({repr(sorted(c.items())) for c in calls}) == 3
    b = DeepImagePriorMethod().run(image, hole, params, _Ctx(seed=5))
    single = DeepImagePriorMethod().run(image, hole, _params(iterations=3, consensus_fills=1), _Ctx(seed=5))
    assert np.array_equal(a, b)
    assert np.array_equal(a[~hole], image[~hole])
    assert not np.array_equal(a[hole], single[hole])


def test_the_ensemble_mixes_in_the_smooth_harmonic_fill_not_navier_stokes(monkeypatch):
    """NS leaves radial streaks in big holes; with several content-aware fills the diffusion share
    is the harmonic fill (a single fill keeps the NS mix it was measured with)."""
    from inpaint_studio.methods.dip import method as dip_method

    mixed = []
    original = dip_method.consensus

    def recording(sources, diffused, image, hole, working_shape, shares):
        mixed.append((len(sources), diffused))
        return original(sources, diffused, image, hole, working_shape, shares)

    monkeypatch.setattr(dip_method, "consensus", recording)
    image, hole = _stripes(), _box_hole()
    DeepImagePriorMethod().run(image, hole, _params(iterations=2, consensus_fills=2), _Ctx(seed=1))
    DeepImagePriorMethod().run(image, hole, _params(iterations=2, consensus_fills=1), _Ctx(seed=1))
    (n_ensemble, smooth), (n_single, streaky) = mixed
    assert (n_ensemble, n_single) == (2, 1)
    small, small_hole = dip_method._shrink(image, hole, dip_method.working_size_for(_params()))
    from inpaint_studio.methods.classical.diffusion import harmonic_fill

    assert np.allclose(smooth, harmonic_fill(small, small_hole), atol=1e-6)
    assert not np.allclose(streaky, smooth, atol=1e-3)


def test_the_bar_moves_during_the_content_aware_start_and_never_goes_back():
    """The four content-aware fills take seconds before the first iteration: the progress line names
    them as they finish, and the net's iterations carry on from there instead of restarting at 0 %."""
    registry.register(DeepImagePriorMethod)
    events = []
    try:
        pixels = (_stripes() * 255).astype(np.uint8)
        request = FillRequest(pixels=pixels, mask=_box_hole(), method="dip", device="cpu",
                              params={"iterations": 8, "working_size": 64, "time_limit": 20})
        result = run_fill(request, on_progress=events.append)
    finally:
        registry.unregister(DeepImagePriorMethod)
    assert result.status == "done"
    texts = [e.text for e in events]
    starts = [i for i, t in enumerate(texts) if "start fill" in t]
    iters = [i for i, t in enumerate(texts) if _ITER.search(t)]
    assert starts and iters and max(starts) < min(iters), texts
    assert any("start fill 4/4" in t for t in texts), "the four fills are counted"
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions)
    assert events[max(starts)].fraction > 0 and events[min(iters)].fraction >= events[max(starts)].fraction
