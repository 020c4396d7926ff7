#!/usr/bin/env python3
"""Build the `digits` example model for mpq.

Trains a small CNN on scikit-learn's bundled 8x8 digits data set and writes,
next to this script:

  model.onnx          opset 13, input `input` (N x 1 x 8 x 8), output `logits` (N x 10)
  calib.npy           float32 256 x 1 x 8 x 8  (drawn from the training split)
  calib_labels.npy    int64   256
  val.npy             float32 500 x 1 x 8 x 8  (held out, never trained on)
  val_labels.npy      int64   500
  val_reference.npy   float32 500 x 10  ONNX Runtime (CPU) logits on val.npy

Deterministic: fixed seeds, single thread, deterministic torch algorithms.
Usage: python3 examples/digits/make_model.py
"""
import os
import random

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
N_VAL = 500
N_CALIB = 256
EPOCHS = 40
BATCH = 64


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def load_split():
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    perm = np.random.RandomState(SEED).permutation(len(x))
    val_idx, train_idx = perm[:N_VAL], perm[N_VAL:]
    calib_idx = np.random.RandomState(SEED + 1).choice(train_idx, N_CALIB, replace=False)
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx]), (x[calib_idx], y[calib_idx])


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, stride=2)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


def accuracy(logits, labels):
    return float((np.asarray(logits).argmax(1) == labels).mean())


def main():
    seed_everything(SEED)
    (xtr, ytr), (xva, yva), (xca, yca) = load_split()
    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(xva)).numpy()
    torch_acc = accuracy(torch_logits, yva)

    onnx_path = os.path.join(HERE, "model.onnx")
    torch.onnx.export(
        model, torch.from_numpy(xca[:1]), onnx_path,
        dynamo=False, opset_version=13,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=False,
    )
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    ref = sess.run(["logits"], {"input": xva})[0].astype(np.float32)
    ort_acc = accuracy(ref, yva)

    np.save(os.path.join(HERE, "calib.npy"), xca.astype(np.float32))
    np.save(os.path.join(HERE, "calib_labels.npy"), yca.astype(np.int64))
    np.save(os.path.join(HERE, "val.npy"), xva.astype(np.float32))
    np.save(os.path.join(HERE, "val_labels.npy"), yva.astype(np.int64))
    np.save(os.path.join(HERE, "val_reference.npy"), ref)

    print(f"train={len(xtr)} val={len(xva)} calib={len(xca)}")
    print(f"params={sum(p.numel() for p in model.parameters())}")
    print(f"onnx ops: {ops}")
    print(f"BatchNormalization kept: {'BatchNormalization' in ops}")
    print(f"model.onnx bytes: {os.path.getsize(onnx_path)}")
    print(f"FP32 val accuracy: torch={torch_acc:.4f} ort={ort_acc:.4f}")
    print(f"max |torch - ort| logits: {np.abs(torch_logits - ref).max():.2e}")


if __name__ == "__main__":
    main()
