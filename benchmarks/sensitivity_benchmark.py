#!/usr/bin/env python3
"""Sensitivity-sweep wall time with and without the activation cache, on the example models.

Usage: python3 benchmarks/sensitivity_benchmark.py
Each run starts from an empty sensitivity cache and stops after the sweep (--no-measure), so the time
is the sweep itself: per group and candidate, the LAPQ p sweep and quadratic fit.
"""
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sweep(example, extra):
    with tempfile.TemporaryDirectory() as tmp:
        start = time.time()
        subprocess.run([str(ROOT / ".build/release/mpq"), "plan", "--budget", "16bits", "--profile", "generic-npu",
                        "--no-measure", "--cache-dir", tmp, "--output-dir", tmp, "--threads", "1"] + extra,
                       cwd=ROOT / "examples" / example, check=True, capture_output=True)
        return time.time() - start


def main():
    subprocess.run(["swift", "build", "-c", "release", "--product", "mpq"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"{'model':18} {'cache on (s)':>13} {'cache off (s)':>14} {'speed-up':>9}")
    for example in ["digits", "mobilenet-digits"]:
        on = sweep(example, [])
        off = sweep(example, ["--no-activation-cache"])
        print(f"{example:18} {on:13.1f} {off:14.1f} {off / on:8.2f}x")


if __name__ == "__main__":
    main()
