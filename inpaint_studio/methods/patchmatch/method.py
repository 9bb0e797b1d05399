"""The ``patchmatch`` method: content-aware fill for textured backgrounds.

Grass, gravel, walls, foliage: diffusion smears them, a generative model may invent content; this
copies real texture from the surroundings, coarse to fine, so the structure of the fill follows
the photo. The controls mirror a photo editor's content-aware fill (sampling area, colour
adaptation, rotation / scale adaptation) and all come from the params dataclass below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from inpaint_studio.methods.base import Method, RunContext, param

#: colour adaptation level -> (gain min, gain max, bias bound)
COLOR_ADAPTATION = {
    "none": (1.0, 1.0, 0.0),
    "low": (1.0, 1.0, 0.03),
    "medium": (0.9, 1.1, 0.06),
    "high": (0.75, 1.33, 0.12),
}
#: rotation adaptation level -> extra source copies rotated by these angles (degrees)
ROTATION = {
    "none": (),
    "low": (-10.0, 10.0),
    "medium": (-20.0, -10.0, 10.0, 20.0),
    "high": (-45.0, -20.0, 20.0, 45.0, 90.0, 180.0),
}
_SCALES = (0.8, 1.25)
#: texture matching level -> (weight of the texture features in the patch distance, used on the
#: finest level too). Newson et al. 2014; measured on Kodak (docs/benchmarks.md): with the
#: features faded in from the hole's edge and skipped for scratches, "high" gives texture
#: 0.63 -> 0.71 on all 24 photos for -0.03 dB and keeps every class's seam in 0.9-1.15 (without
#: the fade: object 1.20). It is the default: the grain is what a content-aware fill is for; the
#: price is time (thin strokes 1.15x, a 1 % hole in a 24 MP photo ~1.5x). "low" (coarse levels
#: only, faded): -0.07 dB on the 24 photos
TEXTURE_MATCHING = {
    "off": (0.0, True),
    "low": (64.0, False),
    "high": (32.0, True),
}
#: the features ramp in over this many pixels (of each level) from the hole's edge
TEXTURE_FADE = 8.0
#: hole components no deeper than this (pixels to the known area: scratches) are filled on colour
#: only and get no structure blend (it buys them almost nothing: their low band is the edge's)
TEXTURE_MIN_RADIUS = 6.0


@dataclass(frozen=True)
class PatchMatchParams:
    patch_size: int = param(
        7, min=3, max=21, step=2, label="Patch size",
        help="Side (pixels, odd) of the patches copied from the surroundings. Larger keeps bigger "
             "structures together; smaller follows fine detail and is faster.",
    )
    levels: int = param(
        0, advanced=True, min=0, max=12, step=1, label="Pyramid levels", auto="automatic",
        help="Coarse-to-fine levels (0: automatic, down to the minimum size). More levels let large "
             "holes take their layout from far away.",
    )
    min_size: int = param(
        32, advanced=True, min=8, max=512, step=8, label="Minimum size",
        help="Shortest side (pixels) of the coarsest level.",
    )
    iterations: int = param(
        4, advanced=True, min=1, max=30, step=1, label="Iterations per level",
        help="Search-and-vote rounds on each level (the coarsest gets twice as many). More: slower, "
             "slightly more coherent.",
    )
    detail: float = param(
        1.0, min=0.0, max=1.0, step=0.05, label="Texture detail",
        help="How much of the best-matching patches' texture is kept (away from the hole's edge). "
             "0: smoothest, closest on average; 1: real grain, but patch edges may show.",
    )
    # structure 0.7 is the default since the Kodak benchmark (docs/benchmarks.md, "Structure blend
    # skipped for scratches"): +0.23 to +0.42 dB hole-PSNR on medium, thick and object holes (with
    # grain 1.1 then; grain below), scratches unchanged
    structure: float = param(
        0.7, min=0.0, max=1.0, step=0.05, label="Smooth structure",
        help="How much of the fill's broad shading (gradients, soft light) is taken from a smooth "
             "fill of the hole's edge instead of from the copied patches; the copied grain stays on top. "
             "Higher is closer on average in skies, walls and soft light, but where the hole spans the "
             "edge between two different areas that edge turns into a haze, and fine regular patterns "
             "(blinds, fences) get a light-to-dark ramp across them: use 0 (patches only) there. "
             "Scratches (holes a few pixels wide) always keep the patches' fill.",
    )
    # grain 1.35 (fading in over 12 px) since the Kodak benchmark (docs/benchmarks.md, "More
    # grain"): texture 0.89-0.91 on medium and object holes, still >= pypatchmatch + 0.7 dB
    grain: float = param(
        1.35, min=0.5, max=2.0, step=0.05, label="Grain strength",
        help="Scales the copied fine texture (finer than ~4 pixels) inside the hole, fading in over "
             "about 12 pixels from its edge. Above 1 makes up for grain that averaging patches softens "
             "(1.35: about as grainy as the photo); 1: as copied, smoother.",
    )
    texture_matching: str = param(
        "high", choices=tuple(TEXTURE_MATCHING), label="Texture matching",
        help="Also compare how busy patches are (their local gradient strength), so grainy areas are "
             "filled with grain instead of smooth colour copied from flat areas. Low uses it to choose "
             "the fill's layout only; high on every scale (most grain, a little slower). Off: colour only. "
             "Near the hole's edge and in thin scratches patches still match on colour only.",
    )
    color_adaptation: str = param(
        "low", choices=tuple(COLOR_ADAPTATION), label="Colour adaptation",
        help="Let copied patches shift (and at medium/high also scale) their colour to match gradual "
             "lighting changes. None copies colours exactly.",
    )
    rotation: str = param(
        "none", choices=tuple(ROTATION), label="Rotation adaptation",
        help="Also copy from rotated versions of the surroundings (curved or tilted patterns). "
             "Slower with each level.",
    )
    scale: bool = param(
        False, label="Scale adaptation",
        help="Also copy from 0.8x and 1.25x scaled versions of the surroundings (perspective, "
             "repeating patterns of varying size).",
    )
    mirror: bool = param(
        False, label="Mirror",
        help="Also copy from a left-right mirrored version of the surroundings.",
    )
    sampling_margin: int = param(
        0, advanced=True, min=0, max=4000, step=8, label="Sampling margin", auto="automatic",
        help="How far (pixels) around the hole patches may come from (0: automatic, a few patch "
             "sizes plus half the hole's size).",
    )


def settings_for(params: PatchMatchParams, seed: int) -> Any:
    from inpaint_studio.methods.patchmatch.completion import CompletionSettings

    gmin, gmax, bmax = COLOR_ADAPTATION[params.color_adaptation]
    texture_weight, texture_finest = TEXTURE_MATCHING[params.texture_matching]
    return CompletionSettings(
        patch_size=params.patch_size | 1, levels=params.levels, min_size=params.min_size,
        iterations=params.iterations, gain_min=gmin, gain_max=gmax, bias_max=bmax,
        angles=ROTATION[params.rotation], scales=_SCALES if params.scale else (), mirror=params.mirror,
        detail=params.detail, texture_weight=texture_weight, texture_finest=texture_finest,
        texture_fade=TEXTURE_FADE, texture_min_radius=TEXTURE_MIN_RADIUS, seed=seed,
    )


class PatchMatchMethod(Method):
    name = "patchmatch"
    label = "Content-aware fill (PatchMatch)"
    description = "Copies real texture from around the hole, coarse to fine; for grass, walls, skies, gravel."
    Params: ClassVar[type] = PatchMatchParams
    iterative = True
    #: honours a sampling area (``ctx.sampling_area``): the runtime grows crops to reach it
    uses_sampling = True

    def context_margin(self, params: Any) -> int:
        if params.sampling_margin > 0:
            return int(params.sampling_margin)
        # the region strategy adds half the hole's size on top; this floor keeps enough sources
        # around small holes (measured: below ~6 patch sizes thin strokes start repeating patches)
        return max(64, 8 * params.patch_size)

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        from inpaint_studio.methods.patchmatch.completion import complete
        from inpaint_studio.methods.patchmatch.structure import blend_structure

        ctx.check_cancelled()
        ctx.progress(0.0, "preparing")
        sampling = getattr(ctx, "sampling_area", None)
        if sampling is not None:
            sampling = np.asarray(sampling, dtype=bool)
            if sampling.shape != hole.shape:
                sampling = cv2.resize(sampling.astype(np.uint8), (hole.shape[1], hole.shape[0]),
                                      interpolation=cv2.INTER_NEAREST) > 0
        height, width = hole.shape
        known = ~hole

        def on_level(step: int, count: int, est: np.ndarray) -> None:
            text = f"level {step + 1}/{count}"
            # finer levels cost ~4x the previous one: weight progress by pixel count
            done = sum(4.0 ** i for i in range(step + 1)) / sum(4.0 ** i for i in range(count))
            ctx.progress(done, text)
            if not getattr(ctx, "wants_previews", True):
                return  # nobody shows previews (CLI, benchmarks): skip the full-size composite
            if est.shape[:2] != (height, width):
                est = cv2.resize(est, (width, height), interpolation=cv2.INTER_LINEAR)
            ctx.preview(np.where(known[..., None], image, est).astype(np.float32), text)

        filled = complete(image, hole, sampling, settings_for(params, int(ctx.seed)), on_level=on_level,
                          check=ctx.check_cancelled)
        result = blend_structure(image, np.asarray(hole, bool), filled, sampling, float(params.structure),
                                 float(params.grain), min_radius=TEXTURE_MIN_RADIUS)
        if result is not filled and getattr(ctx, "wants_previews", True):
            # the last level's preview is not the result once the blend changed it
            ctx.preview(result, "smooth structure")
        return result
