#!/usr/bin/env python3
"""Export a randomly initialised ResNet-18-shaped network to ONNX (no torchvision).

BasicBlocks [2, 2, 2, 2], widths 64/128/256/512, 1000 classes, BatchNorm in eval
mode (random affine parameters and running statistics), weights from
torch.manual_seed(0).  The legacy exporter folds BN into the Conv weights.  Legacy TorchScript exporter, opset 17,
input `input` (N x 3 x 224 x 224, dynamic N), output `logits` (N x 1000).

Usage: python3 benchmarks/make_resnet18.py [--out benchmarks/generated/resnet18.onnx]
"""
import argparse
import os

import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + idt)


class ResNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(mod, nn.BatchNorm2d):
                # Non-trivial BN parameters/statistics so that BN folding is exercised and
                # the exporter does not deduplicate identical folded biases into Identity nodes.
                c = mod.num_features
                mod.weight.data = torch.empty(c).uniform_(0.5, 1.5)
                mod.bias.data = 0.1 * torch.randn(c)
                mod.running_mean.data = 0.1 * torch.randn(c)
                mod.running_var.data = torch.empty(c).uniform_(0.5, 1.5)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "generated", "resnet18.onnx"))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = ResNet18().eval()
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
