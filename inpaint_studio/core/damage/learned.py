"""The per-photo learned detector: train on synthetic damage drawn onto this photo, then apply.

Why: on the classical detector's features alone, dust and real compact structure (window panes,
gravel, foliage gaps) and scratches and real thin lines (eyelashes, cables, frames) overlap, and
one threshold per feature cannot separate them on every photo. What separates them is *this*
photo's own structure: so we draw hairs, scratches, cracks and specks (:mod:`.synth`) onto crops of
the photo, compute the per-pixel features (:mod:`.features`) and fit a small classifier (:mod:`.mlp`)
that tells the injected defects from everything the photo already contains. No weights are shipped
or downloaded; training happens once per photo (:func:`fit`) and moving the sensitivity or size
sliders only re-thresholds the cached probabilities (:meth:`LearnedDetector.dust`).

Real old scans carry real damage, which must not become "photo structure" for the classifier: the
pixels the classical detector flags are left out of the negatives.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from inpaint_studio.core.damage import detect as classical
from inpaint_studio.core.damage import synth
from inpaint_studio.core.damage.features import CONTEXT, SPECK_BRIGHT, SPECK_DARK, features
from inpaint_studio.core.damage.mlp import MLP
from inpaint_studio.core.damage.mlp import fit as fit_mlp
from inpaint_studio.core.damage.options import DamageOptions
from inpaint_studio.core.damage.per_photo import FittedCache, fingerprint, float_rgb, training_crops
from inpaint_studio.core.damage.tiles import tiles
from inpaint_studio.core.errors import FillCancelled


@dataclass(frozen=True)
class LearnedTuning:
    """Training and decision constants (chosen on the first 6 Kodak photos, seed 7)."""

    #: at most this many pixels of the photo are used for training (crops beyond that)
    train_pixels: int = 800_000
    crop: int = 512
    #: damaged copies per crop, and defects per megapixel of crop
    copies: int = 2
    #: ... or more, until the copies hold this many pixels (a small photo gets many)
    min_train_pixels: int = 400_000
    lines_per_mp: float = 25.0
    specks_per_mp: float = 600.0
    #: share of drawn specks whose diameter is uniform rather than log-uniform (:func:`.synth.inject`).
    #: With log-uniform sizes alone (400 specks/MP), specks of 8-15 px were rare in training and the
    #: inside of one was classed "line" (a wide scratch's inside looks the same to a pixel); the
    #: uniform third is drawn on top of the same 400 log-uniform specks/MP, so small dust keeps its
    #: share of the training (replacing half of them by uniform ones lost small specks)
    uniform_specks: float = 1 / 3
    #: negatives sampled per positive, and the share of them drawn where the photo is busy
    negatives: float = 4.0
    busy_share: float = 0.5
    max_samples: int = 120_000
    #: speck probability threshold: sigmoid((1 - sensitivity) * logit_lo), i.e. 0.988 at
    #: sensitivity 0, 0.9 at 0.5, 0.5 at 1
    logit_lo: float = 4.39
    #: contrast floor (fraction of full range) of a speck at sensitivity 0 and 1
    floor_lo: float = 0.08
    floor_hi: float = 0.02
    #: level (probability) at which the max-size test cuts specks into components
    size_level: float = 0.5
    #: holes up to this many px in the "any defect" map are filled before the size test: the
    #: probability can dip inside a small high-contrast speck and ring it, and a ring is thin
    #: and long, i.e. "part of a line"
    hole_area: int = 225
    #: a blob of "any defect" beyond max size but within this many times it is size-tested on its
    #: pieces inside the classical candidates (the halo round a sharp speck is left out, see
    #: :func:`_size_veto`); beyond it, or at 1 (no clipping), the whole blob is vetoed
    veto_halo: float = 2.0
    #: ... and a piece holding less than this share of its blob's area is vetoed as well
    veto_share: float = 0.2
    #: a speck must touch a classical speck candidate (:func:`.detect.speck_candidates`) found at
    #: this classical sensitivity's contrast floor: a pupil is a dark spot in a darker-than-skin
    #: iris and eye socket, so its candidate joins them and fails the size test
    candidate_sensitivity: float = 0.0
    #: classical sensitivity whose detections are left out of the negatives
    exclude_sensitivity: float = 0.5
    hidden: tuple[int, ...] = (56, 28)
    epochs: int = 20
    class_weight: float = 0.3
    #: hard-negative round: at most this many of the photo's own pixels the first model scores
    #: between hard_low and hard_high are added as negatives (0 = no second round)
    hard_negatives: int = 30_000
    hard_low: float = 0.3
    hard_high: float = 0.97


LEARNED = LearnedTuning()
_LOG_GAIN = 50.0

#: bytes of cached probability maps a detector keeps: the newest image's always, an older one's only
#: while both fit. Twelve-megapixel photos keep two (the GUI's visible area and the whole photo, ~40
#: MB each), so slider moves stay cheap on both; a 100 MP scan (~325 MB) keeps itself and a crop.
MAPS_BUDGET = 512 * 2**20


def _planes(rgb: np.ndarray, grey: bool, max_size: int) -> np.ndarray:
    """Feature planes (F x H x W) of a float RGB crop."""
    luma = rgb @ classical._LUMA
    chroma = None if grey else np.ascontiguousarray(rgb.transpose(2, 0, 1))
    planes = features(luma, chroma, max_size)
    # contrasts and their ratios are heavy-tailed: a signed log keeps the faint end resolved.
    # In place: a 1024 px tile's 53 planes are ~300 MB, and each temporary of
    # sign(x) * log1p(|x| * gain) would be as big again (same values, up to the sign of a zero)
    negative = planes < 0
    np.abs(planes, out=planes)
    np.multiply(planes, np.float32(_LOG_GAIN), out=planes)
    np.log1p(planes, out=planes)
    np.negative(planes, out=planes, where=negative)
    return planes


@dataclass
class LearnedDetector:
    """A classifier fitted to one photo, and its damage probabilities for the images it has seen."""

    model: MLP
    max_size: int
    grey: bool
    #: fingerprint -> (line, speck) probability maps (x255, uint8), the speck contrast (x512,
    #: uint8) and the classical speck candidates (bits packed along rows, :func:`numpy.packbits`);
    #: 3.125 bytes/px, the last two images within :data:`MAPS_BUDGET`
    _seen: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def probabilities(self, pixels: np.ndarray, *, cancel: Callable[[], bool] | None = None,
                      tile: int = classical.TILE, key: tuple | None = None, tuning: LearnedTuning = LEARNED
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(line, speck) probability maps of ``pixels`` (HxW uint8 0..255, computed tile by tile),
        the speck contrast (uint8, 1/512 steps) that the sensitivity's contrast floor reads and the
        classical speck candidates a speck must touch, packed 8 px a byte along rows (unpack with
        ``np.unpackbits(c, axis=1, count=W).view(bool)``: a bool map would cost a byte per px, 100 MB
        on a 100 MP scan). ``tile`` must be a multiple of 8 (each tile packs its own columns).
        ``key``: ``pixels``' :func:`fingerprint` when the caller has it already."""
        if tile % 8:
            raise ValueError(f"tile must be a multiple of 8, got {tile}")
        key = (key or fingerprint(pixels), tuning.candidate_sensitivity)
        with self._lock:
            if key in self._seen:
                return self._seen[key]
        h, w = pixels.shape[:2]
        line = np.zeros((h, w), np.uint8)
        speck = np.zeros((h, w), np.uint8)
        contrast = np.zeros((h, w), np.uint8)
        candidates = np.zeros((h, (w + 7) // 8), np.uint8)
        base = classical.TUNING
        floor = classical._lerp(base.floor_lo, base.floor_hi, tuning.candidate_sensitivity)
        sizes = DamageOptions(max_size=self.max_size)
        for t in tiles(h, w, tile, CONTEXT + self.max_size):
            if cancel is not None and cancel():
                raise FillCancelled("damage detection cancelled")
            planes = _planes(float_rgb(pixels[t.outer.slices]), self.grey, self.max_size)
            inner = planes[(slice(None), *t.inner_in_outer.slices)]
            # candidates are cut into components on the whole outer tile, so a blob crossing the
            # inner border is sized whole
            cand = np.zeros(planes.shape[1:], bool)
            for index in (SPECK_BRIGHT, SPECK_DARK):
                score = np.expm1(planes[index]) * np.float32(1.0 / _LOG_GAIN)  # undo the signed log
                cand |= classical.speck_candidates(score, floor, sizes)
            packed = np.packbits(cand[t.inner_in_outer.slices], axis=1)
            col = t.inner.left // 8  # a multiple of 8 px: each tile's bytes are its own
            candidates[t.inner.top:t.inner.bottom, col:col + packed.shape[1]] = packed
            f = inner.reshape(inner.shape[0], -1).T
            p = np.empty((f.shape[0], 3), np.float32)
            for start in range(0, f.shape[0], 262_144):  # bounded work memory
                p[start:start + 262_144] = self.model.predict(f[start:start + 262_144])
            shape = inner.shape[1:]
            line[t.inner.slices] = np.clip(p[:, synth.SCRATCH] * 255 + 0.5, 0, 255).reshape(shape)
            speck[t.inner.slices] = np.clip(p[:, synth.DUST] * 255 + 0.5, 0, 255).reshape(shape)
            peak = np.maximum(inner[SPECK_BRIGHT], inner[SPECK_DARK])
            contrast[t.inner.slices] = np.clip(np.expm1(peak) * (512.0 / _LOG_GAIN), 0, 255)
        maps = (line, speck, contrast, candidates)
        with self._lock:
            self._seen[key] = maps
            while len(self._seen) > 2 or (len(self._seen) > 1 and _cached_bytes(self._seen) > MAPS_BUDGET):
                self._seen.pop(next(iter(self._seen)))
        return maps

    def dust(self, pixels: np.ndarray, options: DamageOptions, *, cancel: Callable[[], bool] | None = None,
             tuning: LearnedTuning = LEARNED, key: tuple | None = None) -> np.ndarray:
        """bool HxW: the specks for ``options`` (cheap once the probabilities are cached).

        The sensitivity only moves the probability threshold and the size tests are made at a fixed
        level, so a higher sensitivity never loses a pixel.
        """
        line, speck, contrast, candidates = self.probabilities(pixels, cancel=cancel, key=key, tuning=tuning)
        s = float(options.sensitivity)
        threshold = 1.0 / (1.0 + np.exp(-(1.0 - s) * tuning.logit_lo))
        found = speck > threshold * 255
        if not found.any():
            return found
        # "higher finds fainter damage": a speck's peak contrast must also beat a floor
        floor = tuning.floor_lo + (tuning.floor_hi - tuning.floor_lo) * s
        count, labels = cv2.connectedComponents(found.view(np.uint8), connectivity=8)
        peak = np.zeros(count, np.uint8)
        np.maximum.at(peak, labels[found], contrast[found])  # the specks' pixels only: 0 is never kept
        found &= (peak > floor * 512)[labels]
        del labels  # 4 bytes/px: a 100 MP scan's work arrays are freed as soon as they are done with
        # size tests on the components of "any defect" at a fixed level: a blob beyond max size is
        # image structure, and a speck-classed piece of a longer line is part of a scratch
        unpacked = np.unpackbits(candidates, axis=1, count=found.shape[1]).view(bool)
        veto = _size_veto(line, speck, unpacked, options, tuning).view(np.uint8)
        found &= ~cv2.dilate(veto, np.ones((3, 3), np.uint8)).astype(bool)
        del veto
        if options.min_size > 1:
            found = _thick_enough(found, options.min_size)
        # a speck the classical size test sees as part of a larger blob of its polarity is structure
        count, labels = cv2.connectedComponents(found.view(np.uint8), connectivity=8)
        if count > 1:
            touches = np.bincount(labels[unpacked], minlength=count) > 0
            touches[0] = False
            # ... and a speck ends where its candidate blob (seeds grown into their faint rim) ends:
            # round a sharp high-contrast speck the speck probability also covers a 1-2 px halo
            found = touches[labels] & unpacked
        return found


def _size_veto(line: np.ndarray, speck: np.ndarray, candidates: np.ndarray, options: DamageOptions,
               tuning: LearnedTuning) -> np.ndarray:
    """bool HxW: where "any defect" (line + speck probability at ``size_level``, small holes filled) is
    too big to be a speck. Round a sharp high-contrast speck the map carries a halo a few px wide that
    makes its blob too big, so a blob beyond max size is cut to the classical candidates
    (``candidates``, unpacked) and a piece is vetoed only if it is itself too big, holds less than
    ``veto_share`` of its blob (a speck fills much of its haloed blob, a candidate-sized patch of
    structure little of it) or lies in a blob beyond ``veto_halo`` x max size."""
    level = _fill_holes(cv2.add(line, speck) > tuning.size_level * 255, tuning.hole_area)
    slack = classical.TUNING.speck_slack
    extents = classical._speck_extents(level)
    if extents is None:
        return np.zeros_like(level)
    labels, width, length, area = extents
    over = level & ~classical._within_size(width, length, options.min_size, options.max_size, slack)[labels]
    if tuning.veto_halo <= 1.0 or not over.any():
        return over
    # one labelling of "any defect" serves every test: a blob beyond veto_halo x max size is vetoed
    # whole, and a piece's share is of its blob's area
    whole = None
    if math.isfinite(tuning.veto_halo):
        largest = max(options.max_size, round(tuning.veto_halo * options.max_size))
        whole = level & ~classical._within_size(width, length, options.min_size, largest, slack)[labels]
    # a blob's candidate pieces are its own: the pieces of the oversized blobs are the components of this
    clipped = over & candidates
    at = np.flatnonzero(clipped) if tuning.veto_share > 0 else None  # the pieces' own pixels are few
    blob_area = None if at is None else area[labels.reshape(-1)[at]]
    del level, labels  # one label map at a time (4 bytes/px on a 100 MP scan)
    veto = clipped & ~classical._speck_sized(clipped, options, slack)
    if at is not None and at.size:
        count, labels = cv2.connectedComponents(clipped.view(np.uint8), connectivity=8)
        piece = labels.reshape(-1)[at]
        del labels
        piece_area = np.bincount(piece, minlength=count)[piece]
        veto.reshape(-1)[at[piece_area < tuning.veto_share * blob_area]] = True
    del clipped
    if whole is not None:
        veto |= whole
    return veto


def _cached_bytes(seen: dict) -> int:
    return sum(a.nbytes for maps in seen.values() for a in maps)


def _fill_holes(mask: np.ndarray, max_area: int) -> np.ndarray:
    """``mask`` with its enclosed background regions of at most ``max_area`` px filled."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).view(np.uint8), connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        small[edge] = False  # background reaching the frame is not enclosed
    return mask | small[labels]


def _thick_enough(found: np.ndarray, min_size: int) -> np.ndarray:
    """Drop components thinner than ``min_size`` (monotone: a lower threshold only makes them wider)."""
    count, labels = cv2.connectedComponents(found.view(np.uint8), connectivity=8)
    if count <= 1:
        return found
    keep = classical.component_widths(found, labels, count) >= min_size
    keep[0] = False
    return keep[labels]


def fit(pixels: np.ndarray, max_size: int = 15, *, seed: int = 0, cancel: Callable[[], bool] | None = None,
        tuning: LearnedTuning = LEARNED) -> LearnedDetector:
    """Train a detector on synthetic damage drawn onto (crops of) ``pixels``."""
    classical._check_pixels(pixels)
    rng = np.random.default_rng(seed)
    h, w = pixels.shape[:2]
    grey = pixels.ndim == 2 or pixels.shape[2] < 3
    xs, ys, plain = [], [], []
    for rows, cols in training_crops(h, w, tuning.train_pixels, tuning.crop, rng):
        if cancel is not None and cancel():
            raise FillCancelled("damage detection cancelled")
        crop = pixels[rows, cols]
        options = DamageOptions("all", tuning.exclude_sensitivity, max_size=max_size, dust_finder="classic")
        known = classical.detect_damage(crop, options, keep=False, tuning=classical.STRICT_TWINS)
        unknown = cv2.dilate((known > 0).view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        rgb = float_rgb(crop)
        mp = crop.shape[0] * crop.shape[1] / 1e6
        # a small photo gets more damaged copies: the classifier needs a few hundred defects
        copies = max(tuning.copies, int(np.ceil(tuning.min_train_pixels / (crop.shape[0] * crop.shape[1]))))
        for _ in range(copies):
            if cancel is not None and cancel():  # a small photo gets dozens of copies
                raise FillCancelled("damage detection cancelled")
            lines = int(rng.poisson(max(1.0, tuning.lines_per_mp * mp)))
            specks = int(rng.poisson(max(3.0, tuning.specks_per_mp * mp)))
            dmg = synth.inject(rgb, rng, max_size, lines, specks, tuning.uniform_specks)
            # the photo arrives quantised; so must its damaged copies
            dmg.image = np.rint(dmg.image * 255.0) * np.float32(1.0 / 255.0)
            planes = _planes(dmg.image, grey, max_size)
            x, y = _sample(planes, dmg, unknown, rng, tuning)
            xs.append(x)
            ys.append(y)
        if tuning.hard_negatives:
            plain.append((_planes(rgb, grey, max_size), unknown))
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(y) > tuning.max_samples:
        keep = rng.choice(len(y), tuning.max_samples, replace=False)
        x, y = x[keep], y[keep]
    model = _train(x, y, seed, tuning)
    if tuning.hard_negatives:
        # the photo's own pixels that the first model mistakes for damage are what it must learn
        # most; the most damage-like of them may be real damage, so they stay out
        hard = []
        for planes, unknown in plain:
            flat = planes.reshape(planes.shape[0], -1)
            p = 1.0 - model.predict(flat.T)[:, 0]
            pick = (p > tuning.hard_low) & (p < tuning.hard_high) & ~unknown.ravel()
            hard.append(flat[:, np.flatnonzero(pick)].T)
        extra = np.concatenate(hard)
        if len(extra) > tuning.hard_negatives:
            extra = extra[rng.choice(len(extra), tuning.hard_negatives, replace=False)]
        x = np.concatenate([x, extra])
        y = np.concatenate([y, np.zeros(len(extra), y.dtype)])
        model = _train(x, y, seed, tuning)
    return LearnedDetector(model, max_size, grey)


def _train(x: np.ndarray, y: np.ndarray, seed: int, tuning: LearnedTuning) -> MLP:
    # each defect class weighs ``class_weight`` of the negatives: small specks are few pixels
    counts = np.bincount(y, minlength=3).astype(np.float32)
    per_class = np.array([1.0, tuning.class_weight, tuning.class_weight], np.float32) * counts[0]
    weights = (per_class / np.maximum(counts, 1.0))[y]
    return fit_mlp(x, y, 3, seed=seed, hidden=tuning.hidden, epochs=tuning.epochs, sample_weight=weights)


def _sample(planes: np.ndarray, dmg: synth.Injected, unknown: np.ndarray, rng: np.random.Generator,
            tuning: LearnedTuning) -> tuple[np.ndarray, np.ndarray]:
    """All defect pixels, and negatives drawn half uniformly, half where the photo is busy."""
    pos = np.flatnonzero(dmg.label.ravel())
    neg_ok = (dmg.label == 0) & ~dmg.rim & ~unknown
    cand = np.flatnonzero(neg_ok.ravel())
    n_neg = min(len(cand), int(tuning.negatives * max(len(pos), 1000)))
    n_busy = int(n_neg * tuning.busy_share)
    uniform = rng.choice(cand, n_neg - n_busy, replace=False) if len(cand) else cand
    busy = np.abs(planes[2]).ravel()[cand] + 1e-3  # |fine high-pass|
    weights = busy / busy.sum()
    busy_pick = rng.choice(cand, n_busy, replace=False, p=weights) if len(cand) > n_busy else cand
    idx = np.concatenate([pos, uniform, busy_pick])
    flat = planes.reshape(planes.shape[0], -1)
    x = flat[:, idx].T.copy()
    y = dmg.label.ravel()[idx].astype(np.int64)
    return x, y


#: the fitted detectors of the last two photos
_CACHE: FittedCache[LearnedDetector] = FittedCache()


def release_maps() -> None:
    """Drop the cached probability maps of every fitted detector; the (small) models stay cached.

    The maps exist so that slider moves only re-threshold. One-shot callers (``detect``, ``restore``,
    ``batch``) never re-threshold, and a 100 MP scan's maps (~325 MB) would otherwise stay alive
    through the fill that follows, and in a batch through the next photo's detection too.
    """
    for detector in _CACHE.values():
        with detector._lock:
            detector._seen.clear()


def detector_for(pixels: np.ndarray, max_size: int, *, seed: int = 0,
                 cancel: Callable[[], bool] | None = None,
                 tuning: LearnedTuning = LEARNED, key: tuple | None = None) -> LearnedDetector:
    """The detector fitted to ``pixels`` (cached for the last two photos: slider moves only re-threshold).
    ``key``: ``pixels``' :func:`fingerprint` when the caller has it already."""
    key = (key or fingerprint(pixels), max_size, seed, tuning)
    return _CACHE.get_or_fit(key, lambda: fit(pixels, max_size, seed=seed, cancel=cancel, tuning=tuning))
