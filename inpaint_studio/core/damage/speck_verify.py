"""A second look at the learned dust finder's specks: a per-component verifier.

Why: the learned finder (:mod:`.learned`) decides pixel by pixel, with one threshold on the speck
probability. Loosening that threshold finds more dust, but also more of the photo's own compact
structure; what tells them apart is often only visible on the whole blob: its contrast against the
ring around it *relative to the ring's own spread*, its colour against the ring, an edge beside it,
how many similar blobs sit next to it (a texture repeats, dust does not). So the components of the
speck map at a loose level are each described by a few such features, and a logistic regression
(:func:`.scratch_learned.fit_logistic`, the learned scratch finder's) fitted on *this* photo tells
them apart: on fresh synthetic copies of the photo (specks and lines from :mod:`.synth`), the
components lying on a drawn speck are the positives, the others the negatives. Fitted once per
photo with the pixel classifier; the verdict of each component is cached with the probability maps,
so a slider move only re-thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from inpaint_studio.core.damage import synth
from inpaint_studio.core.damage.scratch_learned import Logistic, fit_logistic
from inpaint_studio.core.pixels import max_value


@dataclass(frozen=True)
class VerifyTuning:
    """Training constants of the verifier (its keep thresholds are in :class:`.learned.LearnedTuning`)."""

    #: speck probability at which the candidate components are cut (fixed: no sensitivity moves it)
    level: float = 0.5
    #: fresh damaged copies of the photo (or of its training crops) the verifier is fitted on
    copies: int = 2
    #: px of the ring around a component that its surroundings are measured on
    ring: int = 3
    #: px within which similar blobs are counted
    near: float = 20.0
    #: a component is a positive when this share of it lies on a drawn speck (grown 1 px)
    positive_share: float = 0.5
    #: fewer positives or negatives than this: no verifier (the pixel rule alone decides)
    min_class: int = 10
    l2: float = 1.0
    newton_steps: int = 30


VERIFY = VerifyTuning()

_LUMA = np.array([0.299, 0.587, 0.114], np.float64)


def components(speck: np.ndarray, tuning: VerifyTuning = VERIFY) -> tuple[int, np.ndarray, np.ndarray]:
    """(count, labels, stats) of the speck map (uint8 x255) at the verifier's loose level."""
    loose = (speck >= np.ceil(tuning.level * 255)).view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(loose, connectivity=8)
    return count, labels, stats


def _rgb_at(pixels: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """float64 RGB in [0, 1] (N x 3) of the photo's pixels at flat indices (grey is repeated)."""
    h, w = pixels.shape[:2]
    planes = pixels.reshape(h * w, -1)
    out = planes[flat].astype(np.float64) * (1.0 / max_value(pixels.dtype))
    if out.shape[1] < 3:
        out = np.repeat(out[:, :1], 3, axis=1)
    return out[:, :3]


def features(pixels: np.ndarray, line: np.ndarray, speck: np.ndarray, contrast: np.ndarray,
             candidates: np.ndarray, count: int, labels: np.ndarray, stats: np.ndarray,
             tuning: VerifyTuning = VERIFY) -> np.ndarray:
    """(count - 1) x :data:`N_FEATURES` features of the components 1..count-1 of ``labels`` (the
    photo's ``pixels``, its learned maps and its classical speck candidates, a bool map). Only the
    components' and their rings' pixels are read: no float copy of a large photo is made."""
    n = count
    h, w = labels.shape
    inside = labels > 0
    idx = np.flatnonzero(inside)
    lab = labels.ravel()[idx]
    area = np.bincount(lab, minlength=n).astype(np.float64)
    safe = np.maximum(area, 1.0)

    def mean_in(values: np.ndarray) -> np.ndarray:
        return np.bincount(lab, weights=values, minlength=n) / safe

    rgb_in = _rgb_at(pixels, idx)
    luma_in = rgb_in @ _LUMA
    sp = speck.ravel()[idx].astype(np.float64) / 255.0
    ln = line.ravel()[idx].astype(np.float64) / 255.0
    ct = contrast.ravel()[idx].astype(np.float64) / 512.0
    cand = candidates.ravel()[idx].astype(np.float64)
    # the ring: px within ``ring`` of a component and outside every component, given to the
    # highest label around (neighbours share theirs)
    k = 2 * tuning.ring + 1
    grown = cv2.dilate(labels.astype(np.float32), np.ones((k, k), np.uint8))
    ring_idx = np.flatnonzero((grown > 0).ravel() & ~inside.ravel())
    ring_lab = grown.ravel()[ring_idx].astype(np.int64)
    del grown
    ring_n = np.maximum(np.bincount(ring_lab, minlength=n).astype(np.float64), 1.0)
    rgb_ring = _rgb_at(pixels, ring_idx)
    luma_ring = rgb_ring @ _LUMA

    def mean_ring(values: np.ndarray) -> np.ndarray:
        return np.bincount(ring_lab, weights=values, minlength=n) / ring_n

    ring_mean = mean_ring(luma_ring)
    ring_std = np.sqrt(np.maximum(mean_ring(luma_ring**2) - ring_mean**2, 0.0))
    in_mean = mean_in(luma_in)
    diff = in_mean - ring_mean
    spread = ring_std + 0.01
    # the strongest pixel against the ring, in the component's own polarity
    dev = (luma_in - ring_mean[lab]) * np.sign(diff)[lab]
    peak = np.zeros(n)
    np.maximum.at(peak, lab, dev)
    # colour: the mean chroma (RGB minus luma) inside against the ring's
    chroma = 0.0
    for c in range(3):
        chroma = chroma + (mean_in(rgb_in[:, c] - luma_in) - mean_ring(rgb_ring[:, c] - luma_ring)) ** 2
    chroma = np.sqrt(chroma)
    # an edge beside it: the luma gradient on the ring (central differences, clamped at the frame)
    ry, rx = np.divmod(ring_idx, w)

    def luma_at(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return _rgb_at(pixels, np.clip(y, 0, h - 1) * w + np.clip(x, 0, w - 1)) @ _LUMA

    grad = np.hypot(luma_at(ry, rx + 1) - luma_at(ry, rx - 1),
                    luma_at(ry + 1, rx) - luma_at(ry - 1, rx)) * 0.5
    ring_grad = mean_ring(grad)
    # probabilities and contrast
    sp_max = ndimage.maximum(sp, lab, np.arange(n)) if n > 1 else np.zeros(n)
    ln_max = ndimage.maximum(ln, lab, np.arange(n)) if n > 1 else np.zeros(n)
    ct_max = ndimage.maximum(ct, lab, np.arange(n)) if n > 1 else np.zeros(n)
    # shape
    bw = stats[:, cv2.CC_STAT_WIDTH].astype(np.float64)
    bh = stats[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    fill = area / np.maximum(bw * bh, 1.0)
    elong = np.maximum(bw, bh) / np.maximum(np.minimum(bw, bh), 1.0)
    # similar blobs near it: components (of either, and of its own polarity) within ``near`` px
    cy = stats[:, cv2.CC_STAT_TOP] + bh / 2
    cx = stats[:, cv2.CC_STAT_LEFT] + bw / 2
    pts = np.stack([cy, cx], 1)[1:]
    polarity = diff[1:] > 0
    near_all = np.zeros(n)
    near_same = np.zeros(n)
    if n > 1:
        tree = cKDTree(pts)
        near_all[1:] = tree.query_ball_point(pts, tuning.near, return_length=True) - 1
        for sign in (False, True):
            sel = np.flatnonzero(polarity == sign)
            if len(sel):
                near_same[1 + sel] = cKDTree(pts[sel]).query_ball_point(pts[sel], tuning.near,
                                                                        return_length=True) - 1
    f = np.stack([
        np.log(safe), fill, np.log(elong),
        mean_in(sp), sp_max, mean_in((sp >= 0.9).astype(np.float64)),
        mean_in(ln), ln_max,
        mean_in(ct), ct_max,
        mean_in(cand), (np.bincount(lab, weights=cand, minlength=n) > 0).astype(np.float64),
        np.abs(diff), np.sign(diff), np.abs(diff) / spread, peak / spread,
        np.log(spread), ring_mean,
        chroma, chroma / (np.abs(diff) + 0.01),
        ring_grad, ring_grad / (np.abs(diff) + 0.01),
        np.log1p(near_all), np.log1p(near_same),
    ], axis=1)
    return f[1:]


#: number of features per component
N_FEATURES = 24


def labels_of(count: int, labels: np.ndarray, dmg: synth.Injected,
              tuning: VerifyTuning = VERIFY) -> np.ndarray:
    """1 for the components 1..count-1 lying on a drawn speck, else 0."""
    on = cv2.dilate((dmg.label == synth.DUST).view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    inside = labels > 0
    lab = labels[inside]
    area = np.maximum(np.bincount(lab, minlength=count), 1)
    share = np.bincount(lab, weights=on[inside].astype(np.float64), minlength=count) / area
    return (share[1:] >= tuning.positive_share).astype(np.float64)


def fit(x: np.ndarray, y: np.ndarray, tuning: VerifyTuning = VERIFY) -> Logistic | None:
    """The per-photo verifier, or None when the copies gave too few examples of either kind."""
    if len(y) == 0 or min(int(y.sum()), int(len(y) - y.sum())) < tuning.min_class:
        return None
    return fit_logistic(x, y, np.ones(len(y)), tuning.l2, tuning.newton_steps)


def keep_thresholds(sensitivity: float, hi: float, lo: float) -> tuple[float, float]:
    """Verdict thresholds at ``sensitivity``: a component is kept on its own above the first, and
    when the pixel rule finds it too above the second. ``hi`` / ``lo`` are their values at 0.5;
    the first moves in logit space (like the speck threshold: 0.5 at 1), the second linearly to 0
    at 1 (where the pixel rule's finds are all kept). Both fall as the sensitivity rises."""
    s = float(sensitivity)
    logit = np.log(hi / (1.0 - hi))
    return float(1.0 / (1.0 + np.exp(-2.0 * (1.0 - s) * logit))), float(min(1.0, 2.0 * lo * (1.0 - s)))
