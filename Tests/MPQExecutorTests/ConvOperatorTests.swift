import Testing
import MPQGraph
@testable import MPQExecutor

private func convOp(_ attrs: [String: Attribute], x: [Int], w: [Int], bias: Bool = true, opset: Int = 13,
                    constantWeights: Tensor? = nil) throws -> ConvOperator {
    let node = Node(name: "conv", opType: "Conv", inputs: bias ? ["x", "w", "b"] : ["x", "w"], outputs: ["y"], attributes: attrs)
    var types: [TensorType?] = [TensorType(.float32, x), TensorType(.float32, w)]
    if bias { types.append(TensorType(.float32, [w[0]])) }
    var constants: [Tensor?] = [nil, constantWeights]
    if bias { constants.append(nil) }
    return try ConvOperator(OperatorContext(node: node, opset: opset, inputTypes: types, constants: constants))
}

/// Naive 2-D convolution straight from the ONNX definition (explicit pads [top, left, bottom, right]).
private func naiveConv(x: [Float], xs: [Int], w: [Float], ws: [Int], b: [Float]?, group: Int,
                       strides: [Int], dilations: [Int], pads: [Int]) -> (values: [Float], shape: [Int]) {
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
    let (m, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
    let oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1
    let ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1
    let mg = m / group
    var y = [Float](repeating: 0, count: n * m * oh * ow)
    for i in 0..<n { for o in 0..<m { for r in 0..<oh { for q in 0..<ow {
        var acc = b?[o] ?? 0
        for ci in 0..<cg {
            let ch = (o / mg) * cg + ci
            for a in 0..<kh { for e in 0..<kw {
                let ih = r * strides[0] - pads[0] + a * dilations[0], iw = q * strides[1] - pads[1] + e * dilations[1]
                if ih >= 0 && ih < h && iw >= 0 && iw < wd {
                    acc += x[((i * c + ch) * h + ih) * wd + iw] * w[((o * cg + ci) * kh + a) * kw + e]
                }
            }}
        }
        y[((i * m + o) * oh + r) * ow + q] = acc
    }}}}
    _ = c
    return (y, [n, m, oh, ow])
}

private struct ConvSpec: Sendable, CustomStringConvertible {
    var x: [Int], w: [Int], group = 1, strides = [1, 1], dilations = [1, 1], pads = [0, 0, 0, 0], bias = true
    var description: String { "x\(x) w\(w) g\(group) s\(strides) d\(dilations) p\(pads) bias \(bias)" }
}

@Test("Conv matches a naive convolution", arguments: [
    ConvSpec(x: [1, 3, 6, 6], w: [4, 3, 3, 3], pads: [1, 1, 1, 1]),
    ConvSpec(x: [2, 3, 7, 9], w: [5, 3, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
    ConvSpec(x: [2, 2, 7, 9], w: [3, 2, 3, 2], strides: [2, 1], pads: [0, 1, 2, 0]),
    ConvSpec(x: [2, 4, 5, 6], w: [6, 2, 3, 3], group: 2, pads: [1, 1, 1, 1]),
    ConvSpec(x: [1, 3, 7, 9], w: [3, 1, 3, 3], group: 3, pads: [1, 1, 1, 1]),            // depthwise ×1
    ConvSpec(x: [2, 3, 7, 9], w: [6, 1, 3, 3], group: 3, strides: [2, 2], pads: [1, 0, 1, 2]), // depthwise ×2, stride 2
    ConvSpec(x: [1, 2, 9, 9], w: [2, 2, 3, 3], dilations: [2, 2], pads: [2, 2, 2, 2]),
    ConvSpec(x: [2, 5, 7, 9], w: [3, 5, 1, 1]),                                              // 1×1
    ConvSpec(x: [2, 5, 7, 9], w: [3, 5, 1, 1], strides: [2, 2], bias: false),
    ConvSpec(x: [1, 3, 7, 9], w: [2, 3, 3, 3], bias: false),
])
private func convMatchesNaive(_ s: ConvSpec) throws {
    let op = try convOp(["group": .int(s.group), "strides": .ints(s.strides), "dilations": .ints(s.dilations), "pads": .ints(s.pads)],
                        x: s.x, w: s.w, bias: s.bias)
    var r = SeededFloats(state: UInt64(s.x.reduce(1, *) + s.w.reduce(7, *)))
    let x = r.floats(s.x.reduce(1, *)), w = r.floats(s.w.reduce(1, *)), b = s.bias ? r.floats(s.w[0]) : nil
    let expected = naiveConv(x: x, xs: s.x, w: w, ws: s.w, b: b, group: s.group, strides: s.strides, dilations: s.dilations, pads: s.pads)
    #expect(op.outputTypes == [TensorType(.float32, expected.shape)])
    var inputs: [Tensor?] = [Tensor(shape: s.x, floats: x), Tensor(shape: s.w, floats: w)]
    if let b { inputs.append(Tensor(shape: [s.w[0]], floats: b)) }
    let y = try op.run(inputs)[0]
    #expect(y.shape == expected.shape)
    let diff = zip(y.floats!, expected.values).map { abs($0 - $1) }.max() ?? 0
    #expect(diff < 1e-4, "\(s)")
}

@Test func convHandComputed() throws {
    // 3×3 input 1…9, 2×2 kernel [[1, 2], [3, 4]], bias 10.
    let op = try convOp([:], x: [1, 1, 3, 3], w: [1, 1, 2, 2])
    #expect(op.outputTypes[0].shape == [1, 1, 2, 2])
    let y = try op.run([Tensor(shape: [1, 1, 3, 3], floats: [1, 2, 3, 4, 5, 6, 7, 8, 9]),
                        Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4]), Tensor(shape: [1], floats: [10])])[0]
    // 1+4+12+20 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77
    #expect(y.floats! == [47, 57, 77, 87])
}

@Test func convAutoPad() throws {
    var r = SeededFloats(state: 99)
    let xs = [1, 2, 6, 7], ws = [3, 2, 3, 3]
    let x = r.floats(84), w = r.floats(54), b = r.floats(3)
    let inputs: [Tensor?] = [Tensor(shape: xs, floats: x), Tensor(shape: ws, floats: w), Tensor(shape: [3], floats: b)]
    // SAME_UPPER, stride 2: out = ceil(6/2) × ceil(7/2) = 3 × 4; total pads H: 2·2+3-6 = 1 → (0, 1); W: 3·2+3-7 = 2 → (1, 1).
    let upper = try convOp(["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])], x: xs, w: ws)
    #expect(upper.outputTypes[0].shape == [1, 3, 3, 4])
    let eu = naiveConv(x: x, xs: xs, w: w, ws: ws, b: b, group: 1, strides: [2, 2], dilations: [1, 1], pads: [0, 1, 1, 1])
    #expect(zip(try upper.run(inputs)[0].floats!, eu.values).allSatisfy { abs($0 - $1) < 1e-4 })
    // SAME_LOWER puts the odd pad first: H (1, 0).
    let lower = try convOp(["auto_pad": .string("SAME_LOWER"), "strides": .ints([2, 2])], x: xs, w: ws)
    let el = naiveConv(x: x, xs: xs, w: w, ws: ws, b: b, group: 1, strides: [2, 2], dilations: [1, 1], pads: [1, 1, 0, 1])
    #expect(zip(try lower.run(inputs)[0].floats!, el.values).allSatisfy { abs($0 - $1) < 1e-4 })
    // SAME_UPPER stride 1 keeps the size.
    #expect(try convOp(["auto_pad": .string("SAME_UPPER")], x: xs, w: ws).outputTypes[0].shape == [1, 3, 6, 7])
    // VALID ignores pads.
    let valid = try convOp(["auto_pad": .string("VALID"), "pads": .ints([1, 1, 1, 1])], x: xs, w: ws)
    #expect(valid.outputTypes[0].shape == [1, 3, 4, 5])
    let ev = naiveConv(x: x, xs: xs, w: w, ws: ws, b: b, group: 1, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0])
    #expect(zip(try valid.run(inputs)[0].floats!, ev.values).allSatisfy { abs($0 - $1) < 1e-4 })
}

@Test func conv1DAndConstantWeights() throws {
    // 1-D: x [1, 1, 5] = 1…5, w [1, 1, 3] = [1, 0, -1], pads 1: y[i] = x[i-1] - x[i+1].
    let w = Tensor(shape: [1, 1, 3], floats: [1, 0, -1])
    let op = try convOp(["pads": .ints([1, 1]), "kernel_shape": .ints([3])], x: [1, 1, 5], w: [1, 1, 3], bias: false, constantWeights: w)
    #expect(op.outputTypes[0].shape == [1, 1, 5])
    let y = try op.run([Tensor(shape: [1, 1, 5], floats: [1, 2, 3, 4, 5]), w])[0]
    #expect(y.floats! == [-2, -2, -2, -2, 4])
}

@Test func convRejectsBadShapesAndAttributes() {
    #expect(throws: GraphError.self) { try convOp([:], x: [1, 3, 5, 5], w: [4, 2, 3, 3]) }                     // channel mismatch
    #expect(throws: GraphError.self) { try convOp(["group": .int(2)], x: [1, 3, 5, 5], w: [4, 1, 3, 3]) }      // group ∤ C
    #expect(throws: GraphError.self) { try convOp(["kernel_shape": .ints([2, 2])], x: [1, 3, 5, 5], w: [4, 3, 3, 3]) }
    #expect(throws: GraphError.self) { try convOp([:], x: [1, 3, 5, 5, 5], w: [4, 3, 3, 3, 3]) }              // 3-D conv
    #expect(throws: GraphError.self) { try convOp([:], x: [1, 3, 5, 5], w: [4, 3, 3]) }                        // rank mismatch
    #expect(throws: GraphError.self) { try convOp(["strides": .ints([1])], x: [1, 3, 5, 5], w: [4, 3, 3, 3]) }
    #expect(throws: GraphError.self) { try convOp(["strides": .ints([0, 1])], x: [1, 3, 5, 5], w: [4, 3, 3, 3]) }
    #expect(throws: GraphError.self) { try convOp(["pads": .ints([1, 1])], x: [1, 3, 5, 5], w: [4, 3, 3, 3]) }
    #expect(throws: GraphError.self) { try convOp(["auto_pad": .string("SAME")], x: [1, 3, 5, 5], w: [4, 3, 3, 3]) }
    #expect(throws: GraphError.self) { try convOp([:], x: [1, 3, 2, 2], w: [4, 3, 3, 3]) }                     // kernel too big
    // Bias of the wrong length.
    let node = Node(name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"])
    #expect(throws: GraphError.self) {
        try ConvOperator(OperatorContext(node: node, opset: 13, inputTypes: [TensorType(.float32, [1, 3, 5, 5]), TensorType(.float32, [4, 3, 3, 3]),
                                                                            TensorType(.float32, [3])], constants: [nil, nil, nil]))
    }
    // Non-float input.
    #expect(throws: GraphError.self) {
        try ConvOperator(OperatorContext(node: node, opset: 13, inputTypes: [TensorType(.int64, [1, 3, 5, 5]), TensorType(.float32, [4, 3, 3, 3])],
                                         constants: [nil, nil]))
    }
    // The message names the attribute.
    do {
        _ = try convOp(["group": .int(2)], x: [1, 3, 5, 5], w: [4, 1, 3, 3])
        Issue.record("expected an error")
    } catch {
        #expect("\(error)".contains("group"))
    }
}
