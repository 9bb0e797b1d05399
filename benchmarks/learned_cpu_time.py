#!/usr/bin/env python3
"""CPU cost of one forward pass of each learned network, for a 512x512 fill.

Untrained weights (``inpaint_studio.methods.learned.build``) cost exactly what the released ones cost.
Networks that accept any size run at 512x512 with a centred 256x256 hole; fixed-resolution networks
(MI-GAN 256/512, Context Encoders 128, ...) run at their own size, since a 512x512 region is resized
to it. Inputs follow each spec's own recipe (``../shared/model_specs/<name>.json``), so channel count,
value range and mask polarity are the real ones. Prints a markdown table (and appends it to --out).

Examples (repo root, venv active):
  python benchmarks/learned_cpu_time.py lama_big migan_256 migan_512 pconv_unet context_encoder
  python benchmarks/learned_cpu_time.py deepfill_v2 --repeat 3 --threads 1 --out /tmp/bench.md
"""

from __future__ import annotations

import argparse
import copy
import datetime
import importlib
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import torch

from inpaint_studio.methods.learned import build

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT.parent / "shared" / "model_specs"

#: networks whose input size is baked into their weights or architecture, or that were trained at one
#: size only (a 512x512 region is resized to it) -> that size
FIXED_SIZE = {"migan_256": 256, "migan_512": 512, "context_encoder": 128, "shiftnet": 256, "csa": 256}


def _probe() -> Any:
    sys.path.insert(0, str(SPECS))
    return importlib.import_module("probe")


def _inputs(probe: Any, name: str, size: int) -> tuple[dict[str, Any], int]:
    """The spec's input recipe, resized to ``size`` unless the network is fixed-size."""
    spec = copy.deepcopy(probe.load_spec(SPECS / f"{name}.json"))
    if name in FIXED_SIZE:
        return spec, FIXED_SIZE[name]
    inp = spec["probe"]["input"]
    inp["height"] = inp["width"] = size
    q = size // 4
    inp["mask_rects"] = [[q, size - q, q, size - q]]
    return spec, size


def measure(name: str, size: int, repeat: int, warmup: int) -> dict[str, Any]:
    probe = _probe()
    spec, side = _inputs(probe, name, size)
    net = build(name).eval()
    probe.apply_setup(net, spec, torch.float32)
    args = probe.build_inputs(spec, torch.float32)
    cpu: list[float] = []
    wall: list[float] = []
    with torch.inference_mode():
        for i in range(warmup + repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            net(*args)
            if i >= warmup:
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
    params = sum(p.numel() for p in net.parameters())
    return {"name": name, "side": side, "params": params, "cpu": min(cpu), "wall": min(wall),
            "wall_all": wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", help="spec names (see inpaint_studio.methods.learned.names())")
    parser.add_argument("--size", type=int, default=512, help="fill size for size-agnostic networks")
    parser.add_argument("--repeat", type=int, default=2, help="timed forwards per network (best is kept)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--out", type=Path, help="markdown file to append the results to")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    load_before = os.getloadavg()
    rows = []
    for name in args.names:
        r = measure(name, args.size, args.repeat, args.warmup)
        rows.append(r)
        print(f"{name}: {r['side']}x{r['side']} cpu {r['cpu']:.2f}s wall {r['wall']:.2f}s", flush=True)
    load_after = os.getloadavg()

    lines = [
        f"## {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `python {shlex.join(['benchmarks/learned_cpu_time.py', *sys.argv[1:]])}`  ",
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, eval, inference_mode; "
        f"{os.cpu_count()} cores; load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/"
        f"{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}; "
        f"best of {args.repeat} after {args.warmup} warm-up.",
        "",
        "| network | input | parameters | CPU time / forward (s) | wall (s) | wall, every run (s) |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        runs = ", ".join(f"{w:.2f}" for w in r["wall_all"])
        lines.append(f"| {r['name']} | {r['side']}x{r['side']} | {r['params']:,} | {r['cpu']:.2f} | "
                     f"{r['wall']:.2f} | {runs} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
