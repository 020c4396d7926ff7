#!/usr/bin/env python3
"""Two `mpq plan` processes on one cache directory: the sensitivity sweep must be measured once in total (the
second waits on the table's lock and reuses it) and both must write identical plans.

    python3 scripts/concurrent_plan.py [--example examples/digits] [--mpq .build/release/mpq]

Also checks that a lock left by a killed holder is taken over at once: a third run is killed with SIGKILL during
its sweep on a fresh cache, and a fourth must then complete without waiting.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_ARGS = ["plan", "--pareto-points", "3", "--refine-evaluations", "20", "--threads", "1"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--example", default=os.path.join(ROOT, "examples", "digits"))
    ap.add_argument("--mpq", default=os.path.join(ROOT, ".build", "release", "mpq"))
    args = ap.parse_args()
    mpq = os.path.abspath(args.mpq)
    work = tempfile.mkdtemp(prefix="mpq-concurrent-")
    cache = os.path.join(work, "cache")

    def start(name, cache_dir=cache):
        out = os.path.join(work, name)
        os.makedirs(out, exist_ok=True)
        return out, subprocess.Popen([mpq] + PLAN_ARGS + ["--output-dir", out, "--cache-dir", cache_dir], cwd=args.example,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    runs = [start("a"), start("b")]
    logs = []
    for out, p in runs:
        _, err = p.communicate()
        text = err.decode("utf-8", "replace")
        if p.returncode != 0:
            sys.exit(f"{out}: mpq plan failed: {text[-500:]}")
        logs.append(text)
    sweeps = sum(log.count("sensitivities: measuring") for log in logs)
    waited = sum(log.count("sensitivities: waiting for process") for log in logs)
    plans = []
    for out, _ in runs:
        with open(os.path.join(out, "plan.json")) as f:
            p = json.load(f)
        plans.append(({g["group"]: g["candidate"] for g in p["plan"]["groups"]}, p["measuredLoss"], p["tensors"]))
    same = plans[0] == plans[1]
    print(f"two concurrent runs: sweeps measured {sweeps} (expected 1), waits {waited}, identical plans: {same}", flush=True)

    # A stale lock: the holder is killed mid-sweep; the next run takes the lock over at once.
    stale = os.path.join(work, "stale-cache")
    out, p = start("c", stale)
    while p.poll() is None and not (os.path.isdir(stale) and any(n.endswith(".lock") for n in os.listdir(stale))):
        time.sleep(0.02)
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    t = time.time()
    out, p = start("d", stale)
    _, err = p.communicate()
    took_over = p.returncode == 0 and "waiting for process" not in err.decode()
    print(f"lock of a killed holder taken over: {took_over} (rerun {time.time() - t:.1f}s)")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if sweeps == 1 and same and took_over else 1)


if __name__ == "__main__":
    main()
