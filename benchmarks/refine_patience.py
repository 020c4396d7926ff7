#!/usr/bin/env python3
"""The refinement's patience on the quick start: evaluations and validation at eleven budgets.

Usage: python3 benchmarks/refine_patience.py [--example mobilenet-digits] [--patience 100,60,default] [--mpq PATH]

Plans the example (mobilenet-digits or digits) once from a cold cache, then at eleven budgets (5, 5.25, ..., 7,
7.5, 8 bits) with each patience (`mpq plan --refine-patience N`; "default": mpq's own choice) on that cache, so
every budget refines the same plan from the same steps. Prints per patience the evaluations summed over the
budgets, the geometric means of the refined plans' KL on the calibration samples and on the validation samples, and
the geometric mean of validation after / before refinement (the pipeline is deterministic: one run each). A table
of this form in docs/benchmarks.md chose the default patience.
"""
import argparse
import json
import math
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = ["5bits", "5.25bits", "5.5bits", "5.75bits", "6bits", "6.25bits", "6.5bits", "6.75bits", "7bits", "7.5bits",
           "8bits"]


def plan(mpq, example, budget, cache, out, extra=()):
    subprocess.run([mpq, "plan", "--budget", budget, "--cache-dir", cache, "--output-dir", out, *extra],
                   cwd=ROOT / "examples" / example, check=True, capture_output=True)
    return json.loads((Path(out) / "plan.json").read_text())


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="mobilenet-digits")
    parser.add_argument("--patience", default="100,60,default")
    parser.add_argument("--mpq", default=str(ROOT / ".build/release/mpq"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = f"{tmp}/cache", f"{tmp}/out"
        plan(args.mpq, args.example, "5.5bits", cache, out)
        print(f"{'patience':>8} {'evaluations':>11} {'fit KL':>10} {'val. KL':>10} {'val. after/before':>17}"
              "   per budget: evaluations (last held-out gain)")
        for patience in args.patience.split(","):
            flags = [] if patience == "default" else ["--refine-patience", patience]
            rows = [plan(args.mpq, args.example, b, cache, out, flags)["refinement"] for b in BUDGETS]
            evaluations = sum(r["evaluations"] for r in rows)
            fit = geomean([r["lossAfter"] for r in rows])
            val = geomean([r["validationAfter"]["loss"] for r in rows])
            ratio = geomean([r["validationAfter"]["loss"] / r["validationBefore"]["loss"] for r in rows])
            detail = " ".join(f"{r['evaluations']}({(r.get('heldOutGains') or [0])[-1]})" for r in rows)
            print(f"{patience:>8} {evaluations:>11} {fit:>10.4e} {val:>10.4e} {ratio:>17.4f}   {detail}")


if __name__ == "__main__":
    main()
