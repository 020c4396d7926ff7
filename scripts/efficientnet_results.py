#!/usr/bin/env python3
"""Reproduces docs/efficientnet-results.md: `mpq plan` on the pretrained EfficientNet-Lite1 at several budgets.

Usage: python3 scripts/efficientnet_results.py [--budgets 5bits 6bits 75%bops 100%bops] [--report-only]

Builds the model and the photo-crop data into examples/efficientnet-lite/generated/ when missing (see that
example's README), builds mpq (release), then runs `mpq plan` from examples/efficientnet-lite (256 calibration
crops, KL to FP32, profile generic-npu) once per budget with a shared cache: the first run measures the
sensitivities, later ones reuse them. Every run measures its plan and the uniform points on the calibration
crops and on the 128 validation crops of other photos (KL, top-1/top-5 agreement with FP32). The first
budget's plan is exported as a QDQ model and run in ONNX Runtime on the validation crops.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples/efficientnet-lite"
# The sweep's step search: LAPQ's ten-point p sweep costs ~2.5 h on 2 cores here (see the doc), mmse one evaluation.
SETTINGS = ["--step-search", "mmse", "--pareto-points", "0", "--proposals", "1", "--no-refine"]


def run(cmd, log, **kw):
    """Runs `cmd` with stdout and stderr to `log`; returns seconds."""
    start = time.time()
    with open(log, "w") as f:
        subprocess.run(cmd, check=True, stdout=f, stderr=f, **kw)
    return time.time() - start


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ort_metrics(model, inputs, reference):
    """KL to the FP32 logits and top-1/top-5 agreement with FP32 of `model` in ONNX Runtime."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    logits = np.concatenate([session.run(None, {"image": inputs[i:i + 16]})[0] for i in range(0, len(inputs), 16)])
    p, q = softmax(reference.astype(np.float64)), softmax(logits.astype(np.float64))
    kl = float(np.mean(np.sum(p * (np.log(np.maximum(p, 1e-300)) - np.log(np.maximum(q, 1e-300))), axis=1)))
    expected = reference.argmax(axis=1)
    rank = (logits > logits[np.arange(len(expected)), expected][:, None]).sum(axis=1)
    return {"kl": kl, "top1": float(np.mean(rank == 0)), "top5": float(np.mean(rank < 5))}


def describe(groups):
    counts = {}
    for g in groups:
        counts[g["candidate"]] = counts.get(g["candidate"], 0) + 1
    return ", ".join(f"{n}× {c}" for c, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def measure(args, out, cache, mpq):
    timings = {}
    for budget in args.budgets:
        timings[budget] = run([mpq, "plan", "--budget", budget, *SETTINGS, "--cache-dir", str(cache),
                               "--output-dir", str(out / budget)], out / f"plan-{budget}.log", cwd=EXAMPLE)
        print(f"{budget}: {timings[budget]:.0f} s", file=sys.stderr)
    first = out / args.budgets[0]
    run([mpq, "export", str(first / "plan.json"), "--format", "qdq", "-o", str(first / "model.qdq.onnx")],
        out / "export.log", cwd=EXAMPLE)
    val = np.load(EXAMPLE / "generated/val.npz")["image"]
    reference = np.load(EXAMPLE / "generated/reference_logits_val.npy")
    timings["qdq"] = ort_metrics(first / "model.qdq.onnx", val, reference)
    (out / "wall-times.json").write_text(json.dumps(timings, indent=1))
    return timings


def report(args, out, cache, timings):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budgets", nargs="+", default=["5bits", "6bits", "75%bops", "100%bops"])
    ap.add_argument("--out", default=str(ROOT / "docs/efficientnet-results"))
    ap.add_argument("--report-only", action="store_true", help="rewrite the tables from the last run's files")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "cache"
    mpq = str(ROOT / ".build/release/mpq")
    if args.report_only:
        timings = json.loads((out / "wall-times.json").read_text())
    else:
        if not (EXAMPLE / "generated/model.onnx").exists():
            subprocess.run([sys.executable, str(EXAMPLE / "make_model.py")], check=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "mpq"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        timings = measure(args, out, cache, mpq)
    report(args, out, cache, timings)


if __name__ == "__main__":
    main()
