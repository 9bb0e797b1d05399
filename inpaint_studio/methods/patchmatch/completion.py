"""Multi-scale image completion (Wexler et al. 2007) driven by PatchMatch (Barnes et al. 2009).

Coarse to fine: the coarsest level starts from a smooth diffusion fill (so the first matches are
guided by the right colours instead of noise), each level alternates PatchMatch sweeps with an
expectation-maximisation vote, and its nearest-neighbour field is upsampled to seed the next finer
level. Everything runs on float32 in [0, 1], so 16-bit crops keep their depth: the fill is a
weighted mix of real source pixels, never a quantised copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from inpaint_studio.core.errors import InvalidInputError
from inpaint_studio.core.pixels import masked_blur
from inpaint_studio.methods.classical.diffusion import diffusion_fill
from inpaint_studio.methods.patchmatch import engine

#: Wexler's boundary confidence: a patch's vote weight falls by this factor per pixel into the hole
_CONFIDENCE_BASE = 1.3
#: distance (pixels) beyond which confidence stops falling (only ratios matter; avoids underflow)
_CONFIDENCE_CAP = 40.0
#: patch comparisons the onion-peel start may spend (~0.1 s)
_ONION_BUDGET = 3_000_000


@dataclass(frozen=True)
class CompletionSettings:
    """Engine settings (the method's params, resolved to numbers)."""

    patch_size: int = 7
    #: number of pyramid levels (0: as many as min_size allows)
    levels: int = 0
    #: shortest side of the coarsest level
    min_size: int = 32
    #: EM iterations on each level (the coarsest gets twice as many)
    iterations: int = 4
    #: colour adaptation: gain range and bias bound (gain_min == gain_max == 1 and bias 0: off)
    gain_min: float = 1.0
    gain_max: float = 1.0
    bias_max: float = 0.0
    #: extra source copies: rotation angles (degrees), scale factors, and mirrored copies
    angles: tuple[float, ...] = ()
    scales: tuple[float, ...] = ()
    mirror: bool = False
    #: random candidates per target drawn from the whole list of valid sources, per sweep
    global_candidates: int = 1
    #: final vote of the finest level takes the best proposal per pixel instead of the mean
    #: random search radius on upsampled levels, in patch sizes (0: the whole source)
    fine_search_radius: int = 4
    #: the finest level runs this many fewer iterations (the upsampled field is already close)
    finest_fewer: int = 2
    #: remove the colour mismatch along the hole's edge after the last level
    match_boundary: bool = True
    #: how the coarsest level starts: "onion" (ring-by-ring patch copy), "telea" (diffusion),
    #: "auto" (onion when the coarsest hole is small enough for its exhaustive search) or "best"
    #: (where "auto" would take the onion, run the coarsest level from both starts and keep the
    #: one whose converged fill has the lower mean patch cost, see start_energy). "best" is the
    #: default: +0.21 / +0.08 dB on kodim01-12 / 13-24, seams unchanged, ~0.01 s; it stops the
    #: onion copying an island over people or a sail band into the sky (texture -0.04 to -0.06
    #: on object and thick holes: docs/benchmarks.md)
    init: str = "best"
    #: sources examined per pixel by the onion-peel start
    init_candidates: int = 3000
    #: share of the best patches' detail swapped into the final (averaged) vote, 0..1
    detail: float = 1.0
    #: PatchMatch sweeps before the first vote on the coarsest level (its field starts random)
    init_sweeps: int = 4
    #: percentile of the patch costs used as the vote's similarity scale (Wexler: 75)
    sigma_percentile: float = 75.0
    #: on this many finest levels every EM vote takes the best proposal per pixel (0: mean votes)
    winner_levels: int = 0
    #: on upsampled levels, compare patches on copies low-passed with this sigma (0: sharp).
    #: Measured on Kodak (12 photos) at 1.0: +0.02 dB, seam 1.05 -> 0.93 (below 0.9 on thin,
    #: thick, scratch once min_source_share is on): off by default
    match_blur: float = 0.0
    #: the final vote's "detail" band: Gaussian sigma splitting it off (0: the whole difference,
    #: i.e. detail 1 = the best proposal per pixel). Measured on Kodak (12 photos), with detail 1
    #: and detail_ramp 4 against detail 0.5 / sigma 1: texture +0.01..+0.05 per class, -0.03 dB
    detail_sigma: float = 0.0
    #: the detail share grows linearly from the hole's edge to full at this depth (pixels; 0: flat):
    #: narrow holes (scratches) keep the accurate mean, wide ones get the best patches' texture
    detail_ramp: float = 4.0
    #: stop coarsening once a level's share of valid source patches falls below this fraction of
    #: the finest level's (0: only when none is left). Measured on Kodak (12 photos): 0.5 gives
    #: thin strokes +0.95 dB, medium +0.38, thick +0.22 (object, scratch unchanged)
    min_source_share: float = 0.5
    #: hybrid fill: within this many pixels of the hole's edge, blend towards a diffusion fill
    #: (weight 1 on the edge, falling linearly to 0 at this distance; 0: off)
    edge_diffusion: float = 0.0
    #: hybrid fill: hole components no wider than twice this radius (pixels) are diffused
    #: entirely (0: off)
    narrow_radius: float = 0.0
    #: texture features (Newson et al. 2014): weight of the grey image's local mean absolute
    #: gradients |Ix|, |Iy| in the patch distance (0: off). Computed on the full-resolution crop
    #: and carried down the pyramid, so coarse levels still tell textured regions from flat ones
    texture_weight: float = 0.0
    #: side (pixels) of the box the absolute gradients are averaged over
    texture_window: int = 4
    #: False: the finest level matches on colour only (the coarser levels, which choose the fill's
    #: layout, still use the features)
    texture_finest: bool = True
    #: the features' weight grows linearly from 0 on the hole's edge to full at this depth
    #: (pixels of each level; 0: full everywhere), so patches at the edge match on colour and
    #: continue the surroundings smoothly, while the interior still picks textured sources
    texture_fade: float = 0.0
    #: hole components no deeper than this (full-resolution pixels of distance to the known area)
    #: match on colour only; a fill whose holes are all this narrow skips the features entirely
    #: (scratches: the same output and speed as without features)
    texture_min_radius: float = 0.0
    #: how the feature channels start inside the hole on the coarsest level: "copy" (as the
    #: colours: diffused or onion-copied) or "ring" (each hole component gets the median of the
    #: known features in a ring around it, so busyness at one part of the edge does not spread
    #: into a flat hole)
    feature_start: str = "copy"
    #: gain on the best patches' fine band in the final vote (with detail_sigma > 0): above 1
    #: re-injects more of the copied grain on top of the averaged vote's low band
    detail_gain: float = 1.0
    #: detail_ramp for scratches (components no deeper than texture_min_radius; < 0: detail_ramp).
    #: A scratch is all edge, so the general ramp keeps it on the smooth mean
    scratch_ramp: float = -1.0
    seed: int = 0

    @property
    def adapt(self) -> bool:
        return self.gain_max > self.gain_min or self.bias_max > 0.0


Callback = Callable[[int, int, np.ndarray], None]


def _texture_features(image: np.ndarray, known: np.ndarray, window: int) -> np.ndarray:
    """(H, W, 2) local means of |Ix| and |Iy| of the grey image, from known pixels only.

    Why: plain colour SSD lets a flat patch match a textured target about as well as a misaligned
    textured one, so EM fills drift towards flat copies; with the local gradient energy in the
    distance, flat sources no longer match textured targets (Newson et al. 2014). A central
    difference counts only where both its pixels are known, and the box mean is normalised by the
    count, so pixels next to the hole get features of the known side instead of the hole's zeros.
    Inside the hole the values are meaningless (the completion reconstructs them).
    """
    grey = image[..., :3].mean(axis=2).astype(np.float32)
    kn = known.astype(np.float32)
    feats = np.zeros((*image.shape[:2], 2), np.float32)
    box = (max(1, window), max(1, window))
    for c, axis in enumerate((1, 0)):
        diff = np.zeros_like(grey)
        ok = np.zeros_like(kn)
        inner = (slice(None), slice(1, -1)) if axis == 1 else (slice(1, -1), slice(None))
        ahead = (slice(None), slice(2, None)) if axis == 1 else (slice(2, None), slice(None))
        behind = (slice(None), slice(None, -2)) if axis == 1 else (slice(None, -2), slice(None))
        diff[inner] = np.abs(grey[ahead] - grey[behind]) * np.float32(0.5)
        ok[inner] = kn[ahead] * kn[behind]
        num = cv2.blur(diff * ok, box, borderType=cv2.BORDER_REFLECT)
        den = cv2.blur(ok, box, borderType=cv2.BORDER_REFLECT)
        feats[..., c] = np.where(den > 1e-6, num / np.maximum(den, 1e-6), 0.0)
    return feats


def _with_features(image: np.ndarray, known: np.ndarray, settings: CompletionSettings) -> np.ndarray:
    """The colours plus, if enabled, the texture features scaled by sqrt(weight) (SSD weight)."""
    if settings.texture_weight <= 0.0:
        return image
    feats = _texture_features(image, known, settings.texture_window)
    feats *= np.float32(np.sqrt(settings.texture_weight))
    return np.ascontiguousarray(np.concatenate([image, feats], axis=2), dtype=np.float32)


def _distance(hole: np.ndarray) -> np.ndarray:
    """Per hole pixel, its distance to the known area (0 outside the hole)."""
    return cv2.distanceTransform(hole.view(np.uint8), cv2.DIST_L2, 5)


def _component_depth(hole: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Per pixel, how deep its hole component reaches (the largest ``dist`` in it; 0 outside):
    what tells a scratch from a wide hole, whatever the scratch's length."""
    count, labels = cv2.connectedComponents(hole.view(np.uint8), connectivity=8)
    deepest = np.zeros(count, np.float32)
    np.maximum.at(deepest, labels.ravel(), dist.ravel())
    deepest[0] = 0.0
    return deepest[labels]


def _wide(hole: np.ndarray, min_radius: float, dist: np.ndarray | None = None) -> np.ndarray:
    """The hole's pixels in components deeper than ``min_radius`` (distance to the known area)."""
    if min_radius <= 0.0:
        return hole
    return _component_depth(hole, _distance(hole) if dist is None else dist) > np.float32(min_radius)


def feature_weights(hole: np.ndarray, ys: np.ndarray, xs: np.ndarray, r: int, settings: CompletionSettings,
                    scale: float) -> np.ndarray:
    """Per-target weight (0..1) of the texture features in the patch distance on one level.

    Why: with full feature weight at the hole's edge, an edge patch may take a source that
    matches the texture energy but not the colours next to it, and the fill shows a seam; and
    narrow scratches gain nothing from texture matching (they are filled from their edge).
    Targets near no wide component get 0; inside, the weight ramps up over ``texture_fade``
    pixels of depth. ``scale`` = full-resolution pixels per pixel of this level.
    """
    dist = _distance(hole)
    wide = _wide(hole, settings.texture_min_radius / scale, dist)
    size = 2 * r + 1
    near = cv2.dilate(wide.view(np.uint8), np.ones((size, size), np.uint8)) > 0
    fw = near[ys, xs].astype(np.float32)
    if settings.texture_fade > 0.0:
        fw *= np.clip(dist[ys, xs] / np.float32(settings.texture_fade), 0.0, 1.0)
    return np.ascontiguousarray(fw, dtype=np.float32)


def _features_wanted(hole: np.ndarray, settings: CompletionSettings) -> bool:
    """Whether any hole component is wide enough for the texture features (see texture_min_radius)."""
    if settings.texture_weight <= 0.0:
        return False
    return bool(_wide(hole, settings.texture_min_radius).any())


def _diffuse(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Diffusion start for every channel: the colours in one (fast) pass, features separately."""
    colours = diffusion_fill(np.ascontiguousarray(image[..., :3]), hole, 5.0, cv2.INPAINT_TELEA)
    if image.shape[2] == 3:
        return colours
    rest = diffusion_fill(np.ascontiguousarray(image[..., 3:]), hole, 5.0, cv2.INPAINT_TELEA)
    return np.concatenate([colours, rest.reshape(*hole.shape, -1)], axis=2)


def _ring_median_features(est: np.ndarray, hole: np.ndarray, width: int) -> None:
    """Set the feature channels of each hole component to the median of the known features in a
    ``width``-pixel ring around it (in place).

    Why: a diffused (or edge-copied) feature start carries the busyness of a textured stretch of
    the edge deep into the hole, and the completion then fills a flat region with texture
    (Kodak kodim23's background under coarse-only texture matching). The ring's median follows the
    majority of the surroundings instead of their loudest part.
    """
    count, labels = cv2.connectedComponents(hole.view(np.uint8), connectivity=8)
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    for label in range(1, count):
        comp = labels == label
        ring = (cv2.dilate(comp.view(np.uint8), kernel) > 0) & ~hole
        if ring.any():
            est[comp, 3:] = np.median(est[ring, 3:], axis=0)


def _by_threes(op: Callable[[np.ndarray], np.ndarray], image: np.ndarray) -> np.ndarray:
    """Apply an OpenCV op to an (H, W, C) image three channels at a time (some take at most 4)."""
    parts = [op(np.ascontiguousarray(image[..., i:i + 3])) for i in range(0, image.shape[2], 3)]
    parts = [p[..., None] if p.ndim == 2 else p for p in parts]
    return parts[0] if len(parts) == 1 else np.ascontiguousarray(np.concatenate(parts, axis=2))


def _warp(image: np.ndarray, m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _by_threes(lambda im: cv2.warpAffine(im, m, size, flags=cv2.INTER_LINEAR,
                                                borderMode=cv2.BORDER_REPLICATE), image)


def _resize(image: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    return _by_threes(lambda im: cv2.resize(im, size, interpolation=interpolation), image)


def _down(image: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Halve a level with normalised Gaussian smoothing: only known pixels contribute."""
    w = cv2.pyrDown(weight)
    num = cv2.pyrDown(image * weight[..., None])
    out = num / np.maximum(w, 1e-6)[..., None]
    return out.astype(np.float32), w


def _pyramid(image: np.ndarray, known: np.ndarray, sampling: np.ndarray, settings: CompletionSettings):
    """Lists (finest first) of level images, hole masks and source-allowed masks."""
    images, holes, samplings = [image], [~known], [sampling & known]
    h, w = known.shape
    max_levels = settings.levels if settings.levels > 0 else 32
    weight = known.astype(np.float32)
    samp = sampling.astype(np.float32)
    finest_share = float(_valid_sources(sampling & known, settings.patch_size // 2).mean())
    while len(images) < max_levels and min(h, w) // 2 >= settings.min_size:
        img, weight = _down(images[-1], weight)
        samp = cv2.pyrDown(samp)
        kn = weight >= 0.5
        weight = kn.astype(np.float32)
        img[~kn] = 0.0
        sp = (samp >= 0.5) & kn
        if kn.all():
            break  # the hole vanished at this scale (thin strokes): nothing to guide from here
        # a level without any valid source patch cannot be completed: stop one level finer
        valid = _valid_sources(sp, settings.patch_size // 2)
        if not valid.any():
            break
        # where the hole covers most patches (dense strokes at coarse scale) the few whole source
        # patches left come from one region only (e.g. the sky): its colours would be copied
        # everywhere, and the finer levels keep them; stop coarsening before that
        if settings.min_source_share > 0.0 and valid.mean() < settings.min_source_share * finest_share:
            break
        samp = sp.astype(np.float32)
        images.append(img)
        holes.append(~kn)
        samplings.append(sp)
        h, w = kn.shape
    return images, holes, samplings


def _valid_sources(allowed: np.ndarray, r: int) -> np.ndarray:
    """Centres whose whole patch lies inside the image and inside ``allowed``."""
    size = 2 * r + 1
    valid = cv2.erode(allowed.astype(np.uint8), np.ones((size, size), np.uint8),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    return valid


def _source_bank(image: np.ndarray, allowed: np.ndarray, settings: CompletionSettings):
    """(K, H', W', C) source images and (K, H', W') valid centres: the level plus transformed copies."""
    r = settings.patch_size // 2
    h, w = allowed.shape
    copies = [(image, allowed)]
    centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    for angle in settings.angles:
        m = cv2.getRotationMatrix2D(centre, float(angle), 1.0)
        img = _warp(image, m, (w, h))
        # a source pixel is allowed only if every input pixel it interpolates from was allowed
        cover = cv2.warpAffine(allowed.astype(np.float32), m, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        copies.append((img, cover >= 0.999))
    for scale in settings.scales:
        sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
        img = _resize(image, (sw, sh), cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        cover = cv2.resize(allowed.astype(np.float32), (sw, sh), interpolation=cv2.INTER_LINEAR)
        copies.append((img, cover >= 0.999))
    if settings.mirror:
        copies.append((np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(allowed[:, ::-1])))
    hs = max(c[0].shape[0] for c in copies)
    ws = max(c[0].shape[1] for c in copies)
    src = np.zeros((len(copies), hs, ws, image.shape[2]), np.float32)
    valid = np.zeros((len(copies), hs, ws), bool)
    cover = np.zeros((len(copies), hs, ws), bool)
    for k, (img, ok) in enumerate(copies):
        src[k, : img.shape[0], : img.shape[1]] = img
        valid[k, : ok.shape[0], : ok.shape[1]] = _valid_sources(ok, r)
        cover[k, : ok.shape[0], : ok.shape[1]] = ok
    vk, vy, vx = np.nonzero(valid)
    return src, valid, cover, vk.astype(np.int32), vy.astype(np.int32), vx.astype(np.int32)


class _Level:
    """One pyramid level's targets, sources and nearest-neighbour field."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, allowed: np.ndarray,
                 settings: CompletionSettings) -> None:
        r = settings.patch_size // 2
        self.r = r
        self.sigma_pct = settings.sigma_percentile
        self.hole = np.ascontiguousarray(hole)
        size = 2 * r + 1
        target = cv2.dilate(hole.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
        ys, xs = np.nonzero(target)
        self.ys, self.xs = ys.astype(np.int32), xs.astype(np.int32)
        self.tidx = np.full(hole.shape, -1, np.int32)
        self.tidx[self.ys, self.xs] = np.arange(len(self.ys), dtype=np.int32)
        self.src, self.valid, self.cover, self.vk, self.vy, self.vx = _source_bank(image, allowed, settings)
        # matching copy of the sources (see match_blur); None: match on the sharp pixels
        self.src_m: np.ndarray | None = None
        self.blur_sigma = 0.0
        if len(self.vk) == 0:
            raise InvalidInputError("there are no pixels to copy from: the sampling area is too small "
                                    "for the patch size")
        n = len(self.ys)
        self.nk = np.zeros(n, np.int32)
        self.ny = np.zeros(n, np.int32)
        self.nx = np.zeros(n, np.int32)
        self.cost = np.full(n, np.float32(1e30), np.float32)
        self.ab = np.zeros((n, 6), np.float32)
        # weight of the extra (feature) channels per target; see feature_weights
        self.fw = np.ones(n, np.float32)
        # distance of each target centre into the hole (0 outside) -> Wexler's confidence weight
        dist = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)
        d = np.minimum(dist[self.ys, self.xs], _CONFIDENCE_CAP)
        self.wconf = np.power(_CONFIDENCE_BASE, -d).astype(np.float64)

    def upsample_from(self, coarse: _Level) -> None:
        """Seed this level's field from the coarser one: offsets doubled, sub-pixel phase kept."""
        cy = np.minimum(self.ys // 2, coarse.tidx.shape[0] - 1)
        cx = np.minimum(self.xs // 2, coarse.tidx.shape[1] - 1)
        j = coarse.tidx[cy, cx]
        have = (j >= 0) & (len(coarse.ys) > 0)
        jj = np.where(have, j, 0)
        k = coarse.nk[jj]
        sy = 2 * coarse.ny[jj] + (self.ys - 2 * cy)
        sx = 2 * coarse.nx[jj] + (self.xs - 2 * cx)
        ks, hs, ws = self.valid.shape
        inside = have & (k < ks) & (sy >= 0) & (sx >= 0) & (sy < hs) & (sx < ws)
        ok = np.zeros_like(inside)
        ok[inside] = self.valid[k[inside], sy[inside], sx[inside]]
        # targets whose upsampled match is not a valid source here start from a random one
        engine.random_init(self.ys, self.nk, self.ny, self.nx, self.vk, self.vy, self.vx)
        self.nk[ok] = k[ok]
        self.ny[ok] = sy[ok]
        self.nx[ok] = sx[ok]

    def match_on_lowpass(self, sigma: float) -> None:
        """Compare patches on low-passed copies from now on.

        Why: an upsampled (or averaged) estimate has lost its fine detail, so plain SSD prefers
        smooth source patches (a misaligned textured patch costs twice a flat one) and the fill
        goes flat. Compared without their finest band, textured sources compete fairly; the vote
        still copies their sharp pixels.
        """
        self.blur_sigma = float(sigma)
        self.src_m = np.stack([masked_blur(self.src[k], sigma, self.cover[k]) for k in range(len(self.src))])

    def _target(self, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.src_m is None:
            return est, self.src
        return masked_blur(est, self.blur_sigma), self.src_m

    def evaluate(self, est: np.ndarray, s: CompletionSettings) -> None:
        est, src = self._target(est)
        engine.evaluate_all(est, self.ys, self.xs, src, self.nk, self.ny, self.nx, self.cost, self.ab,
                            self.r, s.adapt, s.gain_min, s.gain_max, s.bias_max, self.fw)

    def sweep(self, est: np.ndarray, s: CompletionSettings, reverse: bool, max_radius: int = 0) -> None:
        est, src = self._target(est)
        engine.pm_pass(est, self.ys, self.xs, self.tidx, src, self.valid, self.vk, self.vy, self.vx,
                       self.nk, self.ny, self.nx, self.cost, self.ab, self.r, reverse,
                       s.adapt, s.gain_min, s.gain_max, s.bias_max, s.global_candidates, max_radius, self.fw)

    def vote(self, est: np.ndarray, winner: bool = False) -> None:
        # similarity scale: Wexler's 75th percentile of the current patch costs
        sigma2 = float(np.percentile(self.cost, self.sigma_pct)) if len(self.cost) else 1.0
        inv = 1.0 / (2.0 * max(sigma2, 1e-6))
        engine.vote(est, self.hole, self.ys, self.xs, self.src, self.nk, self.ny, self.nx, self.cost,
                    self.ab, self.wconf, self.r, inv, winner)


def _ramp_map(hole: np.ndarray, depth: np.ndarray, settings: CompletionSettings) -> np.ndarray | np.float32:
    """The detail ramp's length per pixel: ``scratch_ramp`` in narrow components, else detail_ramp."""
    ramp = np.float32(settings.detail_ramp)
    if settings.scratch_ramp < 0.0 or settings.texture_min_radius <= 0.0:
        return ramp
    narrow = hole & ~_wide(hole, settings.texture_min_radius, depth)
    return np.where(narrow, np.float32(max(settings.scratch_ramp, 1e-3)), ramp)


def _final_vote(level: _Level, est: np.ndarray, settings: CompletionSettings) -> np.ndarray:
    """Averaged vote plus a share of the best patch's detail.

    Why: the averaged (Wexler) vote is the most accurate estimate but smooths texture where the
    proposals disagree; taking only the best proposal per pixel (Newson et al. 2014) keeps texture
    but costs accuracy and shows patch seams. Ramping the best proposal in over the first
    ``detail_ramp`` pixels from the hole's edge keeps the edge (and narrow scratches) on the
    accurate mean and gives wide holes the real texture (docs/benchmarks.md).
    """
    sharp = est.copy()
    level.vote(sharp, winner=True)
    level.vote(est)
    # swap (a share of) the mean's detail for the best patches': where they agree, no change
    diff = sharp - est
    detail = diff
    if settings.detail_sigma > 0:
        # the best patches' fine band (times the gain) replaces the mean's: est's low band stays
        grain = diff + (np.float32(settings.detail_gain) - 1) * sharp
        detail = grain - cv2.GaussianBlur(grain, (0, 0), settings.detail_sigma)
    share = np.float32(settings.detail)
    if settings.detail_ramp > 0.0:
        depth = cv2.distanceTransform(level.hole.view(np.uint8), cv2.DIST_L2, 5)
        share = share * np.clip(depth / _ramp_map(level.hole, depth, settings), 0.0, 1.0)[..., None]
    out = np.clip(est + share * detail, 0.0, 1.0)
    return np.ascontiguousarray(out, dtype=np.float32)


def _match_boundary(level: _Level, est: np.ndarray, image: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Remove the fill's colour mismatch along the hole's edge (a membrane correction).

    The patches also propose values for the known pixels just outside the hole; where those
    proposals differ from the real pixels, the fill would show a seam. That difference, measured
    on a one-pixel ring, is interpolated smoothly across the hole and added to the fill. Only the
    ring's pixels inside the sampling area count: a fill told to copy from there takes no colour
    from anywhere else.
    """
    hole = level.hole
    ring = (cv2.dilate(hole.view(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~hole
    proposal = est.copy()
    engine.vote(proposal, np.ascontiguousarray(ring | hole), level.ys, level.xs, level.src, level.nk,
                level.ny, level.nx, level.cost, level.ab, level.wconf, level.r,
                1.0 / (2.0 * max(float(np.percentile(level.cost, 75)), 1e-6)), False)
    ring &= allowed
    est = est[..., :3]
    if not ring.any():
        return np.ascontiguousarray(est)
    diff = image[..., :3] - proposal[..., :3]
    mismatch = np.where(ring[..., None], diff, 0.0).astype(np.float32) + np.float32(0.5)
    # diffuse only over the hole and a thin band around it (outside the band: no correction), so
    # the cost follows the hole's area, not the crop's
    band = (cv2.dilate(hole.view(np.uint8), np.ones((9, 9), np.uint8)) > 0) & ~ring
    # Telea only looks `radius` pixels around the band, so it runs on the band's bounding box plus
    # a margin: the same values, without the whole-crop passes (a small hole in a large crop)
    bx, by, bw, bh = cv2.boundingRect(band.view(np.uint8))
    pad = 8
    box = (slice(max(by - pad, 0), by + bh + pad), slice(max(bx - pad, 0), bx + bw + pad))
    membrane = diffusion_fill(np.clip(mismatch[box], 0.0, 1.0), np.ascontiguousarray(band[box]), 5.0,
                              cv2.INPAINT_TELEA) - np.float32(0.5)
    out = est.copy()
    inner = hole[box]
    out[box][inner] = np.clip(est[box][inner] + membrane[inner], 0.0, 1.0)
    return out


def _edge_diffusion(est: np.ndarray, image: np.ndarray, hole: np.ndarray,
                    settings: CompletionSettings) -> np.ndarray:
    """Blend a diffusion fill into the hole's narrow parts and along its edge.

    Why: a few pixels from the known area, a smooth continuation of the surroundings predicts the
    missing pixels better than any copied patch (the diffusion methods' hole-PSNR on thin strokes
    matches pypatchmatch's); deeper in, copied texture wins. Weight 1 on the edge falling linearly
    to 0 at ``edge_diffusion`` pixels; components no wider than ``2 * narrow_radius`` get weight 1.
    """
    dist = _distance(hole)
    weight = np.zeros(hole.shape, np.float32)
    if settings.edge_diffusion > 0.0:
        weight = np.clip(1.0 - (dist - 1.0) / np.float32(settings.edge_diffusion), 0.0, 1.0)
    if settings.narrow_radius > 0.0:
        narrow = hole & ~_wide(hole, settings.narrow_radius, dist)
        weight = np.where(narrow, np.float32(1.0), weight)
    weight = np.where(hole, weight, 0.0).astype(np.float32)
    if not weight.any():
        return est
    smooth = diffusion_fill(np.where(hole[..., None], 0.0, image).astype(np.float32), hole, 3.0,
                            cv2.INPAINT_TELEA)
    out = est + weight[..., None] * (smooth - est)
    return np.ascontiguousarray(out, dtype=np.float32)


def _new_level(images: list, holes: list, samplings: list, li: int, settings: CompletionSettings) -> _Level:
    """Level ``li`` with its per-target feature weights."""
    level = _Level(images[li], holes[li], samplings[li], settings)
    if images[li].shape[2] > 3:
        level.fw = feature_weights(holes[li], level.ys, level.xs, level.r, settings, float(2 ** li))
    return level


def _em(level: _Level, est: np.ndarray, settings: CompletionSettings, li: int, first: bool,
        check: Callable[[], None]) -> np.ndarray:
    """One level's EM: PatchMatch sweeps and votes (the coarsest level, ``first``, gets more)."""
    est = np.ascontiguousarray(est, dtype=np.float32)
    level.evaluate(est, settings)
    if not first:
        # rebuild the estimate from the upsampled field with this level's (sharper) sources
        level.vote(est, winner=li < settings.winner_levels)
        level.evaluate(est, settings)
    iterations = 2 * settings.iterations if first else settings.iterations
    if li == 0 and not first:
        iterations = max(1, iterations - settings.finest_fewer)
    for it in range(iterations):
        # a random field needs a few sweeps before its vote means anything
        sweeps = settings.init_sweeps if first and it == 0 else 1
        radius = 0 if first else settings.fine_search_radius * settings.patch_size
        for sw in range(sweeps):
            level.sweep(est, settings, reverse=bool((it + sw) % 2), max_radius=radius)
        check()
        if li == 0 and it == iterations - 1 and settings.detail > 0.0:
            est = _final_vote(level, est, settings)
            continue
        level.vote(est, winner=li < settings.winner_levels)
        level.evaluate(est, settings)
    return est


def _start(level: _Level, image: np.ndarray, onion: bool, settings: CompletionSettings) -> np.ndarray:
    """The coarsest level's starting estimate (onion peel or diffusion) and a random field."""
    if onion:
        est = image.copy()
        engine.onion_init(est, level.hole, level.src, level.vk, level.vy, level.vx, level.r,
                          settings.init_candidates)
    else:
        est = _diffuse(image, level.hole)
    if settings.feature_start == "ring" and est.shape[2] > 3:
        _ring_median_features(est, level.hole, settings.patch_size)
    engine.random_init(level.ys, level.nk, level.ny, level.nx, level.vk, level.vy, level.vx)
    return est


def start_energy(level: _Level) -> float:
    """Mean nearest-neighbour patch cost of a converged level (the EM energy per target).

    Why: of two fills from different starts, the one whose patches all have close matches in the
    known area is the more self-consistent completion (Wexler et al. 2007's objective). Measured
    and dropped: only the targets centred in the hole (the same picks), and each cost over its
    patch's variance so smooth fills do not win for being smooth (misses kodim09's sky).
    """
    cost = level.cost.astype(np.float64)
    return float(cost.mean()) if len(cost) else 0.0


def _coarsest(level: _Level, images: list, holes: list, samplings: list, li: int,
              settings: CompletionSettings, check: Callable[[], None]) -> tuple[_Level, np.ndarray]:
    """Start and converge the coarsest level; with init "best", from both starts, keeping the
    one of lower patch cost. The Telea run goes first so the onion run (and, when it wins, the
    rest of the pyramid) sees the same random numbers as init "auto"."""
    # the ring-by-ring start searches exhaustively: affordable on a coarse level only
    affordable = int(level.hole.sum()) * min(len(level.vk), settings.init_candidates) <= _ONION_BUDGET
    auto = settings.init in ("auto", "best") and affordable
    onion = settings.init == "onion" or auto
    if not (settings.init == "best" and onion):
        est = _start(level, images[li], onion, settings)
        return level, _em(level, est, settings, li, True, check)
    other = _new_level(images, holes, samplings, li, settings)
    est_t = _em(other, _start(other, images[li], False, settings), settings, li, True, check)
    engine.seed_rng(int(settings.seed) & 0x7FFFFFFF)
    est = _em(level, _start(level, images[li], True, settings), settings, li, True, check)
    if start_energy(other) < start_energy(level):
        return other, est_t
    return level, est


def complete(image: np.ndarray, hole: np.ndarray, sampling: np.ndarray | None, settings: CompletionSettings,
             on_level: Callback | None = None, check: Callable[[], None] | None = None) -> np.ndarray:
    """Fill ``hole`` of a float32 HxWx3 image by multi-scale PatchMatch; returns a new image.

    ``sampling`` (bool, True = may copy from) limits the sources; None = every known pixel.
    ``on_level(level_index, level_count, estimate)`` is called after each level with that level's
    estimate (its own resolution); ``check()`` is called between sweeps (it may raise to cancel).
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    hole = np.asarray(hole, dtype=bool)
    known = ~hole
    allowed = known if sampling is None else (np.asarray(sampling, dtype=bool) & known)
    if not hole.any():
        return image.copy()
    check = check or (lambda: None)
    engine.seed_rng(int(settings.seed) & 0x7FFFFFFF)
    if settings.texture_weight > 0.0 and not _features_wanted(hole, settings):
        settings = replace(settings, texture_weight=0.0)
    work = _with_features(np.where(hole[..., None], 0.0, image).astype(np.float32), known, settings)
    images, holes, samplings = _pyramid(work, known, allowed, settings)
    count = len(images)
    est: np.ndarray | None = None
    prev: _Level | None = None
    for step, li in enumerate(range(count - 1, -1, -1)):
        check()
        if li == 0 and not settings.texture_finest:
            images[0] = np.ascontiguousarray(images[0][..., :3])
        level = _new_level(images, holes, samplings, li, settings)
        if prev is None:
            level, est = _coarsest(level, images, holes, samplings, li, settings, check)
        else:
            h, w = holes[li].shape
            up = _resize(est[..., :images[li].shape[2]], (w, h), cv2.INTER_LINEAR)
            est = np.where(holes[li][..., None], up, images[li]).astype(np.float32)
            level.upsample_from(prev)
            if settings.match_blur > 0.0:
                level.match_on_lowpass(settings.match_blur)
            est = _em(level, est, settings, li, False, check)
        if li == 0 and settings.match_boundary:
            est = _match_boundary(level, est, images[0], samplings[0])
        if li == 0:
            est = np.ascontiguousarray(est[..., :3])  # the features have done their job
        if li == 0 and (settings.edge_diffusion > 0.0 or settings.narrow_radius > 0.0):
            est = _edge_diffusion(est, images[0][..., :3], holes[0], settings)
        if on_level is not None:
            on_level(step, count, np.ascontiguousarray(est[..., :3]))
        prev = level
    assert est is not None
    out = image.copy()
    out[hole] = est[hole]
    return out
