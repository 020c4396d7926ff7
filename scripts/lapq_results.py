#!/usr/bin/env python3
"""Reproduce the LAPQ results tables on examples/mobilenet-digits with one command.

    python3 scripts/lapq_results.py [--mpq PATH] [--include-w3a3] [--max-evaluations 1000] [--force]

What it does:
  1. builds `mpq` in release (swift build -c release --product mpq), unless --mpq PATH is given;
  2. runs `mpq quantize --json` for every bit-width (W4A4, W8A4, W4A8; W3A3 with --include-w3a3)
     x method (minmax, mmse, lapq-layerwise, lapq-quadratic, lapq = quadratic start + Powell)
     x {without, with --bias-correction}, per-tensor weights (the paper's setting), plus the
     ablation runs `--method lapq --init minmax|mmse|lapq-layerwise` at W4A4 (Powell from other starts);
  3. caches each run's report under docs/lapq-results/<run>.json (with the command line and wall time);
     runs whose JSON exists are skipped unless --force, so an interrupted run resumes;
  4. writes docs/lapq-results.md from the cached JSON (headline table, ablation, bias correction,
     p sweeps, a check of the paper's claims, wall times). `--report-only` skips steps 1-2.

Powell is capped with --max-evaluations (default 1000 loss evaluations; one sweep, as the reference
implementation does for models other than ResNet-18). `docs/lapq-results/speed.md`, if present
(written by hand from benchmarks/Sources/lapq-benchmark), is included as the "Speed" section, and
`docs/lapq-results/discussion.md`, if present (hand-written reading of the numbers), after the claims check.
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = "examples/mobilenet-digits"
METHODS = ["minmax", "mmse", "lapq-layerwise", "lapq-quadratic", "lapq"]
ABLATION_INITS = ["minmax", "mmse", "lapq-layerwise"]  # lapq-quadratic is the plain `lapq` run
ABLATION_BITS = "W4A4"


def run_name(bits, method, init=None, bias_correction=False):
    name = f"{bits}_{method}"
    if init:
        name += f"_from-{init}"
    if bias_correction:
        name += "_bc"
    return name


def planned_runs(args):
    """Every run, most informative first, so that a partial run still fills the headline tables:
    all W4A4 runs, the other bit-widths without bias correction, the W4A4 ablation, then the rest."""
    bit_widths = ["W4A4", "W8A4", "W4A8"] + (["W3A3"] if args.include_w3a3 else [])
    runs = []
    for bc in (False, True):
        runs += [(ABLATION_BITS, m, None, bc) for m in METHODS]
    for bits in bit_widths[1:3]:
        runs += [(bits, m, None, False) for m in METHODS]
    runs += [(ABLATION_BITS, "lapq", init, False) for init in ABLATION_INITS if init != "mmse"]
    for bits in bit_widths[1:3]:
        runs += [(bits, m, None, True) for m in METHODS]
    runs += [(ABLATION_BITS, "lapq", "mmse", False)]
    for bits in bit_widths[3:]:
        for bc in (False, True):
            runs += [(bits, m, None, bc) for m in METHODS]
    return runs


def build_mpq():
    cmd = ["swift", "build", "-c", "release", "--scratch-path", ".build-lapqdocs", "--product", "mpq"]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    out = subprocess.run(cmd + ["--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True)
    return os.path.join(out.stdout.strip(), "mpq")


def run_one(mpq, out_dir, bits, method, init, bc, args):
    name = run_name(bits, method, init, bc)
    path = os.path.join(out_dir, name + ".json")
    if os.path.exists(path) and not args.force:
        print(f"[skip] {name} (cached)", flush=True)
        return
    steps = os.path.join(out_dir, "steps", name + ".steps.json")
    os.makedirs(os.path.dirname(steps), exist_ok=True)
    cmd = [mpq, "quantize", f"{EXAMPLE}/model.onnx",
           "--calib", f"{EXAMPLE}/calib.npy", "--labels", f"{EXAMPLE}/calib_labels.npy",
           "--val", f"{EXAMPLE}/val.npy", "--val-labels", f"{EXAMPLE}/val_labels.npy",
           "--bits", bits, "--method", method, "--json", "-o", os.path.relpath(steps, ROOT)]
    if method == "lapq":
        cmd += ["--optimizer", "powell", "--max-evaluations", str(args.max_evaluations)]
        if init:
            cmd += ["--init", init]
    if bc:
        cmd.append("--bias-correction")
    if args.keep_first_last:
        cmd.append("--keep-first-last")
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    shown = ["mpq"] + cmd[1:]
    print(f"[run ] {name}: {' '.join(shlex.quote(c) for c in shown)}", flush=True)
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.time() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{name} failed (exit {proc.returncode})")
    report = json.loads(proc.stdout)
    record = {"run": name, "bits": bits, "method": method, "init": init, "bias_correction": bc,
              "command": " ".join(shlex.quote(c) for c in shown), "wall_seconds": round(wall, 2),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "report": report}
    with open(path + ".tmp", "w") as f:
        json.dump(record, f, indent=1)
    os.replace(path + ".tmp", path)
    v = report.get("validation") or {}
    acc = (v.get("quantized") or {}).get("accuracy")
    print(f"[done] {name}: {wall:.1f} s, val acc {100 * acc:.1f}%" if acc is not None else f"[done] {name}: {wall:.1f} s",
          flush=True)


# ---------------------------------------------------------------- report

def load(out_dir):
    records = {}
    if not os.path.isdir(out_dir):
        return records
    for fn in sorted(os.listdir(out_dir)):
        if fn.endswith(".json"):
            with open(os.path.join(out_dir, fn)) as f:
                r = json.load(f)
            records[r["run"]] = r
    return records


def acc(r):
    if r is None:
        return "–"
    a = r["report"]["validation"]["quantized"]["accuracy"]
    return f"{100 * a:.1f}"


def vloss(r):
    return "–" if r is None else f"{r['report']['validation']['quantized']['loss']:.3f}"


def closs(r, key="quantized"):
    return "–" if r is None else f"{r['report']['calibration'][key]['loss']:.3f}"


def write_report(records, args, path, bit_widths, total_wall=None):
    get = lambda bits, method, init=None, bc=False: records.get(run_name(bits, method, init, bc))
    any_r = next(iter(records.values()), None)
    L = []
    L.append("# LAPQ on mobilenet-digits: results\n")
    L.append("Reproduce with one command (resumable; cached runs are skipped unless `--force`):\n")
    cmdline = "python3 scripts/lapq_results.py" + (" --include-w3a3" if "W3A3" in bit_widths else "") \
        + (f" --max-evaluations {args.max_evaluations}" if args.max_evaluations != 1000 else "")
    L.append(f"```\n{cmdline}\n```\n")
    L.append(
        "Setting: `examples/mobilenet-digits` (MobileNetV2-style, 20 Conv + 1 Gemm, BN folded). "
        "**Calibration: 256 labelled samples** (one batch; loss = cross-entropy with labels). "
        "**Validation: 500 samples, so 0.2 % = 1 sample**; differences of a few tenths are noise-level. "
        "Per-tensor weights on the deployable symmetric grid with 0 on it (not the paper's mid-rise grid), "
        "activations per-tensor; every Conv/Gemm is quantized"
        + (" except the first and last layer" if args.keep_first_last else
           " including the first and last layers (the paper keeps those in FP32)")
        + ". LAPQ = Lp sweep over 10 values of p in [2, 4], quadratic fit for p*, then one Powell sweep over all "
        f"step multipliers (bounds [0.05, 4]) capped at **{args.max_evaluations} loss evaluations** "
        "(`--max-evaluations`). Each run's report is in `docs/lapq-results/<run>.json` (command line, wall time, "
        "full `mpq quantize --json` output); the steps files are in `docs/lapq-results/steps/`.\n")
    if any_r:
        fp = any_r["report"]
        L.append(f"FP32: validation accuracy {100 * fp['validation']['fp32']['accuracy']:.1f} %, "
                 f"validation loss {fp['validation']['fp32']['loss']:.3f}; calibration loss {fp['calibration']['fp32']['loss']:.3f}.\n")

    # (a) headline
    L.append("## (a) Headline (Table 1 shape): validation accuracy % (loss)\n")
    L.append("Without bias correction; the last two columns add `--bias-correction`.\n")
    L.append("| bits | FP32 | min-max | MMSE | LAPQ | MMSE + BC | LAPQ + BC |")
    L.append("|---|---|---|---|---|---|---|")
    fp32 = f"{100 * any_r['report']['validation']['fp32']['accuracy']:.1f} ({any_r['report']['validation']['fp32']['loss']:.3f})" if any_r else "–"
    for bits in bit_widths:
        cells = []
        for (m, bc) in (("minmax", False), ("mmse", False), ("lapq", False), ("mmse", True), ("lapq", True)):
            r = get(bits, m, None, bc)
            cells.append(f"{acc(r)} ({vloss(r)})")
        L.append(f"| {bits} | {fp32} | " + " | ".join(cells) + " |")
    L.append("")

    # all methods table
    L.append("### All methods: validation accuracy % / validation loss / calibration loss\n")
    L.append("| bits | method | no BC: val acc | val loss | calib loss | BC: val acc | val loss | calib loss |")
    L.append("|---|---|---|---|---|---|---|---|")
    for bits in bit_widths:
        for m in METHODS:
            a, b = get(bits, m), get(bits, m, None, True)
            L.append(f"| {bits} | {m} | {acc(a)} | {vloss(a)} | {closs(a)} | {acc(b)} | {vloss(b)} | {closs(b)} |")
    L.append("")

    # (b) ablation
    L.append(f"## (b) Ablation (Table 3 shape), {ABLATION_BITS}, no bias correction\n")
    L.append("Initialisation → then one Powell sweep from it (`mpq quantize --method lapq --init X`). "
             "Before = the initialisation alone (calibration loss from the search report; validation from the "
             "initialisation-only run). The paper's \"layer-wise\" row is Lp clipping at one p; here both p = 2 (MMSE) "
             "and the best sampled p are shown.\n")
    L.append("| initialisation | before: val acc | val loss | calib loss | after Powell: val acc | val loss | calib loss | evaluations |")
    L.append("|---|---|---|---|---|---|---|---|")
    for label, init_method, joint in (("min-max", "minmax", get(ABLATION_BITS, "lapq", "minmax")),
                                      ("layer-wise, p = 2 (MMSE)", "mmse", get(ABLATION_BITS, "lapq", "mmse")),
                                      ("layer-wise, best p", "lapq-layerwise", get(ABLATION_BITS, "lapq", "lapq-layerwise")),
                                      ("layer-wise + quadratic (LAPQ)", "lapq-quadratic", get(ABLATION_BITS, "lapq"))):
        before = get(ABLATION_BITS, init_method)
        if joint is None:
            L.append(f"| {label} | {acc(before)} | {vloss(before)} | {closs(before)} | (not run) | | | |")
            continue
        s = joint["report"]["search"]
        L.append(f"| {label} | {acc(before)} | {vloss(before)} | {s['lossAfterInitialization']:.3f} | "
                 f"{acc(joint)} | {vloss(joint)} | {s['lossAfterJoint']:.3f} | {s['jointEvaluations']} |")
    L.append("")

    # (c) bias correction
    L.append("## (c) Bias correction (Table 4 shape): validation accuracy %, without → with `--bias-correction`\n")
    L.append("| bits | " + " | ".join(METHODS) + " |")
    L.append("|---|" + "---|" * len(METHODS))
    for bits in bit_widths:
        cells = [f"{acc(get(bits, m))} → {acc(get(bits, m, None, True))}" for m in METHODS]
        L.append(f"| {bits} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("Validation loss, without → with:\n")
    L.append("| bits | " + " | ".join(METHODS) + " |")
    L.append("|---|" + "---|" * len(METHODS))
    for bits in bit_widths:
        cells = [f"{vloss(get(bits, m))} → {vloss(get(bits, m, None, True))}" for m in METHODS]
        L.append(f"| {bits} | " + " | ".join(cells) + " |")
    L.append("")

    # (d) p sweep
    L.append("## (d) p sweep: calibration loss of layer-wise Lp clipping at each p, and p*\n")
    sweeps = []
    for bits in bit_widths:
        for bc in (False, True):
            r = get(bits, "lapq", None, bc) or get(bits, "lapq-quadratic", None, bc)
            if r and r["report"]["search"]["sweep"]:
                sweeps.append((bits + (" + BC" if bc else ""), r))
    if sweeps:
        ps = [p for p, _ in sweeps[0][1]["report"]["search"]["sweep"]]
        L.append("| bits | " + " | ".join(f"p={p:.2f}" for p in ps) + " | p* (fit) | loss at p* | best sampled p |")
        L.append("|---|" + "---|" * (len(ps) + 3))
        for label, r in sweeps:
            s = r["report"]["search"]
            losses = [l for _, l in s["sweep"]]
            best = min(s["sweep"], key=lambda t: t[1])
            lo = min(losses)
            cells = [f"**{l:.3f}**" if l == lo else f"{l:.3f}" for l in losses]
            fb = f" (fallback: {s['fitFallback']})" if s.get("fitFallback") else ""
            L.append(f"| {label} | " + " | ".join(cells) +
                     f" | {s['pStar']:.2f}{fb} | {s['lossAfterInitialization']:.3f} | {best[0]:.2f} |")
    L.append("")

    # (e) claims
    L.append("## (e) The paper's claims, checked\n")
    L.extend(claims(get, bit_widths))
    L.append("")
    discussion = os.path.join(os.path.dirname(path), "lapq-results", "discussion.md")
    if os.path.exists(discussion):
        with open(discussion) as f:
            L.append(f.read().rstrip() + "\n")

    # speed
    speed = os.path.join(os.path.dirname(path), "lapq-results", "speed.md")
    if os.path.exists(speed):
        with open(speed) as f:
            L.append(f.read().rstrip() + "\n")

    # wall times
    L.append("## Wall times\n")
    L.append(f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs (times are indicative). "
             "`search s` is the step search alone (from the report); `wall s` is the whole `mpq quantize` process "
             "(model load, FP32 pass, search, validation).\n")
    L.append("| run | wall s | search s | cached loss evaluations |")
    L.append("|---|---|---|---|")
    tot = 0.0
    for name in sorted(records):
        r = records[name]
        tot += r["wall_seconds"]
        L.append(f"| {name} | {r['wall_seconds']:.1f} | {r['report']['seconds']:.1f} | {r['report']['evaluations']} |")
    L.append(f"| **total** | **{tot:.0f}** | | |")
    L.append("")
    if records:
        example = records.get(run_name("W4A4", "lapq", None, True)) or next(iter(records.values()))
        L.append(f"Example command line (`{example['run']}`):\n\n```\n{example['command']}\n```\n")
    with open(path, "w") as f:
        f.write("\n".join(L))
    print(f"wrote {os.path.relpath(path, ROOT)}", flush=True)


def _a(r):
    return None if r is None else 100 * r["report"]["validation"]["quantized"]["accuracy"]


def _l(r):
    return None if r is None else r["report"]["validation"]["quantized"]["loss"]


def claims(get, bit_widths):
    out = []
    # 1. LAPQ >= MMSE at 4 bits
    lines = []
    for bits in bit_widths:
        if "4" not in bits and "3" not in bits:
            continue
        for bc in (False, True):
            m, l = get(bits, "mmse", None, bc), get(bits, "lapq", None, bc)
            if m is None or l is None:
                continue
            da, dl = _a(l) - _a(m), _l(l) - _l(m)
            cm, cl = m["report"]["calibration"]["quantized"]["loss"], l["report"]["calibration"]["quantized"]["loss"]
            verdict = "holds" if da >= 0 else ("within noise" if da >= -0.4 else "fails")
            lines.append(f"  - {bits}{' + BC' if bc else ''}: MMSE {_a(m):.1f} % → LAPQ {_a(l):.1f} % "
                         f"({da:+.1f} pt = {round(da / 0.2):+d} samples; val loss {_l(m):.3f} → {_l(l):.3f}, "
                         f"calib loss {cm:.3f} → {cl:.3f}): **{verdict}**")
    out.append("1. **LAPQ ≥ MMSE at 4 bits.**")
    out.extend(lines or ["  - (no runs yet)"])
    # 2. Powell improves on the quadratic start
    lines = []
    for bits in bit_widths:
        for bc in (False, True):
            q, l = get(bits, "lapq-quadratic", None, bc), get(bits, "lapq", None, bc)
            if l is None:
                continue
            s = l["report"]["search"]
            qa = f"{_a(q):.1f} % → " if q else ""
            qlv = f"{_l(q):.3f} → " if q else ""
            lines.append(f"  - {bits}{' + BC' if bc else ''}: calib loss {s['lossAfterInitialization']:.3f} → "
                         f"{s['lossAfterJoint']:.3f} in {s['jointEvaluations']} evaluations; val acc {qa}{_a(l):.1f} %, "
                         f"val loss {qlv}{_l(l):.3f}")
    out.append("2. **Powell improves on the quadratic start.** (calibration loss can only go down: the search keeps the best point)")
    out.extend(lines or ["  - (no runs yet)"])
    # 3. bias correction
    lines = []
    for bits in bit_widths:
        for m in ("minmax", "mmse", "lapq"):
            a, b = get(bits, m), get(bits, m, None, True)
            if a is None or b is None:
                continue
            lines.append(f"  - {bits} {m}: {_a(a):.1f} % → {_a(b):.1f} % ({_a(b) - _a(a):+.1f} pt), "
                         f"val loss {_l(a):.3f} → {_l(b):.3f}")
    out.append("3. **Bias correction helps compact models.**")
    out.extend(lines or ["  - (no runs yet)"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mpq", help="path to an mpq binary (default: build in release)")
    ap.add_argument("--include-w3a3", action="store_true", help="also run W3A3")
    ap.add_argument("--max-evaluations", type=int, default=1000, help="Powell loss-evaluation cap (default 1000)")
    ap.add_argument("--keep-first-last", action="store_true", help="keep the first and last layers FP32 (as the paper)")
    ap.add_argument("--threads", type=int, help="kernel threads for mpq (default: all cores)")
    ap.add_argument("--force", action="store_true", help="re-run runs whose JSON exists")
    ap.add_argument("--report-only", action="store_true", help="only rewrite docs/lapq-results.md from cached JSON")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "docs", "lapq-results"))
    ap.add_argument("--report", default=os.path.join(ROOT, "docs", "lapq-results.md"))
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    bit_widths = ["W4A4", "W8A4", "W4A8"] + (["W3A3"] if args.include_w3a3 else [])
    start = time.time()
    if not args.report_only:
        mpq = os.path.abspath(args.mpq) if args.mpq else build_mpq()
        for (bits, method, init, bc) in planned_runs(args):
            run_one(mpq, args.out_dir, bits, method, init, bc, args)
            write_report(load(args.out_dir), args, args.report, bit_widths)
    records = load(args.out_dir)
    if any(r["bits"] == "W3A3" for r in records.values()) and "W3A3" not in bit_widths:
        bit_widths.append("W3A3")
    write_report(records, args, args.report, bit_widths)
    print(f"total {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
