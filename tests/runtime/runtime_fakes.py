"""Synthetic photos and fake methods shared by the runtime tests (registered by the ``fakes`` fixture)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from inpaint_studio.core.pixels import from_float
from inpaint_studio.methods.base import Method, RunContext, param

HOLE = (slice(20, 30), slice(30, 45))


def make_photo(dtype: type = np.uint8, height: int = 64, width: int = 80) -> np.ndarray:
    """Smooth gradients plus a fine pattern, with a magenta blob where the hole will be."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([xx / (width - 1), yy / (height - 1), ((xx + yy) % 16) / 15.0], axis=-1)
    image[HOLE] = (1.0, 0.0, 1.0)
    return from_float(image, dtype)


def make_mask(shape: tuple[int, ...] = (64, 80)) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    mask[HOLE] = 255
    return mask


def two_hole_mask(shape: tuple[int, ...] = (64, 80)) -> np.ndarray:
    """Two holes far enough apart to be two regions with a small context margin."""
    mask = np.zeros(shape[:2], dtype=np.uint8)
    mask[5:12, 5:12] = 255
    mask[50:58, 65:75] = 255
    return mask


@dataclass(frozen=True)
class SlowParams:
    iterations: int = param(100, min=1, max=1_000_000, help="steps")
    delay: float = param(0.0, min=0.0, max=1.0, help="seconds per step")


class SlowMethod(Method):
    """An iterative fake: each step checks cancel, reports progress and offers a preview."""

    name = "test-slow"
    label = "Slow fake"
    description = "test"
    Params: ClassVar[type] = SlowParams
    iterative = True
    steps_done: ClassVar[list[int]] = []

    def context_margin(self, params: Any) -> int:
        return 4

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        out = image.copy()
        done = 0
        try:
            for step in range(params.iterations):
                ctx.check_cancelled()
                out[hole] = (step + 1) / params.iterations * 0.5
                done = step + 1
                ctx.progress(done / params.iterations, f"step {done}")
                ctx.preview(out, f"step {done}")
                if params.delay:
                    time.sleep(params.delay)
        finally:
            type(self).steps_done.append(done)
        return out


class RaisingMethod(Method):
    name = "test-raise"
    label = "Raising fake"
    description = "test"

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        raise ValueError("boom")


class NoiseMethod(Method):
    """Fills the hole from both the seeded generator and numpy's global RNG."""

    name = "test-noise"
    label = "Noise fake"
    description = "test"

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        out = image.copy()
        rng = np.random.default_rng(ctx.seed)
        global_noise = np.random.random(out.shape).astype(np.float32)
        noise = rng.random(out.shape, dtype=np.float32) * 0.5 + global_noise * 0.5
        out[hole] = noise[hole]
        return out


class GateMethod(Method):
    """Blocks until the test opens its gate (cancellable meanwhile): for queue-order tests."""

    name = "test-gate"
    label = "Gate fake"
    description = "test"
    gate: ClassVar[threading.Event] = threading.Event()
    started: ClassVar[threading.Event] = threading.Event()
    runs: ClassVar[int] = 0

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        type(self).runs += 1
        type(self).started.set()
        deadline = time.monotonic() + 20.0  # never hang the suite if a test forgets to open the gate
        while not type(self).gate.wait(0.01):
            ctx.check_cancelled()
            if time.monotonic() > deadline:
                raise RuntimeError("gate never opened")
        out = image.copy()
        out[hole] = 0.25
        return out


class TorchNoiseMethod(Method):
    """A torch method: draws from torch's global generator on ``ctx.device``."""

    name = "test-torch"
    label = "Torch fake"
    description = "test"
    uses_torch = True
    devices_seen: ClassVar[list[str]] = []

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        import torch

        type(self).devices_seen.append(ctx.device)
        noise = torch.rand(image.shape, device=ctx.device).cpu().numpy()
        out = image.copy()
        out[hole] = noise[hole]
        return out


FAKES: tuple[type[Method], ...] = (SlowMethod, RaisingMethod, NoiseMethod, GateMethod, TorchNoiseMethod)
