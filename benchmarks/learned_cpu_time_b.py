"""CPU time of one forward pass of a learned network at a given size (random weights: same cost).

Inputs follow each spec's own probe recipe (value range, hole fill, mask polarity, setup step such as
Shift-Net's ``set_mask``), with the image size overridden and the hole rectangles scaled with it, so
every network sees its real input convention.

    python benchmarks/learned_cpu_time_b.py deepfill_v2 shiftnet csa --size 512 --repeats 3

Reports wall time and process CPU time (all threads) per forward; on a shared machine the CPU time
is the steadier number.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

from inpaint_studio.methods.learned import build

SPECS = Path(__file__).resolve().parents[2] / "shared" / "model_specs"


def _resized_spec(spec: dict, size: int) -> dict:
    spec = copy.deepcopy(spec)
    inp = spec["probe"]["input"]
    sy, sx = size / inp["height"], size / inp["width"]
    inp["mask_rects"] = [
        [round(y0 * sy), round(y1 * sy), round(x0 * sx), round(x1 * sx)]
        for y0, y1, x0, x1 in inp["mask_rects"]
    ]
    inp["height"] = inp["width"] = size
    return spec


def time_forward(name: str, size: int, repeats: int) -> dict[str, float]:
    sys.path.insert(0, str(SPECS))
    import probe

    spec = _resized_spec(probe.load_spec(SPECS / f"{name}.json"), size)
    net = build(name).eval()
    args = probe.build_inputs(spec, torch.float32)
    walls, cpus = [], []
    with torch.no_grad():
        for i in range(repeats + 1):  # first run warms up allocators and kernels
            probe.apply_setup(net, spec, torch.float32)
            w0, c0 = time.perf_counter(), time.process_time()
            net(*args)
            if i:
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["deepfill_v2", "shiftnet", "csa"])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.size}x{args.size}, "
          f"median of {args.repeats}")
    print("| network | wall s / forward | CPU s / forward |")
    print("| --- | ---: | ---: |")
    for name in args.names:
        r = time_forward(name, args.size, args.repeats)
        print(f"| {name} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
