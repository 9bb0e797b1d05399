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
        out = infer.attempt(infer.RECIPES[name], Echo(), image, hole, "cpu")
        assert out.shape == image.shape and out.dtype == np.float32 and np.isfinite(out).all()
    # LaMa's first input channels are the image with the hole blanked; the echo returns them
    out = infer.attempt(infer.RECIPES["lama"], lambda x: x[:, :3], image, hole, "cpu")
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


def _oom_above(max_pixels: dict[str, int], calls: list[tuple[str, tuple[int, int]]]) -> Any:
    """A stand-in for the network call that runs out of memory on inputs larger than a device allows."""
    real = infer._infer

    def fake_infer(recipe: Any, model: Any, image: np.ndarray, hole: np.ndarray, device: str) -> np.ndarray:
        calls.append((device, hole.shape))
        if hole.size > max_pixels.get(device, 1 << 40):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(recipe, model, image, hole, device.replace("cuda", "cpu"))
    return fake_infer


class _PerPixel(torch.nn.Module):
    """Purely local network (1x1 convolution): tiling must not change its answer at all."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(4, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(x) + x[:, :3] * 3.0)


class _NetCtx(_FakeCtx):
    def __init__(self, device: str, net: torch.nn.Module) -> None:
        super().__init__(device)
        self.net = net
        self.devices: list[str] = []

    def load_model(self, name: str, device: str) -> Any:
        self.loads.append((name, device))
        return self.net

    def report_device(self, device: str) -> None:
        self.devices.append(device)


def _scene(h: int = 96, w: int = 120) -> tuple[np.ndarray, np.ndarray]:
    image = np.random.default_rng(1).random((h, w, 3), dtype=np.float32)
    hole = np.zeros((h, w), bool)
    hole[5:90, 10:20] = True  # a tall stroke: spans tile rows, misses most tile columns
    hole[40:60, 30:115] = True  # a wide one crossing every tile seam
    return image, hole


def test_gpu_out_of_memory_retries_on_tiles_equal_to_the_untiled_fill(
        monkeypatch: pytest.MonkeyPatch) -> None:
    image, hole = _scene()
    net = _PerPixel()
    expected = infer.run_network("lama", image, hole, _NetCtx("cpu", net), "LaMa")
    calls: list[tuple[str, tuple[int, int]]] = []
    monkeypatch.setattr(infer, "_infer", _oom_above({"cuda": 3000}, calls))
    ctx = _NetCtx("cuda", net)
    out = infer.run_network("lama", image, hole, ctx, "LaMa")
    assert calls[0] == ("cuda", (96, 120))  # the whole crop first
    assert calls[1] == ("cuda", (56, 72))  # a 2x2 tile (padded to a multiple of 8): still too big
    tiles = calls[2:]
    assert tiles and all(device == "cuda" and h * w <= 3000 for device, (h, w) in tiles)
    assert len(tiles) < 9  # 3x3: only the tiles holding hole pixels ran
    assert ctx.notes == ["the GPU ran out of memory: LaMa retried on 2x2 tiles",
                         "the GPU ran out of memory: LaMa retried on 3x3 tiles"]
    assert ctx.devices == ["cuda"]
    np.testing.assert_allclose(out, expected, atol=1e-5)  # a purely local net: no seam anywhere
    assert np.array_equal(out[~hole], image[~hole])
    # the hole alone sees only blanked pixels; compare the whole blended network output too
    dotted = hole.copy()
    dotted[::16, ::16] = True  # a hole pixel in every tile, so every tile runs
    whole = infer.attempt(infer.RECIPES["lama"], net, image, dotted, "cpu")
    for grid in (2, 3):
        tiled = infer.attempt_tiled(infer.RECIPES["lama"], net, image, dotted, "cpu", grid)
        np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_feathered_tiles_leave_no_seam_for_a_net_that_sees_its_tile() -> None:
    """A net whose answer depends on where a pixel sits in its input still blends without a step at seams."""

    class TileRamp(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.linspace(0, 1, x.shape[3]).view(1, 1, 1, -1).expand(1, 3, x.shape[2], -1)

    image = np.zeros((64, 64, 3), np.float32)
    hole = np.ones((64, 64), bool)
    out = infer.attempt_tiled(infer.RECIPES["lama"], TileRamp(), image, hole, "cpu", 2)
    row = out[32, :, 0]
    # each tile ramps 0..1 across itself; hard seams would jump by ~1 where tiles meet
    assert np.abs(np.diff(row)).max() < 0.1


def test_tiles_that_also_run_out_of_memory_fall_back_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    image, hole = _scene()
    calls: list[tuple[str, tuple[int, int]]] = []
    monkeypatch.setattr(infer, "_infer", _oom_above({"cuda": 100}, calls))
    ctx = _NetCtx("cuda", _PerPixel())
    out = infer.run_network("lama", image, hole, ctx, "LaMa")
    assert calls[-1] == ("cpu", (96, 120))  # the whole crop, on the CPU
    assert ctx.loads[-1] == ("lama", "cpu")
    assert ctx.notes[-1] == "the GPU ran out of memory: LaMa ran on the CPU"
    assert ctx.devices == ["cpu"]
    assert np.array_equal(out[~hole], image[~hole])

    calls.clear()
    ctx = _NetCtx("cuda", _PerPixel())
    infer.run_network("migan_512", image, hole, ctx, "MI-GAN")
    assert [d for d, _ in calls] == ["cuda", "cpu"]  # fixed resolution: tiles would not save memory
    assert ctx.notes == ["the GPU ran out of memory: MI-GAN ran on the CPU"]


def test_other_errors_and_a_cpu_out_of_memory_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    image = np.zeros((16, 16, 3), np.float32)
    hole = np.ones((16, 16), bool)
    calls: list[tuple[str, tuple[int, int]]] = []
    monkeypatch.setattr(infer, "_infer", _oom_above({"cpu": 1}, calls))
    with pytest.raises(torch.cuda.OutOfMemoryError):
        infer.run_network("lama", image, hole, _NetCtx("cpu", _PerPixel()), "LaMa")
    assert calls == [("cpu", (16, 16))]

    def broken(*args: Any) -> np.ndarray:
        raise ValueError("a bug")

    monkeypatch.setattr(infer, "_infer", broken)
    with pytest.raises(ValueError, match="a bug"):
        infer.run_network("lama", image, hole, _NetCtx("cuda", _PerPixel()), "LaMa")


def test_the_fill_result_says_when_it_fell_back_to_the_cpu(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _install_tiny(tmp_path)
    real_get = model_cache.ModelCache.get

    def get_anywhere(self: model_cache.ModelCache, name: str, device: str = "cpu") -> Any:
        return real_get(self, name, "cpu")  # this machine has no GPU to move the network to

    monkeypatch.setattr(model_cache.ModelCache, "get", get_anywhere)
    calls: list[tuple[str, tuple[int, int]]] = []
    monkeypatch.setattr(infer, "_infer", _oom_above({"cuda": 1}, calls))
    result = run_fill(FillRequest(_photo(), _mask(), "tiny_learned"), device=DeviceChoice("cuda", "test GPU"))
    assert result.ok, result.message
    assert "the GPU ran out of memory: Tiny learned retried on 2x2 tiles" in result.message
    assert "the GPU ran out of memory: Tiny learned ran on the CPU" in result.message
    assert calls[-1][0] == "cpu"
    record = result.provenance.to_json()
    assert record["device"] == "cpu"
    assert "fallback from cuda" in record["device_reason"]

    calls.clear()
    monkeypatch.setattr(infer, "_infer", _oom_above({"cuda": 1 << 30}, calls))
    result = run_fill(FillRequest(_photo(), _mask(), "tiny_learned"), device=DeviceChoice("cuda", "test GPU"))
    assert result.ok and "out of memory" not in result.message
    assert result.provenance.to_json()["device"] == "cuda"


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
