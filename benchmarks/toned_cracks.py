#!/usr/bin/env python3
"""Crack networks on toned prints: how much of them the scratch detector finds (issue 7).

The restorer's common case that benchmarks/damage_detection.py does not cover: a sepia print whose
emulsion has cracked into a network of thin, branching, paper-pale lines (the real scans in
../shared/datasets/old_photos/old_w_scratch look like this). Each Kodak photo (4 px border cropped,
scaled to 384 px like those scans) becomes a toned print with a print's tonal range and a little
grain, and gets 5-9 jagged crack networks, 1-3 px wide trunks with thinner branches, covered with
paper colour. Scored with damage_detection.evaluate (precision within 2 px, pixel and object recall
on objects of >= 10 % contrast) plus falsely flagged px per MP on the undamaged toned print.

Example (repo root, venv active):
  nice -n 5 python benchmarks/toned_cracks.py            # all 24 photos, kind scratches, 0.5
  python benchmarks/toned_cracks.py --limit 6 --sensitivity 0.7
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from damage_detection import KODAK, Damage, evaluate

from inpaint_studio.core.damage import DamageOptions, detect_damage, synth

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
SIDE = 384


def sepia(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 colour -> float toned print: luma compressed to a print's range, warm tone."""
    y = (rgb.astype(np.float32) / 255.0) @ LUMA
    lo, hi = rng.uniform(0.08, 0.18), rng.uniform(0.72, 0.85)
    y = lo + (hi - lo) * y
    warm = rng.uniform(0.7, 1.0)
    tone = np.array([1.08, 0.95, 0.95 - 0.28 * warm], np.float32)
    tint = 0.04 * (y * (1 - y))[..., None] * np.array([1, 0, -1], np.float32)
    out = np.clip(y[..., None] * tone + tint, 0, 1)
    # a little grain
    out += rng.normal(0, 0.008, out.shape[:2]).astype(np.float32)[..., None]
    return np.clip(out, 0, 1)


def jag(rng, start, heading, length):
    """A crack path: straight bits 4-15 px, each turning +-0.2-0.7 rad off the main heading."""
    pts = [np.asarray(start, float)]
    done = 0.0
    while done < length:
        seg = rng.uniform(4, 15)
        ang = heading + rng.choice([-1, 1]) * rng.uniform(0.1, 0.7)
        pts.append(pts[-1] + seg * np.array([np.cos(ang), np.sin(ang)]))
        heading += rng.normal(0, 0.08)
        done += seg
    return np.array(pts)


def network(rng: np.random.Generator, h: int, w: int) -> list[np.ndarray]:
    """Coverage maps of crack networks: jagged trunks with many thin branches (1-3 px)."""
    objs = []
    for _ in range(rng.integers(5, 10)):
        paths = []
        start = rng.uniform([0, 0], [w, h])
        heading = rng.uniform(0, 2 * np.pi)
        width = float(rng.uniform(1.0, 3.0))
        trunk = jag(rng, start, heading, rng.uniform(60, 260))
        paths.append((trunk, width))
        for _ in range(rng.integers(2, 7)):
            at = trunk[rng.integers(0, len(trunk))]
            br = jag(rng, at, heading + rng.choice([-1, 1]) * rng.uniform(0.5, 1.6), rng.uniform(10, 80))
            paths.append((br, max(0.8, width * rng.uniform(0.4, 0.9))))
            if rng.random() < 0.4:
                at2 = br[rng.integers(0, len(br))]
                br2 = jag(rng, at2, heading + rng.uniform(-2, 2), rng.uniform(8, 40))
                paths.append((br2, 0.8))
        objs.append(synth._draw_paths((h, w), paths))
    return objs


def make(path: Path, seed: int) -> tuple[np.ndarray, Damage]:
    rng = np.random.default_rng([seed, int(path.stem[-2:])])
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)[4:-4, 4:-4]  # Kodak frames have edge lines
    h, w = bgr.shape[:2]
    s = SIDE / max(h, w)
    bgr = cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    toned = sepia(bgr[..., ::-1], rng)
    clean = np.clip(np.rint(toned * 255), 0, 255).astype(np.uint8)
    h, w = clean.shape[:2]
    img = toned.copy()
    paper = np.array([0.95, 0.92, 0.82], np.float32) * rng.uniform(0.92, 1.0)
    coverage = np.zeros((h, w), np.float32)
    ids = np.zeros((h, w), np.int32)
    names = []
    for cov in network(rng, h, w):
        if rng.random() < 0.4:
            cov = cv2.GaussianBlur(cov, (0, 0), rng.uniform(0.4, 0.8))
        if cov.max() < 0.5:
            continue
        a = cov[..., None] * np.float32(rng.uniform(0.6, 1.0))
        img = img * (1 - a) + paper * a
        names.append("scratch")
        ids[cov >= 0.5] = len(names)
        coverage = np.maximum(coverage, cov)
    out = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    diff = np.abs((out.astype(np.float32) - clean.astype(np.float32)) @ LUMA) / 255.0
    contrast = np.array([float(np.median(diff[ids == i + 1])) if (ids == i + 1).any() else 0.0
                         for i in range(len(names))], np.float32)
    return clean, Damage(out, coverage, ids, names, contrast)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--limit", type=int, default=24, help="first N Kodak photos")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sensitivity", type=float, default=0.5)
    args = parser.parse_args()
    options = DamageOptions("scratches", args.sensitivity)
    tp = det = core = hit = fp = px = 0
    objects: list[float] = []
    started = time.time()
    paths = sorted(KODAK.glob("kodim*.png"))[: args.limit]
    for path in paths:
        clean, dmg = make(path, args.seed)
        ev = evaluate(dmg, detect_damage(dmg.image, options, keep=False))
        tp += ev["tp_px"]
        det += ev["det_px"]
        core += ev["core_px"]
        hit += ev["core_hit"]
        objects += [found for _, contrast, found in ev["objects"] if contrast >= 0.10]
        fp += int((detect_damage(clean, options, keep=False) >= 128).sum())
        px += clean.shape[0] * clean.shape[1]
    print(f"{len(paths)} photos, seed {args.seed}, sensitivity {args.sensitivity}: "
          f"precision {tp / max(det, 1):.3f}, pixel recall {hit / max(core, 1):.3f}, "
          f"object recall {np.mean(objects):.3f}, clean false alarms {fp / (px / 1e6):.0f} px/MP "
          f"({time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
