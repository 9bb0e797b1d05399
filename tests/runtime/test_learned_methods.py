"""Learned methods through the real runtime: weights from the context, conventions, OOM fallback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from inpaint_studio.methods import registry
from inpaint_studio.methods.learned import build, infer
from inpaint_studio.methods.learned.methods import ALL_METHODS, DeepFillV2Method, LamaMethod
from inpaint_studio.runtime import model_cache
from inpaint_studio.runtime.device import DeviceChoice
from inpaint_studio.runtime.installer import import_files
from inpaint_studio.runtime.jobs import FillRequest, run_fill
from tests.runtime.weights_fakes import NAME, lightning_ckpt, tiny  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("tiny")


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own resident-model cache (the real one is process-wide)."""
    cache = model_cache.ModelCache()
    monkeypatch.setattr(model_cache, "_default", cache)
    yield
    cache.unload()


@pytest.fixture
def learned_methods() -> Iterator[None]:
    for cls in ALL_METHODS:
        registry.register(cls)
    yield
    for cls in ALL_METHODS:
        registry.unregister(cls.name)


def _photo(h: int = 80, w: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 2) % 256, (y * 3) % 256, (x + y) % 256], axis=-1)
    return img.astype(np.uint8)


def _mask(h: int = 80, w: int = 96) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[30:50, 40:62] = 255
    return mask


def _install_tiny(tmp_path: Path) -> str:
    path = tmp_path / "best.ckpt"
    torch.save(lightning_ckpt(), path)
    return import_files(NAME, [path])[0].sha256


def test_missing_weights_fail_the_fill_with_what_to_do(learned_methods: None) -> None:
    result = run_fill(FillRequest(_photo(), _mask(), "lama"))
    assert result.status == "failed"
    assert result.message == ("LaMa (big-lama) needs its weights: "
                              "inpaint-studio models download lama (or import FILE)")
    result = run_fill(FillRequest(_photo(), _mask(), "migan_256"))
    assert result.status == "failed" and "migan_256_places2.pt in your browser" in result.message
    assert "models import migan_256 FILE" in result.message


def test_a_learned_fill_keeps_known_pixels_and_records_the_weights(tmp_path: Path) -> None:
    sha = _install_tiny(tmp_path)
    photo, mask = _photo(), _mask()
    result = run_fill(FillRequest(photo, mask, "tiny_learned", device="cpu"))
    assert result.ok, result.message
    keep = mask == 0
    assert np.array_equal(result.pixels[keep], photo[keep])
    assert not np.array_equal(result.pixels[~keep], photo[~keep])
    record = result.provenance.to_json()
    assert record["weights"] == [{"weights": NAME, "file": "tiny.ckpt", "sha256": sha,
                                  "size": (tmp_path / "best.ckpt").stat().st_size}]
    assert record["device"] == "cpu"
    again = run_fill(FillRequest(photo, mask, "tiny_learned", device="cpu"))
    assert np.array_equal(again.pixels, result.pixels)  # same weights, same input: same fill


def test_deepfill_end_to_end_on_cpu(tmp_path: Path, learned_methods: None) -> None:
    """A real network with random weights, imported in the official ``{"G": ...}`` layout."""
    torch.manual_seed(0)
    net = build("deepfill_v2")
    path = tmp_path / "states_tf_places2.pth"
    torch.save({"G": net.state_dict()}, path)
    import_files("deepfill_v2", [path])
    photo, mask = _photo(), _mask()
    result = run_fill(FillRequest(photo, mask, "deepfill_v2", device="cpu"))
    assert result.ok, result.message
    keep = mask == 0
    assert np.array_equal(result.pixels[keep], photo[keep])
    assert result.pixels.dtype == np.uint8 and result.pixels.shape == photo.shape
    assert result.provenance.to_json()["weights"][0]["file"] == "states_tf_places2.pth"
    assert DeepFillV2Method.working_size == 512 and DeepFillV2Method.uses_torch


def test_every_recipe_gives_a_finite_fill_of_the_right_shape() -> None:
    """Conventions only (no weights): each recipe on an identity-ish stand-in of its network."""

    class Echo(torch.nn.Module):
        def forward(self, x: torch.Tensor, *rest: Any) -> Any:
            return x[:, -3:]

    image = np.random.default_rng(0).random((50, 70, 3), dtype=np.float32)
    hole = np.zeros((50, 70), bool)
    hole[10:30, 20:40] = True
    for name in ("lama", "migan_256"):
        out = infer.attempt(infer.RECIPES[name], Echo(), image, hole, "cpu", 1.0)
        assert out.shape == image.shape and out.dtype == np.float32 and np.isfinite(out).all()
    # LaMa's first input channels are the image with the hole blanked; the echo returns them
    out = infer.attempt(infer.RECIPES["lama"], lambda x: x[:, :3], image, hole, "cpu", 1.0)
    assert np.allclose(out[~hole], image[~hole], atol=1e-6) and np.all(out[hole] == 0)


class _FakeCtx:
    def __init__(self, device: str) -> None:
        self.device, self.seed = device, 0
        self.loads: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.texts: list[str] = []

    def load_model(self, name: str, device: str) -> Any:
        self.loads.append((name, device))
        return object()

    def note(self, text: str) -> None:
        self.notes.append(text)

    def progress(self, fraction: float, text: str = "") -> None:
        self.texts.append(text)

    def preview(self, image: np.ndarray, text: str = "") -> None:
        pass

    def check_cancelled(self) -> None:
        pass


def _oom_on(devices: set[str], calls: list[tuple[str, float]]):
    def fake_attempt(recipe: Any, model: Any, image: np.ndarray, hole: np.ndarray, device: str,
                     scale: float) -> np.ndarray:
        calls.append((device, scale))
        if device in devices and (device != "cuda" or scale == 1.0 or "cuda-small" in devices):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return np.full(image.shape, 0.25, np.float32)
    return fake_attempt


def test_gpu_out_of_memory_retries_smaller_then_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    image = np.zeros((64, 64, 3), np.float32)
    hole = np.zeros((64, 64), bool)
    hole[10:20, 10:20] = True
    calls: list[tuple[str, float]] = []
    monkeypatch.setattr(infer, "attempt", _oom_on({"cuda", "cuda-small"}, calls))
    ctx = _FakeCtx("cuda")
    out = infer.run_network("lama", image, hole, ctx, "LaMa")
    assert calls == [("cuda", 1.0), ("cuda", 0.5), ("cpu", 1.0)]
    assert ctx.loads == [("lama", "cuda"), ("lama", "cuda"), ("lama", "cpu")]
    assert ctx.notes == ["the GPU ran out of memory: LaMa retried at 0.5x the working size",
                         "the GPU ran out of memory: LaMa ran on the CPU"]
    assert np.all(out[hole] == 0.25) and np.all(out[~hole] == 0)

    calls.clear()
    monkeypatch.setattr(infer, "attempt", _oom_on({"cuda"}, calls))
    infer.run_network("lama", image, hole, _FakeCtx("cuda"), "LaMa")
    assert calls == [("cuda", 1.0), ("cuda", 0.5)]  # the smaller size fitted: no CPU needed

    calls.clear()
    infer.run_network("migan_512", image, hole, _FakeCtx("cuda"), "MI-GAN")
    assert calls == [("cuda", 1.0), ("cpu", 1.0)]  # fixed resolution: nothing smaller to try


def test_other_errors_and_a_cpu_out_of_memory_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    image = np.zeros((16, 16, 3), np.float32)
    hole = np.ones((16, 16), bool)
    calls: list[tuple[str, float]] = []
    monkeypatch.setattr(infer, "attempt", _oom_on({"cpu"}, calls))
    with pytest.raises(torch.cuda.OutOfMemoryError):
        infer.run_network("lama", image, hole, _FakeCtx("cpu"), "LaMa")
    assert calls == [("cpu", 1.0)]

    def broken(*args: Any) -> np.ndarray:
        raise ValueError("a bug")

    monkeypatch.setattr(infer, "attempt", broken)
    with pytest.raises(ValueError, match="a bug"):
        infer.run_network("lama", image, hole, _FakeCtx("cuda"), "LaMa")


def test_the_fill_result_says_when_it_fell_back_to_the_cpu(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _install_tiny(tmp_path)
    calls: list[tuple[str, float]] = []
    real_get = model_cache.ModelCache.get

    def get_anywhere(self: model_cache.ModelCache, name: str, device: str = "cpu") -> Any:
        return real_get(self, name, "cpu")  # this machine has no GPU to move the network to

    monkeypatch.setattr(model_cache.ModelCache, "get", get_anywhere)
    real_attempt = infer.attempt

    def oom_on_gpu(recipe: Any, model: Any, image: np.ndarray, hole: np.ndarray, device: str,
                   scale: float) -> np.ndarray:
        calls.append((device, scale))
        if device == "cuda":
            raise RuntimeError("CUDA error: out of memory")
        return real_attempt(recipe, model, image, hole, device, scale)

    monkeypatch.setattr(infer, "attempt", oom_on_gpu)
    result = run_fill(FillRequest(_photo(), _mask(), "tiny_learned"), device=DeviceChoice("cuda", "test GPU"))
    assert result.ok, result.message
    assert "the GPU ran out of memory: Tiny learned ran on the CPU" in result.message
    assert calls[-1] == ("cpu", 1.0)


def test_listing_learned_methods_does_not_import_torch() -> None:
    script = ("import sys\n"
              "from inpaint_studio.methods import registry\n"
              "from inpaint_studio.methods.learned.methods import ALL_METHODS\n"
              "for cls in ALL_METHODS:\n"
              "    registry.register(cls); registry.info(cls.name)\n"
              "from inpaint_studio.runtime.weights import weights_status\n"
              "assert not weights_status('lama').installed\n"
              "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert LamaMethod.weights == ("lama",)
