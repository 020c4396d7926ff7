#!/usr/bin/env python3
"""Measure single-threaded ONNX Runtime (CPU) throughput of a model.

intra_op_num_threads=1, inter_op_num_threads=1, sequential execution, all graph
optimisations enabled, random normal input from numpy seed 0.

Usage: python3 benchmarks/ort_throughput.py MODEL --batch 8 --input-shape 3,224,224 \
           --iters 20 --warmup 3 [--json]
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--input-shape", required=True, help="per-sample shape, e.g. 3,224,224")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [args.batch] + [int(s) for s in args.input_shape.split(",")]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    feed = {inp.name: x}

    for _ in range(args.warmup):
        sess.run(None, feed)
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
    ms = 1000.0 * float(np.median(times))
    import resource
    result = {
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "samples_per_s": args.batch / (ms / 1000.0),
        "ms_per_batch": ms,
        "batch": args.batch,
        "ms_per_batch_mean": 1000.0 * float(np.mean(times)),
        "ms_per_batch_min": 1000.0 * float(np.min(times)),
        "iters": args.iters,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.model}: batch {args.batch}, median {ms:.2f} ms/batch, "
              f"{result['samples_per_s']:.2f} samples/s "
              f"(mean {result['ms_per_batch_mean']:.2f}, min {result['ms_per_batch_min']:.2f} ms, "
              f"{args.iters} iters)")


if __name__ == "__main__":
    main()
