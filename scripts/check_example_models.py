#!/usr/bin/env python3
"""Check that every example's val_reference.npy matches ONNX Runtime.

For each examples/*/ directory holding model.onnx, val.npy and val_reference.npy,
runs the model with onnxruntime (CPUExecutionProvider) on val.npy and compares the
result with val_reference.npy.  Also checks shapes/dtypes of the calibration and
label files and reports FP32 accuracy.  Exits non-zero on any mismatch.

Usage: python3 scripts/check_example_models.py [--atol 1e-4] [EXAMPLE_DIR ...]
"""
import argparse
import glob
import os
import sys

import numpy as np
import onnxruntime as ort

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check(d, atol):
    errs = []
    model = os.path.join(d, "model.onnx")
    load = lambda n: np.load(os.path.join(d, n))
    val, ref = load("val.npy"), load("val_reference.npy")
    calib = load("calib.npy")
    for name, arr, dt in [("val.npy", val, np.float32), ("calib.npy", calib, np.float32),
                          ("val_reference.npy", ref, np.float32)]:
        if arr.dtype != dt:
            errs.append(f"{name} dtype {arr.dtype}, expected {dt}")
    for name, n in [("val_labels.npy", len(val)), ("calib_labels.npy", len(calib))]:
        path = os.path.join(d, name)
        if os.path.exists(path):
            lab = np.load(path)
            if lab.dtype != np.int64 or lab.shape != (n,):
                errs.append(f"{name} is {lab.dtype}{lab.shape}, expected int64({n},)")
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name
    out = sess.run(None, {inp: val})[0]
    if out.shape != ref.shape:
        errs.append(f"output shape {out.shape} != reference {ref.shape}")
        diff = float("inf")
    else:
        diff = float(np.abs(out - ref).max())
        if not diff <= atol:
            errs.append(f"max |ort - reference| = {diff:.3e} > atol {atol}")
    msg = f"max|diff|={diff:.2e}"
    lab_path = os.path.join(d, "val_labels.npy")
    if os.path.exists(lab_path) and out.shape == ref.shape:
        msg += f" accuracy={float((out.argmax(1) == np.load(lab_path)).mean()):.4f}"
    return errs, msg


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="*")
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    dirs = args.dirs or sorted(os.path.dirname(p) for p in
                               glob.glob(os.path.join(REPO, "examples", "*", "val_reference.npy")))
    if not dirs:
        print("no examples found", file=sys.stderr)
        return 1
    failed = 0
    for d in dirs:
        try:
            errs, msg = check(d, args.atol)
        except Exception as e:  # missing files, bad model, ...
            errs, msg = [repr(e)], ""
        rel = os.path.relpath(d, REPO)
        if errs:
            failed += 1
            print(f"FAIL {rel}: " + "; ".join(errs))
        else:
            print(f"ok   {rel}: {msg}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
