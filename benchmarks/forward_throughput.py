#!/usr/bin/env python3
"""FP32 forward throughput: mpq's executor against ONNX Runtime, one thread each, side by side.

Usage: python3 benchmarks/forward_throughput.py [--iterations N] [--rounds R]
Builds mpq-benchmark in release, generates the ResNet-18-shaped model if missing, then for each
model alternates ORT and mpq runs (R rounds) and prints samples/s, the ratio, and mpq's GFLOP/s
against one core's peak. all-MiniLM-L6-v2 (batch 8 x 128 tokens) is included when
examples/minilm/generated/model-opset17.onnx exists (python3 examples/minilm/make_model.py);
--only NAME-SUBSTRING runs a subset (e.g. --only MiniLM).
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = [
    # name, path, batch, input shape without batch
    ("resnet18 (random weights)", ROOT / "benchmarks/generated/resnet18.onnx", 8, "3,224,224"),
    ("digits CNN", ROOT / "examples/digits/model.onnx", 256, "1,8,8"),
    ("mobilenet-digits", ROOT / "examples/mobilenet-digits/model.onnx", 256, "1,16,16"),
    ("all-MiniLM-L6-v2", ROOT / "examples/minilm/generated/model-opset17.onnx", 8, "tokens:128"),
]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", help="run only the models whose name contains this")
    args = parser.parse_args()

    models = [m for m in MODELS if args.only is None or args.only.lower() in m[0].lower()]
    models = [m for m in models if m[0] != "all-MiniLM-L6-v2" or m[1].exists()]
    resnet = MODELS[0][1]
    if MODELS[0] in models and not resnet.exists():
        subprocess.run([sys.executable, "benchmarks/make_resnet18.py", "--out", str(resnet)], check=True, cwd=ROOT)
    subprocess.run(["swift", "build", "-c", "release", "--product", "mpq-benchmark"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    bench = ROOT / ".build/release/mpq-benchmark"

    rows = []
    for name, path, batch, shape in models:
        best_ort, best_mpq = None, None
        for _ in range(args.rounds):
            if shape.startswith("tokens:"):
                # Token-id inputs: the same batch x sequence shape for both; all ids valid WordPiece ids.
                seq = shape.split(":")[1]
                ort = run_json([sys.executable, "benchmarks/ort_minilm_throughput.py", str(path), "--batch", str(batch),
                                "--seq", seq, "--iters", str(args.iterations), "--warmup", "2", "--json"])
                ort["samples_per_s"] = ort["sentences_per_s"]
                mpq = run_json([str(bench), str(path), "--batch", str(batch), "--threads", "1", "--int-max", "30522",
                                "--input-shape", f"input_ids={batch},{seq}", "--input-shape", f"attention_mask={batch},{seq}",
                                "--iterations", str(args.iterations), "--json"])
            else:
                ort = run_json([sys.executable, "benchmarks/ort_throughput.py", str(path), "--batch", str(batch),
                                "--input-shape", shape, "--iters", str(args.iterations), "--warmup", "2", "--json"])
                mpq = run_json([str(bench), str(path), "--batch", str(batch), "--threads", "1",
                                "--iterations", str(args.iterations), "--json"])
            if best_ort is None or ort["samples_per_s"] > best_ort["samples_per_s"]:
                best_ort = ort
            if best_mpq is None or mpq["samples_per_s"] > best_mpq["samples_per_s"]:
                best_mpq = mpq
        rows.append((name, batch, best_ort, best_mpq))

    print(f"{'model':28} {'batch':>5} {'ORT samples/s':>14} {'mpq samples/s':>14} {'mpq/ORT':>8} {'mpq GFLOP/s':>12} {'% peak':>7}")
    for name, batch, ort, mpq in rows:
        ratio = mpq["samples_per_s"] / ort["samples_per_s"]
        print(f"{name:28} {batch:5d} {ort['samples_per_s']:14.1f} {mpq['samples_per_s']:14.1f} {ratio:8.2f} "
              f"{mpq['gflops']:12.1f} {100 * mpq['gflops'] / mpq['peak_gflops']:6.0f}%")


if __name__ == "__main__":
    main()
