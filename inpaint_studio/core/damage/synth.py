"""Synthetic damage for the per-photo learned detector (training data made from the photo itself).

The learned detector (:mod:`.learned`) needs examples of damage *on this photo*: it draws hairs,
curved scratches, branching cracks and specks onto crops of the photo and learns to tell them from
the photo's own structure. The defects are physically plausible rather than matched to any test
set: a defect either adds an achromatic offset (a scratch in the emulsion, translucent dust) or
covers the photo with a grey of its own (opaque dust, a hair, bare paper), is anti-aliased, and is
sometimes slightly out of focus (scanner blur).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: supersampling for anti-aliased drawing
_SS = 4
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)

#: label values of :class:`Injected`
SCRATCH, DUST = 1, 2


@dataclass
class Injected:
    """A damaged copy of a crop: the image, the per-pixel label (0 none, 1 line, 2 speck) where the
    defect clearly covers the pixel, and ``rim``: pixels touched by a defect that are neither."""

    image: np.ndarray   # HxWx3 float32 in [0, 1]
    label: np.ndarray   # HxW uint8
    rim: np.ndarray     # HxW bool


def _walk(rng: np.random.Generator, start: np.ndarray, heading: float, length: float, turn: float,
          wiggle: float) -> np.ndarray:
    """Points of a smooth random walk: heading drifts by ``turn`` rad/px plus a sine ``wiggle``."""
    step = 3.0
    n = max(2, int(length / step))
    drift = rng.normal(0, turn, n).cumsum() * 0.3 + rng.uniform(-turn, turn) * np.arange(n)
    phase, period = rng.uniform(0, 2 * np.pi), rng.uniform(20, 120)
    angles = heading + drift * step + wiggle * np.sin(np.arange(n) * step * 2 * np.pi / period + phase)
    pts = start + np.cumsum(np.stack([np.cos(angles), np.sin(angles)], 1) * step, axis=0)
    return np.vstack([start[None], pts])


def _draw_paths(shape: tuple[int, int], paths: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """Anti-aliased coverage (HxW float32 0..1) of polylines ``(points, width)``."""
    h, w = shape
    canvas = np.zeros((h * _SS, w * _SS), np.uint8)
    for pts, width in paths:
        cv2.polylines(canvas, [np.round(pts * _SS * 16).astype(np.int32)], False, 255,
                      thickness=max(1, round(width * _SS)), lineType=cv2.LINE_AA, shift=4)
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _line_defect(rng: np.random.Generator, h: int, w: int, max_size: int) -> np.ndarray:
    """A hair, a curved scratch or a branching crack."""
    style = rng.choice(3, p=[0.3, 0.45, 0.25])
    start = rng.uniform([0, 0], [w, h])
    heading = rng.uniform(0, 2 * np.pi)
    widest = max(1.0, min(float(max_size), 6.0))
    if style == 0:  # hair: thin, long, curly
        width = rng.uniform(0.7, min(2.5, widest))
        pts = _walk(rng, start, heading, rng.uniform(40, 500), rng.uniform(0.002, 0.02), rng.uniform(0, 0.6))
        return _draw_paths((h, w), [(pts, width)])
    width = float(np.exp(rng.uniform(np.log(0.8), np.log(widest + 0.5))))
    if style == 1:  # scratch: nearly straight, long
        pts = _walk(rng, start, heading, rng.uniform(40, 600), rng.uniform(0.0, 0.004), rng.uniform(0, 0.08))
        return _draw_paths((h, w), [(pts, width)])
    # crack: jagged, with branches that are thinner
    paths = []
    trunk = _walk(rng, start, heading, rng.uniform(40, 300), rng.uniform(0.01, 0.05), rng.uniform(0, 0.3))
    paths.append((trunk, width))
    for _ in range(rng.integers(0, 4)):
        at = trunk[rng.integers(0, len(trunk))]
        branch = _walk(rng, at, heading + rng.choice([-1, 1]) * rng.uniform(0.4, 1.2),
                       rng.uniform(15, 120), rng.uniform(0.01, 0.05), 0.0)
        paths.append((branch, max(0.7, width * rng.uniform(0.4, 0.9))))
    return _draw_paths((h, w), paths)


def _speck(rng: np.random.Generator, h: int, w: int, max_size: int, uniform: float = 0.0) -> np.ndarray:
    """An irregular blob from 1.5 px to ``max_size`` across: log-uniform (small dust is common), or
    with probability ``uniform`` uniform in diameter (large specks, whose inside a pixel cannot tell
    from a wide line's, are then as common as small ones)."""
    largest = max(2.0, float(max_size))
    if uniform and rng.random() < uniform:
        d = float(rng.uniform(1.5, largest))
    else:
        d = float(np.exp(rng.uniform(np.log(1.5), np.log(largest))))
    margin = d / 2 + 2
    cx = rng.uniform(margin, max(margin + 1, w - margin))
    cy = rng.uniform(margin, max(margin + 1, h - margin))
    n = int(rng.integers(6, 16))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = d / 2 * rng.uniform(0.6, 1.15, n)
    squash, rot = rng.uniform(0.4, 1.0), rng.uniform(0, np.pi)
    x, y = r * np.cos(ang), r * np.sin(ang) * squash
    pts = np.stack([cx + x * np.cos(rot) - y * np.sin(rot), cy + x * np.sin(rot) + y * np.cos(rot)], 1)
    x0, y0 = int(max(0, cx - d - 3)), int(max(0, cy - d - 3))
    x1, y1 = int(min(w, cx + d + 4)), int(min(h, cy + d + 4))
    canvas = np.zeros(((y1 - y0) * _SS, (x1 - x0) * _SS), np.uint8)
    local = (pts - [x0, y0]) * _SS * 16
    cv2.fillPoly(canvas, [np.round(local).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    cov = np.zeros((h, w), np.float32)
    cov[y0:y1, x0:x1] = cv2.resize(canvas, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA) / 255.0
    return cov


def inject(rgb: np.ndarray, rng: np.random.Generator, max_size: int, lines: int, specks: int,
           uniform_specks: float = 0.0) -> Injected:
    """Draw ``lines`` line defects and ``specks`` specks onto a float RGB crop (HxWx3, [0, 1]);
    ``uniform_specks``: the share of specks whose diameter is uniform rather than log-uniform."""
    h, w = rgb.shape[:2]
    img = rgb.copy()
    label = np.zeros((h, w), np.uint8)
    touched = np.zeros((h, w), bool)
    objects = [(SCRATCH, _line_defect(rng, h, w, max_size)) for _ in range(lines)]
    objects += [(DUST, _speck(rng, h, w, max_size, uniform_specks)) for _ in range(specks)]
    for kind, cov in objects:
        ys, xs = np.nonzero(cov > 0)
        if len(ys) == 0:
            continue
        # work on the defect's bounding box only (a photo gets hundreds of small specks)
        box = (slice(max(0, ys.min() - 4), ys.max() + 5), slice(max(0, xs.min() - 4), xs.max() + 5))
        cov = cov[box]
        if rng.random() < 0.4:  # scanner / focus blur
            cov = cv2.GaussianBlur(cov, (0, 0), rng.uniform(0.4, 1.0))
        if cov.max() < 0.3:
            continue
        contrast = rng.uniform(0.04, 0.4) * (1 if rng.random() < 0.5 else -1)
        part = img[box]
        before = part @ _LUMA
        alpha = cov[..., None]
        if rng.random() < 0.6:  # achromatic offset
            part = np.clip(part + alpha * np.float32(contrast), 0, 1)
        else:  # cover with a grey (opaque dust, hair, paper); partly see-through
            sel = cov > 0.5
            grey = np.clip(float(before[sel].mean()) + contrast, 0, 1) if sel.any() else 0.5
            opacity = np.float32(rng.uniform(0.7, 1.0))
            part = part * (1 - alpha * opacity) + np.float32(grey) * alpha * opacity
        img[box] = part
        visible = np.abs(part @ _LUMA - before) >= 0.025
        label[box][(cov >= 0.5) & visible] = kind
        touched[box] |= cov > 0.02
    rim = cv2.dilate(touched.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & (label == 0)
    return Injected(img.astype(np.float32), label, rim)
