#!/usr/bin/env python3
"""Our ``patchmatch`` against PyPI's ``pypatchmatch`` (the C++ anchor) on the shared Kodak set.

Both run in this one process through ../shared/tools/eval_inpaint.py (in-process ``--py`` mode),
class by class and alternating, so they see the same machine load; ours goes through the same
runtime path as the GUI/CLI (`runtime.jobs.run_fill`, via benchmarks/harness_adapter.py). The
numba kernels are loaded (or compiled) once before timing starts; that one-off cost is printed.

Examples (repo root, venv active; needs `pip install pypatchmatch`, the 'bench' extra):
  python benchmarks/patchmatch_vs_pypatchmatch.py --limit 4
  python benchmarks/patchmatch_vs_pypatchmatch.py --param detail=0.5 --keep-outputs
  # several configurations of ours in one run (engine.* = CompletionSettings fields)
  python benchmarks/patchmatch_vs_pypatchmatch.py --limit 12 --variant blur:engine.match_blur=1.0
  # more variants later, reusing that run's anchor results (pypatchmatch is deterministic per seed)
  python benchmarks/patchmatch_vs_pypatchmatch.py --limit 12 --no-default \
      --anchor-json benchmarks/runs/pypatchmatch_p3.json --variant hyb:engine.edge_diffusion=3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HARNESS = SHARED / "tools" / "eval_inpaint.py"
BASELINES = SHARED / "tools" / "baselines.py"
KODAK = SHARED / "datasets" / "kodak"
CLASSES = ("thin", "medium", "thick", "object", "scratch")


def _override_settings(overrides: dict[str, Any]) -> None:
    """Route ``engine.<name>`` kwargs to CompletionSettings (engine knobs that are not user params)."""
    import dataclasses

    from inpaint_studio.methods.patchmatch import method as pm_method
    from inpaint_studio.methods.patchmatch.completion import CompletionSettings

    base = getattr(pm_method, "_bench_original_settings_for", None)
    if base is None:
        base = pm_method.settings_for
        pm_method._bench_original_settings_for = base
    if not overrides:
        pm_method.settings_for = base
        return
    types = {f.name: f.type for f in dataclasses.fields(CompletionSettings)}
    typed = {}
    for key, value in overrides.items():
        if key not in types:
            raise SystemExit(f"unknown engine setting {key!r}")
        kind = str(types[key])
        typed[key] = (value in (True, "1", "true", "True")) if kind == "bool" else (
            float(value) if kind == "float" else int(value) if kind == "int" else value)
    pm_method.settings_for = lambda params, seed: dataclasses.replace(base(params, seed), **typed)


def fill(image_bgr: np.ndarray, mask_u8: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Harness entry: ours through the runtime (registers the method if entry points lack it).

    ``engine.<setting>=value`` kwargs override CompletionSettings fields for this call.
    """
    from inpaint_studio.methods import registry

    _override_settings({k[7:]: kwargs.pop(k) for k in list(kwargs) if k.startswith("engine.")})

    if "patchmatch" not in registry.names():
        from inpaint_studio.methods.patchmatch import PatchMatchMethod

        registry.register(PatchMatchMethod)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from harness_adapter import fill as adapter_fill

    return adapter_fill(image_bgr, mask_u8, **{"method": "patchmatch", "device": "cpu", **kwargs})


def _load_harness():
    spec = importlib.util.spec_from_file_location("eval_inpaint", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_inpaint"] = module
    spec.loader.exec_module(module)
    return module


def _args(cls: str, name: str, py: str, kwargs: dict, json_path: Path, opts: argparse.Namespace,
          out_dir: Path) -> argparse.Namespace:
    return argparse.Namespace(
        images=str(KODAK / "images"), masks=str(opts.masks or KODAK / "masks"), classes=cls, stems=opts.stems,
        limit=opts.limit, cv_threads=None, py=py, cmd=None, kwargs=json.dumps(kwargs), resume=False,
        json=str(json_path), name=name, hole_fill="black", no_composite=False,
        keep_outputs=str(out_dir / "outputs" / name) if opts.keep_outputs else None, timeout=None,
        verbose=opts.verbose)


def _warm_up(params: dict) -> float:
    """Load (first run: compile) the numba kernels before anything is timed."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    image = (rng.random((48, 48, 3)) * 255).astype(np.uint8)
    mask = np.zeros((48, 48), np.uint8)
    mask[16:30, 16:30] = 255
    fill(image, mask, **params)
    return time.perf_counter() - t0


def _goals(ours: dict, base: dict) -> str:
    lines = ["| class | hole-PSNR gain (goal >= +0.5 dB) | texture (goal >= 0.85) | seam (goal 0.9-1.15) "
             "| median time ratio (goal <= 1) |", "|---|---:|---:|---:|---:|"]
    for cls, s in ours["summary"].items():
        b = base["summary"].get(cls)
        if not b:
            continue
        gain = s["hole_psnr"] - b["hole_psnr"]
        ratio = s["median_s"] / b["median_s"] if b["median_s"] else math.nan

        def mark(ok: bool) -> str:
            return "" if ok else " ✗"

        tex, seam = s["texture"], s["seam"]
        lines.append(f"| {cls} | {gain:+.2f}{mark(gain >= 0.5)} | {tex:.3f}{mark(tex >= 0.85)} "
                     f"| {seam:.3f}{mark(0.9 <= seam <= 1.15)} | {ratio:.2f}x{mark(ratio <= 1)} |")
    return "\n".join(lines)


def _big_photo(params: dict, out_dir: Path | None) -> int:
    """A 24 MP photo with a 1 % object-like hole, through run_fill (what the GUI/CLI wait for)."""
    import cv2

    from inpaint_studio.methods import registry
    from inpaint_studio.runtime.jobs import FillRequest, run_fill

    if "patchmatch" not in registry.names():
        from inpaint_studio.methods.patchmatch import PatchMatchMethod

        registry.register(PatchMatchMethod)
    bgr = cv2.imread(str(KODAK / "images" / "kodim05.png"), cv2.IMREAD_COLOR)
    big = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (6000, 4000), interpolation=cv2.INTER_CUBIC)
    # the kodim05 object mask's largest blob, scaled to cover 1 % of the frame
    small = cv2.imread(str(KODAK / "masks" / "object" / "kodim05.png"), cv2.IMREAD_GRAYSCALE) > 127
    count, labels, stats, _ = cv2.connectedComponentsWithStats(small.astype(np.uint8))
    blob = labels == 1 + int(np.argmax(stats[1:count, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(blob)
    crop = blob[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.uint8) * 255
    factor = float(np.sqrt(0.01 * big.shape[0] * big.shape[1] / blob.sum()))
    crop = cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR) > 127
    mask = np.zeros(big.shape[:2], np.uint8)
    top = int(ys.min() / small.shape[0] * big.shape[0])
    left = int(xs.min() / small.shape[1] * big.shape[1])
    h, w = min(crop.shape[0], 4000 - top), min(crop.shape[1], 6000 - left)
    mask[top:top + h, left:left + w][crop[:h, :w]] = 255
    _warm_up(params)
    t0 = time.perf_counter()
    result = run_fill(FillRequest(pixels=big, mask=mask, method="patchmatch",
                                  params={k: v for k, v in params.items() if k != "seed"},
                                  seed=params.get("seed", 0), device="cpu"))
    seconds = time.perf_counter() - t0
    load = __import__("os").getloadavg()[0]
    print(f"24 MP ({big.shape[1]}x{big.shape[0]}), hole {100 * (mask > 0).mean():.2f} % "
          f"({int((mask > 0).sum())} px): {result.status} in {seconds:.2f} s (load1 {load:.2f})")
    if out_dir is not None and result.pixels is not None:
        ys, xs = np.nonzero(mask)
        pad = 200
        view = result.pixels[max(ys.min() - pad, 0):ys.max() + pad, max(xs.min() - pad, 0):xs.max() + pad]
        cv2.imwrite(str(out_dir / "big_photo_fill.png"), cv2.cvtColor(view, cv2.COLOR_RGB2BGR))
    return 0 if result.status == "done" else 1


def key_values(items: Any, option: str) -> dict[str, str]:
    """``key=value`` strings as a dict (values stay strings: the method's params parse them)."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{option} wants key=value, got {item!r}")
        values[key] = value
    return values


def run_classes(harness: Any, runs: list[tuple[str, str, dict]], opts: argparse.Namespace, out_dir: Path,
                base_name: str) -> dict[str, dict]:
    """Run every (name, py, kwargs) class by class, alternating (same machine load for all), merge
    an earlier anchor run from ``--anchor-json`` if given, write one JSON per run, print the tables."""
    merged: dict[str, dict] = {}
    for cls in opts.classes.split(","):
        for name, py, kwargs in runs:
            print(f"+ {name} {cls}", file=sys.stderr, flush=True)
            res = harness.run(_args(cls, name, py, kwargs, out_dir / f"{name}_{cls}.json", opts, out_dir))
            run = merged.setdefault(name, {**res, "cases": []})
            run["cases"] += res["cases"]
    if opts.anchor_json:
        # only the cases this run covers, so the "all" rows compare like with like
        anchor = json.loads(Path(opts.anchor_json).read_text())
        ran = {(c["class"], c["stem"]) for run in merged.values() for c in run["cases"]}
        anchor["cases"] = [c for c in anchor["cases"] if (c["class"], c["stem"]) in ran]
        merged[base_name] = anchor
    paths = []
    for name, run in merged.items():
        run["summary"] = harness.summarize(run["cases"])
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(run, indent=1))
        paths.append(path)
    print(harness.report([str(p) for p in paths]))
    return merged


def case_args(ap: argparse.ArgumentParser, method: str) -> None:
    """The options every run against the anchor takes (this script and criminisi_eval.py)."""
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help=f"{method} params")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--patch-size-anchor", type=int, default=3,
                    help="pypatchmatch patch size (its examples: 3)")
    ap.add_argument("--classes", default=",".join(CLASSES))
    ap.add_argument("--limit", type=int, help="first N images only")
    ap.add_argument("--stems", help="comma list of image stems")
    ap.add_argument("--masks", help="masks folder (<class>/<stem>.png) instead of Kodak's standard ones, "
                                    "e.g. fresh holes from ../shared/tools/make_masks.py --seed N")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "runs"))
    ap.add_argument("--tag", default="", help="suffix for the JSON names")
    ap.add_argument("--anchor-json", help="reuse the anchor's results from this earlier run's JSON "
                                          "(quality only: its times come from another load)")
    ap.add_argument("--keep-outputs", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")


def case_setup(opts: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    """The method's params (seed included) and the output folder, created."""
    params: dict[str, Any] = {"seed": opts.seed, **key_values(opts.param, "--param")}
    out_dir = Path(opts.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    return params, out_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    case_args(ap, "our method's")
    ap.add_argument("--big-photo", action="store_true",
                    help="instead: time a 24 MP photo (kodim05 upscaled to 6000x4000), 1%% object mask")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE,...",
                    help="run ours once more per variant (same process, same load), e.g. "
                         "'blur:engine.match_blur=1.0'; keys as --param, engine.* = engine settings")
    ap.add_argument("--no-default", action="store_true", help="with --variant: skip ours with plain --param")
    opts = ap.parse_args(argv)

    params, out_dir = case_setup(opts)
    if opts.big_photo:
        return _big_photo(params, out_dir if opts.keep_outputs else None)
    harness = _load_harness()
    print(f"numba kernels ready in {_warm_up(params):.1f} s (one-off: compile on first use, then cached)",
          file=sys.stderr)

    ours_name = "studio_patchmatch" + opts.tag
    base_name = f"pypatchmatch_p{opts.patch_size_anchor}" + opts.tag
    ours = [] if opts.no_default else [(ours_name, params)]
    for spec in opts.variant:
        vname, _, items = spec.partition(":")
        vparams = {**params, **key_values(filter(None, items.split(",")), "--variant NAME:")}
        ours.append((f"studio_{vname}{opts.tag}", vparams))
    runs = [(n, f"{Path(__file__).resolve()}:fill", p) for n, p in ours]
    if not opts.anchor_json:
        runs.append((base_name, f"{BASELINES}:pypatchmatch",
                     {"patch_size": opts.patch_size_anchor, "seed": opts.seed}))
    merged = run_classes(harness, runs, opts, out_dir, base_name)
    for name, _ in ours:
        print(f"\n{name} vs {base_name}:")
        print(_goals(merged[name], merged[base_name]))
    loads = [c.get("load1") for r in merged.values() for c in r["cases"] if c.get("load1") is not None]
    if loads:
        print(f"\nload average (1 min) during the run: mean {np.mean(loads):.2f}, max {np.max(loads):.2f} "
              f"on {__import__('os').cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
