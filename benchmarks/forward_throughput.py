#!/usr/bin/env python3
"""FP32 forward throughput and peak memory: mpq's executor against ONNX Runtime, side by side.

Usage: python3 benchmarks/forward_throughput.py [--iterations N] [--rounds R] [--threads 1,2]
                                                [--only NAME-SUBSTRING] [--no-build]

Builds mpq-benchmark in release and generates missing models under benchmarks/generated/ (the
ResNet-18-shaped random-weight model with make_resnet18.py, the pretrained EfficientNet-Lite1 with
make_efficientnet_lite.py). all-MiniLM-L6-v2 needs examples/minilm/generated/model-opset17.onnx
(python3 examples/minilm/make_model.py) and is skipped, with a note, when it is missing.

For each thread count and model it alternates ORT and mpq runs (R rounds, each a fresh process),
keeps the best of each, and prints samples/s, the mpq/ORT ratio, mpq's GFLOP/s and the peak
resident set of each process (model load plus warm-up and timed forward passes; ORT's includes the
Python interpreter and NumPy, ~60-100 MiB).
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEN = ROOT / "benchmarks/generated"
MODELS = [
    # name, path, batch, input shape without batch (or tokens:SEQ), generator script
    ("resnet18 (random weights)", GEN / "resnet18.onnx", 8, "3,224,224", "benchmarks/make_resnet18.py"),
    ("mobilenet-digits", ROOT / "examples/mobilenet-digits/model.onnx", 256, "1,16,16", None),
    ("all-MiniLM-L6-v2", ROOT / "examples/minilm/generated/model-opset17.onnx", 8, "tokens:128", None),
    ("efficientnet-lite1 (pretrained)", GEN / "efficientnet-lite1.onnx", 16, "3,224,224", "benchmarks/make_efficientnet_lite.py"),
    ("digits CNN", ROOT / "examples/digits/model.onnx", 256, "1,8,8", None),
]


def cpu_description():
    """The CPU model and the vector extensions the figures depend on (AVX-512 or AVX2 only, VNNI)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "CPU unknown"
    model = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "CPU")
    flags = set(next((l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags")), []))
    isa = "AVX-512" if "avx512f" in flags else "AVX2 only" if "avx2" in flags else "no AVX2"
    vnni = ", VNNI" if flags & {"avx512_vnni", "avx_vnni"} else ""
    return f"{model}, {isa}{vnni}"


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(bench, path, batch, shape, threads, iterations):
    """One ORT run and one mpq run (separate processes), ORT first."""
    if shape.startswith("tokens:"):
        # Token-id inputs: the same batch x sequence shape for both; all ids valid WordPiece ids.
        seq = shape.split(":")[1]
        ort = run_json([sys.executable, "benchmarks/ort_minilm_throughput.py", str(path), "--batch", str(batch),
                        "--seq", seq, "--iters", str(iterations), "--warmup", "2", "--threads", str(threads), "--json"])
        ort["samples_per_s"] = ort["sentences_per_s"]
        mpq = run_json([str(bench), str(path), "--batch", str(batch), "--threads", str(threads), "--int-max", "30522",
                        "--input-shape", f"input_ids={batch},{seq}", "--input-shape", f"attention_mask={batch},{seq}",
                        "--iterations", str(iterations), "--json"])
    else:
        ort = run_json([sys.executable, "benchmarks/ort_throughput.py", str(path), "--batch", str(batch),
                        "--input-shape", shape, "--iters", str(iterations), "--warmup", "2",
                        "--threads", str(threads), "--json"])
        mpq = run_json([str(bench), str(path), "--batch", str(batch), "--threads", str(threads),
                        "--iterations", str(iterations), "--json"])
    return ort, mpq


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--only", help="run only the models whose name contains this")
    parser.add_argument("--no-build", action="store_true", help="use the existing release build")
    parser.add_argument("--bench", help="mpq-benchmark executable to use (default: .build/release/mpq-benchmark, built)")
    args = parser.parse_args()

    models = [m for m in MODELS if args.only is None or args.only.lower() in m[0].lower()]
    for name, path, _, _, script in list(models):
        if path.exists():
            continue
        if script is None:
            print(f"skipping {name}: {path.relative_to(ROOT)} is missing", file=sys.stderr)
            models.remove(next(m for m in models if m[0] == name))
        else:
            subprocess.run([sys.executable, script, "--out", str(path)], check=True, cwd=ROOT)
    if not args.no_build and not args.bench:
        subprocess.run(["swift", "build", "-c", "release", "--product", "mpq-benchmark"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    bench = Path(args.bench) if args.bench else ROOT / ".build/release/mpq-benchmark"

    for threads in [int(t) for t in args.threads.split(",")]:
        rows = []
        for name, path, batch, shape, _ in models:
            best_ort, best_mpq = None, None
            for _ in range(args.rounds):
                ort, mpq = measure(bench, path, batch, shape, threads, args.iterations)
                if best_ort is None or ort["samples_per_s"] > best_ort["samples_per_s"]:
                    best_ort = ort
                if best_mpq is None or mpq["samples_per_s"] > best_mpq["samples_per_s"]:
                    best_mpq = mpq
            rows.append((name, batch, best_ort, best_mpq))
            sys.stdout.flush()

        print(f"\n{threads} thread(s) each, {cpu_description()}")
        print(f"{'model':32} {'batch':>5} {'ORT samples/s':>14} {'mpq samples/s':>14} {'mpq/ORT':>8} "
              f"{'mpq GFLOP/s':>12} {'ORT MiB':>8} {'mpq MiB':>8}")
        for name, batch, ort, mpq in rows:
            ratio = mpq["samples_per_s"] / ort["samples_per_s"]
            print(f"{name:32} {batch:5d} {ort['samples_per_s']:14.1f} {mpq['samples_per_s']:14.1f} {ratio:8.2f} "
                  f"{mpq['gflops']:12.1f} {ort.get('max_rss_mb', 0):8.0f} {mpq.get('max_rss_mb', 0):8.0f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
