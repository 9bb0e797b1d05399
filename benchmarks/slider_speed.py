#!/usr/bin/env python3
"""What one sensitivity move in the Detect Damage panel costs on a big photo, per kind.

The panel re-runs ``detect_damage`` on the whole photo after every slider move (the visible area
first). The learned dust finder only re-thresholds its cached maps, and so does the classical
scratch detector (``core/damage/scratch_maps.py``; before it, it ran whole). This times, on a Kodak
photo upscaled to --width x --height: the first detection (kind all: fitting the dust finder, its
maps, the scratches; with --skip-first kind scratches only), then a move to --to for each kind. CPU
and wall seconds; run two trees one after the other (PYTHONPATH=<tree>) to compare them.

Example (repo root, venv active):
  nice -n 5 python benchmarks/slider_speed.py                  # 12 MP, kodim05
  nice -n 5 python benchmarks/slider_speed.py --kinds scratches --skip-first
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2

from inpaint_studio.core.damage import DamageOptions, detect_damage

KODAK = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "kodak" / "images"


def _timed(label: str, pixels, options: DamageOptions) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    mask = detect_damage(pixels, options)
    print(f"{label:<28} cpu {time.process_time() - cpu:6.1f} s  wall {time.perf_counter() - wall:6.1f} s"
          f"  flagged {int((mask > 0).sum())} px", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="kodim05")
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--to", type=float, default=0.7, help="the sensitivity moved to (from 0.5)")
    parser.add_argument("--kinds", nargs="+", default=["dust", "scratches", "all"])
    parser.add_argument("--skip-first", action="store_true",
                        help="the first detection finds scratches only (no dust finder to fit)")
    args = parser.parse_args()
    source = cv2.imread(str(KODAK / f"{args.photo}.png"))
    if source is None:
        parser.error(f"cannot read {KODAK / args.photo}.png (the shared Kodak set sits beside the repo)")
    pixels = cv2.cvtColor(source, cv2.COLOR_BGR2RGB)
    pixels = cv2.resize(pixels, (args.width, args.height), interpolation=cv2.INTER_CUBIC)
    print(f"{args.photo} at {args.width}x{args.height} ({args.width * args.height / 1e6:.1f} MP)")
    if args.skip_first:
        _timed("first detection (scratches, 0.5)", pixels, DamageOptions("scratches", 0.5))
    else:
        _timed("first detection (all, 0.5)", pixels, DamageOptions("all", 0.5))
    for kind in args.kinds:
        _timed(f"move to {args.to}: {kind}", pixels, DamageOptions(kind, args.to))
    try:
        from inpaint_studio.core.damage import scratch_maps
    except ImportError:  # a tree from before the scratch detector's cache
        return 0
    print(f"cached scratch maps: {scratch_maps.CACHE.nbytes / 2**20:.0f} MB "
          f"(budget {scratch_maps.BUDGET / 2**20:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
