#!/usr/bin/env python3
"""Wall time of the README quick start, per phase: from a cold cache, then at a new budget with a warm one.

Usage: python3 benchmarks/plan_time.py [--example mobilenet-digits] [--budget 5.5bits] [--warm-budget 6bits]
                                       [--threads N] [--runs 1] [--mpq PATH] [extra mpq plan options...]
The cold run starts from an empty cache directory (sensitivities, proposals, the measured Pareto sweep, uniform
and greedy points, refinement: the example's mpq.json and mpq plan's defaults); the warm run plans again at
another budget on the same cache (sensitivities and measured plans are reused). Phase times come from plan.json;
the totals are the process's wall time, build excluded. With several runs, the best and the median of each column
follow (each column on its own, so a best row need not add up). Targets (issue 11): cold <= 20 s and warm <= 3 s on
mobilenet-digits; MiniLM (--example minilm --budget 16MB --warm-budget 12MB) cold <= 3 minutes.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ["sensitivities", "proposals", "uniform", "pareto", "chosen", "refinement", "greedy"]


def plan(mpq, example, budget, cache, out, extra):
    start = time.time()
    subprocess.run([mpq, "plan", "--budget", budget, "--cache-dir", cache, "--output-dir", out] + extra,
                   cwd=ROOT / "examples" / example, check=True, capture_output=True)
    wall = time.time() - start
    with open(Path(out) / "plan.json") as f:
        summary = json.load(f)
    return wall, summary.get("seconds") or {}, summary


def row(label, wall, seconds):
    cells = " ".join(f"{seconds.get(p, 0):>8.1f}" for p in PHASES)
    return f"{label:<22} {cells} {wall:>8.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mobilenet-digits")
    parser.add_argument("--budget", default="5.5bits")
    parser.add_argument("--warm-budget", default="6bits")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--mpq", default=str(ROOT / ".build/release/mpq"))
    args, extra = parser.parse_known_args()
    if args.threads:
        extra += ["--threads", str(args.threads)]
    if not os.path.exists(args.mpq):
        subprocess.run(["swift", "build", "-c", "release", "--product", "mpq"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"{args.example}, budget {args.budget} (warm: {args.warm_budget}), {os.cpu_count()} cores"
          + (f", --threads {args.threads}" if args.threads else ""))
    print(f"{'run':<22} " + " ".join(f"{p[:8]:>8}" for p in PHASES) + f" {'total':>8}   (seconds)")
    runs = {"cold": [], "warm": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cache, out = os.path.join(tmp, "cache"), os.path.join(tmp, "out")
            wall, seconds, summary = plan(args.mpq, args.example, args.budget, cache, out, extra)
            runs["cold"].append((wall, seconds))
            print(row("cold", wall, seconds))
            loss = summary.get("measuredLoss")
            refined = (summary.get("refinement") or {}).get("lossAfter")
            print(f"{'':<22} plan loss {loss:.6g} measured, {refined if refined is None else f'{refined:.6g}'} refined; "
                  f"{summary.get('sweepPlansMeasured')} plans on the sweep")
            wall, seconds, _ = plan(args.mpq, args.example, args.warm_budget, cache, out, extra)
            runs["warm"].append((wall, seconds))
            print(row(f"warm ({args.warm_budget})", wall, seconds))
    if args.runs > 1:
        # On a shared machine the fastest run is the code's cost with the least interference, the median the typical.
        for kind, measured in runs.items():
            for label, pick in (("best", min), ("median", statistics.median)):
                seconds = {p: pick(s.get(p, 0) for _, s in measured) for p in PHASES}
                print(row(f"{kind}, {label} of {len(measured)}", pick(w for w, _ in measured), seconds))


if __name__ == "__main__":
    main()
