#!/usr/bin/env python3
"""Fuzzes the `mpq` binary with mutated inputs, one family per input format, and classifies every outcome.

    python3 scripts/fuzz.py [--cases N] [--families onnx-bytes,npy,...] [--seed S] [--mpq .build/release/mpq]

Each case writes a mutated file (derived deterministically from the seed, the family and the case index) into a
scratch folder and runs the real binary on it as a subprocess with a timeout, so a Swift runtime trap is seen
as the signal it is. Outcomes:

  ok             exit 0 on an input that may be valid
  clean-error    a non-zero sysexits code with a one-line `mpq: error:` message (or ArgumentParser's usage)
  crash          killed by a signal (SIGILL/SIGTRAP/SIGSEGV/SIGABRT), or a Swift "Fatal error"
  hang           the timeout expired
  exit0-invalid  exit 0 on an input the mutation made invalid for sure (NaN data, zero scale, ...)
  unclear-error  non-zero exit whose message is not one line (counted, does not fail the run)

The run fails (exit 1) on any crash, hang or exit0-invalid, and prints the reproducer of each: the family, the
seed and case index (rerun with `--only FAMILY:INDEX` to get the files under --keep).
"""
import argparse
import collections
import copy
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "examples", "digits")
PROFILES = os.path.join(ROOT, "hardware-profiles")
FAMILIES = ["onnx-bytes", "onnx-struct", "npy", "npz", "profile", "budget", "project", "plan"]
SIGNAL_CODES = {132, 133, 134, 135, 136, 139}


class Case:
    """One fuzz case: a command to run in `cwd`, and whether the input is invalid for sure."""

    def __init__(self, args, cwd, invalid=False, what=""):
        self.args, self.cwd, self.invalid, self.what = args, cwd, invalid, what


# ---------------------------------------------------------------- byte-level helpers

def mutate_bytes(rng, data, count=None):
    b = bytearray(data)
    for _ in range(count or rng.randint(1, 8)):
        op = rng.random()
        if not b:
            b += bytes([rng.randrange(256)])
        elif op < 0.45:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op < 0.6:
            i = rng.randrange(len(b))
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op < 0.75:
            i = rng.randrange(len(b))
            del b[i:i + rng.randint(1, 64)]
        elif op < 0.85:
            del b[rng.randrange(len(b)):]
        elif op < 0.95:
            # A varint or length-looking byte set to an extreme.
            i = rng.randrange(len(b))
            b[i:i + 1] = rng.choice([b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x00", b"\x80", b"\x7f"])
        else:
            i, j = sorted(rng.randrange(len(b)) for _ in range(2))
            b[j:j] = b[i:min(j, i + 256)]
    return bytes(b)


# ---------------------------------------------------------------- ONNX structured mutations

def onnx_struct_case(rng, work, idx):
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(os.path.join(DIGITS, "model.onnx"))
    g = m.graph
    kind = rng.choice(["attr", "dims", "dangling", "cycle", "opset", "external", "nan-weight", "input-dims",
                       "raw-size", "dtype", "duplicate-output", "empty-graph"])
    invalid = False
    if kind == "attr":
        node = rng.choice([n for n in g.node if n.attribute] or list(g.node))
        if node.attribute:
            a = rng.choice(node.attribute)
            big = rng.choice([0, -1, -2**31, 2**31, 2**62, 2**63 - 1, -2**63, 10**6, 3])
            if a.ints:
                a.ints[rng.randrange(len(a.ints))] = big
            elif a.type == onnx.AttributeProto.INT:
                a.i = big
            elif a.type == onnx.AttributeProto.FLOAT:
                a.f = rng.choice([float("nan"), float("inf"), -1e38, 0.0])
        if rng.random() < 0.3:
            node.attribute.append(helper.make_attribute(rng.choice(["pads", "strides", "dilations", "group", "axis", "kernel_shape"]),
                                                        rng.choice([[2**62] * 4, [0, 0], [-5], 7, -3])))
    elif kind == "dims":
        t = rng.choice(list(g.initializer))
        i = rng.randrange(len(t.dims)) if t.dims else None
        if i is None:
            t.dims.append(2**40)
        else:
            t.dims[i] = rng.choice([2**31, 2**40, 2**62, 2**63 - 1, -1, 0, t.dims[i] + 1])
        if rng.random() < 0.5:
            t.dims.extend([2**40, 2**40])
        invalid = True
    elif kind == "dangling":
        node = rng.choice(list(g.node))
        node.input[rng.randrange(len(node.input))] = rng.choice(["nope", "", "input", node.output[0]])
    elif kind == "cycle":
        a, b = rng.sample(range(len(g.node)), 2)
        a, b = min(a, b), max(a, b)
        g.node[a].input[0] = g.node[b].output[0]
        invalid = True
    elif kind == "opset":
        m.opset_import[0].version = rng.choice([0, 1, 7, 10, 22, 99, -1, 2**40, 13, 21])
    elif kind == "external":
        t = rng.choice(list(g.initializer))
        raw = numpy_helper.to_array(t).tobytes()
        with open(os.path.join(work, "weights.bin"), "wb") as f:
            f.write(raw)
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.data_location = onnx.TensorProto.EXTERNAL
        loc = rng.choice(["weights.bin", "../../../../etc/passwd", "/etc/passwd", "missing.bin", "", "sub/../weights.bin", "."])
        entries = {"location": loc}
        if rng.random() < 0.6:
            entries["offset"] = str(rng.choice([0, 4, -1, 2**63 - 1, 2**62, len(raw)]))
        if rng.random() < 0.6:
            entries["length"] = str(rng.choice([len(raw), 0, 2**63 - 1, 2**62, -5, len(raw) + 4, "x"]))
        for k, v in entries.items():
            e = t.external_data.add()
            e.key, e.value = k, v
        invalid = loc not in ("weights.bin", "sub/../weights.bin") or entries.get("offset", "0") != "0" \
            or entries.get("length", str(len(raw))) != str(len(raw))
        # `sub/../weights.bin` normalises to the file beside the model: valid.
    elif kind == "nan-weight":
        t = rng.choice([t for t in g.initializer if t.name.endswith("weight") and "bn" not in t.name])
        arr = numpy_helper.to_array(t).copy()
        arr.flat[rng.randrange(arr.size)] = rng.choice([np.nan, np.inf, -np.inf])
        t.CopyFrom(numpy_helper.from_array(arr, t.name))
        invalid = True
    elif kind == "input-dims":
        d = g.input[0].type.tensor_type.shape.dim[rng.randrange(4)]
        v = rng.choice([0, -1, 2**40, 2**62, 1000000, 3])
        d.dim_value = v
    elif kind == "raw-size":
        t = rng.choice(list(g.initializer))
        if t.raw_data:
            t.raw_data = t.raw_data[: rng.randrange(len(t.raw_data))]
            invalid = True
    elif kind == "dtype":
        t = rng.choice(list(g.initializer))
        t.data_type = rng.choice([0, 2, 3, 8, 9, 10, 11, 16, 17, 99])
    elif kind == "duplicate-output":
        g.node[rng.randrange(len(g.node))].output[0] = g.node[rng.randrange(len(g.node))].output[0]
    elif kind == "empty-graph":
        del g.node[:]
        invalid = True
    path = os.path.join(work, "model.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    data = os.path.join(DIGITS, "calib.npy")
    return Case(["eval", path, "--data", data, "--batch-size", "64", "--threads", "1"], work, invalid, kind)


def onnx_bytes_case(rng, work, idx):
    with open(os.path.join(DIGITS, "model.onnx"), "rb") as f:
        data = f.read()
    path = os.path.join(work, "model.onnx")
    with open(path, "wb") as f:
        f.write(mutate_bytes(rng, data))
    cmd = rng.choice(["inspect", "eval"])
    args = ["inspect", path] if cmd == "inspect" else ["eval", path, "--data", os.path.join(DIGITS, "calib.npy"), "--threads", "1"]
    return Case(args, work, False, cmd)


# ---------------------------------------------------------------- NumPy

def npy_case(rng, work, idx):
    base = np.load(os.path.join(DIGITS, "calib.npy"))[:32]
    kind = rng.choice(["bytes", "header", "nan", "shape", "dtype", "fortran", "empty"])
    path = os.path.join(work, "x.npy")
    invalid = False
    if kind == "nan":
        a = base.copy()
        a.flat[rng.randrange(a.size)] = rng.choice([np.nan, np.inf, -np.inf])
        np.save(path, a)
        invalid = True
    elif kind == "shape":
        np.save(path, base.reshape(rng.choice([(32, 64), (32, 1, 64), (4, 8, 1, 8, 8), (32 * 64,)])))
        invalid = True
    elif kind == "dtype":
        np.save(path, base.astype(rng.choice([np.float64, np.float16, np.int64, np.int8, np.bool_, np.uint16, np.complex64])))
    elif kind == "fortran":
        np.save(path, np.asfortranarray(base))
    elif kind == "empty":
        np.save(path, base[:0])
    else:
        import io
        buf = io.BytesIO()
        np.save(buf, base)
        raw = buf.getvalue()
        if kind == "header":
            # Mutate inside the header text only.
            n = struct.unpack("<H", raw[8:10])[0]
            head = bytearray(raw[10:10 + n])
            txt = head.decode("latin1")
            txt = txt.replace("(32, 1, 8, 8)", rng.choice(["(9223372036854775807, 2, 8, 8)", "(-1, 1, 8, 8)", "(32, 1, 8)",
                                                           "(4294967296, 4294967296, 1, 1)", "(32, 1, 8, 8, 0)", "()", "(1e3,)"]))
            txt = txt.replace("'<f4'", rng.choice(["'<f4'", "'>f4'", "'<f16'", "'|O'", "'<U3'", "'<f4'"]))
            raw = raw[:8] + struct.pack("<H", len(txt)) + txt.encode("latin1") + raw[10 + n:]
        raw = mutate_bytes(rng, raw, rng.randint(0, 4)) if kind == "bytes" else raw
        with open(path, "wb") as f:
            f.write(raw)
    labels = []
    if rng.random() < 0.3:
        lp = os.path.join(work, "y.npy")
        np.save(lp, rng.choice([np.zeros(32, np.int64), np.full(32, 10, np.int64), np.zeros(31, np.int64), np.zeros(32, np.float32)]))
        labels = ["--labels", lp]
    return Case(["eval", os.path.join(DIGITS, "model.onnx"), "--data", path, "--threads", "1"] + labels, work, invalid, kind)


def npz_case(rng, work, idx):
    base = np.load(os.path.join(DIGITS, "calib.npy"))[:16]
    path = os.path.join(work, "x.npz")
    kind = rng.choice(["bytes", "member", "nan", "compressed-bytes", "dir"])
    invalid = False
    if kind == "member":
        np.savez(path, **{rng.choice(["input", "other", "input.npy", ""]) or "x": base})
    elif kind == "nan":
        a = base.copy()
        a.flat[rng.randrange(a.size)] = np.nan
        np.savez(path, input=a)
        invalid = True
    elif kind == "dir":
        os.makedirs(path, exist_ok=True)
        invalid = True
    else:
        (np.savez_compressed if kind == "compressed-bytes" else np.savez)(path, input=base)
        with open(path, "rb") as f:
            raw = f.read()
        with open(path, "wb") as f:
            f.write(mutate_bytes(rng, raw))
    return Case(["eval", os.path.join(DIGITS, "model.onnx"), "--data", path, "--threads", "1"], work, invalid, kind)


# ---------------------------------------------------------------- JSON helpers

def mutate_json_value(rng, obj, depth=0):
    """Changes one value somewhere in obj (in place); returns True when the change is invalid for sure."""
    if isinstance(obj, dict) and obj:
        k = rng.choice(list(obj))
        if depth > 0 and rng.random() < 0.1:
            del obj[k]
            return False
        if isinstance(obj[k], (dict, list)) and obj[k] and rng.random() < 0.7:
            return mutate_json_value(rng, obj[k], depth + 1)
        obj[k] = random_value(rng)
        return False
    if isinstance(obj, list) and obj:
        i = rng.randrange(len(obj))
        if isinstance(obj[i], (dict, list)) and obj[i] and rng.random() < 0.7:
            return mutate_json_value(rng, obj[i], depth + 1)
        obj[i] = random_value(rng)
    return False


def random_value(rng):
    return rng.choice([0, -1, 1, 2, 1.5, 1e308, -1e308, 5e-324, 1e-310, 2**63, -2**63, 2**31, "x", "", "W4A8", None,
                       True, False, [], {}, [1, 2], {"a": 1}, "NaN", 16, 17, 3, 0.0001, "float_only", "../x"])


def dump_json(rng, obj):
    text = json.dumps(obj, allow_nan=True)
    r = rng.random()
    if r < 0.08:
        # A duplicate key: refused.
        text = text.replace("{", '{"__dup": 1, "__dup": 2, ', 1)
        return text, True
    if r < 0.13:
        return mutate_bytes(rng, text.encode(), rng.randint(1, 3)).decode("latin1"), False
    return text, False


# ---------------------------------------------------------------- profiles, budgets, project files

def plan_args(extra_cache):
    return ["--no-measure", "--no-refine", "--pareto-points", "0", "--step-search", "minmax", "--calib-samples", "32",
            "--proposals", "1", "--threads", "1", "--cache-dir", extra_cache]


def profile_case(rng, work, idx, cache):
    name = rng.choice(sorted(os.listdir(PROFILES)))
    if not name.endswith(".json"):
        name = "generic-npu.json"
    with open(os.path.join(PROFILES, name)) as f:
        prof = json.load(f)
    invalid = False
    for _ in range(rng.randint(1, 3)):
        invalid |= mutate_json_value(rng, prof)
    text, dup = dump_json(rng, prof)
    path = os.path.join(work, "profile.json")
    with open(path, "w") as f:
        f.write(text)
    m = os.path.join(DIGITS, "model.onnx")
    return Case(["plan", m, "--calib", os.path.join(DIGITS, "calib.npy"), "--budget", "6bits", "--profile", path,
                 "--output-dir", work] + plan_args(cache), work, invalid or dup, "profile")


BUDGET_ATOMS = ["4.5bits", "5.5bits", "8bits", "2MB", "800KB", "1.5MiB", "3.5ms", "60%bops", "72GBOPs", "-5bits", "0bits",
                "nanbits", "infbits", "1e308bits", "1e-310MB", "bits", "", "%", "5", "5.5.5bits", "4,5bits", " 4bits",
                "99999999999999999999bits", "100%bops", "0%bops", "1e400ms", "0x10bits", "4.5 bits", "4.5BITS", "-0ms"]


def budget_case(rng, work, idx, cache):
    budgets = []
    for _ in range(rng.randint(1, 3)):
        a = rng.choice(BUDGET_ATOMS)
        if rng.random() < 0.3:
            a = mutate_bytes(rng, a.encode() or b"4", 1).decode("latin1").replace("\x00", "")
        budgets += ["--budget", a]
    invalid = any(b in ("-5bits", "0bits", "nanbits", "infbits", "bits", "", "%") for b in budgets[1::2])
    m = os.path.join(DIGITS, "model.onnx")
    return Case(["plan", m, "--calib", os.path.join(DIGITS, "calib.npy"), "--profile", "generic-npu", "--output-dir", work]
                + budgets + plan_args(cache), work, invalid, "budget")


def project_case(rng, work, idx, cache):
    proj = {"model": os.path.join(DIGITS, "model.onnx"), "calib": os.path.join(DIGITS, "calib.npy"),
            "labels": os.path.join(DIGITS, "calib_labels.npy"), "loss": "kl", "profile": "generic-npu",
            "budget": ["6bits"], "batch_size": 64, "calib_samples": 32, "step_search": "minmax"}
    invalid = False
    key = rng.choice(list(proj) + ["val", "val_labels", "unknown"])
    v = random_value(rng)
    proj[key] = v
    limit = 2**20 if key == "batch_size" else 2**63  # more calibration samples than the file holds means all of them
    if key in ("batch_size", "calib_samples") and v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0 or v > limit):
        invalid = True
    if key == "budget" and (v == [] or not isinstance(v, list)):
        invalid = True
    text, dup = dump_json(rng, proj)
    if rng.random() < 0.05:
        os.makedirs(os.path.join(work, "mpq.json"), exist_ok=True)
        invalid = True
    else:
        with open(os.path.join(work, "mpq.json"), "w") as f:
            f.write(text)
    args = ["plan", "--output-dir", work, "--no-measure", "--no-refine", "--pareto-points", "0", "--proposals", "1",
            "--threads", "1", "--cache-dir", cache]
    return Case(args, work, invalid or dup, key)


# ---------------------------------------------------------------- plan files

def plan_case(rng, work, idx, seed_plan):
    with open(seed_plan) as f:
        plan = json.load(f)
    invalid = False
    kind = rng.choice(["scale", "axis", "name", "generic", "zero-point", "bias", "bytes"])
    t = rng.choice(plan["tensors"])
    if kind == "scale":
        t["scales"][rng.randrange(len(t["scales"]))] = rng.choice([0.0, -0.1, 1e-45, "NaN", None, 1e39])
        invalid = True
    elif kind == "axis":
        t["axis"] = rng.choice([-1, 5, 2**40, None, 1])
        invalid = t["axis"] != (1 if False else t.get("axis")) or True
        invalid = t["axis"] in (-1, 5, 2**40)
    elif kind == "name":
        t["name"] = rng.choice(["nope", "", "input"])
        invalid = t["name"] == "nope" or t["name"] == ""
    elif kind == "zero-point":
        t["zeroPoints"] = t["zeroPoints"][:-1] if rng.random() < 0.5 else [2**40] * len(t["zeroPoints"])
        invalid = True
    elif kind == "bias":
        plan.setdefault("correctedBiases", {})[rng.choice(["conv2.bias", "nope"])] = rng.choice([[float("nan")] * 32, [0.0]])
        invalid = True
    else:
        for _ in range(rng.randint(1, 3)):
            mutate_json_value(rng, plan)
    text, dup = dump_json(rng, plan)
    if kind == "bytes":
        text = mutate_bytes(rng, text.encode(), rng.randint(1, 4)).decode("latin1")
    path = os.path.join(work, "plan.json")
    with open(path, "w") as f:
        f.write(text)
    fmt = rng.choice(["qdq", "encodings", "encodings", "refine"])
    if fmt == "refine":
        args = ["refine", path, "--max-evaluations", "2", "--threads", "1", "-o", os.path.join(work, "r.json")]
    else:
        args = ["export", path, "--format", fmt, "-o", os.path.join(work, "out")]
    return Case(args, work, invalid or dup, kind)


# ---------------------------------------------------------------- running and classifying

def classify(case, mpq, timeout):
    try:
        p = subprocess.run([mpq] + case.args, cwd=case.cwd, capture_output=True, timeout=timeout,
                           env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    except subprocess.TimeoutExpired:
        return "hang", ""
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode < 0 or p.returncode in SIGNAL_CODES or "Fatal error" in err:
        return "crash", err[-400:]
    if p.returncode == 0:
        return ("exit0-invalid" if case.invalid else "ok"), ""
    # Progress lines may precede the error; the error itself must be the last line, and one line.
    lines = [l for l in err.strip().split("\n") if l.strip()]
    if lines and lines[-1].startswith("mpq: error:") and "\r" not in lines[-1]:
        return "clean-error", lines[-1]
    if lines and lines[0].startswith("Error:") and "Usage:" in err:
        return "clean-error", lines[0]
    return "unclear-error", err[-400:]


def prepare_plan(mpq, scratch):
    """A small valid plan.json for the digits model (seed of the plan family)."""
    out = os.path.join(scratch, "seed-plan")
    os.makedirs(out, exist_ok=True)
    subprocess.run([mpq, "plan", os.path.join(DIGITS, "model.onnx"), "--calib", os.path.join(DIGITS, "calib.npy"),
                    "--budget", "6bits", "--profile", "generic-npu", "--pareto-points", "0", "--proposals", "1",
                    "--step-search", "minmax", "--calib-samples", "64", "--no-refine", "--output-dir", out,
                    "--cache-dir", os.path.join(out, "cache")], check=True, capture_output=True, cwd=out)
    return os.path.join(out, "plan.json")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=200, help="cases per family")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--start", type=int, default=0, help="first case index (to split a campaign)")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--mpq", default=os.path.join(ROOT, ".build", "release", "mpq"))
    ap.add_argument("--only", help="FAMILY:INDEX: run one case and keep its files")
    ap.add_argument("--keep", default=None, help="folder for the files of --only")
    ap.add_argument("--json", help="write the counts here")
    ap.add_argument("--verbose", action="store_true", help="print every case's outcome and message")
    args = ap.parse_args()
    mpq = os.path.abspath(args.mpq)
    scratch = tempfile.mkdtemp(prefix="mpq-fuzz-")
    cache = os.path.join(scratch, "cache")
    builders = {"onnx-bytes": onnx_bytes_case, "onnx-struct": onnx_struct_case, "npy": npy_case, "npz": npz_case}
    needs_cache = {"profile": profile_case, "budget": budget_case, "project": project_case}
    families = args.families.split(",")
    seed_plan = prepare_plan(mpq, scratch) if "plan" in families or (args.only or "").startswith("plan") else None
    jobs = [(f, i) for i in range(args.start, args.start + args.cases) for f in families]
    if args.only:
        f, i = args.only.split(":")
        jobs = [(f, int(i))]
        families = [f]
    counts = {f: collections.Counter() for f in families}
    failures = []
    for family, index in jobs:
        rng = random.Random(f"{args.seed}:{family}:{index}")
        work = args.keep if args.only and args.keep else os.path.join(scratch, "case")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work, exist_ok=True)
        if family in builders:
            case = builders[family](rng, work, index)
        elif family in needs_cache:
            case = needs_cache[family](rng, work, index, cache)
        else:
            case = plan_case(rng, work, index, seed_plan)
        outcome, detail = classify(case, mpq, args.timeout)
        counts.setdefault(family, collections.Counter())[outcome] += 1
        if args.only:
            print(outcome, case.what, " ".join(case.args), detail, sep="\n")
        elif args.verbose:
            print(f"{family}:{index} {outcome} ({case.what}) {detail.strip()[:160]}", flush=True)
        if args.json and sum(sum(c.values()) for c in counts.values()) % 200 == 0:
            # Partial figures, so a long campaign stopped early still reports what it ran.
            with open(args.json, "w") as f:
                json.dump({k: dict(v) for k, v in counts.items()}, f, indent=1)
        if outcome in ("crash", "hang", "exit0-invalid"):
            failures.append((family, index, outcome, case.what, detail.strip().splitlines()[-1:] if detail else ""))
            print(f"FAIL {family}:{index} {outcome} ({case.what}) {detail.strip()[-200:]}", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    outcomes = ["ok", "clean-error", "unclear-error", "crash", "hang", "exit0-invalid"]
    print(f"{'family':<12}" + "".join(f"{o:>15}" for o in outcomes) + f"{'cases':>8}")
    for f in families:
        c = counts[f]
        print(f"{f:<12}" + "".join(f"{c[o]:>15}" for o in outcomes) + f"{sum(c.values()):>8}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: dict(v) for k, v in counts.items()}, f, indent=1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
