#!/usr/bin/env python3
"""Our ``criminisi`` (exemplar fill) on the shared Kodak set, against pypatchmatch (the C++ anchor)
and, optionally, our ``patchmatch``.

Same conventions as benchmarks/patchmatch_vs_pypatchmatch.py: everything runs in this one process
through ../shared/tools/eval_inpaint.py (in-process ``--py`` mode), class by class and alternating,
so the methods see the same machine load; ours goes through the GUI/CLI runtime path
(`runtime.jobs.run_fill`, via benchmarks/harness_adapter.py) — the same fill as
``inpaint-studio fill IMAGE MASK -o OUT --method criminisi``. Numba kernels are loaded (or
compiled) once before timing starts.

Examples (repo root, venv active; needs the 'bench' extra for pypatchmatch):
  python benchmarks/criminisi_eval.py --limit 6
  python benchmarks/criminisi_eval.py --limit 6 --with-patchmatch --param patch_size=7
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from patchmatch_vs_pypatchmatch import (  # noqa: E402
    BASELINES,
    _goals,
    _load_harness,
    case_args,
    case_setup,
    run_classes,
)


def fill(image_bgr: np.ndarray, mask_u8: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Harness entry: ours through the runtime (registers the method if entry points lack it)."""
    from inpaint_studio.methods import registry

    if "criminisi" not in registry.names():
        from inpaint_studio.methods.criminisi import CriminisiMethod

        registry.register(CriminisiMethod)
    from harness_adapter import fill as adapter_fill

    return adapter_fill(image_bgr, mask_u8, **{"method": "criminisi", "device": "cpu", **kwargs})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    case_args(ap, "criminisi")
    ap.add_argument("--with-patchmatch", action="store_true", help="also run our patchmatch (defaults)")
    ap.add_argument("--no-anchor", action="store_true", help="skip pypatchmatch")
    opts = ap.parse_args(argv)

    params, out_dir = case_setup(opts)
    harness = _load_harness()

    rng = np.random.default_rng(0)
    image = (rng.random((48, 48, 3)) * 255).astype(np.uint8)
    mask = np.zeros((48, 48), np.uint8)
    mask[16:30, 16:30] = 255
    t0 = time.perf_counter()
    fill(image, mask, **params)
    if opts.with_patchmatch:
        from patchmatch_vs_pypatchmatch import fill as pm_fill

        pm_fill(image, mask, seed=opts.seed)
    print(f"numba kernels ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    ours_name = "studio_criminisi" + opts.tag
    base_name = f"pypatchmatch_p{opts.patch_size_anchor}" + opts.tag
    runs = [(ours_name, f"{Path(__file__).resolve()}:fill", params)]
    if opts.with_patchmatch:
        runs.append(("studio_patchmatch" + opts.tag,
                     f"{ROOT / 'benchmarks' / 'patchmatch_vs_pypatchmatch.py'}:fill", {"seed": opts.seed}))
    if not (opts.no_anchor or opts.anchor_json):
        runs.append((base_name, f"{BASELINES}:pypatchmatch",
                     {"patch_size": opts.patch_size_anchor, "seed": opts.seed}))
    merged = run_classes(harness, runs, opts, out_dir, base_name)
    if base_name in merged:
        for name in merged:
            if name != base_name:
                print(f"\n{name} vs {base_name}:")
                print(_goals(merged[name], merged[base_name]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
