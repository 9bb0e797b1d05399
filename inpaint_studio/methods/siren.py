"""SIREN: a sine-activated coordinate network fitted to the known pixels (Sitzmann et al. 2020).

The image is modelled as a function (x, y) -> RGB by an MLP with sin activations (omega_0 = 30 and
the paper's initialisation), fitted to the known pixels only; the hole is whatever the function
says there. A plain SIREN interpolates known pixels superbly but rings inside large holes (nothing
constrains its high frequencies there), so the useful variants are offered and measured:
random Fourier features with a ReLU MLP (Tancik et al. 2020), a coarse-to-fine frequency schedule
(low frequencies first, so the hole is settled before detail is allowed), and a smoothness prior
on the output's finite differences inside the hole. torch is imported only inside ``run``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from inpaint_studio.methods.base import Method, RunContext, param
from inpaint_studio.methods.classical.diffusion import diffusion_fill
from inpaint_studio.methods.dip.holdout import holdout_mask
from inpaint_studio.methods.dip.method import grow_fill
from inpaint_studio.methods.torch_threads import on_free_cores

ENCODINGS = ("siren", "fourier")
#: known pixels per optimisation step
_BATCH = 4096


@dataclass(frozen=True)
class SirenParams:
    encoding: str = param(
        "siren", choices=ENCODINGS,
        help="siren: sine activations (omega_0 = 30); fourier: random Fourier features with a ReLU MLP.")
    coarse_to_fine: bool = param(
        True, label="Coarse to fine",
        help="Raise the frequencies the network may use over the first half of the fit (settles the hole "
             "before fine detail).")
    smoothness: float = param(
        1.0, min=0.0, max=1000.0, step=0.1,
        help="Weight of a penalty on the output's pixel-to-pixel changes inside the hole (0: plain fit).")
    hidden: int = param(128, min=16, max=512, step=16, help="Width of the hidden layers.", advanced=True)
    layers: int = param(3, min=1, max=8, help="Number of hidden layers.", advanced=True)
    iterations: int = param(600, min=1, max=100_000, step=50, help="Optimisation steps per region.")
    time_limit: float = param(10.0, min=0.0, max=86_400.0, step=1.0, label="Time limit (s)", auto="none",
                              help="Stop a region after this many seconds (0: no limit).")
    working_size: int = param(
        128, advanced=True, min=16, max=2048, step=16,
        help="Longest side the network is fitted at; only the hole is taken from the upscaled result.")
    learning_rate: float = param(
        0.0, min=0.0, max=1.0, step=0.0001, auto="encoding's",
        help="Adam's learning rate; 0 uses the encoding's (siren 1e-4, fourier 1e-3).", advanced=True)
    preview_every: int = param(10, advanced=True, min=1, max=10_000,
                               help="Preview every this many iterations (and at most every preview ms).")
    preview_ms: int = param(250, min=0, max=60_000, label="Preview ms",
                            help="Minimum milliseconds between previews.", advanced=True)
    match_edges: bool = param(
        True, advanced=True,
        help="Correct the fill smoothly so it meets the known pixels at the hole's edge (no seam).")
    keep_best: bool = param(True, help="Return the best output by the error on held-out known pixels near "
                                       "the hole, instead of the last one.")


def _build(params: SirenParams, generator: Any) -> Any:
    """The coordinate network (imports torch)."""
    import torch
    from torch import nn

    class Sine(nn.Module):
        def __init__(self, in_f: int, out_f: int, omega: float, first: bool) -> None:
            super().__init__()
            self.omega = omega
            self.scale = 1.0  # the coarse-to-fine schedule lowers the first layer's frequencies
            self.linear = nn.Linear(in_f, out_f)
            bound = 1.0 / in_f if first else math.sqrt(6.0 / in_f) / omega
            with torch.no_grad():
                self.linear.weight.uniform_(-bound, bound, generator=generator)
                b = 1.0 / math.sqrt(in_f)
                self.linear.bias.uniform_(-b, b, generator=generator)

        def forward(self, x: Any) -> Any:
            return torch.sin(self.omega * self.scale * self.linear(x))

    class Fourier(nn.Module):
        def __init__(self, features: int, sigma: float) -> None:
            super().__init__()
            basis = torch.randn(2, features, generator=generator) * sigma
            order = basis.norm(dim=0).argsort()  # lowest frequencies first, for the schedule
            self.register_buffer("basis", basis[:, order])
            self.register_buffer("weights", torch.ones(features))

        def forward(self, x: Any) -> Any:
            proj = 2 * math.pi * x @ self.basis
            w = self.weights
            return torch.cat([torch.cos(proj) * w, torch.sin(proj) * w], dim=-1)

    omega = 30.0
    if params.encoding == "siren":
        mods: list[nn.Module] = [Sine(2, params.hidden, omega, True)]
        mods += [Sine(params.hidden, params.hidden, omega, False) for _ in range(params.layers - 1)]
        last = nn.Linear(params.hidden, 3)
        bound = math.sqrt(6.0 / params.hidden) / omega
        with torch.no_grad():
            last.weight.uniform_(-bound, bound, generator=generator)
            last.bias.zero_()
        mods.append(last)
        return nn.Sequential(*mods)
    features = params.hidden
    mods = [Fourier(features, sigma=10.0), nn.Linear(2 * features, params.hidden), nn.ReLU()]
    for _ in range(params.layers - 1):
        mods += [nn.Linear(params.hidden, params.hidden), nn.ReLU()]
    mods.append(nn.Linear(params.hidden, 3))
    net = nn.Sequential(*mods)
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                b = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-b, b, generator=generator)
                m.bias.uniform_(-b, b, generator=generator)
    return net


def _set_schedule(net: Any, params: SirenParams, progress: float) -> None:
    """Coarse to fine: frequency share ramps from 0.2 to 1 over the first half of the fit."""
    share = 1.0 if not params.coarse_to_fine else min(1.0, 0.2 + 0.8 * progress / 0.5)
    first = net[0]
    if params.encoding == "siren":
        first.scale = share
        return
    n = first.weights.numel()
    # BARF-style: feature k (sorted by frequency) fades in as the share passes k / n
    pos = share * n - np.arange(n)
    ramp = np.clip(pos, 0.0, 1.0)
    first.weights.copy_(first.weights.new_tensor((1 - np.cos(ramp * math.pi)) / 2))


def _shrink(image: np.ndarray, hole: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = hole.shape
    scale = size / max(h, w)
    if scale >= 1.0:
        return image, hole
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA).reshape(out_h, out_w, 3)
    small_hole = cv2.resize(hole.astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_AREA) > 0
    return small, small_hole


def fit_siren(image: np.ndarray, hole: np.ndarray, params: SirenParams, ctx: RunContext,
              stats: dict[str, Any] | None = None) -> np.ndarray:
    """Fit at working size and return the crop with the hole filled (float32, input size).

    The iteration-0 preview is a cheap diffusion fill, shown before torch is even imported: in a fresh
    process the first optimiser step alone costs seconds (Adam's first use imports torch._dynamo).
    """
    stats = stats if stats is not None else {}
    t0 = time.perf_counter()
    small, small_hole = _shrink(image, hole, params.working_size)
    ctx.check_cancelled()
    guess = diffusion_fill(small, small_hole, 5.0, cv2.INPAINT_NS)
    ctx.preview(grow_fill(guess, image, hole, params.match_edges),
                f"SIREN {params.encoding}: iter 0 (initial fill)")
    with on_free_cores():
        return _fit(image, hole, small, small_hole, params, ctx, stats, t0)


def _fit(image: np.ndarray, hole: np.ndarray, small: np.ndarray, small_hole: np.ndarray,
         params: SirenParams, ctx: RunContext, stats: dict[str, Any], t0: float) -> np.ndarray:
    """The optimisation itself, after the iteration-0 preview (see :func:`fit_siren`)."""
    import torch

    device = torch.device(ctx.device)
    h, w = small_hole.shape
    held = holdout_mask(small_hole, np.random.default_rng(ctx.seed)) if params.keep_best \
        else np.zeros_like(small_hole)
    train = ~small_hole & ~held

    side = max(h, w)
    ys = (np.arange(h, dtype=np.float32) * 2 + 1 - h) / side
    xs = (np.arange(w, dtype=np.float32) * 2 + 1 - w) / side
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (h, w, 2) as (x, y), spacing 2/side
    step = 2.0 / side
    coords = torch.from_numpy(grid.reshape(-1, 2)).to(device)
    target = torch.from_numpy(np.ascontiguousarray(small.reshape(-1, 3) * 2 - 1, dtype=np.float32)).to(device)
    train_idx = torch.from_numpy(np.flatnonzero(train.ravel())).to(device)
    held_idx = torch.from_numpy(np.flatnonzero(held.ravel())).to(device)
    hole_idx = torch.from_numpy(np.flatnonzero(small_hole.ravel())).to(device)

    generator = torch.Generator().manual_seed(ctx.seed)
    net = _build(params, generator).to(device)
    lr = params.learning_rate or (1e-4 if params.encoding == "siren" else 1e-3)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    dx = torch.tensor([step, 0.0], device=device)
    dy = torch.tensor([0.0, step], device=device)

    def render() -> np.ndarray:
        with torch.no_grad():
            out = net(coords).view(h, w, 3).cpu().numpy()
        return np.clip(out * 0.5 + 0.5, 0.0, 1.0).astype(np.float32)

    best_score, best_state, best_it, best_progress = math.inf, None, -1, 1.0
    last_preview_it, last_preview_t = 0, time.perf_counter()
    iterations = params.iterations
    it = 0
    for it in range(1, iterations + 1):
        ctx.check_cancelled()
        # schedules follow the iteration count only: the clock would make the result non-deterministic
        progress = (it - 1) / iterations
        _set_schedule(net, params, progress)
        optimizer.zero_grad(set_to_none=True)
        # a random batch of known pixels per step: full batches cost seconds per step on a CPU
        batch = train_idx[torch.randint(len(train_idx), (min(_BATCH, len(train_idx)),), generator=generator)
                          .to(device)]
        pred = net(coords[batch])
        loss = ((pred - target[batch]) ** 2).mean()
        total = loss
        if params.smoothness > 0 and len(hole_idx):
            pick = torch.randint(len(hole_idx), (min(_BATCH // 4, len(hole_idx)),), generator=generator)
            c = coords[hole_idx[pick.to(device)]]
            f0, fx, fy = net(c), net(c + dx), net(c + dy)
            total = total + params.smoothness * (((fx - f0) ** 2).mean() + ((fy - f0) ** 2).mean())
        total.backward()
        optimizer.step()
        loss_value = float(loss.detach()) / 4.0  # in [0, 1] units
        text = f"SIREN {params.encoding}: iter {it}/{iterations} · " \
               f"{it / max(1e-9, time.perf_counter() - t0):.1f} it/s · loss {loss_value:.4f}"
        if len(held_idx) and (it % 5 == 0 or it == iterations):
            with torch.no_grad():
                score = float(((net(coords[held_idx]) - target[held_idx]) ** 2).mean()) / 4.0
            if score < best_score:
                # keep the weights, not a rendering: rendering every pixel costs more than a step
                best_score, best_it, best_progress = score, it, progress
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elapsed = time.perf_counter() - t0
        fraction = it / iterations
        if params.time_limit > 0:
            fraction = max(fraction, elapsed / params.time_limit)
        ctx.progress(min(1.0, fraction), text)
        now = time.perf_counter()
        waited_ms = (now - last_preview_t) * 1000
        if it - last_preview_it >= params.preview_every and waited_ms >= params.preview_ms:
            last_preview_it, last_preview_t = it, now
            ctx.preview(grow_fill(render(), image, hole, params.match_edges), text)
        if params.time_limit > 0 and elapsed >= params.time_limit:
            break
    ctx.check_cancelled()
    stats.update(iterations=it, best_iteration=best_it, seconds=time.perf_counter() - t0)
    if params.keep_best and best_state is not None:
        _set_schedule(net, params, best_progress)  # the frequencies it was scored with
        net.load_state_dict(best_state)
    out = render()
    return grow_fill(out, image, hole, params.match_edges)


class SirenMethod(Method):
    name = "siren"
    label = "SIREN (coordinate network)"
    description = ("A sine-activated network fitted to the known pixels' coordinates; smooth fills, "
                   "no downloads, live previews.")
    Params: ClassVar[type] = SirenParams
    iterative = True
    uses_torch = True
    working_size = 1024

    def context_margin(self, params: Any) -> int:
        return 32

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        return fit_siren(image, hole, params, ctx)
