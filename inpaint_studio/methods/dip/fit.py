"""The fitting loop of Deep Image Prior, with the levers that make it usable on a CPU.

Imported lazily (it imports torch). One call fits one generator to the known pixels of one
working-resolution crop and returns its fill. Around the paper's plain loop (Adam on the masked MSE,
a fixed input perturbed by fresh noise every step) it adds, each switchable so its effect can be
measured (benchmarks/dip_siren_eval.py --levers):

- an initial guess (a cheap diffusion fill) that the hole is pulled towards early on, with a weight
  that decays to zero, so the net starts from a plausible fill instead of grey;
- a cosine learning-rate schedule;
- an exponential moving average of the outputs (the perturbed input makes single outputs noisy);
- held-out known pixels: small blocks in a ring around the hole are left out of the loss, and their
  error scores the (averaged) output, which is a proxy for the hole's error. The best-scoring output is
  kept and the run stops early when the score has not improved for a while;
- channels-last memory layout, bf16 autocast on the CPU and fp16 autocast on CUDA;
- only the cores other programs leave free (``torch_threads``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch  # noqa: TID253 - this module is imported only inside DeepImagePriorMethod.run

from inpaint_studio.methods.base import RunContext
from inpaint_studio.methods.dip.holdout import holdout_mask
from inpaint_studio.methods.dip.nets import SkipConfig, SkipNet, make_input
from inpaint_studio.methods.torch_threads import on_free_cores


@dataclass(frozen=True)
class FitSettings:
    """Everything one fit needs besides the data."""

    net: SkipConfig
    iterations: int
    #: seconds; 0 = no limit
    time_limit: float = 0.0
    lr: float = 0.01
    #: "constant" or "cosine" (decays to lr * lr_final over the run)
    lr_schedule: str = "constant"
    lr_final: float = 0.1
    #: std of the fresh Gaussian noise added to the fixed input every step (the paper's reg_noise_std)
    input_noise: float = 0.03
    #: weight of the initial-guess term in the hole at the start (0: the paper's loss only)
    guess_weight: float = 0.0
    #: fraction of the iterations over which that weight decays linearly to ``guess_floor``
    guess_fraction: float = 0.3
    #: weight the initial-guess term keeps for the rest of the run (a weak prior on the initial fill)
    guess_floor: float = 0.0
    #: decay of the exponential moving average of outputs (0: no averaging)
    ema: float = 0.0
    #: hold out known pixels near the hole to score outputs
    holdout: bool = False
    #: return the best output by the held-out score rather than the last
    keep_best: bool = False
    #: stop when the held-out score has not improved for this many iterations (0: never)
    patience: int = 0
    #: never stop before this fraction of the iterations
    min_fraction: float = 0.25
    preview_every: int = 10
    preview_ms: float = 250.0
    channels_last: bool = False
    bf16_cpu: bool = False
    amp_cuda: bool = True


@dataclass
class FitStats:
    """What happened during a fit (for progress texts, benchmarks and tests)."""

    iterations: int = 0
    seconds: float = 0.0
    best_iteration: int = -1
    best_score: float = math.inf
    stopped_early: bool = False
    losses: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    preview_iterations: list[int] = field(default_factory=list)


def _padded(array: np.ndarray, multiple: int, minimum: int) -> np.ndarray:
    """Mirror-pad bottom/right to sides that divide by ``multiple`` and are at least ``minimum``."""
    h, w = array.shape[:2]
    ph, pw = max((-h) % multiple, minimum - h), max((-w) % multiple, minimum - w)
    if not ph and not pw:
        return array
    pads = ((0, ph), (0, pw)) + ((0, 0),) * (array.ndim - 2)
    return np.pad(array, pads, mode="symmetric")


def _to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    if image.ndim == 2:
        image = image[..., None]
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))[None].to(device)


def _to_numpy(tensor: torch.Tensor, height: int, width: int) -> np.ndarray:
    return tensor[0, :, :height, :width].float().permute(1, 2, 0).cpu().numpy().astype(np.float32)


class _Throttle:
    """A preview is due when N iterations *and* T ms have passed since the last one."""

    def __init__(self, every: int, ms: float) -> None:
        self.every, self.seconds = max(1, every), ms / 1000.0
        self.last_iteration, self.last_time = 0, time.perf_counter()

    def due(self, iteration: int) -> bool:
        now = time.perf_counter()
        if iteration - self.last_iteration >= self.every and now - self.last_time >= self.seconds:
            self.last_iteration, self.last_time = iteration, now
            return True
        return False


def fit(image: np.ndarray, hole: np.ndarray, guess: np.ndarray, settings: FitSettings, ctx: RunContext,
        **kwargs) -> np.ndarray:
    """:func:`fit_on` on the cores other programs leave free (``torch_threads``)."""
    with on_free_cores():
        return fit_on(image, hole, guess, settings, ctx, **kwargs)


def fit_on(
    image: np.ndarray,
    hole: np.ndarray,
    guess: np.ndarray,
    settings: FitSettings,
    ctx: RunContext,
    *,
    on_preview=None,
    label: str = "DIP",
    stats: FitStats | None = None,
) -> np.ndarray:
    """Fit a generator to ``image`` outside ``hole`` (working resolution) and return its output.

    ``guess`` is the initial fill the guess term pulls the hole towards (the caller shows it as the
    iteration-0 preview). ``on_preview(image_f32, text)`` receives working-resolution outputs, monotone in
    iteration. ``ctx.check_cancelled`` is called every iteration.
    """
    stats = stats if stats is not None else FitStats()
    t0 = time.perf_counter()
    device = torch.device(ctx.device)
    cfg = settings.net
    height, width = hole.shape
    rng = np.random.default_rng(ctx.seed)
    held = holdout_mask(hole, rng) if settings.holdout else np.zeros_like(hole)
    use_holdout = bool(held.any())


    multiple = 2 ** cfg.scales
    # the coarsest scale must stay wider than its reflection padding
    minimum = multiple * (max(cfg.filter_down, cfg.filter_up) // 2 + 1)
    known = ~hole
    train = (known & ~held).astype(np.float32)
    target = np.where(hole[..., None], guess, image).astype(np.float32)
    target_t = _to_tensor(_padded(target, multiple, minimum), device)
    pad_h, pad_w = target_t.shape[2], target_t.shape[3]

    def plane(mask: np.ndarray) -> torch.Tensor:
        full = np.zeros((pad_h, pad_w), dtype=np.float32)
        full[:height, :width] = mask
        return torch.from_numpy(full)[None, None].to(device)

    train_t, hole_t, held_t = plane(train), plane(hole.astype(np.float32)), plane(held.astype(np.float32))
    train_n = float(train.sum()) * 3.0
    hole_n = max(1.0, float(hole.sum()) * 3.0)
    held_n = max(1.0, float(held.sum()) * 3.0)

    generator = torch.Generator().manual_seed(ctx.seed)
    torch.manual_seed(ctx.seed)
    net = SkipNet(cfg)
    z = make_input(cfg, pad_h, pad_w, generator)
    noise_gen = torch.Generator().manual_seed(ctx.seed + 1)
    memory = torch.channels_last if settings.channels_last else torch.contiguous_format
    net = net.to(device=device, memory_format=memory)
    z = z.to(device=device).contiguous(memory_format=memory)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    iterations = max(1, settings.iterations)

    if device.type == "cuda" and settings.amp_cuda:
        autocast_dtype, autocast_device = torch.float16, "cuda"
    elif device.type == "cpu" and settings.bf16_cpu:
        autocast_dtype, autocast_device = torch.bfloat16, "cpu"
    else:
        autocast_dtype, autocast_device = None, device.type
    scaler = torch.amp.GradScaler("cuda") if autocast_dtype is torch.float16 else None

    throttle = _Throttle(settings.preview_every, settings.preview_ms)
    ema: torch.Tensor | None = None
    best: torch.Tensor | None = None
    last_out: torch.Tensor | None = None
    rate = 0.0
    it = 0
    for it in range(1, iterations + 1):
        ctx.check_cancelled()
        # schedules follow the iteration count only (a clock-driven schedule broke same-seed-same-output);
        # the time limit just stops the run
        frac = (it - 1) / iterations
        if settings.lr_schedule == "cosine":
            scale = settings.lr_final + (1 - settings.lr_final) * 0.5 * (1 + math.cos(math.pi * frac))
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * scale
        net_in = z
        if settings.input_noise > 0:
            noise = torch.randn(z.shape, generator=noise_gen).to(device)
            net_in = z + settings.input_noise * noise.contiguous(memory_format=memory)
        optimizer.zero_grad(set_to_none=True)
        if autocast_dtype is not None:
            with torch.autocast(autocast_device, dtype=autocast_dtype):
                out = net(net_in)
            out = out.float()
        else:
            out = net(net_in)
        sq = (out - target_t) ** 2
        loss = (sq * train_t).sum() / train_n
        weight = settings.guess_floor
        if settings.guess_weight > 0 and settings.guess_fraction > 0:
            ramp = max(0.0, 1.0 - frac / settings.guess_fraction)
            weight = max(weight, settings.guess_floor + (settings.guess_weight - settings.guess_floor) * ramp)
        total = loss + weight * (sq * hole_t).sum() / hole_n if weight > 0 else loss
        if scaler is not None:
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            total.backward()
            optimizer.step()

        with torch.no_grad():
            out = out.detach()
            if settings.ema > 0:
                ema = out.clone() if ema is None else ema.mul_(settings.ema).add_(out, alpha=1 - settings.ema)
                current = ema
            else:
                current = out
            last_out = current
            loss_value = float(loss.detach())
            stats.losses.append(loss_value)
            if use_holdout:
                score = float((((current - target_t) ** 2) * held_t).sum()) / held_n
                stats.scores.append(score)
                if score < stats.best_score:
                    stats.best_score, stats.best_iteration = score, it
                    if settings.keep_best:
                        best = current.clone()
        elapsed = time.perf_counter() - t0
        rate = it / elapsed if elapsed > 0 else 0.0
        stats.iterations = it
        text = f"{label}: iter {it}/{iterations} · {rate:.1f} it/s · loss {loss_value:.4f}"
        if use_holdout:
            text += f" · held-out {stats.scores[-1]:.4f}"
        fraction = it / iterations
        if settings.time_limit > 0:
            fraction = max(fraction, elapsed / settings.time_limit)
        ctx.progress(min(1.0, fraction), text)
        if on_preview is not None and throttle.due(it):
            on_preview(_to_numpy(current, height, width), text)
            stats.preview_iterations.append(it)
        if settings.time_limit > 0 and elapsed >= settings.time_limit:
            break
        if (settings.patience > 0 and use_holdout and it >= settings.min_fraction * iterations
                and it - stats.best_iteration >= settings.patience):
            stats.stopped_early = True
            break

    ctx.check_cancelled()
    stats.seconds = time.perf_counter() - t0
    chosen = best if (settings.keep_best and best is not None) else last_out
    assert chosen is not None
    return _to_numpy(chosen, height, width)
