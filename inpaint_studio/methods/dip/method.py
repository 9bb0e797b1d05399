"""The ``dip`` method: presets, parameters and the glue between the region strategy and the fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from inpaint_studio.methods.base import Method, RunContext, param
from inpaint_studio.methods.classical.diffusion import diffusion_fill

PRESETS = ("fast", "paper")
PAPER_NET_NAMES = ("vase", "kate", "library")
#: the notebook's iteration counts per published net
PAPER_ITERATIONS = {"vase": 5001, "kate": 6001, "library": 3001}
#: the notebook's reg_noise_std per published net (the library net's "param noise" is a no-op there)
PAPER_INPUT_NOISE = {"vase": 0.03, "kate": 0.03, "library": 0.0}

FAST_ITERATIONS = 300
FAST_TIME_LIMIT = 25.0
FAST_WORKING_SIZE = 192
FAST_INPUT_NOISE = 0.03
PAPER_WORKING_SIZE = 512


@dataclass(frozen=True)
class DipParams:
    preset: str = param(
        "fast", choices=PRESETS,
        help="fast: a light net with early stopping, tuned for a CPU (seconds). paper: the published "
             "inpainting networks and schedules (hours on a CPU; for a GPU or to compare with the paper).",
    )
    paper_net: str = param(
        "vase", choices=PAPER_NET_NAMES, label="Paper network",
        help="Which published network the paper preset uses: vase (no skips, meshgrid input; best for "
             "large holes), kate (skip net with 32-channel noise; text removal), library (depth-6 net).",
    )
    iterations: int = param(
        0, min=0, max=100_000, step=50,
        help="Optimisation steps per region; 0 uses the preset's (fast: 300; paper: 5001 / 6001 / 3001).",
    )
    time_limit: float = param(
        0.0, min=0.0, max=86_400.0, step=1.0, label="Time limit (s)",
        help="Stop a region after this many seconds; 0 uses the preset's (fast: 25 s; paper: none).",
    )
    working_size: int = param(
        0, min=0, max=4096, step=32,
        help="Longest side the network works at; larger regions are shrunk for it and only the hole is "
             "taken from the upscaled result. 0 uses the preset's (fast: 192; paper: 512).",
    )
    learning_rate: float = param(0.01, min=1e-5, max=1.0, step=0.001, help="Adam's learning rate.")
    input_noise: float = param(
        -1.0, min=-1.0, max=1.0, step=0.01,
        help="Std of the noise added to the network input each step (regularises); -1 uses the preset's "
             "(fast: 0.03; paper: the notebook's).",
    )
    preview_every: int = param(
        10, min=1, max=10_000, help="Preview every this many iterations (and at most every preview ms).")
    preview_ms: int = param(250, min=0, max=60_000, label="Preview ms",
                            help="Minimum milliseconds between previews.")
    match_edges: bool = param(
        True,
        help="Fast preset: correct the fill smoothly so it meets the known pixels at the hole's edge "
             "(removes the seam a briefly fitted, blurrier net leaves).",
    )
    keep_best: bool = param(
        True,
        help="Return the best output by the error on held-out known pixels near the hole (and stop when "
             "it no longer improves), instead of the last one.",
    )


def _shrink(image: np.ndarray, hole: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Shrink to longest side ``size`` (INTER_AREA); any hole coverage keeps a working pixel a hole."""
    h, w = hole.shape
    scale = size / max(h, w)
    if scale >= 1.0:
        return image, hole
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole.astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_AREA) > 0
    return small.reshape(out_h, out_w, 3), small_hole


def grow_fill(small: np.ndarray, image: np.ndarray, hole: np.ndarray, match_edges: bool = False
              ) -> np.ndarray:
    """Upscale a working-resolution fill and keep the crop's own pixels outside the hole.

    ``match_edges`` adds a smooth correction that makes the fill meet the known pixels exactly at the
    hole's edge (the residual on the known side is diffused into the hole, a cheap stand-in for
    Poisson blending): a briefly fitted net is blurrier than the photo, which otherwise shows as a seam.
    """
    h, w = hole.shape
    if small.shape[:2] != (h, w):
        small = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, 3)
    small = np.clip(small, 0.0, 1.0)
    if match_edges and hole.any() and not hole.all():
        residual = (image - small) * 0.5 + 0.5  # [-1, 1] -> [0, 1] for the diffusion fill
        correction = (diffusion_fill(residual, hole, 3.0, cv2.INPAINT_TELEA) - 0.5) * 2.0
        small = np.clip(small + correction, 0.0, 1.0)
    return np.where(hole[..., None], small, image).astype(np.float32)


def fit_settings(params: DipParams) -> Any:
    """The fit configuration a params instance stands for (imports torch)."""
    from inpaint_studio.methods.dip.fit import FitSettings
    from inpaint_studio.methods.dip.nets import FAST_NET, PAPER_NETS

    common = {"lr": params.learning_rate, "preview_every": params.preview_every,
              "preview_ms": float(params.preview_ms)}
    if params.preset == "paper":
        net = params.paper_net
        return FitSettings(
            net=PAPER_NETS[net], iterations=params.iterations or PAPER_ITERATIONS[net],
            time_limit=params.time_limit,
            input_noise=PAPER_INPUT_NOISE[net] if params.input_noise < 0 else params.input_noise,
            holdout=params.keep_best, keep_best=params.keep_best, **common)
    return FitSettings(
        net=FAST_NET, iterations=params.iterations or FAST_ITERATIONS,
        time_limit=params.time_limit or FAST_TIME_LIMIT,
        input_noise=FAST_INPUT_NOISE if params.input_noise < 0 else params.input_noise,
        lr_schedule="cosine", guess_weight=1.0, guess_fraction=0.3, ema=0.9,
        holdout=True, keep_best=params.keep_best, patience=100 if params.keep_best else 0, **common)


def working_size_for(params: DipParams) -> int:
    if params.working_size:
        return params.working_size
    return PAPER_WORKING_SIZE if params.preset == "paper" else FAST_WORKING_SIZE


def run_dip(image: np.ndarray, hole: np.ndarray, params: DipParams, ctx: RunContext,
            settings: Any = None, stats: Any = None) -> np.ndarray:
    """Fill ``hole`` of a float32 crop (any size) with DIP; ``settings`` overrides the preset's fit."""
    small, small_hole = _shrink(image, hole, working_size_for(params))
    ctx.check_cancelled()
    guess = diffusion_fill(small, small_hole, 5.0, cv2.INPAINT_NS)
    match = params.preset == "fast" and params.match_edges
    label = f"DIP {params.preset if params.preset == 'fast' else params.paper_net}"
    # the cheap fill is the iteration-0 preview: on screen before torch and the net are even loaded
    ctx.preview(grow_fill(guess, image, hole, match), f"{label}: iter 0 (initial fill)")

    from inpaint_studio.methods.dip.fit import fit

    settings = settings or fit_settings(params)

    def preview(working: np.ndarray, text: str) -> None:
        ctx.preview(grow_fill(working, image, hole, match), text)

    out = fit(small, small_hole, guess, settings, ctx, on_preview=preview, label=label, stats=stats)
    return grow_fill(out, image, hole, match)


class DeepImagePriorMethod(Method):
    name = "dip"
    label = "Deep Image Prior"
    description = ("An untrained network fitted to the photo fills the hole with matching structure; "
                   "no downloads, live previews (seconds with the fast preset).")
    Params: ClassVar[type] = DipParams
    iterative = True
    uses_torch = True
    # the region strategy shrinks larger crops to this; the fit shrinks further to params.working_size
    working_size = 1024

    def context_margin(self, params: Any) -> int:
        # the net learns what to paint from the surroundings: give it a generous ring
        return 48

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        return run_dip(image, hole, params, ctx)


__all__ = ["DeepImagePriorMethod", "DipParams", "fit_settings", "grow_fill", "run_dip"]
