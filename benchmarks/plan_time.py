#!/usr/bin/env python3
"""Wall time of the README quick start, per phase: from a cold cache, then at a new budget with a warm one.

Usage: python3 benchmarks/plan_time.py [--example mobilenet-digits] [--budget 5.5bits] [--warm-budget 6bits]
                                       [--threads N] [--runs 1] [--mpq PATH] [extra mpq plan options...]
The cold run starts from an empty cache directory (sensitivities, proposals, the measured Pareto sweep, uniform
and greedy points, refinement: the example's mpq.json and mpq plan's defaults); the warm run plans again at
another budget on the same cache (sensitivities and measured plans are reused). Phase times come from plan.json;
the totals are the process's wall time, build excluded. Targets (issue 11): cold <= 20 s and warm <= 3 s on
mobilenet-digits; MiniLM (--example minilm --budget 16MB --warm-budget 12MB) cold <= 3 minutes.
"""
import argparse
import json
import os
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
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cache, out = os.path.join(tmp, "cache"), os.path.join(tmp, "out")
            wall, seconds, summary = plan(args.mpq, args.example, args.budget, cache, out, extra)
            print(row("cold", wall, seconds))
            loss = summary.get("measuredLoss")
            refined = (summary.get("refinement") or {}).get("lossAfter")
            print(f"{'':<22} plan loss {loss:.6g} measured, {refined if refined is None else f'{refined:.6g}'} refined; "
                  f"{summary.get('sweepPlansMeasured')} plans on the sweep")
            wall, seconds, _ = plan(args.mpq, args.example, args.warm_budget, cache, out, extra)
            print(row(f"warm ({args.warm_budget})", wall, seconds))


if __name__ == "__main__":
    main()
