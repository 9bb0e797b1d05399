"""The damage detector: two-sided contrast -> dust / line tests -> soft mask.

Why this pipeline (numbers in ``benchmarks/damage_detection.py`` and the docs):

* Two-sided contrast: a pixel counts as brighter (darker) only against BOTH sides along a direction,
  at probe distances up to the defect width. Lines and specks score their contrast in any orientation,
  straight or curved; a step edge or ramp (a real object boundary) scores ~0. The image is padded by
  replication, so a strip along the frame edge (scanner border) is a step, not a line.
* Dust (``DamageOptions.dust_finder="classic"``; the default "learned" is the per-photo learned
  detector of :mod:`.learned`, which reuses these filters as its features and keeps only specks
  that touch a candidate of :func:`speck_candidates`): small components that beat the
  detail level of their surroundings (so texture does not light up), have no comparable speck a few
  px away (dust is sparse; gravel, foliage gaps and print dots are not) and are colourless relative
  to their surroundings (see colour below).
* Scratches, hairs, cracks: the line contrast averaged along segments at 12 orientations keeps faint
  long lines and averages texture away; per orientation only the crest of that response is cut into
  pieces (so a lower threshold cannot merge a scratch with the texture beside it), pieces must be
  long, have no parallel twin nearby (real lines come in families; a line whose twin is weak, as
  texture beside a scratch gives, may still pass if it is colourless on a colourful surround) and
  pass the same isolation and colour tests.
* Colour: a defect adds a grey offset to the photo's colour, or covers it with grey (dark dust, hair)
  or, on toned monochrome prints, with pale paper (cracks). Real structure that is darker or brighter
  keeps its own hue (a shadowed groove in red paint is dark red). A line that fails as a whole gets a
  pixel-wise second chance, so a scratch crossing real structure keeps its own pixels.
* The kept pixels are grown a little (the defect's anti-aliased rim must be filled too) and get a short
  soft falloff, so the mask is something a user edits rather than redraws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from inpaint_studio.core.damage.options import DamageOptions
from inpaint_studio.core.damage.tiles import tiles
from inpaint_studio.core.errors import FillCancelled, InvalidInputError
from inpaint_studio.core.pixels import max_value

if TYPE_CHECKING:
    from inpaint_studio.core.damage import scratch_maps
    from inpaint_studio.core.damage.learned import LearnedDetector
    from inpaint_studio.core.damage.scratch_learned import ScratchDetector

#: tile side (inner); with the margin a tile holds ~1.3 MP, i.e. a few tens of MB of float work arrays
TILE = 1024

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class _Tuning:
    """Constants chosen on the synthetic benchmark (see module docstring)."""

    #: absolute contrast floor (fraction of full range) at sensitivity 0 and 1
    floor_lo: float = 0.09
    floor_hi: float = 0.025
    #: multiple of the local detail level a feature must exceed, at sensitivity 0 and 1
    gain_lo: float = 4.5
    gain_hi: float = 1.5
    #: weak/strong hysteresis ratio (the weak level grows the defect along its faint parts)
    hysteresis: float = 0.3
    #: texture window (px) and the downsampling used to compute its median cheaply
    texture_window: int = 64
    texture_step: int = 4
    #: a scratch is at least this long (px, beyond the line filter's smear)
    scratch_length: float = 30.0
    #: a straight piece (one orientation) of a scratch is at least this fraction of scratch_length
    piece: float = 0.34
    #: widest scratch probed (px; also capped by max_size)
    scratch_width: int = 6
    #: line filter: segment length (px), orientations, floor factor, per-pixel floor factor
    line_length: int = 41
    line_angles: int = 12
    line_floor: float = 1.0
    #: square max-filter (px) before line averaging, to tolerate curvature; 1 = none
    spread: int = 3
    line_gain: float = 0.5
    line_isolation: float = 0.3
    line_pixel: float = 0.4
    #: a kept line pixel must also reach this fraction of the line response there (0 = no test; colour
    #: photos only, see line_pixels): the crest grown back by ``ridge`` px otherwise takes the texture
    #: beside a scratch along
    line_relative: float = 0.5
    #: 0 = threshold the whole line response; else keep its crest only and grow it back by this (px)
    ridge: int = 3
    #: a line with a same-orientation neighbour this strong (fraction) at these offsets is structure
    parallel: float = 0.3
    parallel_offsets: tuple[int, ...] = (7, 11, 16, 22)
    #: 1 = a twin on either side makes a line structure; 2 = only twins on both sides do (a
    #: family), so a scratch running beside one real edge survives
    parallel_sides: int = 1
    #: a line vetoed by a weak twin (at most ``twin_weak`` of its strength: texture beside it rather
    #: than a family of lines) is kept if it is colourless to within ``twin_colour`` of its contrast
    #: (see _colourless_lines; colour photos only; 0 = no second chance)
    twin_weak: float = 0.4
    twin_colour: float = 0.03
    #: ... and if its surround has at least this much colour (opponent chroma): on a grey surround
    #: (a grey sweater, stone) every line is colourless, so colour is no evidence there (a seam of
    #: a sweater and a hair strand of the real scans were flagged without it)
    twin_chroma: float = 0.08
    #: ``parallel`` and ``parallel_offsets`` for bright lines when bright defects may be pale paper
    #: (``bright_cover`` "paler": toned prints): the cracks of a network are each other's "twins"
    #: (see _line_tuning)
    parallel_paler: float = 0.45
    parallel_offsets_paler: tuple[int, ...] = (7, 9, 11, 13, 16, 19, 22)
    #: a speck must beat gain x isolation x the mean detail within this radius (px)
    isolation_radius: int = 15
    isolation: float = 0.67
    #: px a speck may grow beyond its strong core by hysteresis (0 = unlimited)
    dust_reach: int = 2
    #: px a speck may exceed max_size by (its anti-aliased rim and the hysteresis growth)
    speck_slack: float = 2.0
    #: a speck is dropped if the same-polarity contrast within this radius (px) beyond its own
    #: neighbourhood reaches ``crowd`` times its own (0 = no test)
    crowd_radius: int = 12
    crowd: float = 0.7
    #: allowed colour change (see _colour_residual) as a fraction of the speck's contrast
    colour: float = 0.2
    colour_slack: float = 0.005
    #: "offset" (grey offset or grey/pale cover, see _colour_misfit) or "shrink" (older, looser:
    #: any pull of the surround's colour towards grey)
    colour_model: str = "offset"
    #: median window (px) for the background colour under a scratch, and the (stricter) allowed
    #: misfit of the pixel-wise second chance (see _colourless_pixels)
    colour_window: int = 9
    colour_local: float = 0.05
    #: a bright defect may also be "paler" than its surround (bare paper, see _colour_misfit) or
    #: only "grey" like a dark one; "auto": paler on toned monochrome photos (sepia, b/w: colour
    #: follows brightness there, so it cannot tell structure from damage), grey on colour photos
    bright_cover: str = "auto"
    #: "toned": the image's colour is predicted by its brightness to within this (RMS opponent
    #: chroma; toned scans measure 0.01-0.03, the Kodak colour photos 0.06-0.26)
    toned_residual: float = 0.04
    #: px the kept defect grows by (full strength) and the soft falloff beyond that
    grow: int = 1
    falloff: int = 2


TUNING = _Tuning()
#: TUNING with the colour photos' parallel-twin veto on toned prints too: what the learned finders'
#: training crops exclude as known damage (they were tuned with it; the looser veto changed their
#: training sets, and the learned dust finder then flagged a pupil of old_w_scratch/b)
STRICT_TWINS = replace(TUNING, parallel_paler=TUNING.parallel, parallel_offsets_paler=TUNING.parallel_offsets,
                       twin_weak=0.0, line_relative=0.0)


def floor_and_gain(s: float, tuning: _Tuning) -> tuple[float, float]:
    """Sensitivity ``s``'s absolute contrast floor and multiple of the local detail level."""
    return _lerp(tuning.floor_lo, tuning.floor_hi, s), _lerp(tuning.gain_lo, tuning.gain_hi, s)


def line_threshold(level: np.ndarray, floor: float, gain: float, tuning: _Tuning) -> np.ndarray:
    """Per pixel, the line response a scratch must beat (``level``: the texture level)."""
    return np.maximum(floor * tuning.line_floor, gain * tuning.line_gain * level)


def _lerp(lo: float, hi: float, t: float) -> float:
    return lo + (hi - lo) * t


def _luma(pixels: np.ndarray) -> np.ndarray:
    """float32 HxW in [0, 1]: damage on a print is (nearly) achromatic, so luma carries it."""
    scale = np.float32(1.0 / max_value(pixels.dtype))
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return pixels.reshape(pixels.shape[:2]).astype(np.float32) * scale
    rgb = pixels[..., :3].astype(np.float32)
    return (rgb @ _LUMA) * scale


def _chroma(pixels: np.ndarray) -> np.ndarray | None:
    """3xHxW float32 RGB planes in [0, 1] for the colour tests, or None for grey images."""
    if pixels.ndim == 2 or pixels.shape[2] < 3:
        return None
    rgb = pixels[..., :3].astype(np.float32) * np.float32(1.0 / max_value(pixels.dtype))
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


def _check_pixels(pixels: np.ndarray) -> None:
    if not isinstance(pixels, np.ndarray) or pixels.ndim not in (2, 3):
        raise InvalidInputError("damage detection needs an HxW or HxWx3 image")
    if pixels.ndim == 3 and pixels.shape[2] not in (1, 3, 4):
        raise InvalidInputError(f"damage detection needs 1, 3 or 4 channels, got {pixels.shape[2]}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise InvalidInputError("damage detection needs a non-empty image")
    max_value(pixels.dtype)  # raises for anything but uint8/uint16


def _disc(diameter: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))


def _texture_level(residue: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """Robust local level of the residue: median over ``texture_window`` px, computed downsampled."""
    step = tuning.texture_step
    h, w = residue.shape
    small = cv2.resize(residue, (max(1, w // step), max(1, h // step)), interpolation=cv2.INTER_AREA)
    # medianBlur needs uint8 for big windows: 1/1024 steps are far finer than any threshold used.
    quant = np.clip(small * 1024.0, 0, 255).astype(np.uint8)
    k = max(3, (tuning.texture_window // step) | 1)
    med = cv2.medianBlur(quant, k).astype(np.float32) * np.float32(1.0 / 1024.0)
    return cv2.resize(med, (w, h), interpolation=cv2.INTER_LINEAR)


def _hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    count, labels = cv2.connectedComponents(weak.view(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(weak)
    seeded = np.bincount(labels[strong], minlength=count) > 0
    seeded[0] = False
    return seeded[labels]


def component_widths(mask: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Per component label: its thickness in px, twice the largest distance from its inside to its
    outside (1 for a one-pixel line)."""
    dist = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 3)
    half = np.zeros(count, np.float32)
    inside = mask.view(bool)  # the background's distance is 0: its pixels need not be visited
    np.maximum.at(half, labels[inside], dist[inside])
    return np.maximum(1.0, 2.0 * half - 1.0)


def _speck_extents(candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(labels, width, length, area) of the 8-connected components of ``candidates``, per label
    (None when there are none): what :func:`_speck_sized` judges, for callers that judge more."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates.view(np.uint8), connectivity=8)
    if count <= 1:
        return None
    width = component_widths(candidates, labels, count)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float32)
    # length: the principal-axis extent, or area/width for a curved component, whichever is longer
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    n = np.maximum(area, 1.0)
    mx = np.bincount(lab, xs, count) / n
    my = np.bincount(lab, ys, count) / n
    cxx = np.bincount(lab, xs.astype(np.float64) ** 2, count) / n - mx**2
    cyy = np.bincount(lab, ys.astype(np.float64) ** 2, count) / n - my**2
    cxy = np.bincount(lab, xs.astype(np.float64) * ys, count) / n - mx * my
    major = 0.5 * (cxx + cyy) + np.sqrt(0.25 * (cxx - cyy) ** 2 + cxy**2)
    length = np.maximum(np.sqrt(12.0 * np.maximum(major, 0.0)), area / width)
    return labels, width, length, area


def _within_size(width: np.ndarray, length: np.ndarray, min_size: int, max_size: int,
                 slack: float) -> np.ndarray:
    """Per label: no wider than ``max_size`` (+1), at least ``min_size`` across, no longer than
    ``max_size`` + ``slack`` px of anti-aliased rim; label 0 (the background) never."""
    keep = (width <= max_size + 1) & (width >= min_size)
    keep &= length <= max_size + slack
    keep[0] = False
    return keep


def _speck_sized(candidates: np.ndarray, options: DamageOptions, slack: float = 2.0) -> np.ndarray:
    """Keep components no wider than ``max_size`` (+ ``slack`` px of anti-aliased rim) and at least
    ``min_size`` across."""
    extents = _speck_extents(candidates)
    if extents is None:
        return np.zeros_like(candidates)
    labels, width, length, _ = extents
    return _within_size(width, length, options.min_size, options.max_size, slack)[labels]


_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _distances(largest: int) -> list[int]:
    """Probe distances 2 .. largest, roughly geometric (a feature of width w needs one > w)."""
    out, d = [], 2
    while d < largest:
        out.append(d)
        d = max(d + 1, round(d * 1.4))
    return [*out, largest]


def two_sided_contrast(luma: np.ndarray, largest: int) -> tuple[np.ndarray, np.ndarray]:
    """(bright, dark): how much each pixel stands out against BOTH sides, in several directions.

    For a direction n and probe distance d, a bright pixel scores ``I(p) - max(I(p+dn), I(p-dn))``
    minus half the difference of the two sides: a line or speck narrower than d on an even
    background scores its full contrast, while a step edge or a ramp scores <= 0 (one side is as
    bright as the pixel, or the sides differ). Per direction the best d counts; across the four
    directions, sorted ascending (4xHxW each, >= 0): rank 0 = all four agree (a compact speck),
    rank 1 = three agree (a line: the direction along it is the one that disagrees), rank 3 = any
    detail at all (used to measure how busy the surroundings are).
    """
    pad = largest
    # replicate, not reflect: a line along the frame edge (scanner border) must not mirror into
    # a two-sided extremum; a true defect touching the edge still differs from its inner side
    padded = cv2.copyMakeBorder(luma, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    h, w = luma.shape
    bright = np.empty((len(_DIRECTIONS), h, w), np.float32)
    dark = np.empty_like(bright)

    def shifted(dy: int, dx: int) -> np.ndarray:
        return padded[pad + dy:pad + dy + h, pad + dx:pad + dx + w]

    for k, (uy, ux) in enumerate(_DIRECTIONS):
        best_b = np.full((h, w), -1.0, np.float32)
        best_d = np.full((h, w), -1.0, np.float32)
        for d in _distances(largest):
            a, b = shifted(uy * d, ux * d), shifted(-uy * d, -ux * d)
            hi = np.maximum(a, b)
            lo = np.minimum(a, b)
            half_gap = 0.5 * (hi - lo)
            np.maximum(best_b, luma - hi - half_gap, out=best_b)
            np.maximum(best_d, lo - luma - half_gap, out=best_d)
        bright[k], dark[k] = best_b, best_d
    bright.sort(axis=0)
    dark.sort(axis=0)
    np.maximum(bright, 0, out=bright)
    np.maximum(dark, 0, out=dark)
    return bright, dark


def _line_kernels(length: int, angles: int) -> list[np.ndarray]:
    """Normalised anti-aliased line segments through the centre, one per orientation."""
    size = length | 1
    c = size // 2
    kernels = []
    for theta in _angles(angles):
        k = np.zeros((size * 4, size * 4), np.uint8)
        dx, dy = np.cos(theta) * c * 4, np.sin(theta) * c * 4
        p0 = (round((2 * c + 0.5) * 4 * 16 - dx * 16), round((2 * c + 0.5) * 4 * 16 - dy * 16))
        p1 = (round((2 * c + 0.5) * 4 * 16 + dx * 16), round((2 * c + 0.5) * 4 * 16 + dy * 16))
        cv2.line(k, (p0[0] // 2, p0[1] // 2), (p1[0] // 2, p1[1] // 2), 255, 4, cv2.LINE_AA, shift=4)
        k = cv2.resize(k, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
        kernels.append(k / k.sum())
    return kernels


def _long_lines(score: np.ndarray, t: np.ndarray, tuning: _Tuning,
                chroma: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Pixels on long straight-ish runs of ``score``, found one orientation at a time.

    Per orientation the score is averaged along a segment of ``line_length`` px: a scratch keeps
    its contrast along its own direction while texture and short bits of real structure average
    away. Each orientation's thresholded response is cut into components, and a component is kept
    only if it is long *along that orientation* (its extent minus the segment's own smear is at
    least ``scratch_length``), so texture blobs merged at a low threshold cannot pass as lines.
    A line vetoed only by a weak twin gets a second chance from its colour (``chroma``, see
    :func:`_colourless_lines`). Returns (kept pixels, best response over orientations).
    """
    h, w = score.shape
    keep = np.zeros((h, w), bool)
    best = np.zeros_like(score)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    kernels = _line_kernels(tuning.line_length, tuning.line_angles)
    # a 3x3 max first lets a gently curved (or aliased) line stay inside the straight segment
    spread = cv2.dilate(score, np.ones((tuning.spread, tuning.spread), np.uint8))
    for theta, kernel in zip(_angles(tuning.line_angles), kernels, strict=True):
        resp = cv2.filter2D(spread, -1, kernel, borderType=cv2.BORDER_REFLECT)
        np.maximum(best, resp, out=best)
        above = resp > t
        if tuning.ridge:
            # only the crest across the line: a low threshold must not merge a scratch with the
            # texture beside it into one blob (which then fails the width and parallel tests)
            above &= _crest(resp, theta)
        above = above.view(np.uint8)
        count, labels = cv2.connectedComponents(above, connectivity=8)
        if count <= 1:
            continue
        sel = labels > 0
        lab = labels[sel]
        ok = line_pieces(*component_extents(lab, count, xs[sel], ys[sel], theta), tuning)
        if ok.any():
            strength, sides = parallel_means(resp, labels, count, theta, tuning.parallel_offsets)
            veto, weak = twin_veto(strength, sides, tuning)
            weak &= ok
            ok &= ~veto
            ok[0] = weak[0] = False
            if weak.any() and _colour_tells(chroma, tuning):
                pieces = np.flatnonzero(sel)[weak[lab]]
                keep.ravel()[_colourless_lines(pieces, score.ravel()[pieces], chroma, tuning)] = True
        keep |= ok[labels]
    if tuning.ridge and keep.any():
        # back from the crest to the scratch's full width (the caller keeps only pixels that stand out)
        keep = cv2.dilate(keep.view(np.uint8), _disc(2 * tuning.ridge + 1)).astype(bool)
    return joined_lines(keep, tuning), best


def joined_lines(keep: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """Straight pieces of a curved scratch join up: keep the joined lines whose whole is long."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(keep.view(np.uint8), connectivity=8)
    if count <= 1:
        return keep
    extent = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    ok = extent - tuning.line_length >= tuning.scratch_length
    ok[0] = False
    return ok[labels]


def component_extents(lab: np.ndarray, count: int, xs: np.ndarray, ys: np.ndarray,
                      theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Per component label: its extent along angle ``theta`` (px) and its area; ``lab``, ``xs``,
    ``ys`` (float32) list the components' pixels. Shared by every line search so they agree to the bit."""
    along = xs * np.float32(np.cos(theta)) + ys * np.float32(np.sin(theta))
    lo = np.full(count, np.inf, np.float32)
    hi = np.full(count, -np.inf, np.float32)
    np.minimum.at(lo, lab, along)
    np.maximum.at(hi, lab, along)
    return hi - lo + 1.0, np.bincount(lab, minlength=count).astype(np.float32)


def line_pieces(extent: np.ndarray, area: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """Per component: long along its orientation (beyond the line filter's own smear) and thin
    enough to be a straight piece of a scratch; component 0 (the background) never."""
    ok = (extent - tuning.line_length >= tuning.scratch_length * tuning.piece) & (
        area / np.maximum(extent, 1.0) <= tuning.scratch_width * 3)
    ok[0] = False
    return ok


def _crest(resp: np.ndarray, theta: float) -> np.ndarray:
    """Pixels where ``resp`` is at least as high as 1 and 2 px to either side across angle ``theta``."""
    h, w = resp.shape
    ny, nx = np.cos(theta), -np.sin(theta)
    pad = 3
    padded = cv2.copyMakeBorder(resp, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    out = np.ones((h, w), bool)
    for d in (1, 2):
        for sign in (1, -1):
            dy, dx = round(sign * d * ny), round(sign * d * nx)
            out &= resp >= padded[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
    return out


def twin_veto(strength: np.ndarray, sides: np.ndarray, tuning: _Tuning) -> tuple[np.ndarray, np.ndarray]:
    """Per component (see :func:`parallel_means`): (is there a comparable line of the same
    orientation a few px to either side, is that twin weak).

    Real line structure comes in families (mortar joints, boards, window bars, fabric, hair);
    a scratch crosses the picture on its own. But in texture (foliage, fur, rock) the response
    beside a scratch reaches ``parallel`` of its own too: a twin no stronger than ``twin_weak`` of
    the line is "weak", and such a line gets a second chance from its colour (:func:`_colourless_lines`).
    """
    twin = sides.min(axis=0) if tuning.parallel_sides == 2 else sides.max(axis=0)
    veto = twin > tuning.parallel * strength
    return veto, veto & (twin <= tuning.twin_weak * strength)


def _colour_tells(chroma: np.ndarray | None, tuning: _Tuning) -> bool:
    """Can colour give a line vetoed by a weak twin its second chance: only on a colour photo (on a
    toned print colour follows brightness, so it cannot tell a scratch from structure)."""
    return chroma is not None and tuning.bright_cover != "paler"


def _colourless_lines(pieces: np.ndarray, contrast: np.ndarray, chroma: np.ndarray,
                      tuning: _Tuning) -> np.ndarray:
    """Which of the line pieces vetoed by a weak twin are colourless to within ``twin_colour`` of
    their contrast (stricter than the ``colour`` test every line must pass: these lines sit in
    texture) over a surround of at least ``twin_chroma`` colour. ``pieces``: their pixels (flat
    indices into the tile, ascending; one orientation's crest), ``contrast``: the line score there;
    returns the kept pixels (flat).

    Worked out in the pieces' box only (plus their rings' reach): whole-tile maps per orientation
    doubled a slider move. The box's corner is on an even row and column because OpenCV labels
    2x2 blocks: the components are numbered in the same order as on the whole tile (which ring
    pixel goes to which of two close pieces depends on it; the same masks to the bit). Labelled
    afresh from the pieces, so the cached path (:mod:`.scratch_maps`) gets the same answer too.
    """
    h, w = chroma.shape[1:]
    ys, xs = np.divmod(pieces, w)
    reach = 4  # the ring's radius (the inner 3 px are the line's own)
    y0, x0 = max(int(ys[0]) - reach, 0) & ~1, max(int(xs.min()) - reach, 0) & ~1
    y1, x1 = min(int(ys[-1]) + reach + 1, h), min(int(xs.max()) + reach + 1, w)
    local = (ys - y0) * (x1 - x0) + (xs - x0)
    box = np.zeros((y1 - y0, x1 - x0), np.uint8)
    box.ravel()[local] = 1
    count, labels = cv2.connectedComponents(box, connectivity=8)
    own = cv2.dilate(box, _disc(2 * reach - 1)).astype(bool)
    means = ComponentMeans(labels, count)
    ring_labels = cv2.dilate(labels.astype(np.float32), _disc(2 * reach + 1)).astype(np.int32)
    ring_labels[own] = 0
    ring = ComponentMeans(ring_labels, count)
    colour = chroma[:, y0:y1, x0:x1]
    outer = np.stack([ring(c) for c in colour])
    score = np.zeros(box.shape, np.float32)
    score.ravel()[local] = contrast
    misfit = colour_model_misfit(np.stack([means(c) for c in colour]), outer, tuning)
    ok = (misfit < tuning.twin_colour * means(score)) & (_opponent(outer) >= tuning.twin_chroma)
    ok[0] = False
    return pieces[ok[labels.ravel()[local]]]


def parallel_means(resp: np.ndarray, labels: np.ndarray, count: int, theta: float,
                   offsets: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per component of ``labels`` (lines at angle ``theta``): its mean ``resp``, and per side the
    strongest mean ``resp`` of the component shifted ``offsets`` px across the line (2 x count).

    Only the components' own pixels are sampled (a few % of the tile): summing whole shifted copies
    of the tile per offset and orientation was 60 % of the scratch detector's time. The sums run in
    the same pixel order as a whole-tile bincount, so the means are the same to the bit
    (component 0, the background, is not a line and reads 0).
    """
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    n = np.maximum(np.bincount(lab, minlength=count), 1)
    strength = np.bincount(lab, resp[ys, xs], minlength=count) / n
    ny, nx = np.cos(theta), -np.sin(theta)  # unit normal of a line at angle theta (x right, y down)
    pad = max(offsets) + 1
    padded = cv2.copyMakeBorder(resp, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    sides = np.zeros((2, count), np.float64)
    for d in offsets:
        for side, sign in enumerate((1, -1)):
            dy, dx = round(sign * d * ny), round(sign * d * nx)
            shifted = padded[ys + (pad + dy), xs + (pad + dx)]
            np.maximum(sides[side], np.bincount(lab, shifted, minlength=count) / n, out=sides[side])
    return strength, sides


def _angles(count: int) -> list[float]:
    return [np.pi * i / count for i in range(count)]


def _component_means(labels: np.ndarray, count: int, values: np.ndarray) -> np.ndarray:
    n = np.bincount(labels.ravel(), minlength=count)
    return np.bincount(labels.ravel(), values.ravel(), minlength=count) / np.maximum(n, 1)


class ComponentMeans:
    """Per component of ``labels``: the mean of a map over its pixels, for several maps. Equal to
    ``_component_means`` to the bit for every component but the background (0, whose mean is not
    computed: it is never kept): the sums visit only the components' pixels, in the same row-major
    order, instead of the whole tile."""

    def __init__(self, labels: np.ndarray, count: int) -> None:
        self.index = np.flatnonzero(labels)
        self.labels = labels.ravel()[self.index]
        self.count = count
        self.n = np.maximum(np.bincount(self.labels, minlength=count), 1)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.labels, values.ravel()[self.index], minlength=self.count) / self.n


def _colour_residual(labels: np.ndarray, count: int, own: np.ndarray, rgb: np.ndarray,
                     tuning: _Tuning = TUNING, means: ComponentMeans | None = None) -> np.ndarray:
    """Per component: how far its colour is from what a colourless defect would give (0 = consistent).

    Dust, scratches, hairs and cracks carry no hue of their own. Over a surround of colour ``c``
    (mean RGB of a ring around the component) a defect either *adds* a grey offset (a translucent
    speck or a scratch in the emulsion: ``clip(c + delta)``, delta = the luma change) or *covers*
    the photo (an opaque speck or hair: grey, R = G = B). Real structure that is darker or
    brighter than its surround usually keeps its own hue: a shadowed pit in red paint is dark
    *red* (``k * c``), a berry among leaves is red on green. The result is the smaller misfit of
    the two models, in RGB units (Euclidean). With ``colour_model="shrink"``: the older, looser
    test (any pull of the surround's opponent colour towards grey is accepted).
    """
    ring_labels = cv2.dilate(labels.astype(np.float32), _disc(9)).astype(np.int32)
    ring_labels[own] = 0
    means = means or ComponentMeans(labels, count)
    ring = ComponentMeans(ring_labels, count)
    return colour_model_misfit(np.stack([means(c) for c in rgb]), np.stack([ring(c) for c in rgb]), tuning)


def colour_model_misfit(inner: np.ndarray, outer: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """Per component, its mean colour (``inner``, 3xN) against its ring's (``outer``) under
    ``tuning.colour_model`` (see :func:`_colour_residual`)."""
    if tuning.colour_model == "shrink":
        def opp(v: np.ndarray) -> np.ndarray:
            return np.stack([v[0] - v[1], 0.5 * (v[0] + v[1]) - v[2]])
        i2, o2 = opp(inner), opp(outer)
        shrink = np.clip((i2 * o2).sum(0) / ((o2**2).sum(0) + 1e-8), 0.0, 1.1)
        return np.hypot(*(i2 - shrink * o2))
    return _colour_misfit(inner, outer, tuning)


def _opponent(rgb: np.ndarray) -> np.ndarray:
    """Chroma magnitude of 3x... RGB (opponent axes R-G and (R+G)/2-B)."""
    return np.hypot(rgb[0] - rgb[1], 0.5 * (rgb[0] + rgb[1]) - rgb[2])


def _colour_misfit(inner: np.ndarray, outer: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """The smaller misfit of the colourless-defect models (see _colour_residual), per element.

    Offset: ``inner = clip(outer + delta)``. Cover: a dark defect is grey (dust, hair); a bright one
    is grey, or (``bright_cover="paler"``) any colour no more colourful than its surround: bare
    paper showing through a crack in a sepia print is cream, not grey.
    """
    delta = np.tensordot(_LUMA, inner - outer, axes=1)
    offset = np.sqrt(((inner - np.clip(outer + delta, 0.0, 1.0)) ** 2).sum(0))
    grey = np.sqrt(((inner - inner.mean(0)) ** 2).sum(0))
    if tuning.bright_cover == "paler":
        paler = np.maximum(_opponent(inner) - _opponent(outer), 0.0)
        grey = np.where(delta > 0, np.minimum(grey, paler), grey)
    return np.minimum(offset, grey)


def speck_candidates(score: np.ndarray, floor: float, options: DamageOptions,
                     tuning: _Tuning = TUNING) -> np.ndarray:
    """Compact blobs of one polarity's rank-0 contrast ``score``: seeds above ``floor`` grown by
    hysteresis into their faint rim, kept if no larger than ``options.max_size``.

    Why the size test works on the faint level: a pupil, a dark window or a knot in wood is a
    small extremum inside a larger region that is itself darker than its surround (iris, frame,
    grain), so at the hysteresis level it joins that region and fails the size test, while dust
    sits on the photo with nothing of its polarity around it. The learned detector keeps only
    specks that touch one of these candidates (see :mod:`.learned`).
    """
    seeds = score > floor
    cand = _hysteresis(seeds, score > tuning.hysteresis * floor)
    if tuning.dust_reach:
        # grow a speck into its faint rim, not into the texture it touches
        cand &= cv2.dilate(seeds.view(np.uint8), _disc(2 * tuning.dust_reach + 1)).astype(bool)
    return _speck_sized(cand, options, tuning.speck_slack)


def _dust_like(cand: np.ndarray, score: np.ndarray, busy: np.ndarray, chroma: np.ndarray | None,
               floor: float, gain: float, tuning: _Tuning) -> np.ndarray:
    """Keep candidate specks that stand out from their surroundings the way dust does.

    The speck's peak contrast must beat (a) the typical detail level over ~60 px and (b) the mean
    detail level in a ~30 px window around it (its own pixels excluded): a speck on sky or skin
    passes, a highlight in foliage or a dot in a pattern has neighbours as strong as itself.
    In colour photos it must also be colourless relative to its surroundings.
    """
    count, labels = cv2.connectedComponents(cand.view(np.uint8), connectivity=8)
    if count <= 1:
        return cand
    own = cv2.dilate(cand.view(np.uint8), _disc(7)).astype(bool)
    others = np.where(own, 0.0, busy).astype(np.float32)
    win = (2 * tuning.isolation_radius + 1,) * 2
    near = cv2.blur(others, win) / np.maximum(cv2.blur((~own).astype(np.float32), win), 1e-3)
    peak = np.zeros(count, np.float32)
    np.maximum.at(peak, labels.ravel(), score.ravel())
    around = np.zeros(count, np.float32)
    np.maximum.at(around, labels.ravel(), near.ravel())
    level = _texture_level(busy, tuning)
    typical = np.zeros(count, np.float32)
    np.maximum.at(typical, labels.ravel(), level.ravel())
    keep = (peak > floor) & (peak > gain * tuning.isolation * around) & (peak > gain * typical)
    if tuning.crowd_radius:
        # dust is sparse: a speck with a comparable one (same polarity) a few px away is texture
        # (grass, gravel, stone, print dots). ``around`` cannot see those: it skips all candidates.
        ring = cv2.dilate(labels.astype(np.float32), _disc(2 * tuning.crowd_radius + 1)).astype(np.int32)
        ring[cv2.dilate(labels.astype(np.float32), _disc(7)).astype(np.int32) == ring] = 0
        rival = np.zeros(count, np.float32)
        # rivals are specks in their own right: above the floor and the texture level there
        strong = score > np.maximum(floor, gain * level)
        np.maximum.at(rival, ring.ravel(), np.where(strong, score, 0.0).ravel())
        keep &= rival < tuning.crowd * peak
    if chroma is not None:
        misfit = _colour_residual(labels, count, own, chroma, tuning)
        keep &= misfit < tuning.colour * peak + tuning.colour_slack
    keep[0] = False
    return keep[labels]


def _detect_tile(luma: np.ndarray, chroma: np.ndarray | None, options: DamageOptions,
                 tuning: _Tuning) -> np.ndarray:
    """bool mask of the defects (not yet grown) in one tile (luma HxW, chroma 2xHxW or None)."""
    floor, gain = floor_and_gain(float(options.sensitivity), tuning)
    found = np.zeros(luma.shape, bool)
    if options.kind in ("dust", "all"):
        bright, dark = two_sided_contrast(luma, options.max_size + 2)
        busy = np.maximum(bright[3], dark[3])
        for ranked in (bright, dark):
            score = ranked[0]
            cand = speck_candidates(score, floor, options, tuning)
            found |= _dust_like(cand, score, busy, chroma, floor, gain, tuning)
    if options.kind in ("scratches", "all"):
        width = min(options.max_size, tuning.scratch_width)
        bright, dark = two_sided_contrast(luma, width + 2)
        busy = np.maximum(bright[3], dark[3])
        level = _texture_level(busy, tuning)
        for polarity, ranked in enumerate((bright, dark)):
            score = ranked[1]
            t = line_threshold(level, floor, gain, tuning)
            cand, line = _long_lines(score, t, _line_tuning(tuning, polarity), chroma)
            cand, failed = _scratch_like(cand, line, score, busy, chroma, gain, tuning)
            # the line filter smears along the line: keep only pixels that stand out themselves
            stands_out = line_pixels(score, line, floor, tuning)
            found |= cand & stands_out
            failed &= stands_out
            if failed.any():
                # a line that failed the colour test as a whole may be a scratch crossing real
                # structure: give its pixels a second, local chance
                found |= _long_enough(failed & _colourless_pixels(failed, chroma, tuning), tuning)
    return found


def line_pixels(score: np.ndarray, line: np.ndarray, floor: float, tuning: _Tuning) -> np.ndarray:
    """Which pixels near a kept line are its own: their contrast ``score`` reaches ``line_pixel`` of
    the floor and, on colour photos, ``line_relative`` of the line response ``line`` there (on toned
    prints it cost crack networks a little object recall: a thin branch beside a trunk)."""
    if not tuning.line_relative or tuning.bright_cover == "paler":
        return score > tuning.line_pixel * floor
    return score > np.maximum(np.float32(tuning.line_pixel * floor), np.float32(tuning.line_relative) * line)


def _line_tuning(tuning: _Tuning, polarity: int) -> _Tuning:
    """The tuning of one polarity's line search (0 bright, 1 dark; the cached path uses it too).

    On a toned print (``bright_cover="paler"``) bright lines get the looser parallel-twin veto
    ``parallel_paler``: a crack network's pieces sit a few px beside each other and roughly
    parallel, so under the colour photos' veto most of a dense network was each piece's "twin"
    (old_w_scratch: b's corners, a's zig-zag). A looser veto must not miss a real family whose
    spacing falls between two probed offsets (pale threads 18-20 px apart were flagged whole, at
    sensitivity 0.9 even with the strict veto), so the twin is probed at denser offsets there. On
    toned 384 px Kodak crops with synthetic crack networks this took pixel recall from 0.22 to 0.41
    at the same precision (0.80), for 17 % more falsely flagged px on the clean crops (single bright
    lines with a weak twin: a mast, a roof edge, a curtain fold). Colour photos are untouched.
    """
    if polarity == 0 and tuning.bright_cover == "paler":
        return replace(tuning, parallel=tuning.parallel_paler, parallel_offsets=tuning.parallel_offsets_paler)
    return tuning


def _scratch_like(cand: np.ndarray, line: np.ndarray, score: np.ndarray, busy: np.ndarray,
                  chroma: np.ndarray | None, gain: float, tuning: _Tuning) -> tuple[np.ndarray, np.ndarray]:
    """(kept, failed): long line candidates that beat the detail around them and are colourless
    (see _dust_like), and those that beat the detail but failed the colour test as a whole."""
    count, labels = cv2.connectedComponents(cand.view(np.uint8), connectivity=8)
    if count <= 1:
        return cand, np.zeros_like(cand)
    own = cv2.dilate(cand.view(np.uint8), _disc(7)).astype(bool)
    others = np.where(own, 0.0, busy).astype(np.float32)
    win = (2 * tuning.isolation_radius + 1,) * 2
    near = cv2.blur(others, win) / np.maximum(cv2.blur((~own).astype(np.float32), win), 1e-3)
    means = ComponentMeans(labels, count)
    keep = means(line) > gain * tuning.line_isolation * means(near)
    failed = np.zeros_like(keep)
    if chroma is not None:
        colourless = (_colour_residual(labels, count, own, chroma, tuning, means)
                      < tuning.colour * means(score) + tuning.colour_slack)
        if tuning.colour_model == "offset":
            failed = keep & ~colourless
        keep &= colourless
    keep[0] = failed[0] = False
    return keep[labels], failed[labels]


def _colourless_pixels(line: np.ndarray, rgb: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """Which ``line`` pixels look like a colourless defect over the local background colour.

    Pixel-wise (smoothed over a few px of the line) rather than per component, so a scratch that
    crosses a real line (a shadowed groove, a branch) keeps its own pixels. The background is a
    median over a window wider than a scratch; the models are those of :func:`_colour_residual`.
    """
    misfit, delta = colour_maps(rgb, tuning)
    return colourless_along(line, misfit, np.abs(delta), tuning)


def colour_maps(rgb: np.ndarray, tuning: _Tuning) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: the colour misfit (see :func:`_colour_misfit`) and the luma change against the
    local background colour (a median over ``colour_window`` px, wider than a scratch)."""
    k = tuning.colour_window
    bg = np.stack([cv2.medianBlur(np.clip(c * 255.0 + 0.5, 0, 255).astype(np.uint8), k) for c in rgb])
    bg = bg.astype(np.float32) * np.float32(1.0 / 255.0)
    return _colour_misfit(rgb, bg, tuning), np.tensordot(_LUMA, rgb - bg, axes=1)


def colourless_along(line: np.ndarray, misfit: np.ndarray, absdelta: np.ndarray,
                     tuning: _Tuning) -> np.ndarray:
    """The pixel-wise colour test of :func:`_colourless_pixels`, smoothed over a few px of the line."""
    w = line.astype(np.float32)
    box = (5, 5)
    norm = np.maximum(cv2.blur(w, box), 1e-6)
    misfit_s = cv2.blur(misfit * w, box) / norm
    delta_s = cv2.blur(absdelta * w, box) / norm
    return misfit_s < tuning.colour_local * delta_s + tuning.colour_slack


def _long_enough(found: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """Drop pieces shorter than ``scratch_length`` (what the colour test left of a line)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(found.view(np.uint8), connectivity=8)
    if count <= 1:
        return found
    ok = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= tuning.scratch_length
    ok[0] = False
    return ok[labels]


def _soften(found: np.ndarray, tuning: _Tuning) -> np.ndarray:
    """255 on the defect grown by ``grow`` px, then a linear falloff over ``falloff`` px."""
    if not found.any():
        return np.zeros(found.shape, np.uint8)
    dist = cv2.distanceTransform((~found).view(np.uint8), cv2.DIST_L2, 3)
    # ramp = 1 - (dist - grow) / (falloff + 1), x255, in place: the learned dust finder softens the
    # whole frame at once, and each float32 temporary is 400 MB on a 100 MP scan
    np.subtract(dist, np.float32(tuning.grow), out=dist)
    np.divide(dist, np.float32(tuning.falloff + 1), out=dist)
    np.subtract(np.float32(1.0), dist, out=dist)
    np.multiply(dist, np.float32(255.0), out=dist)
    np.clip(dist, 0, 255, out=dist)
    return dist.astype(np.uint8)


_DEFAULT = DamageOptions()


def _toned(pixels: np.ndarray, tuning: _Tuning) -> bool:
    """Is this a toned monochrome (b/w, sepia, cyanotype) rather than a colour photo?

    Fits each opponent colour axis as a quadratic in luma on a small copy: in a toned print colour
    is a function of brightness, so the fit is near perfect.
    """
    if pixels.ndim == 2 or pixels.shape[2] < 3:
        return True
    h, w = pixels.shape[:2]
    scale = min(1.0, 256.0 / max(h, w))
    small = cv2.resize(pixels[..., :3], (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    rgb = small.reshape(-1, 3).astype(np.float64) / float(max_value(pixels.dtype))
    luma = rgb @ _LUMA.astype(np.float64)
    basis = np.stack([np.ones_like(luma), luma, luma * luma], axis=1)
    residual = 0.0
    for axis in (rgb[:, 0] - rgb[:, 1], 0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]):
        coef, *_ = np.linalg.lstsq(basis, axis, rcond=None)
        residual += float(np.mean((axis - basis @ coef) ** 2))
    return np.sqrt(residual) < tuning.toned_residual


def detect_damage(pixels: np.ndarray, options: DamageOptions = _DEFAULT, *,
                  cancel: Callable[[], bool] | None = None, tuning: _Tuning = TUNING,
                  detector: LearnedDetector | None = None, key: tuple | None = None,
                  keep: bool = True, scratch_detector: ScratchDetector | None = None) -> np.ndarray:
    """uint8 HxW soft mask 0..255 (255 = certainly damage) of scratches, hairs, cracks and dust.

    ``pixels``: HxW or HxWx3 (a 4th channel is ignored), uint8 or uint16. Large images are
    processed in overlapping tiles, so extra memory is bounded by the tile size, not the image.
    ``cancel`` is checked before every tile; when it returns true :class:`FillCancelled` is raised.
    With ``options.dust_finder == "learned"`` dust is found by a detector trained on this photo:
    ``detector`` is one fitted on the whole photo when ``pixels`` is a crop of it (the GUI's visible
    area); by default it is fitted on ``pixels`` once and cached, so another sensitivity or kind
    costs little. The classic scratch detector likewise keeps its sensitivity-independent maps of
    the last photos (:mod:`.scratch_maps`, within a memory budget), so a sensitivity move for
    scratches only re-thresholds them (``keep=False``: not for a one-off call, such as the learned
    finders' training crops). ``key``: ``pixels``' fingerprint when the caller has it.
    ``scratch_detector``: with ``scratch_finder == "verified"``, the line classifier
    (:func:`.scratch_learned.detector_for`) fitted on the whole photo when ``pixels`` is a crop of it.
    """
    _check_pixels(pixels)
    if options.kind != "dust" and options.scratch_finder == "verified":
        from inpaint_studio.core.damage import per_photo, scratch_learned

        key = key or per_photo.fingerprint(pixels)
        classic = replace(options, kind="scratches", scratch_finder="classic")
        lines = detect_damage(pixels, classic, cancel=cancel, tuning=tuning, key=key, keep=keep)
        # colour photos only: on the toned scans (old_w_scratch/a, b) it dropped long real cracks
        if lines.any() and not _toned(pixels, tuning):
            finder = scratch_detector or scratch_learned.detector_for(pixels, options.max_size, cancel=cancel,
                                                                      key=key)
            lines = scratch_learned.verified(lines, finder.probabilities(pixels, cancel=cancel, key=key),
                                             options.sensitivity)
        if options.kind == "scratches":
            return lines
        specks = detect_damage(pixels, replace(options, kind="dust"), cancel=cancel, tuning=tuning,
                               detector=detector, key=key)
        return np.maximum(lines, specks)
    if options.kind != "dust" and options.scratch_finder == "learned":
        from inpaint_studio.core.damage import scratch_learned

        finder = scratch_learned.detector_for(pixels, options.max_size, cancel=cancel)
        lines = _soften(finder.scratches(pixels, options, cancel=cancel), tuning)
        if options.kind == "scratches":
            return lines
        specks = detect_damage(pixels, replace(options, kind="dust"), cancel=cancel, tuning=tuning,
                               detector=detector)
        return np.maximum(lines, specks)
    if options.kind != "scratches" and options.dust_finder == "learned":
        from inpaint_studio.core.damage import learned

        key = key or learned.fingerprint(pixels)  # hashed once: ~0.5 s on a 100 MP scan
        if detector is None:
            detector = learned.detector_for(pixels, options.max_size, cancel=cancel, key=key)
        specks = _soften(detector.dust(pixels, options, cancel=cancel, key=key), tuning)
        if options.kind == "dust":
            return specks
        lines = detect_damage(pixels, replace(options, kind="scratches"), cancel=cancel, tuning=tuning,
                              key=key, keep=keep)
        return np.maximum(lines, specks)
    if tuning.bright_cover == "auto":
        tuning = replace(tuning, bright_cover="paler" if _toned(pixels, tuning) else "grey")
    h, w = pixels.shape[:2]
    out = np.zeros((h, w), np.uint8)
    lines = tuning.line_length + max(*tuning.parallel_offsets, *tuning.parallel_offsets_paler)
    context = max(tuning.texture_window, 2 * options.max_size + 8, lines)
    margin = context + tuning.grow + tuning.falloff
    from inpaint_studio.core.damage import per_photo, scratch_maps

    layout = list(tiles(h, w, TILE, margin))
    photo = None
    if keep and options.kind != "dust" and scratch_maps.CACHE.budget > 0:
        # what the cached maps depend on: the pixels, the widest scratch probed, the tile layout
        # and the tuning (sensitivity, min size and kind are applied to them afterwards)
        width = min(options.max_size, tuning.scratch_width)
        photo = scratch_maps.CACHE.photo((key or per_photo.fingerprint(pixels), width, TILE, margin, tuning),
                                         len(layout))
    for index, tile in enumerate(layout):
        if cancel is not None and cancel():
            raise FillCancelled("damage detection cancelled")
        crop = pixels[tile.outer.slices]
        if photo is None or photo.too_big:
            found = _detect_tile(_luma(crop), _chroma(crop), options, tuning)
        else:
            found = _cached_tile(crop, photo, index, options, tuning)
        soft = _soften(found, tuning)
        out[tile.inner.slices] = soft[tile.inner_in_outer.slices]
    return out


def _cached_tile(crop: np.ndarray, photo: scratch_maps._Photo, index: int, options: DamageOptions,
                 tuning: _Tuning) -> np.ndarray:
    """``_detect_tile`` with the scratch pass re-thresholding the photo's cached tile maps (made and
    kept on the first call, when they fit :data:`.scratch_maps.BUDGET`); the same mask to the bit."""
    from inpaint_studio.core.damage import scratch_maps

    planes: list[np.ndarray | None] = []

    def chroma() -> np.ndarray | None:
        if not planes:
            planes.append(_chroma(crop))
        return planes[0]

    maps = scratch_maps.CACHE.get(photo, index)
    if maps is None:
        maps = scratch_maps.tile_maps(_luma(crop), chroma(), options.max_size, tuning)
        scratch_maps.CACHE.put(photo, index, maps)
    found = scratch_maps.scratches(maps, chroma, options, tuning)
    if options.kind == "all":
        found |= _detect_tile(_luma(crop), chroma(), replace(options, kind="dust"), tuning)
    return found
