#!/usr/bin/env python3
"""How long a user waits for the first preview of an iterative fill (issue 4: goal within 1 s).

Runs ``dip`` (fast preset) and ``siren`` through ``runtime.jobs.run_fill`` — the path the GUI's
worker uses — on Kodak photos with the shared object and medium masks, and records the wall time
from submitting the request to the first preview callback, the first progress report, and the end
of the fill. The first fill in the process is reported separately: it includes loading torch's
kernels and numba's cached PatchMatch kernels (the cold numba compile, ~46 s once per machine, is
what ``ui.warmup`` hides in the GUI; run once before measuring so the cache exists).

Example (repo root, venv active):
  nice -n 5 python benchmarks/first_preview.py --limit 4 --methods dip siren
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.runtime.jobs import FillRequest, run_fill

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT.parent / "shared" / "datasets" / "kodak"


def _case(photo: Path, mask_class: str) -> tuple[np.ndarray, np.ndarray]:
    rgb = cv2.cvtColor(cv2.imread(str(photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    mask_path = KODAK / "masks" / mask_class / f"{photo.stem}.png"
    mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise SystemExit(f"no mask {mask_path}")
    return rgb, np.where(mask > 127, 255, 0).astype(np.uint8)


def time_one(method: str, pixels: np.ndarray, mask: np.ndarray, time_limit: float) -> dict[str, float]:
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def on_preview(*_: object) -> None:
        marks.setdefault("preview", time.perf_counter() - start)

    def on_progress(*_: object) -> None:
        marks.setdefault("progress", time.perf_counter() - start)

    params = {"time_limit": time_limit} if time_limit else {}
    result = run_fill(FillRequest(pixels=pixels, mask=mask, method=method, params=params, device="cpu"),
                      on_preview=on_preview, on_progress=on_progress)
    if result.status != "done":
        raise SystemExit(f"{method}: {result.status} {result.message}")
    marks["total"] = time.perf_counter() - start
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=["dip", "siren"])
    ap.add_argument("--classes", nargs="+", default=["object", "medium"])
    ap.add_argument("--limit", type=int, default=4, help="first N Kodak photos")
    ap.add_argument("--time-limit", type=float, default=5.0,
                    help="seconds per fill (the first preview does not depend on it; 0: the preset's)")
    args = ap.parse_args()
    photos = sorted((KODAK / "images").glob("*.png"))[: args.limit]
    warm_pixels, warm_mask = _case(photos[0], args.classes[0])
    for method in args.methods:  # the process's first fill of each method: cold start, reported apart
        cold = time_one(method, warm_pixels, warm_mask, args.time_limit)
        print(f"{method:6s} cold   first preview {cold.get('preview', float('nan')):6.2f} s")
    for method in args.methods:
        firsts = []
        for photo in photos:
            for mask_class in args.classes:
                marks = time_one(method, *_case(photo, mask_class), args.time_limit)
                firsts.append(marks.get("preview", float("inf")))
                first = marks.get("preview", float("nan"))
                print(f"{method:6s} {photo.stem} {mask_class:7s} first preview {first:6.2f} s"
                      f"  fill {marks['total']:6.1f} s")
        print(f"{method:6s} warm   first preview median {statistics.median(firsts):.2f} s, "
              f"max {max(firsts):.2f} s over {len(firsts)} fills")


if __name__ == "__main__":
    main()
