#!/usr/bin/env python3
"""`kill -9` at random points of `mpq plan` (20 kills by default), then a rerun: the plan must equal an uninterrupted run's, and every
file on disk must be complete at all times (the old version or the new one, never a torn write). Then Ctrl-C (SIGINT) and
SIGTERM in the sweep: exit 128 + signal with a last line saying what is kept, and the rerun resumes to the same plan.

    python3 scripts/kill_resume.py [--runs 20] [--seed 14] [--example examples/digits] [--mpq .build/release/mpq]

An uninterrupted run in a fresh cache gives the reference plan and its duration T. Then, `--runs` times: start
`mpq plan` on a shared cache and output folder, SIGKILL it after a seeded random delay in (0, 0.95 T) (T of a cold or a warm cache; runs that finish first are not counted) (so kills land
in the sweep, measurement, refinement and file writing), check that every JSON file in the output and cache folders
parses and every other output is non-empty, then rerun to completion and compare the plan with the reference (the
chosen candidate per group, the measured loss and the refined loss). Every fourth run first clears the cache so
that kills also land in the sensitivity sweep. Exit 1 on any difference.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_ARGS = ["plan", "--pareto-points", "3", "--refine-evaluations", "20", "--threads", "1"]


def summary(path):
    with open(path) as f:
        p = json.load(f)
    return {"groups": [(g["group"], g["candidate"]) for g in p["plan"]["groups"]],
            "measuredLoss": p.get("measuredLoss"), "refined": (p.get("refinement") or {}).get("lossAfter"),
            "scales": [t["scales"] for t in p["tensors"]]}


def check_files(*folders):
    """Problems with files on disk: JSON that does not parse, empty outputs."""
    problems = []
    for folder in folders:
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            path = os.path.join(folder, name)
            if os.path.isdir(path) or name.endswith(".lock") or ".tmp" in name or name.startswith("."):
                continue
            if name.endswith(".json"):
                try:
                    with open(path) as f:
                        json.load(f)
                except Exception as e:
                    problems.append(f"{path}: {e}")
            elif os.path.getsize(path) == 0:
                problems.append(f"{path}: empty")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--example", default=os.path.join(ROOT, "examples", "digits"))
    ap.add_argument("--mpq", default=os.path.join(ROOT, ".build", "release", "mpq"))
    args = ap.parse_args()
    mpq = os.path.abspath(args.mpq)
    work = tempfile.mkdtemp(prefix="mpq-kill-")
    ref_out, out, cache = (os.path.join(work, d) for d in ("reference", "out", "cache"))
    os.makedirs(ref_out)
    os.makedirs(out)

    def plan(out_dir, cache_dir):
        return subprocess.Popen([mpq] + PLAN_ARGS + ["--output-dir", out_dir, "--cache-dir", cache_dir], cwd=args.example,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    start = time.time()
    p = plan(ref_out, os.path.join(work, "reference-cache"))
    _, err = p.communicate()
    if p.returncode != 0:
        sys.exit(f"reference run failed: {err.decode()[-500:]}")
    duration = time.time() - start
    reference = summary(os.path.join(ref_out, "plan.json"))
    # A rerun on the warm cache reuses sensitivities and measured plans: much shorter, so its kills need shorter delays.
    start = time.time()
    plan(ref_out, os.path.join(work, "reference-cache")).communicate()
    warm = time.time() - start
    print(f"reference run: {duration:.1f}s cold, {warm:.1f}s warm; plan {reference['groups']}")
    rng = random.Random(args.seed)
    failures = 0
    run = attempts = 0
    while run < args.runs and attempts < 5 * args.runs:
        attempts += 1
        cold = run % 4 == 0
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        # Cold runs are stratified over the whole run (sweep, measurement, refinement, writing); warm ones are uniform.
        stratum = (run // 4) % 5
        delay = duration * (0.05 + 0.9 * (stratum + rng.random()) / 5) if cold else rng.uniform(0.05, 0.95 * warm)
        p = plan(out, cache)
        time.sleep(delay)
        killed = p.poll() is None
        if killed:
            p.send_signal(signal.SIGKILL)
        _, killed_err = p.communicate()
        tail = [l for l in killed_err.decode("utf-8", "replace").replace("\r", "\n").split("\n") if l.strip()]
        phase = tail[-1][:60] if tail else "(before any output)"
        problems = check_files(out, cache)
        r = plan(out, cache)
        _, err = r.communicate()
        same = r.returncode == 0 and summary(os.path.join(out, "plan.json")) == reference
        problems += check_files(out, cache)
        ok = same and not problems
        failures += not ok
        run += killed
        print(f"{'run ' + format(run, '2') if killed else 'extra '}: {'killed' if killed else 'finished (not counted)'} after {delay:5.2f}s ({'cold' if cold else 'warm'} cache; last output: {phase}); rerun "
              f"{'same plan' if same else 'DIFFERENT PLAN or failure: ' + err.decode()[-300:]}"
              + (f"; files: {problems}" if problems else ""), flush=True)
    print(f"{run - failures}/{run} killed runs resumed to the reference plan with complete files")
    # Ctrl-C and SIGTERM in the sweep: exit 128 + signal with one line saying what is kept, then the rerun resumes.
    for sig in (signal.SIGINT, signal.SIGTERM):
        shutil.rmtree(cache, ignore_errors=True)
        p = plan(out, cache)
        time.sleep(duration * 0.3)
        if p.poll() is not None:
            print(f"{sig.name}: the plan finished before the signal (not counted)")
            continue
        p.send_signal(sig)
        _, err = p.communicate()
        last = [l for l in err.decode("utf-8", "replace").replace("\r", "\n").split("\n") if l.strip()][-1:]
        noted = p.returncode == 128 + sig and last and last[0].startswith("mpq: interrupted;") and "resumes" in last[0]
        r = plan(out, cache)
        r.communicate()
        same = r.returncode == 0 and summary(os.path.join(out, "plan.json")) == reference
        failures += not (noted and same)
        print(f"{sig.name}: exit {p.returncode}, last line {last[0][:100] if last else '(none)'!r}; rerun "
              f"{'same plan' if same else 'DIFFERENT PLAN or failure'}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
