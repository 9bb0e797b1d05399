#!/usr/bin/env python3
"""Quality and speed of any Inpaint Studio method on the shared Kodak set, beside a baseline.

Runs ../shared/tools/eval_inpaint.py once per contender *in the same invocation* (these
machines are noisy: only side-by-side numbers are comparable) and prints the combined tables
plus the time ratio against the first baseline.

Examples (from the repo root, venv active):
  python benchmarks/kodak_eval.py --method telea --baseline telea --baseline ns
  python benchmarks/kodak_eval.py --method ns --param radius=5 --classes scratch,thin --limit 6
  python benchmarks/kodak_eval.py --method telea --mode cmd      # whole CLI process per image
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HARNESS = SHARED / "tools" / "eval_inpaint.py"
BASELINES = SHARED / "tools" / "baselines.py"
KODAK = SHARED / "datasets" / "kodak"


def _parse_params(items: list[str]) -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param wants key=value, got {item!r}")
        params[key] = value
    return params


def _harness(name: str, target: list[str], args: argparse.Namespace, out_dir: Path) -> Path:
    json_path = out_dir / f"{name}.json"
    cmd = [sys.executable, str(HARNESS), "--images", str(KODAK / "images"), "--masks", str(KODAK / "masks"),
           "--name", name, "--json", str(json_path), *target]
    if args.classes:
        cmd += ["--classes", args.classes]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.keep_outputs:
        cmd += ["--keep-outputs", str(out_dir / "outputs" / name)]
    print("+", shlex.join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json_path


def _ratio_table(paths: list[Path]) -> str:
    runs = [json.loads(p.read_text()) for p in paths]
    base = runs[-1]
    lines = [f"Median time relative to `{base['name']}` (same run):", "",
             "| class | " + " | ".join(r["name"] for r in runs) + " |",
             "|---|" + "---:|" * len(runs)]
    for cls, summary in base["summary"].items():
        ref = summary.get("median_s") or float("nan")
        cells = [f"{r['summary'].get(cls, {}).get('median_s', float('nan')) / ref:.2f}x" for r in runs]
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", required=True, help="Inpaint Studio method name")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mode", choices=("py", "cmd"), default="py",
                    help="py: time the fill in-process; cmd: time the whole `inpaint-studio fill` process")
    ap.add_argument("--baseline", action="append", default=[],
                    help="a function of ../shared/tools/baselines.py to run in the same invocation")
    ap.add_argument("--classes", help="comma list of mask classes (default: all five)")
    ap.add_argument("--limit", type=int, help="first N images only")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "runs"), help="folder for JSON results")
    ap.add_argument("--keep-outputs", action="store_true", help="save the filled images for a look")
    args = ap.parse_args(argv)

    params = _parse_params(args.param)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    label = args.method + "".join(f"_{k}{v}" for k, v in params.items())
    if args.mode == "py":
        kwargs = {"method": args.method, "seed": args.seed, **params}
        adapter = ROOT / "benchmarks" / "harness_adapter.py"
        target = ["--py", f"{adapter}:fill", "--kwargs", json.dumps(kwargs)]
    else:
        extra = " ".join(f"--param {shlex.quote(k + '=' + v)}" for k, v in params.items())
        target = ["--cmd", f"inpaint-studio fill {{image}} {{mask}} -o {{out}} --method {args.method} "
                           f"--seed {args.seed} --overwrite {extra}".strip()]
    paths = [_harness(f"studio_{label}", target, args, out_dir)]
    for baseline in args.baseline:
        paths.append(_harness(f"opencv_{baseline}", ["--py", f"{BASELINES}:{baseline}"], args, out_dir))
    report = subprocess.run([sys.executable, str(HARNESS), "--report", *map(str, paths)],
                            check=True, capture_output=True, text=True).stdout
    print(report)
    if len(paths) > 1:
        print(_ratio_table(paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
