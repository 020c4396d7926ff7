import Testing
import MPQGraph
@testable import MPQExecutor

private func poolOp<T: Operator>(_ type: T.Type, _ opType: String, x: [Int], _ attrs: [String: Attribute], opset: Int = 19,
                                 outputs: [String] = ["y"]) throws -> T {
    try T(OperatorContext(node: Node(name: "p", opType: opType, inputs: ["x"], outputs: outputs, attributes: attrs),
                          opset: opset, inputTypes: [TensorType(.float32, x)], constants: [nil]))
}

private let nine = Tensor(shape: [1, 1, 3, 3], floats: [1, 2, 3, 4, 5, 6, 7, 8, 9])

/// Naive 2-D pooling from explicit pads [top, left, bottom, right] and output size.
private func naivePool(_ x: [Float], planes: Int, h: Int, w: Int, k: [Int], s: [Int], d: [Int], p: [Int], out: [Int],
                       max isMax: Bool, includePad: Bool) -> [Float] {
    var y: [Float] = []
    for pl in 0..<planes { for oh in 0..<out[0] { for ow in 0..<out[1] {
        var m = -Float.infinity, sum: Float = 0, cnt = 0
        for a in 0..<k[0] { for b in 0..<k[1] {
            let ih = oh * s[0] - p[0] + a * d[0], iw = ow * s[1] - p[1] + b * d[1]
            let inside = ih >= 0 && ih < h && iw >= 0 && iw < w
            if inside { let v = x[(pl * h + ih) * w + iw]; m = max(m, v); sum += v }
            if inside || (includePad && ih < h + p[2] && iw < w + p[3]) { cnt += 1 }
        }}
        y.append(isMax ? m : sum / Float(cnt))
    }}}
    return y
}

@Test func maxPoolHandComputed() throws {
    let op = try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3], ["kernel_shape": .ints([2, 2])])
    #expect(op.outputTypes[0].shape == [1, 1, 2, 2])
    #expect(try op.run([nine])[0].floats! == [5, 6, 8, 9])
    // ceil_mode: 2×2 stride 2 on 3×3 → 2×2 (floor would give 1×1).
    let ceil = try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3],
                          ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)])
    #expect(ceil.outputTypes[0].shape == [1, 1, 2, 2])
    #expect(try ceil.run([nine])[0].floats! == [5, 6, 8, 9])
    let floor = try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
    #expect(floor.outputTypes[0].shape == [1, 1, 1, 1])
    // SAME_UPPER 3×3 stride 1 keeps 3×3: max over each neighbourhood.
    let same = try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3], ["kernel_shape": .ints([3, 3]), "auto_pad": .string("SAME_UPPER")])
    #expect(try same.run([nine])[0].floats! == [5, 6, 6, 8, 9, 9, 8, 9, 9])
}

@Test func averagePoolHandComputed() throws {
    let attrs: [String: Attribute] = ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]
    let exclude = try poolOp(AveragePoolOperator.self, "AveragePool", x: [1, 1, 3, 3], attrs)
    #expect(try exclude.run([nine])[0].floats! == [1, 2.5, 5.5, 7])
    var inc = attrs; inc["count_include_pad"] = .int(1)
    let include = try poolOp(AveragePoolOperator.self, "AveragePool", x: [1, 1, 3, 3], inc)
    #expect(try include.run([nine])[0].floats! == [0.25, 1.25, 2.75, 7])
    // ceil_mode without padding: partial windows average what they cover.
    let ceil = try poolOp(AveragePoolOperator.self, "AveragePool", x: [1, 1, 3, 3],
                          ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1), "count_include_pad": .int(1)])
    #expect(try ceil.run([nine])[0].floats! == [3, 4.5, 7.5, 9])
}

@Test("pooling operators match a naive reference", arguments: [
    ([3, 3], [2, 2], [1, 1], [1, 1, 1, 1], false),
    ([3, 3], [2, 2], [1, 1], [1, 1, 1, 1], true),
    ([3, 2], [2, 3], [1, 1], [0, 1, 2, 0], true),
    ([2, 3], [1, 1], [2, 2], [1, 0, 0, 2], false),
    ([2, 2], [2, 2], [1, 1], [0, 0, 0, 0], true),
])
private func poolingMatchesNaive(_ c: ([Int], [Int], [Int], [Int], Bool)) throws {
    let (k, s, d, p, ceilMode) = c
    let (n, ch, h, w) = (2, 3, 7, 9)
    var seed: UInt64 = 42
    let x = (0..<(n * ch * h * w)).map { _ -> Float in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(seed >> 40) / Float(1 << 23) - 1
    }
    func size(_ i: Int, _ input: Int) -> Int {
        let span = input + p[i] + p[i + 2] - d[i] * (k[i] - 1) - 1
        var o = (ceilMode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1
        if ceilMode && (o - 1) * s[i] >= input + p[i] { o -= 1 }
        return o
    }
    let out = [size(0, h), size(1, w)]
    let attrs: [String: Attribute] = ["kernel_shape": .ints(k), "strides": .ints(s), "dilations": .ints(d), "pads": .ints(p),
                                      "ceil_mode": .int(ceilMode ? 1 : 0)]
    let xt = Tensor(shape: [n, ch, h, w], floats: x)
    let mp = try poolOp(MaxPoolOperator.self, "MaxPool", x: [n, ch, h, w], attrs)
    #expect(mp.outputTypes[0].shape == [n, ch] + out)
    #expect(try mp.run([xt])[0].floats! == naivePool(x, planes: n * ch, h: h, w: w, k: k, s: s, d: d, p: p, out: out, max: true, includePad: false))
    for cip in [0, 1] {
        var a = attrs; a["count_include_pad"] = .int(cip)
        let ap = try poolOp(AveragePoolOperator.self, "AveragePool", x: [n, ch, h, w], a)
        let e = naivePool(x, planes: n * ch, h: h, w: w, k: k, s: s, d: d, p: p, out: out, max: false, includePad: cip == 1)
        let y = try ap.run([xt])[0].floats!
        #expect(y.count == e.count && zip(y, e).allSatisfy { abs($0 - $1) < 1e-5 }, "\(c) count_include_pad \(cip)")
    }
}

@Test func globalAveragePool() throws {
    let op = try poolOp(GlobalAveragePoolOperator.self, "GlobalAveragePool", x: [2, 2, 3, 3], [:])
    #expect(op.outputTypes[0].shape == [2, 2, 1, 1])
    let x = (0..<36).map(Float.init)
    #expect(try op.run([Tensor(shape: [2, 2, 3, 3], floats: x)])[0].floats! == [4, 13, 22, 31])
    let op1 = try poolOp(GlobalAveragePoolOperator.self, "GlobalAveragePool", x: [1, 2, 4], [:])
    #expect(try op1.run([Tensor(shape: [1, 2, 4], floats: [1, 2, 3, 4, 0, 0, 0, 8])])[0].floats! == [2.5, 2])
}

@Test func poolingRejectsBadInput() {
    #expect(throws: GraphError.self) { try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3], [:]) }   // no kernel_shape
    #expect(throws: GraphError.self) { try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3], ["kernel_shape": .ints([2])]) }
    #expect(throws: GraphError.self) {
        try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3], ["kernel_shape": .ints([2, 2])], outputs: ["y", "indices"])
    }
    #expect(throws: GraphError.self) { try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 2, 2], ["kernel_shape": .ints([3, 3])]) }
    #expect(throws: GraphError.self) { try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3, 3], ["kernel_shape": .ints([2, 2, 2])]) }
    #expect(throws: GraphError.self) {
        try poolOp(AveragePoolOperator.self, "AveragePool", x: [1, 1, 5, 5], ["kernel_shape": .ints([2, 2]), "dilations": .ints([2, 2])], opset: 11)
    }
    #expect(throws: GraphError.self) {
        try poolOp(AveragePoolOperator.self, "AveragePool", x: [1, 1, 5, 5], ["kernel_shape": .ints([2, 2]), "count_include_pad": .int(3)])
    }
    #expect(throws: GraphError.self) { try poolOp(GlobalAveragePoolOperator.self, "GlobalAveragePool", x: [1, 4], [:]) }
    // An empty Indices name is an omitted output and fine.
    #expect(throws: Never.self) {
        try poolOp(MaxPoolOperator.self, "MaxPool", x: [1, 1, 3, 3], ["kernel_shape": .ints([2, 2])], outputs: ["y", ""])
    }
}
