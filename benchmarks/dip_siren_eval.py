#!/usr/bin/env python3
"""Deep Image Prior and SIREN on the shared Kodak set, beside OpenCV's Navier-Stokes and Telea.

One invocation runs ../shared/tools/eval_inpaint.py for every contender on the same cases, so the
numbers are comparable on a noisy shared machine (the harness records the load average per case).
The paper preset is run iteration-capped (``--paper-cap``): each photo's time is extrapolated to the
notebook's full schedule as seconds x published_iterations / cap (set-up included, so a slight
overestimate). Contenders go through the runtime path the app uses (benchmarks/harness_adapter.py ->
runtime.jobs.run_fill); the methods are registered here until the package's entry points list them.

Examples (from the repo root, venv active):
  python benchmarks/dip_siren_eval.py --limit 4                       # 4 photos x object, medium, thick
  python benchmarks/dip_siren_eval.py --only dip_fast,ns --classes object --limit 2
  python benchmarks/dip_siren_eval.py --threads 1 --out /tmp/dipbench  # one torch thread
  python benchmarks/dip_siren_eval.py --only dip_fast,ns --variant 'detail0={"detail": 0}'  # a variant
  python benchmarks/dip_siren_eval.py --only dip_fast --fast-params '{"time_limit": 900}'  # iteration-capped
  python benchmarks/dip_siren_eval.py --preview-strip docs/dip_preview_strip.png  # the README strip only
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HARNESS = SHARED / "tools" / "eval_inpaint.py"
BASELINES = SHARED / "tools" / "baselines.py"
KODAK = SHARED / "datasets" / "kodak"
PAPER_ITERATIONS = {"vase": 5001, "kate": 6001, "library": 3001}

_threads_set = False


def fill(image_bgr: Any, mask_u8: Any, method: str = "dip", threads: int = 0, busy_rule: bool = True,
         **params: Any) -> Any:
    """Harness ``--py`` entry: register dip / siren if the installed entry points do not yet, then fill.

    ``busy_rule=False`` switches off the fits' free-cores rule (``torch_threads``; to measure what it buys).
    """
    global _threads_set
    if not busy_rule:
        from inpaint_studio.methods import torch_threads

        torch_threads.fit_threads = lambda current, **_: current
    if threads and not _threads_set:
        import torch

        torch.set_num_threads(int(threads))
        _threads_set = True
    sys.path.insert(0, str(ROOT))
    from benchmarks.harness_adapter import fill as adapter_fill
    from inpaint_studio.methods import registry
    from inpaint_studio.methods.dip import DeepImagePriorMethod
    from inpaint_studio.methods.siren import SirenMethod

    for cls in (DeepImagePriorMethod, SirenMethod):
        if cls.name not in registry.names():
            registry.register(cls)
    return adapter_fill(image_bgr, mask_u8, method=method, device="cpu", **params)


def contenders(args: argparse.Namespace) -> dict[str, list[str]]:
    me = f"{Path(__file__).resolve()}:fill"
    common = {"threads": args.threads} if args.threads else {}

    def ours(**kw: Any) -> list[str]:
        return ["--py", me, "--kwargs", json.dumps({**common, **kw})]

    variants = {}
    for spec in args.variant:
        name, _, params = spec.partition("=")
        merged = {**json.loads(args.fast_params), **json.loads(params)}
        variants[f"dip_fast_{name}"] = ours(method="dip", **merged)
    return {
        "dip_fast": ours(method="dip", **json.loads(args.fast_params)),
        **variants,
        f"dip_paper_{args.paper_net}_cap{args.paper_cap}": ours(
            method="dip", preset="paper", paper_net=args.paper_net, iterations=args.paper_cap,
            keep_best=False),
        "siren": ours(method="siren"),
        "ns": ["--py", f"{BASELINES}:ns"],
        "telea": ["--py", f"{BASELINES}:telea"],
    }


def _extrapolation(path: Path, net: str, cap: int) -> str:
    run = json.loads(path.read_text())
    rows = ["| class | median s (capped) | s / iteration | extrapolated s for the full schedule | hours |",
            "|---|---:|---:|---:|---:|"]
    for cls, s in run["summary"].items():
        per_it = s["median_s"] / cap
        full = per_it * PAPER_ITERATIONS[net]
        rows.append(f"| {cls} | {s['median_s']:.1f} | {per_it:.2f} | {full:.0f} | {full / 3600:.2f} |")
    return (f"Paper preset ({net}) capped at {cap} iterations; full schedule = "
            f"{PAPER_ITERATIONS[net]} iterations:\n\n" + "\n".join(rows))


STRIP_ITERATIONS = (0, 10, 50)


def preview_strip(path: Path, stem: str, size: int = 256, tile: int = 200, threads: int = 0) -> str:
    """The README strip: masked input, the fill at iterations 0, 10, 50 and final, the original.

    One Kodak crop of ``size`` px around the object mask's hole, ``dip`` fast defaults except that every
    iteration offers a preview (to catch 10 and 50). Returns the log line (iterations, seconds).
    """
    import re
    import time

    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from inpaint_studio.methods.base import make_params
    from inpaint_studio.methods.dip import DeepImagePriorMethod

    if threads:
        import torch

        torch.set_num_threads(threads)
    bgr = cv2.imread(str(KODAK / "images" / f"{stem}.png"))
    hole_full = cv2.imread(str(KODAK / "masks" / "object" / f"{stem}.png"), cv2.IMREAD_GRAYSCALE) > 127
    ys, xs = np.nonzero(hole_full)
    cy, cx = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2
    top = int(np.clip(cy - size // 2, 0, bgr.shape[0] - size))
    left = int(np.clip(cx - size // 2, 0, bgr.shape[1] - size))
    crop = cv2.cvtColor(bgr[top:top + size, left:left + size], cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    hole = hole_full[top:top + size, left:left + size]
    masked = np.where(hole[..., None], 0.0, crop).astype(np.float32)

    shots: dict[int, np.ndarray] = {}

    class Ctx:
        device, seed = "cpu", 0

        def progress(self, fraction: float, text: str = "") -> None:
            pass

        def preview(self, image: np.ndarray, text: str = "") -> None:
            it = int(re.search(r"iter (\d+)", text).group(1))
            if it in STRIP_ITERATIONS and it not in shots:
                shots[it] = np.array(image)

        def check_cancelled(self) -> None:
            pass

    params = make_params(DeepImagePriorMethod.Params, {"preview_every": 1, "preview_ms": 0})
    t0 = time.perf_counter()
    final = DeepImagePriorMethod().run(masked, hole, params, Ctx())
    seconds = time.perf_counter() - t0
    panels = [("masked input", masked)]
    panels += [(f"iteration {i}", shots[i]) for i in STRIP_ITERATIONS if i in shots]
    panels += [("final", final), ("original", crop)]
    tiles = []
    for label, image in panels:
        tile_img = cv2.resize(np.clip(image, 0, 1), (tile, tile), interpolation=cv2.INTER_AREA)
        tile_img = cv2.cvtColor((tile_img * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
        head = np.full((26, tile, 3), 255, np.uint8)
        cv2.putText(head, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.vstack([head, tile_img]))
        tiles.append(np.full((tile + 26, 4, 3), 255, np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.hstack(tiles[:-1]), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return f"{path}: {stem} {size}px crop, {len(panels)} panels, fill {seconds:.1f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classes", default="object,medium,thick")
    ap.add_argument("--limit", type=int, default=0, help="first N photos (sorted) of each class; 0: all 24")
    ap.add_argument("--stems", help="comma list of photo stems instead of --limit")
    ap.add_argument("--only", help="comma list of contenders (default: all)")
    ap.add_argument("--paper-net", default="vase", choices=sorted(PAPER_ITERATIONS))
    ap.add_argument("--paper-cap", type=int, default=20, help="iterations the paper preset runs per region")
    ap.add_argument("--fast-params", default="{}",
                    help="JSON params for dip fast, e.g. '{\"time_limit\": 60}'")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=JSON",
                    help="also run dip fast with these params on top of --fast-params, as dip_fast_NAME "
                         "(repeatable; same invocation, so comparable)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--masks", type=Path,
                    help="masks folder (<class>/<stem>.png) instead of Kodak's standard ones, e.g. fresh "
                         "holes from ../shared/tools/make_masks.py --seed N")
    ap.add_argument("--out", type=Path, default=Path("/tmp/dip_siren_eval"))
    ap.add_argument("--keep-outputs", action="store_true")
    ap.add_argument("--preview-strip", type=Path, help="write the README preview strip PNG here and exit")
    ap.add_argument("--strip-stem", default="kodim21", help="Kodak photo of the preview strip")
    args = ap.parse_args(argv)
    if args.preview_strip:
        print(preview_strip(args.preview_strip, args.strip_stem, threads=args.threads))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only.split(",")) if args.only else None
    paths = []
    for name, target in contenders(args).items():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        path = args.out / f"{name}.json"
        cmd = [sys.executable, str(HARNESS), "--images", str(KODAK / "images"),
               "--masks", str(args.masks or KODAK / "masks"), "--name", name, "--json", str(path),
               "--classes", args.classes, *target]
        if args.stems:
            cmd += ["--stems", args.stems]
        elif args.limit:
            cmd += ["--limit", str(args.limit)]
        if args.keep_outputs:
            cmd += ["--keep-outputs", str(args.out / "outputs" / name)]
        print("+", shlex.join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        paths.append(path)
    report = subprocess.run([sys.executable, str(HARNESS), "--report", *map(str, paths)],
                            check=True, capture_output=True, text=True).stdout
    print(report)
    for path in paths:
        if path.stem.startswith("dip_paper_"):
            print(_extrapolation(path, args.paper_net, args.paper_cap))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
