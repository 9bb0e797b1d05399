#!/usr/bin/env python3
"""How well `detect_damage` finds synthetic scratches and dust on the Kodak photos, and what a fill
of the detected mask gives back.

Damage model (deterministic per --seed): on each photo, 2-6 gently curved scratches (1-4 px wide,
60-400 px long, 70 % bright) and 10-40 dust specks (irregular ellipses 2-15 px across, 60 % dark),
each with a contrast drawn from 0.04-0.40 of full range. A defect adds an achromatic offset times
its anti-aliased coverage (drawn 4x supersampled), clipped to the valid range. Each object's
*effective* contrast is measured after clipping (median |damaged - clean| luma over its core);
the headline numbers are for objects of effective contrast >= 10 %.

Metrics (detection = soft mask >= 128):
* pixel recall: fraction of core damage pixels (coverage >= 0.5) detected, contrast >= 10 % objects;
* pixel precision: fraction of detected pixels within 2 px of any damage pixel (coverage > 0);
  the detector deliberately grows its mask by ~1-2 px to cover the rim, hence the tolerance;
* object recall: fraction of objects with >= 50 % of their core detected; an extra line gives it
  for the scratches with >= 70 px of their centre line inside the frame (the generator draws a
  60-400 px curve from a random start, so many leave the frame, and the detector needs ~70 px);
* clean FP: detected pixels per megapixel on the *undamaged* photo (real structure flagged);
* hole PSNR: PSNR over damage pixels (coverage > 0) against the clean photo, for the damaged photo
  (no repair), for a restore of the detected mask, and for a fill of the true mask grown 1 px
  (oracle mask, same fill method).

Three runs per photo: scratches only (kind=scratches), dust only (kind=dust), both (kind=all).

Examples (repo root, venv active):
  python benchmarks/damage_detection.py --limit 6
  nice -n 5 python benchmarks/damage_detection.py --no-restore --scratch-finder verified
  nice -n 5 python benchmarks/damage_detection.py --out /tmp/damage_examples
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core.damage import DamageOptions, detect_damage

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT.parent / "shared" / "datasets" / "kodak" / "images"
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
SS = 4  # supersampling for anti-aliased drawing
CONTRAST_MIN = 0.10
TOLERANCE = 2
#: px of a scratch's centre line inside the frame for the extra object-recall line (the detector
#: needs ~70 px: its 41 px line filter plus a 30 px minimum length)
INSIDE_MIN = 70


@dataclass
class Damage:
    """Synthetic damage on one photo: the damaged image, coverage, per-pixel object id, and kinds."""

    image: np.ndarray          # HxWx3 uint8
    coverage: np.ndarray       # HxW float32 0..1 (max over objects)
    ids: np.ndarray            # HxW int32, object id where coverage >= 0.5, else 0
    kinds: list[str]           # per object id-1: "scratch" | "dust"
    contrast: np.ndarray       # per object effective contrast
    #: per object: px of a scratch's centre line inside the frame (NaN for dust; None: not known)
    inside: np.ndarray | None = None


def _scratch(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, float, float]:
    """An anti-aliased gently curved line: coverage (HxW float32), its width and the length (px) of
    its centre line inside the frame."""
    width = float(rng.uniform(1.0, 4.0))
    length = float(rng.uniform(60, 400))
    x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
    angle = rng.uniform(0, np.pi)
    dx, dy = np.cos(angle) * length, np.sin(angle) * length
    bend = rng.uniform(-0.15, 0.15) * length
    t = np.linspace(0, 1, 64)[:, None]
    p0, p2 = np.array([x0, y0]), np.array([x0 + dx, y0 + dy])
    p1 = (p0 + p2) / 2 + bend * np.array([-np.sin(angle), np.cos(angle)])
    pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    canvas = np.zeros((h * SS, w * SS), np.uint8)
    cv2.polylines(canvas, [np.round(pts * SS * 16).astype(np.int32)], False, 255,
                  thickness=max(1, round(width * SS)), lineType=cv2.LINE_AA, shift=4)
    cov = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    mid = 0.5 * (pts[1:] + pts[:-1])
    inside = (mid[:, 0] >= 0) & (mid[:, 0] < w) & (mid[:, 1] >= 0) & (mid[:, 1] < h)
    return cov, width, float(np.hypot(*np.diff(pts, axis=0).T)[inside].sum())


def _speck(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An anti-aliased irregular blob 2-15 px across."""
    d = float(rng.uniform(2.0, 15.0))
    cx, cy = rng.uniform(8, w - 8), rng.uniform(8, h - 8)
    canvas = np.zeros((h * SS, w * SS), np.uint8)
    n = 12
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    ratio = rng.uniform(0.55, 1.0)
    rot = rng.uniform(0, np.pi)
    r = d / 2 * rng.uniform(0.8, 1.1, n)
    x = r * np.cos(ang)
    y = r * np.sin(ang) * ratio
    xs = cx + x * np.cos(rot) - y * np.sin(rot)
    ys = cy + x * np.sin(rot) + y * np.cos(rot)
    pts = np.stack([xs, ys], 1) * SS * 16
    cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def add_damage(clean: np.ndarray, rng: np.random.Generator, kinds: tuple[str, ...]) -> Damage:
    h, w = clean.shape[:2]
    base = clean.astype(np.float32) / 255.0
    img = base.copy()
    coverage = np.zeros((h, w), np.float32)
    ids = np.zeros((h, w), np.int32)
    objects: list[tuple[str, np.ndarray, float]] = []
    if "scratch" in kinds:
        for _ in range(rng.integers(2, 7)):
            cov, _, inside = _scratch(rng, h, w)
            objects.append(("scratch", cov, inside))
    if "dust" in kinds:
        for _ in range(rng.integers(10, 41)):
            objects.append(("dust", _speck(rng, h, w), float("nan")))
    names = []
    lengths = []
    for kind, cov, inside in objects:
        if cov.max() < 0.5:
            continue
        lengths.append(inside)
        bright = rng.random() < (0.7 if kind == "scratch" else 0.4)
        delta = float(rng.uniform(0.04, 0.40)) * (1 if bright else -1)
        img = np.clip(img + cov[..., None] * delta, 0, 1)
        names.append(kind)
        ids[cov >= 0.5] = len(names)
        coverage = np.maximum(coverage, cov)
    out = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    diff = np.abs((out.astype(np.float32) - clean.astype(np.float32)) @ LUMA) / 255.0
    contrast = np.zeros(len(names), np.float32)
    for i in range(len(names)):
        sel = ids == i + 1
        contrast[i] = float(np.median(diff[sel])) if sel.any() else 0.0
    return Damage(out, coverage, ids, names, contrast, np.array(lengths, np.float32))


def evaluate(dmg: Damage, soft: np.ndarray) -> dict:
    det = soft >= 128
    near = cv2.dilate((dmg.coverage > 0).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * TOLERANCE + 1,) * 2)) > 0
    strong_ids = np.flatnonzero(dmg.contrast >= CONTRAST_MIN) + 1
    core_strong = np.isin(dmg.ids, strong_ids)
    per_obj_total = np.bincount(dmg.ids.ravel(), minlength=len(dmg.kinds) + 1)
    per_obj_hit = np.bincount(dmg.ids[det].ravel(), minlength=len(dmg.kinds) + 1)
    found = (per_obj_hit[1:] >= 0.5 * np.maximum(per_obj_total[1:], 1))
    return {
        "det_px": int(det.sum()),
        "tp_px": int((det & near).sum()),
        "core_px": int(core_strong.sum()),
        "core_hit": int((core_strong & det).sum()),
        "objects": [(k, float(c), bool(f)) for k, c, f in zip(dmg.kinds, dmg.contrast, found, strict=True)],
        # per object, as "objects": px of a scratch's centre line inside the frame (NaN: dust or unknown)
        "inside": [float("nan")] * len(dmg.kinds) if dmg.inside is None else [float(v) for v in dmg.inside],
    }


def _psnr(a: np.ndarray, b: np.ndarray, sel: np.ndarray) -> float:
    err = (a.astype(np.float64)[sel] - b.astype(np.float64)[sel]) ** 2
    mse = float(err.mean()) if err.size else 0.0
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _restore(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, str]:
    """Fill ``mask`` in ``image`` with run_restore when it exists, else run_fill(telea)."""
    if not mask.any():
        return image, "none"
    try:
        from inpaint_studio.runtime.restore import run_restore
    except ImportError:
        run_restore = None
    if run_restore is not None:
        result = run_restore(image, DamageOptions(), mask=mask)
        name = "run_restore"
    else:
        from inpaint_studio.runtime.jobs import FillRequest, run_fill
        result = run_fill(FillRequest(image, mask, "telea"))
        name = "run_fill(telea)"
    if not result.ok:
        raise RuntimeError(f"fill failed: {result.message}")
    return result.pixels, name


def strip(before: np.ndarray, soft: np.ndarray, after: np.ndarray, width: int = 1200) -> np.ndarray:
    """before | mask (red over the photo) | after, side by side, scaled to ``width``."""
    tint = before.astype(np.float32)
    a = soft.astype(np.float32)[..., None] / 255.0
    tint = tint * (1 - 0.8 * a) + np.array([255, 0, 0], np.float32) * 0.8 * a
    gap = np.full((before.shape[0], 6, 3), 255, np.uint8)
    row = np.concatenate([before, gap, tint.astype(np.uint8), gap, after], axis=1)
    scale = width / row.shape[1]
    return cv2.resize(row, (width, round(row.shape[0] * scale)), interpolation=cv2.INTER_AREA)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="first N Kodak photos (0 = all 24)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sensitivity", type=float, default=0.5)
    ap.add_argument("--max-size", type=int, default=15)
    ap.add_argument("--scratch-finder", choices=("classic", "learned", "verified"), default="classic")
    ap.add_argument("--out", type=Path, help="folder for before/mask/after example strips")
    ap.add_argument("--no-restore", action="store_true", help="skip the fills (detection only)")
    ap.add_argument("--json", type=Path, help="write the raw numbers here")
    args = ap.parse_args()
    paths = sorted(KODAK.glob("kodim*.png"))[: args.limit or None]
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    runs = {"scratches": ("scratch",), "dust": ("dust",), "all": ("scratch", "dust")}
    tot: dict[str, dict] = {k: {"det_px": 0, "tp_px": 0, "core_px": 0, "core_hit": 0, "objects": [],
                                "inside": [], "psnr": []} for k in runs}
    clean_fp = 0
    clean_fp_kind = {"scratches": 0, "dust": 0}
    clean_px = 0
    det_time = 0.0
    det_mp = 0.0
    fill_name = "none"
    for i, path in enumerate(paths):
        clean = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].copy()
        mp = clean.shape[0] * clean.shape[1] / 1e6
        soft_clean = np.zeros(clean.shape[:2], np.uint8)
        for kind in ("scratches", "dust"):
            found = detect_damage(clean, DamageOptions(kind, args.sensitivity, max_size=args.max_size,
                                                       scratch_finder=args.scratch_finder))
            clean_fp_kind[kind] += int((found >= 128).sum())
            soft_clean = np.maximum(soft_clean, found)
        clean_fp += int((soft_clean >= 128).sum())
        clean_px += clean.shape[0] * clean.shape[1]
        line = [path.stem]
        for j, (kind, what) in enumerate(runs.items()):
            rng = np.random.default_rng([args.seed, i, j])
            dmg = add_damage(clean, rng, what)
            opts = DamageOptions(kind=kind, sensitivity=args.sensitivity, max_size=args.max_size,
                                 scratch_finder=args.scratch_finder)
            t0 = time.perf_counter()
            soft = detect_damage(dmg.image, opts)
            det_time += time.perf_counter() - t0
            det_mp += mp
            ev = evaluate(dmg, soft)
            acc = tot[kind]
            for key in ("det_px", "tp_px", "core_px", "core_hit"):
                acc[key] += ev[key]
            acc["objects"] += ev["objects"]
            acc["inside"] += ev["inside"]
            prec = ev["tp_px"] / max(ev["det_px"], 1)
            rec = ev["core_hit"] / max(ev["core_px"], 1)
            line.append(f"{kind}: P={prec:.2f} R={rec:.2f}")
            if not args.no_restore:
                sel = dmg.coverage > 0
                after, fill_name = _restore(dmg.image, soft)
                oracle_mask = cv2.dilate((dmg.coverage > 0).astype(np.uint8) * 255, np.ones((3, 3), np.uint8))
                oracle, _ = _restore(dmg.image, oracle_mask)
                acc["psnr"].append(tuple(_psnr(x, clean, sel) for x in (dmg.image, after, oracle)))
                if args.out and kind == "all":
                    example = strip(dmg.image, soft, after)[..., ::-1]
                    cv2.imwrite(str(args.out / f"{path.stem}_strip.png"), example)
        print(f"{'  '.join(line)}  clean FP/MP={(soft_clean >= 128).sum() / mp:.0f}", flush=True)
    print()
    print(f"detected mask >= 128; precision within {TOLERANCE} px; recall on objects of contrast >= "
          f"{CONTRAST_MIN:.0%}; sensitivity {args.sensitivity}; {len(paths)} photos; seed {args.seed}")
    print()
    print("| run | pixel precision | pixel recall | object recall (>=10 %) | object recall (<10 %) "
          "| PSNR damaged | PSNR restored | PSNR oracle mask |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for kind, acc in tot.items():
        objs = acc["objects"]
        for sub in (("scratch",), ("dust",)) if kind == "all" else ((runs[kind][0],),):
            strong = [f for k, c, f in objs if k in sub and c >= CONTRAST_MIN]
            faint = [f for k, c, f in objs if k in sub and c < CONTRAST_MIN]
            label = kind if kind != "all" else f"all ({sub[0]} objects)"
            rec_obj = np.mean(strong) if strong else float("nan")
            rec_faint = np.mean(faint) if faint else float("nan")
            prec = acc["tp_px"] / max(acc["det_px"], 1)
            rec = acc["core_hit"] / max(acc["core_px"], 1)
            ps = np.array(acc["psnr"]) if acc["psnr"] else np.full((1, 3), np.nan)
            pm = ps.mean(0)
            print(f"| {label} | {prec:.3f} | {rec:.3f} | {rec_obj:.3f} ({len(strong)}) | {rec_faint:.3f} "
                  f"({len(faint)}) | {pm[0]:.2f} | {pm[1]:.2f} | {pm[2]:.2f} |")
            summary[label] = {"precision": prec, "pixel_recall": rec, "object_recall": rec_obj,
                              "object_recall_faint": rec_faint, "psnr": pm.tolist()}
    print()
    for kind in ("scratches", "all"):  # not a headline: the table above counts every scratch
        acc = tot[kind]
        framed = [f for (k, c, f), inside in zip(acc["objects"], acc["inside"], strict=True)
                  if k == "scratch" and c >= CONTRAST_MIN and inside >= INSIDE_MIN]
        rec = np.mean(framed) if framed else float("nan")
        summary[f"{kind} (scratch objects >= {INSIDE_MIN} px inside)"] = {"object_recall": rec,
                                                                        "objects": len(framed)}
        print(f"{kind}: scratch object recall (>=10 %) over scratches with >= {INSIDE_MIN} px of their "
              f"centre line inside the frame: {rec:.3f} ({len(framed)})")
    fp_mp = clean_fp / (clean_px / 1e6)
    speed = det_time / det_mp * 1000
    print()
    per_kind = ", ".join(f"{k} {v / (clean_px / 1e6):.0f}" for k, v in clean_fp_kind.items())
    print(f"clean photos: {fp_mp:.0f} false-positive px per MP "
          f"({clean_fp / clean_px:.3%} of pixels; {per_kind})")
    print(f"detection speed: {speed:.0f} ms/MP (single thread share of a shared machine)")
    print(f"fill used for PSNR: {fill_name}")
    if args.json:
        record = {"summary": summary, "clean_fp_per_mp": fp_mp, "ms_per_mp": speed, "fill": fill_name,
                  "args": {k: str(v) for k, v in vars(args).items()}}
        args.json.write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
