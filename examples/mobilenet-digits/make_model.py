#!/usr/bin/env python3
"""Build the `mobilenet-digits` example model for mpq.

A compact MobileNetV2-style CNN on scikit-learn's 8x8 digits, upscaled to
16x16 (bilinear) and normalised with the training-set mean/std.  Depthwise
convolutions and narrow 1x1 projections make it deliberately sensitive to
low-bit quantization.  Writes, next to this script:

  model.onnx          opset 13, input `input` (N x 1 x 16 x 16), output `logits` (N x 10)
  calib.npy           float32 256 x 1 x 16 x 16 (preprocessed, drawn from the training split)
  calib_labels.npy    int64   256
  val.npy             float32 500 x 1 x 16 x 16 (preprocessed, held out)
  val_labels.npy      int64   500
  val_reference.npy   float32 500 x 10  ONNX Runtime (CPU) logits on val.npy

and prints a fake-quant sensitivity table (see README.md for the scheme).
Preprocessing (upscale + normalise) happens here, not in the ONNX graph:
the .npy inputs are already preprocessed.

Usage: python3 examples/mobilenet-digits/make_model.py
"""
import os
import random

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
N_VAL = 500
N_CALIB = 256
EPOCHS = 30
BATCH = 64
SIZE = 16


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def load_split():
    """Same split as examples/digits: 500 val, rest train, 256 calib from train."""
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    perm = np.random.RandomState(SEED).permutation(len(x))
    val_idx, train_idx = perm[:N_VAL], perm[N_VAL:]
    calib_idx = np.random.RandomState(SEED + 1).choice(train_idx, N_CALIB, replace=False)
    up = F.interpolate(torch.from_numpy(x), size=(SIZE, SIZE), mode="bilinear",
                       align_corners=False).numpy()
    mean, std = float(up[train_idx].mean()), float(up[train_idx].std())
    up = ((up - mean) / std).astype(np.float32)
    return (up[train_idx], y[train_idx]), (up[val_idx], y[val_idx]), \
        (up[calib_idx], y[calib_idx]), (mean, std)


def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            conv_bn(cin, hid, 1),                          # expand
            conv_bn(hid, hid, 3, stride, groups=hid),       # depthwise
            conv_bn(hid, cout, 1, act=False),              # project (linear bottleneck)
        )

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_res else y


# (expand, out_channels, stride)
# Deliberately narrow (8-32 channels) so that per-tensor 4-bit quantization hurts.
BLOCKS = [(1, 8, 1), (6, 16, 2), (6, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 1)]
STEM, HEAD = 8, 96


class MobileNetDigits(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [conv_bn(1, STEM, 3)]
        cin = STEM
        for t, c, s in BLOCKS:
            layers.append(InvertedResidual(cin, c, s, t))
            cin = c
        layers.append(conv_bn(cin, HEAD, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(HEAD, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def augment(x, g):
    """Random integer shift of up to 2 pixels (zero = background value padding)."""
    n = x.shape[0]
    bg = float(x.min())
    pad = F.pad(x, (2, 2, 2, 2), value=bg)
    dx = torch.randint(0, 5, (n,), generator=g)
    dy = torch.randint(0, 5, (n,), generator=g)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = pad[i, :, dy[i]:dy[i] + SIZE, dx[i]:dx[i] + SIZE]
    return out


def accuracy(logits, labels):
    return float((np.asarray(logits).argmax(1) == labels).mean())


# ---------------------------------------------------------------- fake quant

def fold_model(model):
    """Return a list of (kind, module) with BN folded into conv weights, mirroring the ONNX graph."""
    model = model.eval()

    def fold(seq):
        conv, bn = seq[0], seq[1]
        w = conv.weight.detach()
        s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
        new = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                        conv.padding, groups=conv.groups, bias=True)
        new.weight.data = w * s.view(-1, 1, 1, 1)
        new.bias.data = bn.bias.detach() - bn.running_mean * s
        return new, len(seq) == 3
    return fold


class FQNet(nn.Module):
    """BN-folded copy of MobileNetDigits with per-tensor fake quantization.

    Weights: symmetric signed per-tensor, scale = max|w| / (2^(b-1)-1), round half to even.
    Activations (the input of every Conv/Gemm): per-tensor min-max affine with range
    [min(0,lo), max(0,hi)] from the calibration set; after ReLU6 this is unsigned [0, hi].
    """

    def __init__(self, model):
        super().__init__()
        fold = fold_model(model)
        self.convs = []           # list of (conv, relu6?)
        self.plan = []            # structure
        feats = model.features
        c, a = fold(feats[0]); self.plan.append(("conv", len(self.convs))); self.convs.append((c, a))
        for blk in feats[1:-1]:
            ids = []
            for seq in blk.body:
                c, a = fold(seq); ids.append(len(self.convs)); self.convs.append((c, a))
            self.plan.append(("block", ids, blk.use_res))
        c, a = fold(feats[-1]); self.plan.append(("conv", len(self.convs))); self.convs.append((c, a))
        self.fc = model.fc
        self.wbits = None
        self.abits = None
        self.ranges = {}          # layer index -> (lo, hi); fc uses key "fc"
        self.calibrating = False

    def qact(self, key, x):
        if self.calibrating:
            lo, hi = float(x.min()), float(x.max())
            if key in self.ranges:
                lo, hi = min(lo, self.ranges[key][0]), max(hi, self.ranges[key][1])
            self.ranges[key] = (lo, hi)
            return x
        if self.abits is None:
            return x
        lo, hi = self.ranges[key]
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        qmax = 2 ** self.abits - 1
        scale = (hi - lo) / qmax
        zp = float(np.round(-lo / scale))
        q = torch.clamp(torch.round(x / scale) + zp, 0, qmax)
        return (q - zp) * scale

    def qw(self, w):
        if self.wbits is None:
            return w
        qmax = 2 ** (self.wbits - 1) - 1
        scale = w.abs().max() / qmax
        return torch.clamp(torch.round(w / scale), -qmax, qmax) * scale

    def run_conv(self, i, x):
        c, act = self.convs[i]
        x = self.qact(i, x)
        y = F.conv2d(x, self.qw(c.weight), c.bias, c.stride, c.padding, groups=c.groups)
        return F.relu6(y) if act else y

    def forward(self, x):
        for p in self.plan:
            if p[0] == "conv":
                x = self.run_conv(p[1], x)
            else:
                y = x
                for i in p[1]:
                    y = self.run_conv(i, y)
                x = x + y if p[2] else y
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        x = self.qact("fc", x)
        return F.linear(x, self.qw(self.fc.weight), self.fc.bias)


def fake_quant_table(model, xca, xva, yva):
    net = FQNet(model)
    with torch.no_grad():
        net.calibrating = True
        net(torch.from_numpy(xca))
        net.calibrating = False
        rows = []
        for name, wb, ab in [("FP32", None, None), ("W8A8", 8, 8), ("W4A8", 4, 8),
                             ("W8A4", 8, 4), ("W4A4", 4, 4)]:
            net.wbits, net.abits = wb, ab
            rows.append((name, accuracy(net(torch.from_numpy(xva)).numpy(), yva)))
    return rows


# ---------------------------------------------------------------- main

def main():
    seed_everything(SEED)
    (xtr, ytr), (xva, yva), (xca, yca), (mean, std) = load_split()
    model = MobileNetDigits()
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(model(augment(xt[idx], g)), yt[idx])
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
        do_constant_folding=True,
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

    print(f"train={len(xtr)} val={len(xva)} calib={len(xca)}  preprocess mean={mean:.6f} std={std:.6f}")
    print(f"params={n_params}")
    print(f"onnx ops: {ops}")
    print(f"BatchNormalization kept: {'BatchNormalization' in ops}")
    print(f"model.onnx bytes: {os.path.getsize(onnx_path)}")
    print(f"FP32 val accuracy: torch={torch_acc:.4f} ort={ort_acc:.4f}")
    print(f"max |torch - ort| logits: {np.abs(torch_logits - ref).max():.2e}")
    print("fake-quant (per-tensor, min-max, calib=256) val accuracy:")
    for name, acc in fake_quant_table(model, xca, xva, yva):
        print(f"  {name:5s} {acc * 100:6.2f}%")


if __name__ == "__main__":
    main()
