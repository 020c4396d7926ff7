#!/usr/bin/env python3
"""Build the fixed-batch fixtures: models as users export them for edge deployment, with the batch
axis fixed instead of symbolic.

  digits_batch1.onnx    the digits example's CNN (examples/digits/make_model.py, with the weights of
  digits_batch4.onnx    examples/digits/model.onnx) exported by the TorchScript exporter with a fixed
                        batch of 1 and of 4: input `input` [B, 1, 8, 8], output `logits` [B, 10].
  bert_batch8.onnx      a tiny random-weight BERT-style encoder (embeddings, one attention block with
                        heads split by `view(batch, seq, heads, dim)`, mean pooling) exported by the dynamo
                        exporter with a static batch of 8: its Reshapes carry the batch 8 baked in.
  bert_inputs.npy       int64 [10, 6] token ids (10 samples: one full batch of 8 and a padded one).
  bert_reference.npy    float32 [10, 16] ONNX Runtime outputs on them (in two batches of 8, the second
                        padded with copies of its last sample, the padding rows dropped).

Deterministic (fixed seeds, one thread). Needs torch, onnx, onnxruntime, onnxscript.
Usage: python3 Tests/MPQONNXTests/Fixtures/fixed_batch/make_fixed_batch.py
"""
import importlib.util
import os

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
BERT_BATCH, SEQ, VOCAB, HIDDEN, HEADS = 8, 6, 50, 16, 2


def load_digits_model():
    spec = importlib.util.spec_from_file_location("digits", os.path.join(REPO, "examples/digits/make_model.py"))
    digits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(digits)
    model = digits.DigitsCNN()
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
               for i in onnx.load(os.path.join(REPO, "examples/digits/model.onnx")).graph.initializer}
    model.load_state_dict(weights, strict=False)
    missing = set(model.state_dict()) - set(weights) - {"bn1.num_batches_tracked"}
    assert not missing, missing
    return model.eval()


def strip(path):
    m = onnx.load(path)
    m.doc_string = ""
    for n in m.graph.node:
        n.doc_string = ""
        del n.metadata_props[:]
    del m.metadata_props[:]
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def export_digits(model, batch):
    path = os.path.join(HERE, f"digits_batch{batch}.onnx")
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(batch, 1, 8, 8), path, dynamo=False, opset_version=13,
                          input_names=["input"], output_names=["logits"], do_constant_folding=False)
    strip(path)
    dims = [d.dim_value for d in onnx.load(path).graph.input[0].type.tensor_type.shape.dim]
    assert dims == [batch, 1, 8, 8], dims
    return path


class TinyEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Parameter(torch.randn(SEQ, HIDDEN) * 0.1)
        self.norm1 = nn.LayerNorm(HIDDEN)
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.norm2 = nn.LayerNorm(HIDDEN)
        self.ff1 = nn.Linear(HIDDEN, 2 * HIDDEN)
        self.ff2 = nn.Linear(2 * HIDDEN, HIDDEN)

    def forward(self, input_ids):
        b, s = input_ids.shape
        x = self.norm1(self.embed(input_ids) + self.position)
        q, k, v = self.qkv(x).split(HIDDEN, dim=-1)
        heads = [t.view(b, s, HEADS, HIDDEN // HEADS).transpose(1, 2) for t in (q, k, v)]
        attn = torch.softmax(heads[0] @ heads[1].transpose(-1, -2) / (HIDDEN // HEADS) ** 0.5, dim=-1)
        ctx = (attn @ heads[2]).transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.norm2(x + self.out(ctx))
        x = x + self.ff2(torch.nn.functional.gelu(self.ff1(x)))
        return x.mean(dim=1)


def export_bert():
    torch.manual_seed(0)
    model = TinyEncoder().eval()
    path = os.path.join(HERE, "bert_batch8.onnx")
    example = (torch.zeros(BERT_BATCH, SEQ, dtype=torch.int64),)
    with torch.no_grad():
        prog = torch.onnx.export(model, example, dynamo=True, opset_version=18, input_names=["input_ids"],
                                 output_names=["pooled"], optimize=True, verbose=False)
    prog.save(path, external_data=False)
    strip(path)
    m = onnx.load(path)
    dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [BERT_BATCH, SEQ], dims
    baked = [n for n in m.graph.node if n.op_type == "Reshape"]
    assert baked, "expected Reshape nodes with the batch baked in"

    ids = np.random.RandomState(1).randint(0, VOCAB, size=(10, SEQ)).astype(np.int64)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rows = []
    for start in range(0, len(ids), BERT_BATCH):
        chunk = ids[start:start + BERT_BATCH]
        valid = len(chunk)
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], BERT_BATCH - valid, axis=0)])
        rows.append(sess.run(None, {"input_ids": padded})[0][:valid])
    reference = np.concatenate(rows).astype(np.float32)
    with torch.no_grad():
        torch_out = model(torch.from_numpy(ids[:8])).numpy()
    assert np.abs(torch_out - reference[:8]).max() < 1e-4
    np.save(os.path.join(HERE, "bert_inputs.npy"), ids)
    np.save(os.path.join(HERE, "bert_reference.npy"), reference)
    return path


def main():
    torch.set_num_threads(1)
    model = load_digits_model()
    x = np.load(os.path.join(REPO, "examples/digits/val.npy"))[:8]
    dynamic = ort.InferenceSession(os.path.join(REPO, "examples/digits/model.onnx"), providers=["CPUExecutionProvider"])
    expected = dynamic.run(None, {"input": x})[0]
    for batch in (1, 4):
        path = export_digits(model, batch)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        got = np.concatenate([sess.run(None, {"input": x[i:i + batch]})[0] for i in range(0, len(x), batch)])
        print(f"{os.path.basename(path)}: {os.path.getsize(path)} bytes, max |fixed - dynamic| {np.abs(got - expected).max():.2e}")
        assert np.abs(got - expected).max() < 1e-5
    path = export_bert()
    print(f"{os.path.basename(path)}: {os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in onnx.load(path).graph.node})}")


if __name__ == "__main__":
    main()
