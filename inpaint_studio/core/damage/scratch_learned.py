"""Per-photo learned scratch finder: classify whole line *components*, not pixels.

Why components: what tells a scratch from a real thin line is mostly a property of the whole line
(its length and straightness, a contrast that stays the same along it, no parallel twin beside it,
no hue of its own along all of it), which a per-pixel classifier cannot see. The classical scratch
pipeline (:mod:`.detect`) hard-codes one threshold per such cue; here the cues are features and a
small classifier fitted to *this* photo weighs them:

1. Candidates: the classical line filter and its crest pieces at a permissive contrast level,
   without the parallel-twin, isolation and colour tests (they become features instead).
2. Training: synthetic hairs, scratches and cracks (:mod:`.synth`) are drawn onto the photo (or
   crops of a big one); candidates that lie on a drawn line are positives, the others negatives,
   except those the classical detector flags on the undamaged photo (they may be real damage).
3. Decision: a candidate is kept when its probability beats a threshold that falls with the
   sensitivity, so a higher sensitivity keeps a superset.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from inpaint_studio.core.damage import detect as classical
from inpaint_studio.core.damage import synth
from inpaint_studio.core.damage.options import DamageOptions
from inpaint_studio.core.damage.per_photo import FittedCache, fingerprint, float_rgb, training_crops
from inpaint_studio.core.damage.tiles import tiles
from inpaint_studio.core.errors import FillCancelled


@dataclass(frozen=True)
class ScratchTuning:
    """Candidate, training and decision constants (chosen on the first 6 Kodak photos, seed 7)."""

    #: classical sensitivity whose contrast floor and texture gain make the candidates (0.5: on
    #: the first 6 Kodak photos a perfect choice among them would give P 0.81 / R 0.78; at 1.0
    #: a scratch more often joins the structure it touches into one candidate, P 0.70 / R 0.72)
    candidate_sensitivity: float = 0.5
    #: training pixels (crops of a bigger photo) and damaged copies
    train_pixels: int = 800_000
    crop: int = 640
    copies: int = 8
    lines_per_mp: float = 40.0
    #: a candidate is positive when this share of it lies on a drawn line, negative when none does
    positive_share: float = 0.3
    #: classical sensitivity whose detections are left out of the negatives
    exclude_sensitivity: float = 0.5
    #: L2 penalty of the logistic regression (on standardised features); an MLP (:mod:`.mlp`) was
    #: measured too and was no better on a few hundred samples, and less stable from photo to photo
    l2: float = 1.0
    newton_steps: int = 30
    #: "verified" finder: a classic line is dropped when the best candidate under it has a
    #: probability below min(verify_cap, verify_gain x (1 - sensitivity)): 0.6 at 0.5, none at 1
    #: (chosen on seed 7 of the benchmark's scratches run among 0.3-0.79)
    verify_gain: float = 1.2
    verify_cap: float = 0.95
    #: probability threshold sigmoid((1 - sensitivity) * logit_lo): 0.93 at sensitivity 0, 0.79 at
    #: 0.5, 0.5 at 1. With 4.39 (0.9 at 0.5, as the dust finder) seed 7 gave P 0.583 / R 0.556 /
    #: object R 0.489 against classic's 0.511 / 0.572 / 0.500; at 0.79 it beats classic on all three
    #: and on clean false alarms (0.524 / 0.612 / 0.564, 3.8k against 5.7k px/MP); seed 11 agrees
    logit_lo: float = 2.63


SCRATCH_TUNING = ScratchTuning()

_FEATURES = 22


def _pieces(score: np.ndarray, t: np.ndarray,
            tuning: classical._Tuning) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classical long-line step without its parallel veto: (kept pixels, best response,
    parallel ratio per pixel: the smallest twin/strength ratio of the pieces covering it)."""
    h, w = score.shape
    keep = np.zeros((h, w), bool)
    best = np.zeros_like(score)
    ratio = np.full((h, w), 4.0, np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    kernels = classical._line_kernels(tuning.line_length, tuning.line_angles)
    spread = cv2.dilate(score, np.ones((tuning.spread, tuning.spread), np.uint8))
    for theta, kernel in zip(classical._angles(tuning.line_angles), kernels, strict=True):
        resp = cv2.filter2D(spread, -1, kernel, borderType=cv2.BORDER_REFLECT)
        np.maximum(best, resp, out=best)
        above = (resp > t) & classical._crest(resp, theta)
        count, labels = cv2.connectedComponents(above.view(np.uint8), connectivity=8)
        if count <= 1:
            continue
        sel = labels > 0
        ok = classical.line_pieces(*classical.component_extents(labels[sel], count, xs[sel], ys[sel], theta),
                                   tuning)
        if not ok.any():
            continue
        twin = _twin_ratio(resp, labels, count, theta, tuning)
        r = np.where(ok, twin, 4.0).astype(np.float32)
        piece = ok[labels]
        keep |= piece
        np.minimum(ratio, np.where(piece, r[labels], 4.0), out=ratio)
    if keep.any():
        grow = classical._disc(2 * tuning.ridge + 1)
        keep = cv2.dilate(keep.view(np.uint8), grow).astype(bool)
        ratio = cv2.erode(ratio, grow)
    return keep, best, ratio


def _twin_ratio(resp: np.ndarray, labels: np.ndarray, count: int, theta: float,
                tuning: classical._Tuning) -> np.ndarray:
    """Per component: strongest same-orientation response at the parallel offsets / own strength."""
    strength, sides = classical.parallel_means(resp, labels, count, theta, tuning.parallel_offsets)
    twin = sides.max(axis=0)
    return np.minimum(twin / np.maximum(strength, 1e-6), 4.0)


def candidates(rgb: np.ndarray, grey: bool, max_size: int, tuning: ScratchTuning = SCRATCH_TUNING,
               base: classical._Tuning = classical.TUNING) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """(labels HxW int32, count, features count x F, relative contrast HxW) of the permissive line
    candidates of a float RGB image; row 0 (background) of the features is unused. The relative
    contrast is a pixel's line contrast over its candidate's mean: a candidate that joined a
    scratch with the fainter structure it touches is trimmed back to the scratch with it."""
    luma = rgb @ classical._LUMA
    chroma = None if grey else np.ascontiguousarray(rgb.transpose(2, 0, 1))
    if base.bright_cover == "auto":
        toned = grey or classical._toned(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), base)
        base = replace(base, bright_cover="paler" if toned else "grey")
    floor, gain = classical.floor_and_gain(float(tuning.candidate_sensitivity), base)
    width = min(max_size, base.scratch_width)
    bright, dark = classical.two_sided_contrast(luma, width + 2)
    busy = np.maximum(bright[3], dark[3])
    level = classical._texture_level(busy, base)
    t = classical.line_threshold(level, floor, gain, base)
    grad = cv2.GaussianBlur(luma, (0, 0), 1.5)
    grad = np.hypot(cv2.Sobel(grad, cv2.CV_32F, 1, 0), cv2.Sobel(grad, cv2.CV_32F, 0, 1)) / 8
    h, w = luma.shape
    labels = np.zeros((h, w), np.int32)
    rel = np.zeros((h, w), np.float32)
    rows = [np.zeros((1, _FEATURES), np.float32)]
    total = 1
    for sign, (ranked, other) in enumerate(((bright, dark), (dark, bright))):
        score = ranked[1]
        keep, line, ratio = _pieces(score, t, base)
        cand = keep & (score > base.line_pixel * floor)
        cand = classical._long_enough(cand, base)
        count, lab, stats, _ = cv2.connectedComponentsWithStats(cand.view(np.uint8), connectivity=8)
        if count <= 1:
            continue
        rows.append(_features(cand, lab, count, stats, score, other[1], line, ratio, busy, level, grad,
                              chroma, gain, sign, base)[1:])
        labels[cand] = lab[cand] + (total - 1)
        rel[cand] = score[cand] / np.maximum(classical._component_means(lab, count, score), 1e-6)[lab[cand]]
        total += count - 1
    return labels, total, np.concatenate(rows), rel


def _features(cand: np.ndarray, labels: np.ndarray, count: int, stats: np.ndarray, score: np.ndarray,
              opposite: np.ndarray, line: np.ndarray, ratio: np.ndarray, busy: np.ndarray, level: np.ndarray,
              grad: np.ndarray, chroma: np.ndarray | None, gain: float, sign: int,
              base: classical._Tuning) -> np.ndarray:
    mean = classical._component_means
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float32)
    extent = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float32)
    width = classical.component_widths(cand, labels, count)
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    n = np.maximum(area, 1.0)
    mx = np.bincount(lab, xs, count) / n
    my = np.bincount(lab, ys, count) / n
    cxx = np.bincount(lab, xs.astype(np.float64) ** 2, count) / n - mx**2
    cyy = np.bincount(lab, ys.astype(np.float64) ** 2, count) / n - my**2
    cxy = np.bincount(lab, xs.astype(np.float64) * ys, count) / n - mx * my
    root = np.sqrt(0.25 * (cxx - cyy) ** 2 + cxy**2)
    major = np.sqrt(12.0 * np.maximum(0.5 * (cxx + cyy) + root, 0.0))
    minor = np.sqrt(12.0 * np.maximum(0.5 * (cxx + cyy) - root, 0.0))
    sc = mean(labels, count, score)
    sc2 = mean(labels, count, score * score)
    sc_std = np.sqrt(np.maximum(sc2 - sc * sc, 0.0))
    own = cv2.dilate(cand.view(np.uint8), classical._disc(7)).astype(bool)
    others = np.where(own, 0.0, busy).astype(np.float32)
    win = (2 * base.isolation_radius + 1,) * 2
    near = cv2.blur(others, win) / np.maximum(cv2.blur((~own).astype(np.float32), win), 1e-3)
    strength = mean(labels, count, line)
    around = mean(labels, count, near)
    opp = cv2.dilate(opposite, classical._disc(7))
    if chroma is not None:
        misfit = classical._colour_residual(labels, count, own, chroma, base)
        colourless = classical._colourless_pixels(cand, chroma, base)
        pix_ok = mean(labels, count, colourless.astype(np.float32))
    else:
        misfit = np.zeros(count)
        pix_ok = np.ones(count)
    par = mean(labels, count, ratio)
    tex = mean(labels, count, level)
    eps = 1e-4
    f = np.stack([
        np.log(area), np.log(extent), width, area / np.maximum(extent, 1.0),
        np.log(major + 1.0), minor / np.maximum(major, 1.0), extent / np.maximum(area / width, 1.0),
        np.log(sc + eps), sc_std / (sc + eps), np.log(strength + eps),
        np.log((strength + eps) / (gain * base.line_isolation * around + eps)),
        np.log(mean(labels, count, opp) + eps) - np.log(sc + eps),
        np.log(mean(labels, count, grad) + eps) - np.log(sc + eps),
        misfit / (sc + eps), np.log(misfit + eps), pix_ok,
        par, np.minimum(par, 1.0) > base.parallel,
        np.log(tex + eps), np.log(mean(labels, count, busy) + eps) - np.log(sc + eps),
        np.full(count, float(sign)), np.full(count, 0.0 if chroma is None else 1.0),
    ], axis=1).astype(np.float32)
    return f


@dataclass
class Logistic:
    """Logistic regression on standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # F + 1 (the last is the bias)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probability of "damage" per row of ``x``."""
        z = (np.asarray(x, np.float64) - self.mean) * self.scale @ self.coef[:-1] + self.coef[-1]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float, steps: int) -> Logistic:
    """Weighted, L2-penalised logistic regression by Newton steps (deterministic, a few ms)."""
    x = np.asarray(x, np.float64)
    mean = x.mean(0)
    scale = 1.0 / np.maximum(x.std(0), 1e-6)
    z = np.hstack([(x - mean) * scale, np.ones((len(x), 1))])
    coef = np.zeros(z.shape[1])
    penalty = l2 * np.eye(z.shape[1])
    penalty[-1, -1] = 1e-6
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ coef, -30.0, 30.0)))
        grad = z.T @ (weights * (p - y)) + penalty @ coef
        hess = (z * (weights * p * (1.0 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hess, grad)
        coef -= step
        if np.abs(step).max() < 1e-6:
            break
    return Logistic(mean, scale, coef)


@dataclass
class ScratchDetector:
    """A component classifier fitted to one photo, and the probability maps of the last images it
    judged (a slider move only re-thresholds them)."""

    model: Logistic
    max_size: int
    grey: bool
    _seen: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def probabilities(self, pixels: np.ndarray, *, cancel: Callable[[], bool] | None = None,
                      tuning: ScratchTuning = SCRATCH_TUNING, key: tuple | None = None) -> np.ndarray:
        """uint8 HxW: each candidate's probability x255 over its pixels (0 elsewhere), tile by tile;
        the last two images' maps are kept. ``key``: ``pixels``' fingerprint when the caller has it."""
        key = (key or fingerprint(pixels), tuning)
        with self._lock:
            if key in self._seen:
                return self._seen[key]
        out = self._probabilities(pixels, cancel, tuning)
        with self._lock:
            self._seen[key] = out
            while len(self._seen) > 2:
                self._seen.pop(next(iter(self._seen)))
        return out

    def _probabilities(self, pixels: np.ndarray, cancel: Callable[[], bool] | None,
                       tuning: ScratchTuning) -> np.ndarray:
        h, w = pixels.shape[:2]
        out = np.zeros((h, w), np.uint8)
        base = classical.TUNING
        margin = max(base.texture_window, base.line_length + max(base.parallel_offsets)) + 16
        for t in tiles(h, w, 2048, margin):
            if cancel is not None and cancel():
                raise FillCancelled("damage detection cancelled")
            rgb = float_rgb(pixels[t.outer.slices])
            labels, count, f, _ = candidates(rgb, self.grey, self.max_size, tuning)
            if count <= 1:
                continue
            p = self.model.predict(f[1:])
            lut = np.concatenate([[0], np.clip(p * 255 + 0.5, 1, 255)]).astype(np.uint8)
            out[t.inner.slices] = lut[labels[t.inner_in_outer.slices]]
        return out

    def scratches(self, pixels: np.ndarray, options: DamageOptions, *,
                  cancel: Callable[[], bool] | None = None,
                  tuning: ScratchTuning = SCRATCH_TUNING) -> np.ndarray:
        """bool HxW: the accepted candidates (a higher sensitivity keeps a superset)."""
        prob = self.probabilities(pixels, cancel=cancel, tuning=tuning)
        return prob > threshold(options.sensitivity, tuning) * 255


def verified(lines: np.ndarray, prob: np.ndarray, sensitivity: float,
             tuning: ScratchTuning = SCRATCH_TUNING) -> np.ndarray:
    """The classic soft line mask ``lines`` (uint8) without the lines the classifier rejects.

    Per connected piece of the mask: the best probability ``prob`` (:meth:`ScratchDetector.
    probabilities`) of the candidates under it must reach the verify threshold of ``sensitivity``.
    A piece with no candidate under it is kept (the classifier has no opinion on it). Why a veto
    rather than the classifier alone ("learned"): most classic false alarms on colour photos are
    real lines in texture (branches, rigging, tide lines, outlines) that it rejects, while as a
    finder of its own it misses scratches classic finds. The threshold falls with the sensitivity
    (none at 1). ``detect_damage`` applies it to colour photos only: on toned scans it dropped real
    cracks.
    """
    cut = min(tuning.verify_cap, tuning.verify_gain * (1.0 - float(sensitivity)))
    if cut <= 0 or not lines.any():
        return lines
    count, labels = cv2.connectedComponents((lines > 0).view(np.uint8), connectivity=8)
    on = prob > 0
    best = np.zeros(count, np.uint8)
    np.maximum.at(best, labels[on], prob[on])
    seen = np.bincount(labels[on], minlength=count) > 0
    keep = (best >= cut * 255) | ~seen
    keep[0] = False
    return np.where(keep[labels], lines, 0).astype(np.uint8)


def threshold(sensitivity: float, tuning: ScratchTuning = SCRATCH_TUNING) -> float:
    return float(1.0 / (1.0 + np.exp(-(1.0 - float(sensitivity)) * tuning.logit_lo)))


def training_set(pixels: np.ndarray, max_size: int, rng: np.random.Generator, tuning: ScratchTuning,
                 cancel: Callable[[], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (1 = drawn line) of the candidates of damaged copies of ``pixels``."""
    x, share, clear = _training_components(pixels, max_size, rng, tuning, cancel)
    pos = share >= tuning.positive_share
    use = pos | clear
    return x[use], pos[use].astype(np.int64)


def _training_components(pixels: np.ndarray, max_size: int, rng: np.random.Generator, tuning: ScratchTuning,
                         cancel: Callable[[], bool] | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, share on a drawn line, clear negative) of the candidates of damaged copies.

    A clear negative touches no drawn defect (nor its rim) and none of what the classical detector
    flags on the undamaged crop (that may be real damage, which must not be learned as structure).
    """
    h, w = pixels.shape[:2]
    grey = pixels.ndim == 2 or pixels.shape[2] < 3
    xs, shares, clears = [], [], []
    crops = training_crops(h, w, tuning.train_pixels, tuning.crop, rng)
    copies = max(1, round(tuning.copies / len(crops))) if len(crops) > 1 else tuning.copies
    for rows, cols in crops:
        crop = pixels[rows, cols]
        options = DamageOptions("scratches", tuning.exclude_sensitivity, max_size=max_size,
                                dust_finder="classic")
        known = classical.detect_damage(crop, options, keep=False, tuning=classical.STRICT_TWINS) > 0
        known = cv2.dilate(known.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        rgb = float_rgb(crop)
        mp = crop.shape[0] * crop.shape[1] / 1e6
        for _ in range(copies):
            if cancel is not None and cancel():
                raise FillCancelled("damage detection cancelled")
            lines = int(rng.poisson(max(2.0, tuning.lines_per_mp * mp)))
            dmg = synth.inject(rgb, rng, max_size, lines, 0)
            image = np.rint(dmg.image * 255.0) * np.float32(1.0 / 255.0)
            labels, count, f, _ = candidates(image, grey, max_size, tuning)
            if count <= 1:
                continue
            flat = labels.ravel()
            n = np.bincount(flat, minlength=count).astype(np.float32)
            on = np.bincount(flat, (dmg.label == synth.SCRATCH).ravel(), minlength=count) / np.maximum(n, 1)
            near = np.bincount(flat, ((dmg.label > 0) | dmg.rim).ravel(), minlength=count)
            unknown = np.bincount(flat, known.ravel(), minlength=count)
            xs.append(f[1:])
            shares.append(on[1:])
            clears.append((near[1:] == 0) & (unknown[1:] == 0))
    if not xs:
        return np.zeros((0, _FEATURES), np.float32), np.zeros(0), np.zeros(0, bool)
    return np.concatenate(xs), np.concatenate(shares), np.concatenate(clears)


def fit(pixels: np.ndarray, max_size: int = 15, *, seed: int = 0, cancel: Callable[[], bool] | None = None,
        tuning: ScratchTuning = SCRATCH_TUNING) -> ScratchDetector:
    """Train a component classifier on synthetic lines drawn onto (crops of) ``pixels``."""
    classical._check_pixels(pixels)
    rng = np.random.default_rng(seed)
    grey = pixels.ndim == 2 or pixels.shape[2] < 3
    x, y = training_set(pixels, max_size, rng, tuning, cancel)
    # a degenerate set (no candidates of one class) still yields a usable model
    x = np.concatenate([x, np.zeros((2, x.shape[1]), np.float32)])
    y = np.concatenate([y, [0, 1]]).astype(np.float64)
    pos = max(float(y.sum()), 1.0)
    neg = max(len(y) - pos, 1.0)
    weights = np.where(y == 1, neg / pos, 1.0)  # both classes weigh the same
    model = fit_logistic(x, y, weights, tuning.l2, tuning.newton_steps)
    return ScratchDetector(model, max_size, grey)


#: the fitted detectors of the last two photos
_CACHE: FittedCache[ScratchDetector] = FittedCache()


def release_maps() -> None:
    """Drop the cached probability maps of every fitted detector (one-shot callers never
    re-threshold; see :func:`.learned.release_maps`); the models stay cached."""
    for detector in _CACHE.values():
        with detector._lock:
            detector._seen.clear()


def detector_for(pixels: np.ndarray, max_size: int, *, seed: int = 0,
                 cancel: Callable[[], bool] | None = None, tuning: ScratchTuning = SCRATCH_TUNING,
                 key: tuple | None = None) -> ScratchDetector:
    """The scratch detector fitted to ``pixels`` (cached for the last two photos)."""
    key = (key or fingerprint(pixels), max_size, seed, tuning)
    return _CACHE.get_or_fit(key, lambda: fit(pixels, max_size, seed=seed, cancel=cancel, tuning=tuning))
