#!/usr/bin/env python3
"""Generate ONNX test fixtures for the MPQONNX importer / CPU executor tests.

Usage (from the repo root):

    python3 scripts/make_onnx_fixtures.py            # rewrites Tests/MPQONNXTests/Fixtures
    python3 scripts/make_onnx_fixtures.py --out DIR  # write somewhere else

Requires: onnx, onnxruntime, numpy. Output is deterministic: every case has its own
RNG seeded from a CRC32 of the case name, so adding/removing cases does not change
the data of the other cases.

For every case this writes
    Fixtures/<case>/model.onnx
    Fixtures/<case>/input_<i>.npy    C-order, one per graph input (graph input order), saved with
                                     the input's dtype (float32, int64 or bool)
    Fixtures/<case>/output_<i>.npy   ONNX Runtime (CPUExecutionProvider) results, with their dtype
The manifest records each input's and output's dtype ("float32", "int64", "bool").
plus Fixtures/manifest.json and Fixtures/malformed/*.onnx.
"""

import argparse
import json
import os
import shutil
import sys
import zlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "Tests" / "MPQONNXTests" / "Fixtures"

BATCH_SYMBOL = "N"


def ir_for_opset(opset: int) -> int:
    if opset <= 13:
        return 7
    if opset <= 18:
        return 8
    if opset <= 20:
        return 9
    return 10


NP_TO_ONNX = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.bool_): TensorProto.BOOL,
}


class Case:
    """Small builder for a single-graph ONNX test case."""

    def __init__(self, name, opset, notes="", ir=None, external=False, atol=1e-5):
        self.name = name
        self.opset = opset
        self.notes = notes
        self.ir = ir if ir is not None else ir_for_opset(opset)
        self.external = external
        self.atol = atol
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.nodes = []
        self.inputs = []  # (name, declared_shape, array)
        self.outputs = []
        self.output_dtypes = {}  # name -> numpy dtype, for outputs that are not float32
        self.inits = []
        self._n = 0

    # ---- graph pieces -------------------------------------------------
    def input(self, name, shape, dyn=False, low=None, high=None):
        shape = list(shape)
        if low is not None:
            arr = self.rng.uniform(low, high, size=shape).astype(np.float32)
        else:
            arr = self.rng.standard_normal(size=shape).astype(np.float32)
        declared = list(shape)
        if dyn:
            declared[0] = BATCH_SYMBOL
        self.inputs.append((name, declared, np.ascontiguousarray(arr)))
        return name

    def input_i64(self, name, shape, low, high, dyn=False):
        """An int64 graph input with uniform integers in [low, high)."""
        arr = self.rng.integers(low, high, size=list(shape), dtype=np.int64)
        declared = list(shape)
        if dyn:
            declared[0] = BATCH_SYMBOL
        self.inputs.append((name, declared, np.ascontiguousarray(arr)))
        return name

    def input_bool(self, name, shape):
        """A bool graph input with random elements."""
        arr = self.rng.integers(0, 2, size=list(shape)).astype(np.bool_)
        self.inputs.append((name, list(shape), np.ascontiguousarray(arr)))
        return name

    def init(self, name, arr, typed=False):
        arr = np.asarray(arr)
        if typed:
            t = helper.make_tensor(name, NP_TO_ONNX[arr.dtype], arr.shape,
                                   arr.flatten().tolist(), raw=False)
        else:
            t = numpy_helper.from_array(arr, name)
        self.inits.append(t)
        return name

    def w(self, name, shape, scale=0.5, typed=False):
        arr = (self.rng.standard_normal(size=shape) * scale).astype(np.float32)
        return self.init(name, arr, typed=typed)

    def pos(self, name, shape, low=0.5, high=1.5):
        arr = self.rng.uniform(low, high, size=shape).astype(np.float32)
        return self.init(name, arr)

    def f32(self, name, vals):
        return self.init(name, np.asarray(vals, dtype=np.float32))

    def i64(self, name, vals):
        return self.init(name, np.asarray(vals, dtype=np.int64))

    def node(self, op, ins, outs=None, **attrs):
        if outs is None:
            self._n += 1
            outs = [f"{op.lower()}_{self._n}"]
        elif isinstance(outs, str):
            outs = [outs]
        self.nodes.append(helper.make_node(op, list(ins), list(outs),
                                           name=f"{op}_{len(self.nodes)}", **attrs))
        return outs[0] if len(outs) == 1 else outs

    def output(self, *names, dtype=np.float32):
        self.outputs.extend(names)
        for n in names:
            self.output_dtypes[n] = np.dtype(dtype)

    # ---- model --------------------------------------------------------
    def make_model(self, output_types=None):
        ins = [helper.make_tensor_value_info(n, NP_TO_ONNX[a.dtype], s) for n, s, a in self.inputs]
        if output_types is None:
            outs = [helper.make_tensor_value_info(n, NP_TO_ONNX[self.output_dtypes.get(n, np.dtype(np.float32))], None)
                    for n in self.outputs]
        else:
            outs = output_types
        graph = helper.make_graph(self.nodes, self.name, ins, outs, initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="mpq-make_onnx_fixtures")
        model.ir_version = self.ir
        return model


CASES = []
REFUSED = []  # (case, reason)


def add(c):
    CASES.append(c)
    return c


# =========================================================================
# Case definitions
# =========================================================================

def conv_cases():
    def conv(name, opset, x_shape, w_shape, bias=True, dyn=False, notes="", **attrs):
        c = Case(name, opset, notes=notes)
        x = c.input("x", x_shape, dyn=dyn)
        ins = [x, c.w("W", w_shape)]
        if bias:
            ins.append(c.w("B", [w_shape[0]]))
        c.output(c.node("Conv", ins, "y", **attrs))
        add(c)

    conv("conv_3x3", 11, [1, 3, 8, 8], [4, 3, 3, 3], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
         notes="plain 3x3, pad 1, stride 1")
    conv("conv_stride2", 12, [2, 3, 9, 9], [4, 3, 3, 3], dyn=True, kernel_shape=[3, 3],
         strides=[2, 2], pads=[1, 1, 1, 1], notes="stride 2 pad 1; symbolic batch N")
    conv("conv_asym_pads", 13, [1, 3, 6, 7], [4, 3, 3, 3], pads=[0, 1, 1, 0],
         notes="asymmetric pads [top=0,left=1,bottom=1,right=0]; kernel_shape omitted (inferred from W)")
    conv("conv_asym_pads2", 17, [1, 2, 5, 5], [3, 2, 3, 3], kernel_shape=[3, 3],
         pads=[2, 0, 1, 2], strides=[1, 2], notes="asymmetric pads [2,0,1,2] with strides [1,2]")
    conv("conv_dilation2", 14, [1, 3, 9, 9], [4, 3, 3, 3], kernel_shape=[3, 3],
         dilations=[2, 2], pads=[2, 2, 2, 2], notes="dilation 2, pad 2")
    conv("conv_dilation_2x1", 18, [1, 2, 8, 7], [3, 2, 3, 3], kernel_shape=[3, 3],
         dilations=[2, 1], pads=[0, 0, 0, 0], notes="dilations [2,1], no padding")
    conv("conv_group2", 15, [2, 4, 6, 6], [6, 2, 3, 3], group=2, kernel_shape=[3, 3],
         pads=[1, 1, 1, 1], notes="group=2, C_in=4, C_out=6")
    conv("conv_depthwise", 16, [2, 4, 7, 7], [4, 1, 3, 3], dyn=True, group=4, kernel_shape=[3, 3],
         pads=[1, 1, 1, 1], notes="depthwise group=C=4, multiplier 1; symbolic batch N")
    conv("conv_depthwise_mult2", 17, [1, 4, 6, 6], [8, 1, 3, 3], group=4, kernel_shape=[3, 3],
         strides=[2, 2], pads=[1, 1, 1, 1], notes="depthwise group=4, channel multiplier 2 (C_out=8), stride 2")
    conv("conv_1x1", 18, [2, 5, 4, 4], [3, 5, 1, 1], kernel_shape=[1, 1], notes="pointwise 1x1")
    conv("conv_odd_7x9", 19, [1, 3, 7, 9], [4, 3, 3, 3], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
         strides=[2, 2], notes="odd spatial 7x9, stride 2")
    conv("conv_no_bias", 20, [1, 3, 6, 6], [4, 3, 3, 3], bias=False, kernel_shape=[3, 3],
         pads=[1, 1, 1, 1], notes="no bias input")
    conv("conv_same_upper", 21, [1, 3, 8, 8], [4, 3, 3, 3], auto_pad="SAME_UPPER",
         kernel_shape=[3, 3], strides=[2, 2],
         notes="auto_pad SAME_UPPER, stride 2 (total pad 1 is odd -> extra pad at end)")
    conv("conv_same_lower", 21, [1, 3, 8, 8], [4, 3, 3, 3], auto_pad="SAME_LOWER",
         kernel_shape=[3, 3], strides=[2, 2],
         notes="auto_pad SAME_LOWER, stride 2 (total pad 1 is odd -> extra pad at beginning)")
    conv("conv_same_upper_k4", 13, [1, 2, 7, 7], [3, 2, 4, 4], auto_pad="SAME_UPPER",
         kernel_shape=[4, 4], notes="auto_pad SAME_UPPER, even kernel 4, stride 1 (total pad 3)")
    conv("conv_valid", 11, [1, 3, 7, 8], [4, 3, 3, 3], auto_pad="VALID", kernel_shape=[3, 3],
         strides=[2, 2], notes="auto_pad VALID, stride 2")
    conv("conv_kernel_5x3", 14, [1, 3, 9, 8], [4, 3, 5, 3], kernel_shape=[5, 3],
         pads=[2, 1, 2, 1], notes="non-square kernel 5x3")


def gemm_cases():
    def gemm(name, opset, a_shape, b_shape, c_shape, dyn=False, b_input=False, notes="", **attrs):
        c = Case(name, opset, notes=notes)
        a = c.input("A", a_shape, dyn=dyn)
        b = c.input("B", b_shape) if b_input else c.w("B", b_shape)
        ins = [a, b]
        if c_shape is not None:
            ins.append(c.w("C", c_shape))
        c.output(c.node("Gemm", ins, "Y", **attrs))
        add(c)

    gemm("gemm_basic", 11, [3, 4], [4, 5], [5], notes="C shape [N]")
    gemm("gemm_transA", 13, [4, 3], [4, 5], [5], transA=1, notes="transA=1")
    gemm("gemm_transB", 13, [2, 4], [5, 4], [5], dyn=True, transB=1,
         notes="transB=1 (PyTorch Linear layout); symbolic batch N on A")
    gemm("gemm_transA_transB", 11, [4, 3], [5, 4], [1, 5], transA=1, transB=1,
         notes="transA=1 transB=1, C shape [1,N]")
    gemm("gemm_alpha_beta", 13, [3, 4], [4, 5], [3, 5], alpha=0.5, beta=2.0,
         notes="alpha 0.5 beta 2.0, full C [M,N]")
    gemm("gemm_bias_1xN", 17, [3, 4], [4, 5], [1, 5], notes="C shape [1,N]")
    gemm("gemm_bias_scalar", 19, [3, 4], [4, 5], [], beta=0.5, notes="C scalar (shape []), beta 0.5")
    gemm("gemm_bias_Mx1", 13, [3, 4], [4, 5], [3, 1], notes="C shape [M,1] broadcast along N")
    gemm("gemm_no_c", 21, [3, 4], [4, 5], None, alpha=1.5, notes="C omitted (opset 11+), alpha 1.5")
    gemm("gemm_both_inputs", 14, [3, 4], [5, 4], [5], b_input=True, transB=1,
         notes="A and B both graph inputs, transB=1")

    def matmul(name, opset, a_shape, b_shape, b_input=True, dyn=False, notes=""):
        c = Case(name, opset, notes=notes)
        a = c.input("A", a_shape, dyn=dyn)
        b = c.input("B", b_shape) if b_input else c.w("B", b_shape)
        c.output(c.node("MatMul", [a, b], "Y"))
        add(c)

    matmul("matmul_2d", 11, [3, 4], [4, 5], b_input=False, notes="2D x 2D, B initializer")
    matmul("matmul_3d_3d", 13, [2, 3, 4], [2, 4, 5], notes="batched 3D x 3D, both graph inputs")
    matmul("matmul_3d_2d", 14, [2, 3, 4], [4, 5], b_input=False, dyn=True,
           notes="3D x 2D broadcast (B initializer); symbolic batch N")
    matmul("matmul_4d_bcast", 17, [2, 1, 3, 4], [1, 3, 4, 5],
           notes="4D x 4D broadcasting batch dims [2,1]x[1,3] -> [2,3]")
    matmul("matmul_1d_2d", 21, [4], [4, 5], b_input=False, notes="1D x 2D -> [5]")
    matmul("matmul_2d_1d", 13, [3, 4], [4], b_input=False, notes="2D x 1D -> [3]")


def eltwise_cases():
    def binop(name, opset, op, a_shape, b_shape, b_input=False, dyn=False, swap=False,
              b_low=None, b_high=None, notes=""):
        c = Case(name, opset, notes=notes)
        a = c.input("A", a_shape, dyn=dyn)
        if b_input:
            b = c.input("B", b_shape, low=b_low, high=b_high)
        elif b_low is not None:
            b = c.pos("B", b_shape, b_low, b_high)
        else:
            b = c.w("B", b_shape, scale=1.0)
        ins = [b, a] if swap else [a, b]
        c.output(c.node(op, ins, "Y"))
        add(c)

    binop("add_bcast_c11", 11, "Add", [2, 3, 4, 5], [3, 1, 1], notes="[2,3,4,5] + [3,1,1] (per-channel)")
    binop("add_both_inputs", 14, "Add", [2, 3, 4, 5], [3, 1, 1], b_input=True, dyn=True,
          notes="both graph inputs, B [3,1,1]; symbolic batch N on A")
    binop("add_same_shape", 13, "Add", [2, 3, 4, 5], [2, 3, 4, 5], b_input=True, notes="same shape")
    binop("sub_bcast_141", 13, "Sub", [2, 3, 4, 5], [1, 4, 1], notes="[2,3,4,5] - [1,4,1]")
    binop("sub_lhs_small", 14, "Sub", [2, 3, 4, 5], [3, 1, 1], b_input=True, swap=True,
          notes="broadcast on the LEFT operand: B[3,1,1] - A[2,3,4,5] (input order: A then B)")
    binop("mul_scalar", 13, "Mul", [2, 3, 4, 5], [], notes="multiply by scalar initializer (shape [])")
    binop("mul_bcast_5", 18, "Mul", [2, 3, 4, 5], [5], b_input=True, notes="[2,3,4,5] * [5], both inputs")
    binop("div_bcast_5", 14, "Div", [2, 3, 4, 5], [5], b_low=0.5, b_high=2.0,
          notes="[2,3,4,5] / [5] initializer in [0.5,2]")
    binop("div_both_inputs", 21, "Div", [2, 3, 4, 5], [1, 4, 1], b_input=True, b_low=0.5, b_high=2.0,
          notes="both graph inputs, divisor [1,4,1] in [0.5,2]")
    binop("div_scalar", 11, "Div", [2, 3, 4, 5], [], b_low=0.5, b_high=2.0, notes="divide by scalar")


def activation_cases():
    def unary(name, opset, op, shape=(2, 3, 4, 5), dyn=False, extra_inputs=(), notes="", **attrs):
        c = Case(name, opset, notes=notes)
        x = c.input("x", list(shape), dyn=dyn, low=-4.0, high=4.0)
        ins = [x]
        for nm, val in extra_inputs:
            if nm == "":
                ins.append("")
            else:
                ins.append(c.f32(nm, val))
        c.output(c.node(op, ins, "y", **attrs))
        add(c)

    unary("relu", 11, "Relu", dyn=True, notes="symbolic batch N")
    unary("relu_o14", 14, "Relu")
    unary("clip_0_6", 11, "Clip", extra_inputs=[("min", 0.0), ("max", 6.0)],
          notes="ReLU6 style, min/max scalar initializers (opset 11 input form)")
    unary("clip_minmax_o13", 13, "Clip", extra_inputs=[("min", -1.5), ("max", 2.0)], dyn=True,
          notes="min -1.5 max 2.0 as scalar initializers; symbolic batch N")
    unary("clip_min_only", 13, "Clip", extra_inputs=[("min", -0.5)], notes="only min given")
    unary("clip_max_only", 12, "Clip", extra_inputs=[("", None), ("max", 1.0)],
          notes="min omitted via empty input name '', max 1.0")
    unary("clip_no_bounds", 21, "Clip", notes="no min/max -> identity")
    unary("leaky_relu", 11, "LeakyRelu", alpha=0.1, notes="alpha 0.1")
    unary("leaky_relu_default", 16, "LeakyRelu", notes="default alpha 0.01")
    unary("sigmoid", 13, "Sigmoid")
    unary("tanh", 13, "Tanh")
    unary("hard_sigmoid", 11, "HardSigmoid", alpha=0.2, beta=0.5, notes="explicit alpha 0.2 beta 0.5")
    unary("hard_sigmoid_default", 21, "HardSigmoid", notes="no attributes (defaults alpha 0.2 beta 0.5)")
    unary("hard_sigmoid_custom", 13, "HardSigmoid", alpha=1.0 / 6.0, beta=0.5,
          notes="alpha 1/6 beta 0.5 (hard-swish style gate)")
    unary("hard_swish", 14, "HardSwish", notes="HardSwish (opset 14)")

    # Softmax / LogSoftmax
    for op, pre in (("Softmax", "softmax"), ("LogSoftmax", "log_softmax")):
        unary(f"{pre}_o11_axis1_4d", 11, op, shape=(2, 3, 4, 5), axis=1,
              notes="opset 11: input coerced to 2D [2, 3*4*5] and normalised over the 60 flattened elements")
        unary(f"{pre}_o11_axis1_3d", 11, op, shape=(2, 3, 4), axis=1,
              notes="opset 11: coerced to 2D [2, 12]; normalised over the last 12")
        unary(f"{pre}_o11_default_2d", 11, op, shape=(3, 7), dyn=True,
              notes="opset 11 default axis=1 on 2D (same in all opsets); symbolic batch N")
        unary(f"{pre}_o13_axis_m1", 13, op, shape=(2, 3, 4, 5), axis=-1,
              notes="opset 13: per-axis softmax over last axis")
        unary(f"{pre}_o13_axis1", 13, op, shape=(2, 3, 4, 5), axis=1,
              notes="opset 13: per-axis softmax over channel axis only (differs from opset 11!)")
    unary("softmax_o13_default", 13, "Softmax", shape=(2, 3, 4), notes="opset 13 default axis=-1")
    unary("log_softmax_o21_default", 21, "LogSoftmax", shape=(2, 3, 4), notes="opset 21 default axis=-1")


def pool_cases():
    def pool(name, opset, op, shape, dyn=False, notes="", **attrs):
        c = Case(name, opset, notes=notes)
        x = c.input("x", shape, dyn=dyn)
        c.output(c.node(op, [x], "y", **attrs))
        add(c)

    pool("maxpool_k3s2p1", 11, "MaxPool", [2, 3, 8, 8], dyn=True, kernel_shape=[3, 3],
         strides=[2, 2], pads=[1, 1, 1, 1], notes="kernel 3 stride 2 pad 1; symbolic batch N")
    pool("maxpool_k2s2", 13, "MaxPool", [1, 3, 8, 8], kernel_shape=[2, 2], strides=[2, 2],
         notes="kernel 2 stride 2, no pads")
    pool("maxpool_ceil", 12, "MaxPool", [1, 2, 8, 9], kernel_shape=[3, 3], strides=[2, 2],
         ceil_mode=1, notes="ceil_mode=1, odd/even sizes 8x9")
    pool("maxpool_dilations", 12, "MaxPool", [1, 2, 9, 9], kernel_shape=[3, 3], strides=[1, 1],
         dilations=[2, 2], notes="dilations 2")
    pool("maxpool_odd_7x9", 18, "MaxPool", [1, 3, 7, 9], kernel_shape=[3, 3], strides=[2, 2],
         pads=[1, 1, 1, 1], notes="odd spatial 7x9")
    pool("maxpool_asym_pads", 21, "MaxPool", [1, 2, 6, 7], kernel_shape=[3, 2], strides=[1, 2],
         pads=[0, 1, 2, 0], notes="non-square kernel 3x2, asymmetric pads")
    pool("maxpool_same_upper", 13, "MaxPool", [1, 2, 7, 7], kernel_shape=[3, 3], strides=[2, 2],
         auto_pad="SAME_UPPER", notes="auto_pad SAME_UPPER")

    pool("avgpool_pad_excl", 11, "AveragePool", [2, 3, 8, 8], kernel_shape=[3, 3], strides=[2, 2],
         pads=[1, 1, 1, 1], count_include_pad=0, notes="count_include_pad=0 with pads 1")
    pool("avgpool_pad_incl", 13, "AveragePool", [2, 3, 8, 8], kernel_shape=[3, 3], strides=[2, 2],
         pads=[1, 1, 1, 1], count_include_pad=1, notes="count_include_pad=1 with pads 1")
    pool("avgpool_ceil", 19, "AveragePool", [1, 2, 8, 9], kernel_shape=[3, 3], strides=[2, 2],
         ceil_mode=1, notes="ceil_mode=1, no pads (last window partially outside)")
    pool("avgpool_ceil_pads_incl", 19, "AveragePool", [1, 2, 7, 8], kernel_shape=[3, 3],
         strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1,
         notes="ceil_mode=1 + pads + count_include_pad=1: windows past the padded edge; "
               "ORT divides by the window size clipped to the padded extent (same as PyTorch "
               "avg_pool2d(ceil_mode=True, count_include_pad=True))")
    pool("avgpool_k2s2", 21, "AveragePool", [1, 3, 6, 6], dyn=True, kernel_shape=[2, 2], strides=[2, 2],
         notes="kernel 2 stride 2; symbolic batch N")
    pool("avgpool_dilations", 19, "AveragePool", [1, 2, 9, 9], kernel_shape=[3, 3],
         dilations=[2, 2], notes="AveragePool dilations (opset 19)")
    pool("global_avgpool", 11, "GlobalAveragePool", [2, 4, 7, 9], dyn=True,
         notes="odd spatial 7x9; symbolic batch N")
    pool("global_avgpool_o21", 21, "GlobalAveragePool", [1, 3, 5, 5])


def shape_cases():
    X = [2, 3, 4, 5]

    for axis, opset in ((0, 11), (1, 13), (2, 21), (-1, 13)):
        nm = f"flatten_axis{axis}" if axis >= 0 else "flatten_axis_m1"
        c = Case(nm, opset, notes=f"Flatten axis={axis} on [2,3,4,5]")
        c.output(c.node("Flatten", [c.input("x", X, dyn=(axis == 1))], "y", axis=axis))
        add(c)
    c = Case("flatten_default", 11, notes="Flatten default axis=1")
    c.output(c.node("Flatten", [c.input("x", X)], "y"))
    add(c)

    for nm, opset, shape, dyn in (("reshape_0_m1", 13, [0, -1], True),
                                  ("reshape_0_0_m1", 14, [0, 0, -1], False),
                                  ("reshape_m1_20", 11, [-1, 20], False),
                                  ("reshape_6d", 21, [2, 1, 3, 2, 2, 5], False)):
        c = Case(nm, opset, notes=f"Reshape [2,3,4,5] -> {shape} (shape int64 initializer)"
                 + ("; symbolic batch N" if dyn else ""))
        c.output(c.node("Reshape", [c.input("x", X, dyn=dyn), c.i64("shape", shape)], "y"))
        add(c)

    c = Case("transpose_perm", 13, notes="Transpose perm [0,2,3,1] (NCHW->NHWC)")
    c.output(c.node("Transpose", [c.input("x", X, dyn=True)], "y", perm=[0, 2, 3, 1]))
    add(c)
    c = Case("transpose_default", 11, notes="Transpose without perm = reverse dims")
    c.output(c.node("Transpose", [c.input("x", X)], "y"))
    add(c)
    c = Case("transpose_3d", 21, notes="Transpose perm [1,0,2]")
    c.output(c.node("Transpose", [c.input("x", [2, 3, 4])], "y", perm=[1, 0, 2]))
    add(c)

    c = Case("concat_axis1", 11, notes="3 inputs along channels (2 graph inputs + 1 initializer)")
    a = c.input("a", [2, 3, 4, 4])
    b = c.input("b", [2, 2, 4, 4])
    c.output(c.node("Concat", [a, b, c.w("k", [2, 1, 4, 4])], "y", axis=1))
    add(c)
    c = Case("concat_axis_m1", 13, notes="3 graph inputs, axis=-1; symbolic batch N")
    ins = [c.input("a", [2, 3, 4], dyn=True), c.input("b", [2, 3, 1], dyn=True),
           c.input("c", [2, 3, 2], dyn=True)]
    c.output(c.node("Concat", ins, "y", axis=-1))
    add(c)
    c = Case("concat_axis0", 18, notes="3 inputs along axis 0")
    ins = [c.input("a", [1, 3]), c.input("b", [2, 3]), c.input("c", [3, 3])]
    c.output(c.node("Concat", ins, "y", axis=0))
    add(c)

    # Squeeze / Unsqueeze
    c = Case("squeeze_o11_attr", 11, notes="Squeeze axes attribute [1,3]")
    c.output(c.node("Squeeze", [c.input("x", [2, 1, 4, 1])], "y", axes=[1, 3]))
    add(c)
    c = Case("squeeze_o11_neg", 11, notes="Squeeze axes attribute [-1]")
    c.output(c.node("Squeeze", [c.input("x", [2, 3, 1])], "y", axes=[-1]))
    add(c)
    c = Case("squeeze_o11_noaxes", 11, notes="Squeeze with no axes: remove all size-1 dims")
    c.output(c.node("Squeeze", [c.input("x", [1, 3, 1, 5])], "y"))
    add(c)
    c = Case("squeeze_o13_input", 13, notes="Squeeze axes as int64 input [1,-1]")
    c.output(c.node("Squeeze", [c.input("x", [2, 1, 4, 1]), c.i64("axes", [1, -1])], "y"))
    add(c)
    c = Case("unsqueeze_o11_attr", 11, notes="Unsqueeze axes attribute [0,3]")
    c.output(c.node("Unsqueeze", [c.input("x", [3, 4, 5])], "y", axes=[0, 3]))
    add(c)
    c = Case("unsqueeze_o13_input", 13, notes="Unsqueeze axes input [1,-1] (negative relative to output rank)")
    c.output(c.node("Unsqueeze", [c.input("x", [2, 3, 4]), c.i64("axes", [1, -1])], "y"))
    add(c)
    c = Case("unsqueeze_o21_input", 21, notes="Unsqueeze axes input [2,3] on [N,C] -> [N,C,1,1]; symbolic batch N")
    c.output(c.node("Unsqueeze", [c.input("x", [2, 6], dyn=True), c.i64("axes", [2, 3])], "y"))
    add(c)

    # Pad
    pads4 = [0, 0, 1, 2, 0, 0, 2, 1]
    c = Case("pad_constant_value", 11, notes="mode constant, pads input [0,0,1,2,0,0,2,1], constant_value 0.5")
    c.output(c.node("Pad", [c.input("x", [1, 2, 4, 5]), c.i64("pads", pads4), c.f32("value", 0.5)],
                    "y", mode="constant"))
    add(c)
    c = Case("pad_constant_default", 13, notes="mode attribute omitted (constant), no constant_value (0)")
    c.output(c.node("Pad", [c.input("x", [1, 2, 4, 5]), c.i64("pads", pads4)], "y"))
    add(c)
    c = Case("pad_reflect", 11, notes="mode reflect, pads [0,0,1,2,0,0,2,1]")
    c.output(c.node("Pad", [c.input("x", [1, 2, 4, 5]), c.i64("pads", pads4)], "y", mode="reflect"))
    add(c)
    c = Case("pad_edge", 13, notes="mode edge, pads [0,0,1,2,0,0,2,1]")
    c.output(c.node("Pad", [c.input("x", [1, 2, 4, 5]), c.i64("pads", pads4)], "y", mode="edge"))
    add(c)
    c = Case("pad_edge_o18_axes", 18, notes="opset 18 axes input [2,3] with pads [1,0,0,2], mode edge")
    c.output(c.node("Pad", [c.input("x", [1, 2, 4, 5]), c.i64("pads", [1, 0, 0, 2]), "",
                            c.i64("axes", [2, 3])], "y", mode="edge"))
    add(c)
    c = Case("pad_reflect_o21", 21, notes="mode reflect opset 21, pads [0,0,2,1,0,0,1,3]")
    c.output(c.node("Pad", [c.input("x", [1, 2, 4, 5]), c.i64("pads", [0, 0, 2, 1, 0, 0, 1, 3])],
                    "y", mode="reflect"))
    add(c)
    c = Case("pad_wrap_o19", 19, notes="mode wrap (opset 19), pads [0,0,1,2,0,0,2,1]")
    c.output(c.node("Pad", [c.input("x", [1, 2, 4, 5]), c.i64("pads", pads4)], "y", mode="wrap"))
    add(c)

    # ReduceMean
    c = Case("reducemean_o13_keep", 13, notes="axes attribute [2,3], keepdims=1 (global average)")
    c.output(c.node("ReduceMean", [c.input("x", X, dyn=True)], "y", axes=[2, 3], keepdims=1))
    add(c)
    c = Case("reducemean_o13_nokeep_neg", 13, notes="axes attribute [-1], keepdims=0")
    c.output(c.node("ReduceMean", [c.input("x", X)], "y", axes=[-1], keepdims=0))
    add(c)
    c = Case("reducemean_o11_default", 11, notes="no axes attribute -> reduce all, keepdims default 1")
    c.output(c.node("ReduceMean", [c.input("x", X)], "y"))
    add(c)
    c = Case("reducemean_o18_input_nokeep", 18, notes="axes as input [2,3], keepdims=0")
    c.output(c.node("ReduceMean", [c.input("x", X), c.i64("axes", [2, 3])], "y", keepdims=0))
    add(c)
    c = Case("reducemean_o18_input_neg", 18, notes="axes as input [-2,-1], keepdims=1 default")
    c.output(c.node("ReduceMean", [c.input("x", X), c.i64("axes", [-2, -1])], "y"))
    add(c)
    c = Case("reducemean_o18_noaxes", 21, notes="opset 18+ no axes input -> reduce all, keepdims=0")
    c.output(c.node("ReduceMean", [c.input("x", X)], "y", keepdims=0))
    add(c)

    # Identity / Dropout
    c = Case("identity", 14, notes="Identity")
    c.output(c.node("Identity", [c.input("x", X)], "y"))
    add(c)
    c = Case("dropout_o13", 13, notes="Dropout inference (no ratio / training_mode) = identity")
    c.output(c.node("Dropout", [c.input("x", X)], "y"))
    add(c)
    c = Case("dropout_o13_ratio_mask", 13,
             notes="Dropout with ratio initializer 0.3 and unused mask output; inference = identity")
    c.output(c.node("Dropout", [c.input("x", X), c.f32("ratio", 0.3)], ["y", "mask"])[0])
    add(c)


def graph_cases():
    # (a) Conv -> BN -> Relu
    c = Case("conv_bn_relu", 12, notes="Conv -> BatchNormalization(eps 1e-3, non-trivial stats) -> Relu; symbolic batch N")
    x = c.input("x", [2, 3, 6, 6], dyn=True)
    y = c.node("Conv", [x, c.w("W", [4, 3, 3, 3]), c.w("B", [4])], "conv_out",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y = c.node("BatchNormalization", [y, c.pos("bn_scale", [4]), c.w("bn_bias", [4]),
                                      c.w("bn_mean", [4]), c.pos("bn_var", [4], 0.3, 2.0)],
               "bn_out", epsilon=1e-3)
    c.output(c.node("Relu", [y], "y"))
    add(c)

    c = Case("conv_bn_relu_o15", 15, notes="same as conv_bn_relu at opset 15 (BN-15), conv without bias")
    x = c.input("x", [1, 3, 6, 6])
    y = c.node("Conv", [x, c.w("W", [4, 3, 3, 3])], "conv_out", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y = c.node("BatchNormalization", [y, c.pos("bn_scale", [4]), c.w("bn_bias", [4]),
                                      c.w("bn_mean", [4]), c.pos("bn_var", [4], 0.3, 2.0)],
               "bn_out", epsilon=1e-3)
    c.output(c.node("Relu", [y], "y"))
    add(c)

    c = Case("gemm_bn", 14, notes="Gemm(transB) -> BatchNormalization on 2D [N,C], eps 1e-3")
    x = c.input("x", [3, 5])
    y = c.node("Gemm", [x, c.w("W", [4, 5]), c.w("B", [4])], "fc", transB=1)
    c.output(c.node("BatchNormalization", [y, c.pos("bn_scale", [4]), c.w("bn_bias", [4]),
                                           c.w("bn_mean", [4]), c.pos("bn_var", [4], 0.3, 2.0)],
                    "y", epsilon=1e-3))
    add(c)

    # (b) Constant nodes
    c = Case("constant_subgraph", 13,
             notes="Constant -> Mul(Constant) computes the Conv weight; Constant bias; Constant added to activations")
    x = c.input("x", [1, 3, 6, 6])
    w0 = c.rng.standard_normal([4, 3, 3, 3]).astype(np.float32)
    c.node("Constant", [], "w_base", value=numpy_helper.from_array(w0, "w_base"))
    c.node("Constant", [], "w_scale", value=numpy_helper.from_array(np.array(0.5, np.float32), "w_scale"))
    w = c.node("Mul", ["w_base", "w_scale"], "w_eff")
    bconst = c.rng.standard_normal([4]).astype(np.float32)
    c.node("Constant", [], "conv_b", value=numpy_helper.from_array(bconst, "conv_b"))
    y = c.node("Conv", [x, w, "conv_b"], "conv_out", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    shift = c.rng.standard_normal([4, 1, 1]).astype(np.float32)
    c.node("Constant", [], "shift", value=numpy_helper.from_array(shift, "shift"))
    c.output(c.node("Add", [y, "shift"], "y"))
    add(c)

    c = Case("constant_attr_forms", 13,
             notes="Constant with value_float (scalar) and value_floats (1D) attributes feeding Add/Mul")
    x = c.input("x", [2, 3, 4, 5])
    c.node("Constant", [], "k_scalar", value_float=0.25)
    c.node("Constant", [], "k_vec", value_floats=[1.0, -2.0, 0.5, 3.0, -0.75])
    y = c.node("Add", [x, "k_scalar"], "t")
    c.output(c.node("Mul", [y, "k_vec"], "y"))
    add(c)

    # (c) typed-field initializers
    c = Case("typed_initializers", 13,
             notes="initializers in typed fields (float_data, int64_data, int32_data, double_data) "
                   "instead of raw_data; int32/float64 are converted with Cast(to=FLOAT)")
    x = c.input("x", [2, 3, 4, 4])
    y = c.node("Conv", [x, c.w("W", [4, 3, 3, 3], typed=True), c.w("B", [4], typed=True)], "conv_out",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    i32 = c.init("offs_i32", np.array([[[1]], [[-2]], [[3]], [[0]]], dtype=np.int32), typed=True)
    f64 = c.init("scale_f64", (c.rng.uniform(0.5, 1.5, [4, 1, 1])).astype(np.float64), typed=True)
    y = c.node("Add", [y, c.node("Cast", [i32], "offs_f32", to=TensorProto.FLOAT)], "t0")
    y = c.node("Mul", [y, c.node("Cast", [f64], "scale_f32", to=TensorProto.FLOAT)], "t1")
    c.output(c.node("Reshape", [y, c.init("shape", np.array([0, -1], np.int64), typed=True)], "y"))
    add(c)

    # (d) external data
    c = Case("external_data", 13, external=True,
             notes="all initializers (float Conv/Gemm weights) in side file weights.bin "
                   "(save_as_external_data, size_threshold=0)")
    x = c.input("x", [1, 3, 5, 5])
    y = c.node("Conv", [x, c.w("W", [4, 3, 3, 3]), c.w("B", [4])], "conv_out",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y = c.node("Relu", [y], "r")
    # NB: an int64 Reshape shape stored externally makes ORT (1.32) fail at load
    # ("Cannot parse data from external tensors"), so Flatten is used here instead.
    y = c.node("Flatten", [y], "flat", axis=1)
    c.output(c.node("Gemm", [y, c.w("fc_W", [3, 100], scale=0.1), c.w("fc_B", [3])], "y", transB=1))
    add(c)

    # (e) chain of Identity / Dropout
    c = Case("identity_dropout_chain", 13,
             notes="Identity -> Dropout -> Identity -> Dropout(ratio, mask unused) -> Relu -> Identity")
    y = c.input("x", [2, 3, 4, 5], dyn=True)
    y = c.node("Identity", [y], "i0")
    y = c.node("Dropout", [y], "d0")
    y = c.node("Identity", [y], "i1")
    y = c.node("Dropout", [y, c.f32("ratio", 0.5)], ["d1", "d1_mask"])[0]
    y = c.node("Relu", [y], "r")
    c.output(c.node("Identity", [y], "y"))
    add(c)

    # (f) small CNN
    def small_cnn(name, opset, dyn):
        c = Case(name, opset, notes="Conv,Relu,MaxPool,depthwise Conv,Clip(0,6),Add residual,"
                                    "GlobalAveragePool,Flatten,Gemm,Softmax"
                                    + ("; symbolic batch N" if dyn else ""))
        x = c.input("x", [2, 3, 16, 16], dyn=dyn)
        y = c.node("Conv", [x, c.w("c1_W", [8, 3, 3, 3], 0.3), c.w("c1_B", [8], 0.1)], "c1",
                   kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
        y = c.node("Relu", [y], "r1")
        p = c.node("MaxPool", [y], "p1", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        y = c.node("Conv", [p, c.w("dw_W", [8, 1, 3, 3], 0.5), c.w("dw_B", [8], 0.1)], "dw",
                   kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8)
        y = c.node("Clip", [y, c.f32("clip_min", 0.0), c.f32("clip_max", 6.0)], "clip")
        y = c.node("Add", [y, p], "res")
        y = c.node("GlobalAveragePool", [y], "gap")
        y = c.node("Flatten", [y], "flat", axis=1)
        y = c.node("Gemm", [y, c.w("fc_W", [5, 8], 0.5), c.w("fc_B", [5], 0.1)], "logits", transB=1)
        c.output(c.node("Softmax", [y], "prob", axis=1))
        add(c)

    small_cnn("small_cnn_o11", 11, False)
    small_cnn("small_cnn_o21", 21, True)

    # (g) two inputs, two outputs
    c = Case("two_in_two_out", 13,
             notes="inputs a,b; outputs y0 = Relu(Conv3x3(a)) + b, y1 = Sigmoid(a * Conv1x1(b)); symbolic batch N")
    a = c.input("a", [2, 3, 5, 5], dyn=True)
    b = c.input("b", [2, 4, 5, 5], dyn=True)
    y = c.node("Conv", [a, c.w("W", [4, 3, 3, 3]), c.w("B", [4])], "conv_out",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y0 = c.node("Add", [c.node("Relu", [y], "r"), b], "y0")
    b3 = c.node("Conv", [b, c.w("W2", [3, 4, 1, 1])], "b3", kernel_shape=[1, 1])
    y1 = c.node("Sigmoid", [c.node("Mul", [a, b3], "ab")], "y1")
    c.output(y0, y1)
    add(c)

    # (h) int64 + bool initializers
    c = Case("int64_bool_initializers", 13,
             notes="int64 initializer used by Reshape; bool initializer used as Dropout training_mode=false; "
                   "plus an unused bool and an unused int64 initializer")
    x = c.input("x", [2, 3, 4, 5])
    y = c.node("Dropout", [x, c.f32("ratio", 0.25), c.init("training_mode", np.array(False))], "d")
    c.init("unused_bool", np.array([True, False, True], dtype=np.bool_))
    c.init("unused_i64", np.array([[1, -2], [3, 4]], dtype=np.int64))
    c.output(c.node("Reshape", [y, c.i64("shape", [2, 3, -1])], "y"))
    add(c)


# =========================================================================
# Running / writing
# =========================================================================

def transformer_cases():
    """Operators used by BERT-style transformer exports (TorchScript opset 17 and dynamo opset 18)."""
    I64MAX, I64MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min

    # Gather
    c = Case("gather_axis0_neg", 13, notes="Gather axis 0, 2-D indices with negative entries")
    c.output(c.node("Gather", [c.input("x", [5, 4]), c.i64("idx", [[0, -1], [2, -5]])], "y", axis=0))
    add(c)
    c = Case("gather_axis1", 13, notes="Gather axis 1 of [2,5,3] with indices [4,-2,0]")
    c.output(c.node("Gather", [c.input("x", [2, 5, 3]), c.i64("idx", [4, -2, 0])], "y", axis=1))
    add(c)
    c = Case("gather_scalar_axis_m1", 11, notes="Gather axis -1 with a scalar index (drops the axis)")
    c.output(c.node("Gather", [c.input("x", [2, 3, 4]), c.i64("idx", np.array(-2))], "y", axis=-1))
    add(c)
    c = Case("gather_embedding_int64_ids", 17, notes="embedding lookup: float table initializer, int64 graph-input ids [2,6]")
    c.output(c.node("Gather", [c.w("table", [10, 4]), c.input_i64("ids", [2, 6], 0, 10, dyn=True)], "y"))
    add(c)
    c = Case("gather_int64_data", 13, notes="Gather on int64 data (int64 output)")
    c.output(c.node("Gather", [c.input_i64("x", [3, 4], -50, 50), c.i64("idx", [2, 0])], "y", axis=0),
             dtype=np.int64)
    add(c)
    c = Case("gather_bool_data", 13, notes="Gather on bool data (legacy attention-mask pattern), bool output")
    c.output(c.node("Gather", [c.input_bool("m", [2, 6]), c.i64("idx", [[1, 0], [0, 1]])], "y", axis=0),
             dtype=np.bool_)
    add(c)

    # GatherND
    c = Case("gathernd_b0", 13, notes="GatherND batch_dims 0, indices [1,2,2] (with a negative index) into [2,3,4]")
    c.output(c.node("GatherND", [c.input("x", [2, 3, 4]), c.i64("idx", [[[0, 1], [1, -1]]])], "y"))
    add(c)
    c = Case("gathernd_b1", 13, notes="GatherND batch_dims 1, indices [2,3,1] into [2,4,3]")
    c.output(c.node("GatherND", [c.input("x", [2, 4, 3]), c.i64("idx", [[[3], [0], [1]], [[2], [2], [0]]])],
                    "y", batch_dims=1))
    add(c)
    c = Case("gathernd_full_bool", 18, notes="GatherND of full index tuples from a bool tensor (dynamo mask pattern)")
    c.output(c.node("GatherND", [c.input_bool("m", [2, 5]), c.i64("idx", [[[0, 4], [1, 2]], [[1, 0], [0, -1]]])], "y"),
             dtype=np.bool_)
    add(c)

    # LayerNormalization
    c = Case("layernorm_last_axis", 17, notes="LayerNormalization axis -1, eps 1e-12, scale and bias")
    c.output(c.node("LayerNormalization", [c.input("x", [2, 3, 8], dyn=True), c.pos("g", [8]), c.w("b", [8])], "y",
                    axis=-1, epsilon=1e-12))
    add(c)
    c = Case("layernorm_axis1_nobias_stats", 17,
             notes="LayerNormalization axis 1 over [3,4], no bias, Mean and InvStdDev outputs")
    c.output(*c.node("LayerNormalization", [c.input("x", [2, 3, 4], low=1.0, high=3.0), c.pos("g", [3, 4])],
                     ["y", "mean", "inv_std"], axis=1))
    add(c)
    c = Case("layernorm_bcast_scale", 18, notes="LayerNormalization axis -2 with scale [1,4] broadcast to [3,4], default eps")
    c.output(c.node("LayerNormalization", [c.input("x", [2, 3, 4]), c.pos("g", [1, 4]), c.w("b", [3, 1])], "y",
                    axis=-2))
    add(c)

    # Element-wise math
    for op, lo, hi in (("Erf", -3, 3), ("Sqrt", 0.1, 4), ("Exp", -3, 3), ("Log", 0.1, 4), ("Neg", -3, 3),
                       ("Abs", -3, 3), ("Reciprocal", 0.5, 3), ("Floor", -3, 3), ("Ceil", -3, 3)):
        c = Case(f"math_{op.lower()}", 13, notes=f"{op} element-wise")
        c.output(c.node(op, [c.input("x", [2, 3, 5], low=lo, high=hi)], "y"))
        add(c)
    c = Case("math_neg_abs_int64", 13, notes="Neg then Abs on int64")
    c.output(c.node("Abs", [c.node("Neg", [c.input_i64("x", [2, 5], -9, 9)])], "y"), dtype=np.int64)
    add(c)
    c = Case("isnan_where", 17, notes="Sqrt of negatives gives NaN; IsNaN + Where replace it with 0 (attention NaN guard)")
    x = c.input("x", [2, 3, 4])
    s = c.node("Sqrt", [x])
    c.output(c.node("Where", [c.node("IsNaN", [s]), c.f32("zero", 0.0), s], "y"))
    add(c)

    # Pow
    c = Case("pow_square_const", 13, notes="Pow with a constant exponent 2.0")
    c.output(c.node("Pow", [c.input("x", [2, 3, 4]), c.f32("e", 2.0)], "y"))
    add(c)
    c = Case("pow_bcast_float", 13, notes="Pow positive base [2,3,4] with float exponent [4] broadcast")
    c.output(c.node("Pow", [c.input("x", [2, 3, 4], low=0.2, high=2.0), c.f32("e", [0.5, 1.5, -1.0, 3.0])], "y"))
    add(c)
    c = Case("pow_int64_exponent", 15, notes="Pow float base with int64 exponent 3")
    c.output(c.node("Pow", [c.input("x", [2, 5]), c.i64("e", 3)], "y"))
    add(c)

    # Comparison and logic
    for op in ("Equal", "Less", "Greater", "GreaterOrEqual", "LessOrEqual"):
        c = Case(f"compare_{op.lower()}", 16, notes=f"{op} on float [2,3,4] vs [3,1] broadcast, bool output")
        a = c.input("a", [2, 3, 4])
        # Round so that Equal has ties.
        a_r = c.node("Round", [c.node("Mul", [a, c.f32("two", 2.0)])])
        c.output(c.node(op, [a_r, c.f32("b", [[0.0], [1.0], [-1.0]])], "y"), dtype=np.bool_)
        add(c)
    c = Case("compare_equal_int64", 13, notes="Equal on int64 graph inputs, broadcast [2,5] vs [5]")
    c.output(c.node("Equal", [c.input_i64("a", [2, 5], 0, 3), c.input_i64("b", [5], 0, 3)], "y"), dtype=np.bool_)
    add(c)
    c = Case("logic_and_or_xor_not", 13, notes="And, Or, Xor, Not on bool inputs with broadcasting; Cast to float")
    a, b = c.input_bool("a", [2, 1, 4]), c.input_bool("b", [3, 4])
    r = c.node("Xor", [c.node("And", [a, b]), c.node("Or", [c.node("Not", [a]), b])])
    c.output(c.node("Cast", [r], "y", to=TensorProto.FLOAT))
    add(c)

    # Where
    c = Case("where_bcast3", 16, notes="Where cond [2,1,4] (from Greater), X [3,1], Y scalar -> [2,3,4]")
    cond = c.node("Greater", [c.input("x", [2, 1, 4]), c.f32("zero", 0.0)])
    c.output(c.node("Where", [cond, c.w("X", [3, 1]), c.f32("Y", -3.4028234663852886e38)], "y"))
    add(c)
    c = Case("where_int64", 16, notes="Where on int64 X/Y graph inputs with a bool input condition")
    c.output(c.node("Where", [c.input_bool("c", [2, 4]), c.input_i64("a", [2, 4], 0, 9), c.input_i64("b", [4], 10, 20)],
                    "y"), dtype=np.int64)
    add(c)

    # Max / Min / Sum / Mean
    c = Case("max_variadic", 13, notes="Max of three float inputs [2,3,1], [4], [1,1,4]")
    c.output(c.node("Max", [c.input("a", [2, 3, 1]), c.input("b", [4]), c.w("c", [1, 1, 4])], "y"))
    add(c)
    c = Case("min_sum_mean", 13, notes="Min(a,b) + Sum(a,b,c) + Mean(a,c) with broadcasting")
    a, b, cc = c.input("a", [2, 3]), c.input("b", [3]), c.w("c", [2, 1])
    t = c.node("Add", [c.node("Min", [a, b]), c.node("Sum", [a, b, cc])])
    c.output(c.node("Add", [t, c.node("Mean", [a, cc])], "y"))
    add(c)
    c = Case("max_int64", 18, notes="Max on int64 inputs (dynamo shape pattern)")
    c.output(c.node("Max", [c.input_i64("a", [2, 1], -5, 5), c.input_i64("b", [1, 3], -5, 5)], "y"), dtype=np.int64)
    add(c)

    # Shape / Size / ConstantOfShape / Range / Expand / Tile
    c = Case("shape_start_end", 15, notes="Shape with start=1, end=-1 of [2,3,4,5] -> [3,4] (int64 output)")
    c.output(c.node("Shape", [c.input("x", [2, 3, 4, 5], dyn=True)], "y", start=1, end=-1), dtype=np.int64)
    add(c)
    c = Case("shape_clamped", 18, notes="Shape with start=-10 (clamped to 0), end=100 (clamped to rank)")
    c.output(c.node("Shape", [c.input("x", [2, 3])], "y", start=-10, end=100), dtype=np.int64)
    add(c)
    c = Case("size_int64", 13, notes="Size of [2,3,4] -> 24 (int64 scalar)")
    c.output(c.node("Size", [c.input("x", [2, 3, 4])], "y"), dtype=np.int64)
    add(c)
    c = Case("constantofshape_from_shape", 13, notes="Shape(x) -> ConstantOfShape(value 1.5) -> Add x")
    x = c.input("x", [2, 3, 4], dyn=True)
    fill = c.node("ConstantOfShape", [c.node("Shape", [x])],
                  value=numpy_helper.from_array(np.array([1.5], np.float32), "v"))
    c.output(c.node("Add", [x, fill], "y"))
    add(c)
    c = Case("constantofshape_int64_bool", 13, notes="ConstantOfShape int64 7 and bool true (default float 0 too)")
    shp = c.i64("shape", [2, 3])
    i = c.node("ConstantOfShape", [shp], value=numpy_helper.from_array(np.array([7], np.int64), "v"))
    bo = c.node("ConstantOfShape", [shp], value=numpy_helper.from_array(np.array([True]), "v"))
    z = c.node("ConstantOfShape", [shp])
    xi = c.node("Add", [c.input_i64("a", [2, 3], 0, 5), i], "yi")
    c.output(xi, dtype=np.int64)
    c.output(c.node("And", [bo, c.input_bool("m", [2, 3])], "yb"), dtype=np.bool_)
    c.output(c.node("Add", [z, c.input("x", [2, 3])], "yf"))
    add(c)
    c = Case("range_int64_from_shape", 17, notes="Range(0, Shape(x)[1], 1) int64, Unsqueeze, Add to int64 input")
    x = c.input_i64("ids", [2, 7], 0, 100, dyn=True)
    n = c.node("Gather", [c.node("Shape", [x]), c.i64("one", 1)], axis=0)
    r = c.node("Range", [c.i64("start", 0), n, c.i64("delta", 1)])
    c.output(c.node("Add", [x, c.node("Unsqueeze", [r, c.i64("ax", [0])])], "y"), dtype=np.int64)
    add(c)
    c = Case("range_float_negative_delta", 13, notes="float Range(2.5, -1, -0.75) added to x [6]")
    r = c.node("Range", [c.f32("s", 2.5), c.f32("l", -1.0), c.f32("d", -0.75)])
    c.output(c.node("Add", [c.input("x", [5]), r], "y"))
    add(c)
    c = Case("range_int64_uneven", 13, notes="int64 Range(3, 14, 4) = [3, 7, 11]")
    c.output(c.node("Range", [c.i64("s", 3), c.i64("l", 14), c.i64("d", 4)], "y"), dtype=np.int64)
    add(c)
    c = Case("expand_bcast", 13, notes="Expand [3,1] to shape [2,1,4] -> [2,3,4]")
    c.output(c.node("Expand", [c.input("x", [3, 1]), c.i64("shape", [2, 1, 4])], "y"))
    add(c)
    c = Case("expand_from_shape_bool", 13, notes="Expand a bool [2,1,1,5] to Shape(scores) [2,3,5,5] (mask pattern)")
    m = c.input_bool("m", [2, 1, 1, 5])
    sc = c.input("scores", [2, 3, 5, 5])
    e = c.node("Expand", [m, c.node("Shape", [sc])])
    c.output(c.node("Where", [e, sc, c.f32("neg", -1e4)], "y"))
    add(c)
    c = Case("tile_2d", 13, notes="Tile [2,3] by [2,3]")
    c.output(c.node("Tile", [c.input("x", [2, 3]), c.i64("r", [2, 3])], "y"))
    add(c)

    # Slice
    for nm, opset, shape, starts, ends, axes, steps, note in (
            ("slice_basic", 13, [4, 6], [1, 2], [3, 5], None, None, "starts [1,2] ends [3,5], no axes/steps"),
            ("slice_negative", 13, [4, 6], [-3, -4], [-1, 100], [0, 1], None, "negative starts/ends, end 100 clamped"),
            ("slice_int64_max", 17, [2, 5, 3], [1], [I64MAX], [1], None, "end INT64_MAX means to the end"),
            ("slice_reverse", 13, [2, 5], [I64MAX], [I64MIN], [-1], [-1], "step -1 with INT64_MAX/INT64_MIN: reverse"),
            ("slice_step2_neg", 18, [3, 7, 4], [5, 0], [0, 4], [1, 2], [-2, 3], "step -2 on axis 1, step 3 on axis 2"),
            ("slice_empty", 13, [3, 4], [3], [1], [1], None, "start 3 > end 1 gives an empty axis, concatenated with z [3,2]"),
            ("slice_axes_neg", 11, [2, 3, 4], [0, 1], [1, 3], [-1, -2], None, "negative axes [-1,-2]")):
        c = Case(nm, opset, notes="Slice: " + note)
        ins = [c.input("x", shape), c.i64("starts", starts), c.i64("ends", ends)]
        if axes is not None or steps is not None:
            ins.append(c.i64("axes", axes) if axes is not None else "")
        if steps is not None:
            ins.append(c.i64("steps", steps))
        y = c.node("Slice", ins)
        if nm == "slice_empty":
            y = c.node("Concat", [y, c.input("z", [3, 2])], axis=1)
        c.output(c.node("Identity", [y], "y"))
        add(c)
    c = Case("slice_int64_tensor", 15,
             notes="Slice of an int64 initializer [1,32] up to Shape(ids)[1] (position-ids pattern), int64 output")
    ends = c.node("Shape", [c.input_i64("ids", [2, 7], 0, 9)], start=1, end=2)
    c.output(c.node("Slice", [c.i64("pos", np.arange(32).reshape(1, 32)), c.i64("s", [0]), ends, c.i64("a", [1])],
                    "y"), dtype=np.int64)
    add(c)

    # Split
    c = Case("split_o13_uneven_input", 13, notes="Split axis 1 of [2,6,3] by input [1,3,2]")
    c.output(*c.node("Split", [c.input("x", [2, 6, 3]), c.i64("split", [1, 3, 2])], ["y0", "y1", "y2"], axis=1))
    add(c)
    c = Case("split_o11_attr", 11, notes="Split axis -1 of [2,5] by attribute split [2,3]")
    c.output(*c.node("Split", [c.input("x", [2, 5])], ["y0", "y1"], axis=-1, split=[2, 3]))
    add(c)
    c = Case("split_o13_equal", 13, notes="Split axis 0 of [6,2] into 3 equal parts (no split input)")
    c.output(*c.node("Split", [c.input("x", [6, 2])], ["y0", "y1", "y2"]))
    add(c)
    c = Case("split_o18_num_outputs_uneven", 18, notes="Split num_outputs=3 on size 7 -> 3, 3, 1")
    c.output(*c.node("Split", [c.input("x", [2, 7])], ["y0", "y1", "y2"], axis=1, num_outputs=3))
    add(c)

    # Reductions
    c = Case("reducesum_o13_input", 13, notes="ReduceSum axes input [1], keepdims 0")
    c.output(c.node("ReduceSum", [c.input("x", [2, 3, 4]), c.i64("axes", [1])], "y", keepdims=0))
    add(c)
    c = Case("reducesum_o11_attr", 11, notes="ReduceSum axes attribute [0,-1], keepdims 1")
    c.output(c.node("ReduceSum", [c.input("x", [2, 3, 4])], "y", axes=[0, -1]))
    add(c)
    c = Case("reducesum_o13_all", 13, notes="ReduceSum without axes -> all, keepdims 0")
    c.output(c.node("ReduceSum", [c.input("x", [2, 3, 4])], "y", keepdims=0))
    add(c)
    c = Case("reducel2_o17_attr", 17, notes="ReduceL2 axes attribute [1], keepdims 1 (F.normalize pattern)")
    c.output(c.node("ReduceL2", [c.input("x", [3, 8])], "y", axes=[1], keepdims=1))
    add(c)
    c = Case("reducel2_o18_input", 18, notes="ReduceL2 axes input [-1]")
    c.output(c.node("ReduceL2", [c.input("x", [2, 3, 4]), c.i64("axes", [-1])], "y"))
    add(c)
    c = Case("reducemax_min_o18", 18, notes="ReduceMax axes [0,2] keepdims 0 + ReduceMin axes [0,2] keepdims 0")
    x = c.input("x", [2, 3, 4])
    c.output(c.node("Add", [c.node("ReduceMax", [x, c.i64("axes", [0, 2])], keepdims=0),
                            c.node("ReduceMin", [x, c.i64("axes2", [0, 2])], keepdims=0)], "y"))
    add(c)
    c = Case("reducesum_noop_o13", 13, notes="ReduceSum with no axes and noop_with_empty_axes=1 = identity")
    c.output(c.node("ReduceSum", [c.input("x", [2, 3])], "y", noop_with_empty_axes=1))
    add(c)

    # Casts involving int64 and bool
    c = Case("cast_int64_bool_float", 13, notes="int64 input -> bool -> float, and float -> int64 -> float")
    yb = c.node("Cast", [c.node("Cast", [c.input_i64("m", [2, 5], 0, 2)], to=TensorProto.BOOL)], "yb", to=TensorProto.FLOAT)
    yi = c.node("Cast", [c.node("Cast", [c.input("x", [2, 5], low=-4, high=4)], to=TensorProto.INT64)], "yi",
                to=TensorProto.FLOAT)
    c.output(yb, yi)
    add(c)

    # Softmax with masks
    c = Case("softmax_mask_min", 17,
             notes="scores + (1 - mask) * finfo.min; one sample fully masked (uniform rows), Softmax axis -1")
    mask = np.ones([2, 1, 1, 5], np.float32)
    mask[0, ..., 3:] = 0
    mask[1] = 0
    bias = c.node("Mul", [c.node("Sub", [c.f32("one", 1.0), c.init("mask", mask)]),
                          c.f32("fmin", np.finfo(np.float32).min)])
    c.output(c.node("Softmax", [c.node("Add", [c.input("s", [2, 2, 3, 5]), bias])], "y", axis=-1))
    add(c)
    c = Case("softmax_mask_neg_inf", 18, notes="Where(mask, scores, -inf) with partially masked rows, Softmax axis -1")
    m = np.ones([2, 1, 1, 5], np.bool_)
    m[0, ..., 1:3] = False
    m[1, ..., 4] = False
    c.output(c.node("Softmax", [c.node("Where", [c.init("m", m), c.input("s", [2, 2, 3, 5]),
                                                 c.f32("ninf", -np.inf)])], "y", axis=-1))
    add(c)

    # Batched attention MatMuls with both operands activations
    c = Case("matmul_attention_scores", 17, notes="Q [2,3,5,4] x K^T [2,3,4,5], both activations")
    q, k = c.input("q", [2, 3, 5, 4], dyn=True), c.input("k", [2, 3, 5, 4], dyn=True)
    c.output(c.node("MatMul", [q, c.node("Transpose", [k], perm=[0, 1, 3, 2])], "y"))
    add(c)

    # Shape folding: Shape -> Gather -> Unsqueeze -> Concat -> Reshape on a graph input
    c = Case("shape_fold_reshape", 17,
             notes="Shape->Gather->Unsqueeze->Concat->Reshape of a graph input (folded at plan compile time)")
    x = c.input("x", [2, 6, 8], dyn=True)
    shp = c.node("Shape", [x], "shp")
    b = c.node("Unsqueeze", [c.node("Gather", [shp, c.i64("i0", 0)], "dim0", axis=0), c.i64("ax0", [0])], "b")
    s = c.node("Unsqueeze", [c.node("Gather", [shp, c.i64("i1", 1)], "dim1", axis=0), c.i64("ax1", [0])], "s")
    target = c.node("Concat", [b, s, c.i64("heads", [2]), c.i64("rest", [-1])], "target", axis=0)
    c.output(c.node("Reshape", [x, target], "y"))
    add(c)

    # A miniature BERT layer: embeddings, mask bias, one attention head pair, GELU (Erf), pooling
    c = Case("mini_bert_block", 17, atol=1e-4,
             notes="int64 ids + mask -> embeddings, LayerNorm, 2-head attention with mask bias, Erf GELU, "
                   "mean pooling, L2 normalisation")
    B, S, H, NH = 2, 6, 8, 2
    ids = c.input_i64("input_ids", [B, S], 0, 20, dyn=True)
    mask = c.input_i64("attention_mask", [B, S], 1, 2, dyn=True)
    emb = c.node("Gather", [c.w("word", [20, H]), ids])
    pos = c.node("Gather", [c.w("pos", [16, H]),
                            c.node("Slice", [c.i64("pos_ids", np.arange(16).reshape(1, 16)), c.i64("z", [0]),
                                             c.node("Shape", [ids], start=1, end=2), c.i64("one", [1])])])
    h = c.node("LayerNormalization", [c.node("Add", [emb, pos]), c.pos("ln_g", [H]), c.w("ln_b", [H])],
               axis=-1, epsilon=1e-12)
    mf = c.node("Cast", [mask], to=TensorProto.FLOAT)
    bias = c.node("Mul", [c.node("Sub", [c.f32("onef", 1.0),
                                         c.node("Unsqueeze", [mf, c.i64("ax12", [1, 2])])]),
                          c.f32("fmin", np.finfo(np.float32).min)])
    shp = c.node("Shape", [h])
    heads = c.node("Concat", [c.node("Slice", [shp, c.i64("s0", [0]), c.i64("e2", [2])]),
                              c.i64("nh", [NH, H // NH])], axis=0)

    def proj(nm):
        p = c.node("Add", [c.node("MatMul", [h, c.w(nm + "_w", [H, H])]), c.w(nm + "_b", [H])])
        return c.node("Transpose", [c.node("Reshape", [p, heads])], perm=[0, 2, 1, 3])

    q, k, v = proj("q"), proj("k"), proj("v")
    scores = c.node("Div", [c.node("MatMul", [q, c.node("Transpose", [k], perm=[0, 1, 3, 2])]),
                            c.node("Sqrt", [c.f32("dh", float(H // NH))])])
    attn = c.node("Softmax", [c.node("Add", [scores, bias])], axis=-1)
    ctx = c.node("Reshape", [c.node("Transpose", [c.node("MatMul", [attn, v])], perm=[0, 2, 1, 3]),
                             c.node("Concat", [c.node("Slice", [shp, c.i64("s0b", [0]), c.i64("e2b", [2])]),
                                               c.i64("hid", [H])], axis=0)])
    h2 = c.node("LayerNormalization", [c.node("Add", [ctx, h]), c.pos("ln2_g", [H]), c.w("ln2_b", [H])],
                axis=-1, epsilon=1e-12)
    ff = c.node("Add", [c.node("MatMul", [h2, c.w("ff_w", [H, 2 * H])]), c.w("ff_b", [2 * H])])
    gelu = c.node("Mul", [c.node("Mul", [ff, c.node("Add", [c.node("Erf", [c.node("Div", [ff, c.f32("sqrt2", 1.4142135)])]),
                                                          c.f32("onef2", 1.0)])]), c.f32("half", 0.5)])
    out = c.node("Add", [c.node("MatMul", [gelu, c.w("ff2_w", [2 * H, H])]), h2])
    m3 = c.node("Unsqueeze", [mf, c.i64("axm1", [-1])])
    pooled = c.node("Div", [c.node("ReduceSum", [c.node("Mul", [out, m3]), c.i64("ax1", [1])], keepdims=0),
                            c.node("Clip", [c.node("ReduceSum", [m3, c.i64("ax1b", [1])], keepdims=0),
                                            c.f32("eps", 1e-9)])])
    norm = c.node("Clip", [c.node("ReduceL2", [pooled], axes=[1], keepdims=1), c.f32("eps2", 1e-12)])
    c.output(c.node("Div", [pooled, norm], "embedding"))
    add(c)


def ort_session(path_or_bytes):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(path_or_bytes, sess_options=so, providers=["CPUExecutionProvider"])


def run(sess, case):
    feeds = {n: a for n, _, a in case.inputs}
    outs = sess.run(None, feeds)
    assert len(outs) == len(case.outputs), case.name
    for n, o in zip(case.outputs, outs):
        expected = case.output_dtypes.get(n, np.dtype(np.float32))
        assert isinstance(o, np.ndarray) and o.dtype == expected, (case.name, o.dtype)
        if o.dtype == np.float32:
            assert np.all(np.isfinite(o)), f"{case.name}: non-finite output"
    return outs


def output_value_infos(case, model, outs):
    """Declare graph outputs with shapes from ONNX shape inference (keeps the symbolic batch),
    falling back to ORT's concrete shape."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    by_name = {vi.name: vi for vi in inferred.graph.output}
    vis = []
    for name, arr in zip(case.outputs, outs):
        shape = None
        vi = by_name.get(name)
        if vi is not None and vi.type.tensor_type.HasField("shape"):
            dims = []
            ok = len(vi.type.tensor_type.shape.dim) == arr.ndim
            for d, actual in zip(vi.type.tensor_type.shape.dim, arr.shape):
                if d.HasField("dim_value"):
                    ok &= d.dim_value == actual
                    dims.append(d.dim_value)
                elif d.HasField("dim_param") and d.dim_param == BATCH_SYMBOL:
                    dims.append(BATCH_SYMBOL)
                else:
                    dims.append(int(actual))
            if ok:
                shape = dims
        if shape is None:
            shape = list(arr.shape)
        vis.append(helper.make_tensor_value_info(name, NP_TO_ONNX[arr.dtype], shape))
    return vis


def ops_of(case):
    seen = []
    for n in case.nodes:
        if n.op_type not in seen:
            seen.append(n.op_type)
    return seen


def emit(case, out_root):
    # 1. build, check, run in-memory
    # (the probe model has rank-less outputs, which the checker rejects; only the final one is checked)
    model = case.make_model()
    outs = run(ort_session(model.SerializeToString()), case)

    # 2. declare output shapes, re-check
    model = case.make_model(output_value_infos(case, model, outs))
    onnx.checker.check_model(model, full_check=True)

    d = out_root / case.name
    d.mkdir(parents=True, exist_ok=True)
    mpath = d / "model.onnx"
    if case.external:
        onnx.save_model(model, str(mpath), save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        onnx.checker.check_model(str(mpath))  # full_check shape inference cannot read external tensors
        reloaded = onnx.load(str(mpath), load_external_data=False)
        assert all(t.data_location == TensorProto.EXTERNAL for t in reloaded.graph.initializer)
        assert (d / "weights.bin").stat().st_size > 0
        os.chmod(d / "weights.bin", 0o644)
    else:
        onnx.save_model(model, str(mpath))

    # 3. run again from the file on disk; this is the reference
    outs2 = run(ort_session(str(mpath)), case)
    for a, b in zip(outs, outs2):
        if a.dtype == np.float32:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(a, b)

    entry = {"name": case.name, "dir": case.name, "opset": case.opset, "ir_version": case.ir,
             "inputs": [], "outputs": [], "ops": ops_of(case), "notes": case.notes,
             "dynamic_batch": any(BATCH_SYMBOL in s for _, s, _ in case.inputs),
             "external_data": "weights.bin" if case.external else None,
             "atol": case.atol, "rtol": 1e-4}
    for i, (name, declared, arr) in enumerate(case.inputs):
        fn = f"input_{i}.npy"
        np.save(d / fn, np.asarray(arr, order="C"))
        entry["inputs"].append({"name": name, "file": fn, "shape": list(arr.shape),
                                "dtype": str(arr.dtype), "declared_shape": declared})
    for i, (name, arr, vi) in enumerate(zip(case.outputs, outs2, model.graph.output)):
        fn = f"output_{i}.npy"
        np.save(d / fn, np.asarray(arr, order="C"))
        declared = [dd.dim_param if dd.HasField("dim_param") else dd.dim_value
                    for dd in vi.type.tensor_type.shape.dim]
        entry["outputs"].append({"name": name, "file": fn, "shape": list(arr.shape),
                                 "dtype": str(arr.dtype), "declared_shape": declared})
    return entry


def write_malformed(out_root):
    d = out_root / "malformed"
    d.mkdir(parents=True, exist_ok=True)
    entries = []

    # truncated: valid model cut in half
    c = Case("truncated_src", 13)
    x = c.input("x", [1, 3, 6, 6])
    c.output(c.node("Conv", [x, c.w("W", [4, 3, 3, 3]), c.w("B", [4])], "y",
                    kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    full = c.make_model().SerializeToString()
    (d / "truncated.onnx").write_bytes(full[: len(full) // 2])
    entries.append({"file": "malformed/truncated.onnx",
                    "notes": f"valid Conv model ({len(full)} bytes) truncated to its first half"})

    (d / "not-onnx.onnx").write_text("this is not an ONNX model, just a text file.\n")
    entries.append({"file": "malformed/not-onnx.onnx", "notes": "plain text"})

    (d / "empty.onnx").write_bytes(b"")
    entries.append({"file": "malformed/empty.onnx",
                    "notes": "0 bytes; NB: protobuf parses this as an empty ModelProto (no graph, no opset), "
                             "so rejection must come from validation, not parsing"})

    # unsupported op: valid model with NonMaxSuppression + TopK
    c = Case("unsupported_src", 13)
    boxes = "boxes"
    scores = "scores"
    c.inputs.append((boxes, [1, 6, 4], None))
    c.inputs.append((scores, [1, 1, 6], None))
    c.node("NonMaxSuppression", [boxes, scores, c.i64("max_out", [3]), c.f32("iou", 0.5)], "selected")
    c.node("TopK", [scores, c.i64("k", [2])], ["topk_vals", "topk_idx"], axis=-1)
    graph = helper.make_graph(
        c.nodes, "unsupported_op",
        [helper.make_tensor_value_info(boxes, TensorProto.FLOAT, [1, 6, 4]),
         helper.make_tensor_value_info(scores, TensorProto.FLOAT, [1, 1, 6])],
        [helper.make_tensor_value_info("selected", TensorProto.INT64, [None, 3]),
         helper.make_tensor_value_info("topk_vals", TensorProto.FLOAT, [1, 1, 2])],
        initializer=c.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    onnx.save_model(model, str(d / "unsupported-op.onnx"))
    rng = np.random.default_rng(0)
    bx = np.sort(rng.uniform(0, 1, [1, 6, 4]).astype(np.float32), axis=-1)
    sc = rng.uniform(0, 1, [1, 1, 6]).astype(np.float32)
    ort_session(str(d / "unsupported-op.onnx")).run(None, {boxes: bx, scores: sc})  # valid for ORT
    entries.append({"file": "malformed/unsupported-op.onnx",
                    "notes": "valid opset-13 model (ORT runs it) using NonMaxSuppression and TopK, "
                             "which the mpq executor does not support; outputs int64 + float"})

    # external data file missing
    c = Case("missing_ext_src", 13)
    x = c.input("x", [1, 3, 4, 4])
    c.output(c.node("Conv", [x, c.w("W", [2, 3, 1, 1])], "y", kernel_shape=[1, 1]))
    m = c.make_model()
    tmp = d / "_tmp_missing"
    tmp.mkdir(exist_ok=True)
    onnx.save_model(m, str(tmp / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="missing-weights.bin", size_threshold=0)
    shutil.copy(tmp / "m.onnx", d / "missing-external-data.onnx")
    shutil.rmtree(tmp)
    entries.append({"file": "malformed/missing-external-data.onnx",
                    "notes": "initializer W references external file missing-weights.bin which does not exist"})

    # sanity: the broken ones must not load as real models
    for name in ("truncated.onnx", "not-onnx.onnx"):
        try:
            onnx.load(str(d / name))
        except Exception:
            continue
        raise AssertionError(f"{name} unexpectedly parsed")
    for name in ("truncated.onnx", "not-onnx.onnx", "empty.onnx", "missing-external-data.onnx"):
        try:
            ort_session(str(d / name))
        except Exception:
            continue
        raise AssertionError(f"ORT unexpectedly accepted {name}")
    return entries


README_HEAD = """# ONNX fixtures for MPQONNXTests

Generated by `scripts/make_onnx_fixtures.py` -- do not edit by hand. Regenerate from the repo root with

    python3 scripts/make_onnx_fixtures.py

(needs `onnx`, `onnxruntime`, `numpy`; output is deterministic: each case's RNG is seeded from a CRC32 of
its name). Reference outputs come from ONNX Runtime {ort} (CPUExecutionProvider, graph optimisations
disabled); models are built with onnx {onnx} and pass `onnx.checker.check_model(full_check=True)`.

## Layout

- `<case>/model.onnx` -- the model (`external_data/` also has `weights.bin`, its external initializer file).
- `<case>/input_<i>.npy` -- C-order, one per graph input, in graph-input order, with the input dtype (float32, int64 or bool).
- `<case>/output_<i>.npy` -- ORT results with their dtype, one per graph output, in graph-output order.
- `manifest.json` -- list of `{{name, dir, opset, ir_version, inputs:[{{name,file,shape,dtype,declared_shape}}],
  outputs:[{{name,file,shape,dtype,declared_shape}}], ops, notes, dynamic_batch, external_data, atol, rtol}}`.
  `shape` is the concrete shape of the .npy; `declared_shape` is what the graph declares (`"N"` = symbolic
  batch dim, `dim_param`). Suggested tolerance: `|got - want| <= atol + rtol * |want|`.
- `malformed/` -- files the importer must reject cleanly (see `malformed/manifest.json`).

IR versions: 7 for opset <= 13, 8 for 14-18, 9 for 19-20, 10 for 21.

## Cases

| case | opset | ops | covers |
|---|---|---|---|
"""


def write_readme(out_root, manifest, malformed):
    lines = [README_HEAD.format(ort=ort.__version__, onnx=onnx.__version__)]
    for e in manifest:
        lines.append(f"| `{e['name']}` | {e['opset']} | {', '.join(e['ops'])} | {e['notes']} |\n")
    lines.append("\n## Malformed (`malformed/`)\n\n")
    for e in malformed:
        lines.append(f"- `{e['file'].split('/', 1)[1]}` -- {e['notes']}\n")
    lines.append("\n## Known ORT limitation found while generating\n\n"
                 "- An int64 `Reshape` shape initializer stored in external data makes ORT fail at load "
                 "(\"Cannot parse data from external tensors\"), so `external_data` uses `Flatten` instead; "
                 "the mpq importer should still support external int64 tensors.\n")
    (out_root / "README.md").write_text("".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    out_root = args.out

    conv_cases()
    gemm_cases()
    eltwise_cases()
    activation_cases()
    pool_cases()
    shape_cases()
    graph_cases()
    transformer_cases()

    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"

    if out_root.exists():
        for p in out_root.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    out_root.mkdir(parents=True, exist_ok=True)

    manifest = []
    for c in CASES:
        try:
            manifest.append(emit(c, out_root))
        except Exception as e:  # ORT / checker refused the combo: drop and report
            REFUSED.append((c.name, f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"))
            shutil.rmtree(out_root / c.name, ignore_errors=True)

    malformed = write_malformed(out_root)

    with open(out_root / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    with open(out_root / "malformed" / "manifest.json", "w") as f:
        json.dump(malformed, f, indent=1)
        f.write("\n")

    write_readme(out_root, manifest, malformed)

    total = sum(p.stat().st_size for p in out_root.rglob("*") if p.is_file())
    print(f"wrote {len(manifest)} cases + {len(malformed)} malformed files to {out_root} ({total} bytes)")
    for name, why in REFUSED:
        print(f"DROPPED {name}: {why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
