"""The ``dip`` method: presets, parameters and the glue between the region strategy and the fit."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from inpaint_studio.methods.base import Method, RunContext, param
from inpaint_studio.methods.classical.diffusion import diffusion_fill, harmonic_fill
from inpaint_studio.methods.dip.budget import FillBudget

PRESETS = ("fast", "paper")
PAPER_NET_NAMES = ("vase", "kate", "library")
INITIAL_FILLS = ("patchmatch", "diffusion")
#: the notebook's iteration counts per published net
PAPER_ITERATIONS = {"vase": 5001, "kate": 6001, "library": 3001}
#: the notebook's reg_noise_std per published net (the library net's "param noise" is a no-op there)
PAPER_INPUT_NOISE = {"vase": 0.03, "kate": 0.03, "library": 0.0}

FAST_ITERATIONS = 300
#: seconds for a whole fill (all regions, split by hole area); the content-aware start and the
#: upscaling come on top, so a Kodak photo stays under 30 s
FAST_TIME_LIMIT = 25.0
FAST_WORKING_SIZE = 192
#: a region left with less than this of the fill's budget keeps its initial fill
MIN_FIT_SECONDS = 1.0
#: low-frequency consensus in the final hole: shares of the low-passed content-aware (PatchMatch) fill
#: and of the diffusion (NS) fill; the net's low-passed fill gets the rest (0.4). Hole-PSNR rewards the
#: mean, and the three fills' errors are partly independent, so their weighted mean is closer than any
#: one: +0.07 to +0.53 dB over net 0.5 / PatchMatch 0.5 at equal iterations and detail on Kodak 01-12
#: object and medium masks (the net is best on strokes, NS on large smooth holes: a compromise, not a
#: fit to 6 photos; NS lowers texture, hence the detail default 1.2)
PATCHMATCH_SHARE = 0.3
DIFFUSION_SHARE = 0.3
ANCHOR_SHARE = PATCHMATCH_SHARE + DIFFUSION_SHARE
#: the shares when several content-aware fills are averaged (``consensus_fills`` > 1): their mean is
#: closer than one fill, so it gets more of the mix (net 0.2, content-aware 0.6, diffusion 0.2; chosen
#: offline on Kodak 01-06 object and medium masks, checked on 07-12)
ENSEMBLE_PATCHMATCH_SHARE = 0.6
ENSEMBLE_DIFFUSION_SHARE = 0.2
#: extra consensus fills start only while less than this share of the region's time is spent
CONSENSUS_TIME_SHARE = 0.4
#: weight the fast fit keeps on its initial fill in the hole after the decay (a weak prior)
FAST_GUESS_FLOOR = 0.1
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
        0, min=0, max=100_000, step=50, auto="preset's",
        help="Optimisation steps per region; 0 uses the preset's (fast: 300; paper: 5001 / 6001 / 3001).",
    )
    time_limit: float = param(
        0.0, min=0.0, max=86_400.0, step=1.0, label="Time limit (s)", auto="preset's",
        help="Seconds for the whole fill, shared by its regions in proportion to their hole area; 0 uses "
             "the preset's (fast: 25 s; paper: none).",
    )
    working_size: int = param(
        0, min=0, max=4096, step=32, auto="preset's",
        help="Longest side the network works at; larger regions are shrunk for it and only the hole is "
             "taken from the upscaled result. 0 uses the preset's (fast: 192; paper: 512).", advanced=True,
    )
    learning_rate: float = param(
        0.01, advanced=True, min=1e-5, max=1.0, step=0.001, help="Adam's learning rate.")
    input_noise: float = param(
        -1.0, min=-1.0, max=1.0, step=0.01, auto="preset's",
        help="Std of the noise added to the network input each step (regularises); -1 uses the preset's "
             "(fast: 0.03; paper: the notebook's).", advanced=True,
    )
    preview_every: int = param(
        10, advanced=True, min=1, max=10_000,
        help="Preview every this many iterations (and at most every preview ms).")
    preview_ms: int = param(250, min=0, max=60_000, label="Preview ms",
                            help="Minimum milliseconds between previews.", advanced=True)
    match_edges: bool = param(
        True,
        help="Fast preset: correct the fill smoothly so it meets the known pixels at the hole's edge "
             "(removes the seam a briefly fitted, blurrier net leaves).", advanced=True,
    )
    keep_best: bool = param(
        True,
        help="Return the best output by the error on held-out known pixels near the hole (and stop when "
             "it no longer improves), instead of the last one.",
    )
    initial_fill: str = param(
        "patchmatch", choices=INITIAL_FILLS, label="Initial fill",
        help="Fast preset: what the network starts from and is gently held to in the hole: a "
             "content-aware (PatchMatch) fill, or a smooth diffusion fill.",
    )
    consensus_fills: int = param(
        4, min=1, max=10, label="Consensus fills",
        help="Fast preset: how many differently configured content-aware fills (patch sizes, starts, "
             "seeds) are averaged in the hole's low frequencies; each costs about a second from the "
             "net's time.", advanced=True,
    )
    detail: float = param(
        1.2, min=0.0, max=2.0, step=0.1, label="Texture detail",
        help="Fast preset: how much full-resolution fine texture of a content-aware fill is added to the "
             "network's fill (the net works at a reduced size and is smooth). 0: the net's fill only.",
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


def grow_fill(small: np.ndarray, image: np.ndarray, hole: np.ndarray, match_edges: bool = False,
              detail: np.ndarray | None = None,
              anchor: tuple[np.ndarray, tuple[int, int], float] | None = None) -> np.ndarray:
    """Upscale a working-resolution fill and keep the crop's own pixels outside the hole.

    ``match_edges`` adds a smooth correction that makes the fill meet the known pixels exactly at the
    hole's edge (the residual on the known side is diffused into the hole, a cheap stand-in for
    Poisson blending): a briefly fitted net is blurrier than the photo, which otherwise shows as a seam.
    ``anchor`` = (low-passed consensus of the other fills, working shape, its share; see
    :func:`consensus`): the anchor gets that share of the hole's low frequencies, the net's
    low-passed fill the rest.
    ``detail`` (full-resolution high frequencies, see :func:`fine_detail`) is added inside the hole.
    """
    h, w = hole.shape
    if small.shape[:2] != (h, w):
        small = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, 3)
    small = np.clip(small, 0.0, 1.0)
    if match_edges and hole.any() and not hole.all():
        residual = (image - small) * 0.5 + 0.5  # [-1, 1] -> [0, 1] for the diffusion fill
        correction = (diffusion_fill(residual, hole, 3.0, cv2.INPAINT_TELEA) - 0.5) * 2.0
        small = small + correction
    if anchor is not None:
        fills, working_shape, share = anchor
        small = share * fills + (1.0 - share) * low_pass(small, working_shape)
    if detail is not None:
        small = small + detail
    return np.where(hole[..., None], np.clip(small, 0.0, 1.0), image).astype(np.float32)


def low_pass(source: np.ndarray, working_shape: tuple[int, int]) -> np.ndarray:
    """``source`` through the band a fill at ``working_shape`` holds: up(down(source)), at least 2x down."""
    h, w = source.shape[:2]
    wh, ww = working_shape
    factor = min(wh / h, ww / w, 0.5)
    low_w, low_h = max(1, round(w * factor)), max(1, round(h * factor))
    low = cv2.resize(source, (low_w, low_h), interpolation=cv2.INTER_AREA)
    return cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC).reshape(source.shape).astype(np.float32)


def consensus(source: np.ndarray | list[np.ndarray], diffused: np.ndarray, image: np.ndarray,
              hole: np.ndarray, working_shape: tuple[int, int],
              shares: tuple[float, float] = (PATCHMATCH_SHARE, DIFFUSION_SHARE)) -> np.ndarray:
    """The fills the net's fill is averaged with, low-passed and weighted to one anchor.

    ``source``: the content-aware fill of the crop, or several (their low bands are averaged first);
    ``diffused``: a diffusion fill at working size (NS, or with the ensemble the harmonic fill), upscaled.
    ``shares``: content-aware : diffusion weights (normalised to sum to 1).
    """
    sources = source if isinstance(source, list) else [source]
    h, w = hole.shape
    if diffused.shape[:2] != (h, w):
        diffused = cv2.resize(diffused, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, 3)
    diffused = np.where(hole[..., None], diffused, image).astype(np.float32)
    content = np.mean([low_pass(s, working_shape) for s in sources], axis=0)
    low = shares[0] * content + shares[1] * low_pass(diffused, working_shape)
    return (low / max(shares[0] + shares[1], 1e-6)).astype(np.float32)


def fine_detail(source: np.ndarray, working_shape: tuple[int, int], gain: float) -> np.ndarray:
    """The part of ``source`` a fill at ``working_shape`` cannot hold: source - low_pass(source), x gain.

    The net works at a reduced size and, fitted for seconds, is smooth even there; a content-aware fill
    copies real texture at full resolution. Its high frequencies restore detail the net never had to
    invent (measured: texture 0.32 -> 0.65-0.70 for -0.1 to -0.3 dB hole-PSNR).
    """
    return ((source - low_pass(source, working_shape)) * gain).astype(np.float32)


#: the content-aware fills of the consensus, in the order ``consensus_fills`` takes them: changes to the
#: first (the start and detail source); "seed" offsets the fill's seed. Their low bands' errors are
#: partly independent (different patch sizes and starts lay out different copies), so their mean is
#: closer than any one
CONSENSUS_VARIANTS: tuple[dict[str, Any], ...] = (
    {}, {"patch_size": 5}, {"patch_size": 9}, {"patch_size": 11}, {"init": "best"}, {"init": "telea"},
    {"seed": 1}, {"seed": 2}, {"seed": 3}, {"texture_matching": "high"},
)


def content_aware_fill(image: np.ndarray, hole: np.ndarray, ctx: RunContext,
                       variant: dict[str, Any] | None = None) -> np.ndarray:
    """The ``patchmatch`` method's fill of this crop (its defaults, this fill's seed) as it was when
    the consensus mix and detail gain were measured on it: without texture matching (the feature
    channels would also cost time from the net's budget) and with the "auto" coarsest start.
    ``variant``: an entry of CONSENSUS_VARIANTS."""
    from dataclasses import replace

    from inpaint_studio.methods.patchmatch.completion import complete
    from inpaint_studio.methods.patchmatch.method import PatchMatchParams, settings_for

    variant = dict(variant or {})
    seed = int(ctx.seed) + int(variant.pop("seed", 0))
    init = variant.pop("init", "auto")
    # structure/grain are applied by the patchmatch method's run(), not by complete(); pinned off
    # here too so this fill stays the one the mix was measured on whatever their defaults become
    start = PatchMatchParams(**{"texture_matching": "off", "structure": 0.0, "grain": 1.0, **variant})
    settings = replace(settings_for(start, seed), init=init)
    return complete(image, hole, None, settings, check=ctx.check_cancelled)


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
        lr_schedule="cosine", guess_weight=1.0, guess_fraction=0.3, guess_floor=FAST_GUESS_FLOOR, ema=0.9,
        holdout=True, keep_best=params.keep_best, patience=100 if params.keep_best else 0, **common)


def working_size_for(params: DipParams) -> int:
    if params.working_size:
        return params.working_size
    return PAPER_WORKING_SIZE if params.preset == "paper" else FAST_WORKING_SIZE


def run_dip(image: np.ndarray, hole: np.ndarray, params: DipParams, ctx: RunContext,
            settings: Any = None, stats: Any = None, seconds: float | None = None) -> np.ndarray:
    """Fill ``hole`` of a float32 crop (any size) with DIP; ``settings`` overrides the preset's fit.

    ``seconds``: this region's share of the fill's time budget (None: the settings' time limit), counted
    from this call, so the content-aware start is paid from it too.
    """
    t0 = time.perf_counter()
    small, small_hole = _shrink(image, hole, working_size_for(params))
    ctx.check_cancelled()
    fast = params.preset == "fast"
    guess = diffused = diffusion_fill(small, small_hole, 5.0, cv2.INPAINT_NS)
    match = fast and params.match_edges
    label = f"DIP {params.preset if fast else params.paper_net}"
    # the cheap fill is the iteration-0 preview: on screen before torch and the net are even loaded
    ctx.preview(grow_fill(guess, image, hole, match), f"{label}: iter 0 (initial fill)")

    detail = anchor = None
    fills = params.consensus_fills if params.initial_fill == "patchmatch" else 1

    def spent() -> float:
        """Share of this region's time gone so far (the bar's position; the fit takes the rest)."""
        return min(0.9, (time.perf_counter() - t0) / seconds) if seconds else 0.0

    def starting(done: int) -> None:
        # the content-aware fills take seconds before the first iteration: show them moving
        if seconds:
            ctx.progress(spent(), f"{label}: start fill {done}/{fills}")

    if fast and (params.initial_fill == "patchmatch" or params.detail > 0):
        starting(0)
        source = content_aware_fill(image, hole, ctx)
        starting(1)
        if params.initial_fill == "patchmatch":
            guess = _shrink(source, hole, working_size_for(params))[0] if small.shape != image.shape \
                else source
            guess = np.where(small_hole[..., None], guess, small).astype(np.float32)
        if params.detail > 0:
            detail = fine_detail(source, small_hole.shape, params.detail)
        if params.initial_fill == "patchmatch":
            sources = [source]
            for variant in CONSENSUS_VARIANTS[1:params.consensus_fills]:
                # paid from this region's share: stop adding fills once part of it is spent
                if seconds is not None and time.perf_counter() - t0 > CONSENSUS_TIME_SHARE * seconds:
                    break
                sources.append(content_aware_fill(image, hole, ctx, variant))
                starting(len(sources))
            if len(sources) == 1:  # the mix as it was measured before the ensemble
                shares = (PATCHMATCH_SHARE, DIFFUSION_SHARE)
            else:
                # with the ensemble, the smoothest fill instead of NS: no radial streaks, +0.1-0.2 dB
                shares = (ENSEMBLE_PATCHMATCH_SHARE, ENSEMBLE_DIFFUSION_SHARE)
                diffused = harmonic_fill(small, small_hole)
            anchor = (consensus(sources, diffused, image, hole, small_hole.shape, shares),
                      small_hole.shape, sum(shares))

    from inpaint_studio.methods.dip.fit import fit

    settings = settings or fit_settings(params)
    if seconds is not None:
        # what is left of this region's share after the start; never 0 (that means "no limit")
        left = seconds - (time.perf_counter() - t0)
        if left < MIN_FIT_SECONDS:
            # a net fitted for a few steps is worse than its start: the budget is spent, keep the start
            return grow_fill(guess, image, hole, match, detail, anchor)
        settings = dataclasses.replace(settings, time_limit=left)

    def preview(working: np.ndarray, text: str) -> None:
        ctx.preview(grow_fill(working, image, hole, match, detail, anchor), text)

    out = fit(small, small_hole, guess, settings, _LaterPart(ctx, spent()), on_preview=preview,
              label=label, stats=stats)
    return grow_fill(out, image, hole, match, detail, anchor)


class _LaterPart:
    """``ctx`` for the fit, whose progress is the rest of the region's after the start's ``done``."""

    def __init__(self, ctx: RunContext, done: float) -> None:
        self._ctx, self._done = ctx, done

    def progress(self, fraction: float, text: str = "") -> None:
        self._ctx.progress(self._done + (1.0 - self._done) * fraction, text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


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

    def __init__(self) -> None:
        # the runtime makes one instance per fill: the budget's clock spans all of the fill's regions
        self._budget: FillBudget | None = None

    def context_margin(self, params: Any) -> int:
        # the net learns what to paint from the surroundings: give it a generous ring
        return 48

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        total = params.time_limit or (FAST_TIME_LIMIT if params.preset == "fast" else 0.0)
        seconds = None
        if total > 0:
            if self._budget is None or self._budget.total != total:
                self._budget = FillBudget(total)
            seconds = self._budget.region_seconds(getattr(ctx, "hole_share", None),
                                                  getattr(ctx, "region_index", None))
        return run_dip(image, hole, params, ctx, seconds=seconds)


__all__ = ["DeepImagePriorMethod", "DipParams", "fit_settings", "grow_fill", "run_dip"]
