#!/usr/bin/env python3
"""Measure single-threaded ONNX Runtime (CPU) throughput of the minilm sentence-embedding model.

Feeds batch x seq random token ids (numpy default_rng(seed), ids drawn from
[1000, 30522) - ordinary WordPiece ids, none of the special tokens - with
[CLS]=101 first and [SEP]=102 last) and a full attention mask (all ones), to a
model with inputs `input_ids`/`attention_mask` (int64) as written by
examples/minilm/make_model.py.  intra_op_num_threads=1, inter_op_num_threads=1,
sequential execution, all graph optimisations enabled (override with
--no-optimize); `warmup` untimed runs, then the median of `iters` timed runs.

Usage:
  python3 examples/minilm/make_model.py            # once: writes generated/model-opset*.onnx
  python3 benchmarks/ort_minilm_throughput.py [MODEL] [--batch 8] [--seq 128]
          [--iters 20] [--warmup 3] [--seed 0] [--no-optimize] [--json]

MODEL defaults to examples/minilm/generated/model-opset17.onnx.
"""
import argparse
import json
import os
import platform
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(ROOT, "examples", "minilm", "generated", "model-opset17.onnx")
VOCAB = 30522
CLS, SEP = 101, 102


def make_feed(batch, seq, seed, vocab):
    rng = np.random.default_rng(seed)
    ids = rng.integers(min(1000, vocab // 2), vocab, size=(batch, seq), dtype=np.int64)
    if seq >= 2 and vocab > SEP:
        ids[:, 0] = CLS
        ids[:, -1] = SEP
    mask = np.ones((batch, seq), dtype=np.int64)
    return {"input_ids": ids, "attention_mask": mask}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default=DEFAULT_MODEL)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=VOCAB,
                    help="token ids are drawn below this (2048 for examples/minilm/tiny)")
    ap.add_argument("--no-optimize", action="store_true",
                    help="ORT_DISABLE_ALL instead of ORT_ENABLE_ALL")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()
    if not os.path.exists(args.model):
        ap.error(f"{args.model} not found: run python3 examples/minilm/make_model.py first")

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_DISABLE_ALL if args.no_optimize
                                   else ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    feed = make_feed(args.batch, args.seq, args.seed, args.vocab)
    names = {i.name for i in sess.get_inputs()}
    feed = {k: v for k, v in feed.items() if k in names}

    for _ in range(args.warmup):
        out = sess.run(None, feed)
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        out = sess.run(None, feed)
        times.append(time.perf_counter() - t0)
    ms = 1000.0 * float(np.median(times))
    import resource
    result = {
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "model": os.path.relpath(args.model, ROOT) if args.model.startswith(ROOT) else args.model,
        "batch": args.batch,
        "seq": args.seq,
        "ms_per_batch": ms,
        "sentences_per_s": args.batch / (ms / 1000.0),
        "tokens_per_s": args.batch * args.seq / (ms / 1000.0),
        "ms_per_batch_mean": 1000.0 * float(np.mean(times)),
        "ms_per_batch_min": 1000.0 * float(np.min(times)),
        "ms_per_batch_max": 1000.0 * float(np.max(times)),
        "iters": args.iters,
        "warmup": args.warmup,
        "threads": args.threads,
        "graph_optimizations": not args.no_optimize,
        "output_shape": list(out[0].shape),
        "onnxruntime": ort.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or None,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['model']}: batch {args.batch} x {args.seq} tokens, 1 thread, "
              f"median {ms:.2f} ms/batch, {result['sentences_per_s']:.2f} sentences/s "
              f"(mean {result['ms_per_batch_mean']:.2f}, min {result['ms_per_batch_min']:.2f}, "
              f"max {result['ms_per_batch_max']:.2f} ms; {args.iters} iters after "
              f"{args.warmup} warm-up)")


if __name__ == "__main__":
    main()
