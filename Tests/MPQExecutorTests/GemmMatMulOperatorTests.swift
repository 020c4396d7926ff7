import Testing
import MPQGraph
@testable import MPQExecutor

private func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(s >> 40) / Float(1 << 23) - 1
    }
}

private func context(_ op: String, _ shapes: [[Int]?], _ attrs: [String: Attribute] = [:]) -> OperatorContext {
    let names = shapes.enumerated().map { $0.element == nil ? "" : "in\($0.offset)" }
    return OperatorContext(node: Node(name: op.lowercased(), opType: op, inputs: names, outputs: ["y"], attributes: attrs),
                           opset: 13, inputTypes: shapes.map { $0.map { TensorType(.float32, $0) } },
                           constants: shapes.map { _ in nil })
}

/// Naive [M,K]×[K,N].
private func naiveMatMul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
    return c
}

private func close(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 }
}

@Test func gemmTransposesAlphaBetaAndBroadcastC() throws {
    let m = 3, k = 4, n = 5
    let a = randomFloats(m * k, seed: 1), b = randomFloats(k * n, seed: 2)
    let at = (0..<k).flatMap { p in (0..<m).map { i in a[i * k + p] } }   // [K, M]
    let bt = (0..<n).flatMap { j in (0..<k).map { p in b[p * n + j] } }   // [N, K]
    let ab = naiveMatMul(a, b, m: m, k: k, n: n)
    for (ta, tb) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        for (cShape, cValues) in [([n], randomFloats(n, seed: 3)), ([m, 1], randomFloats(m, seed: 4)),
                                  ([m, n], randomFloats(m * n, seed: 5)), ([], [Float(0.5)]), ([1, 1], [Float(-2)])] {
            let aShape = ta == 1 ? [k, m] : [m, k], bShape = tb == 1 ? [n, k] : [k, n]
            let op = try GemmOperator(context("Gemm", [aShape, bShape, cShape],
                                              ["transA": .int(ta), "transB": .int(tb), "alpha": .float(0.5), "beta": .float(2)]))
            #expect(op.outputTypes == [TensorType(.float32, [m, n])])
            let y = try op.run([Tensor(shape: aShape, floats: ta == 1 ? at : a), Tensor(shape: bShape, floats: tb == 1 ? bt : b),
                                Tensor(shape: cShape, floats: cValues)])[0]
            var expected = ab.map { 0.5 * $0 }
            for i in 0..<m { for j in 0..<n {
                let ci = cShape.count == 2 ? (cShape[0] == 1 ? 0 : i) : 0
                let cj = cShape.isEmpty ? 0 : (cShape.last! == 1 ? 0 : j)
                expected[i * n + j] += 2 * cValues[ci * (cShape.count == 2 ? cShape[1] : (cShape.isEmpty ? 1 : cShape[0])) + cj]
            }}
            #expect(close(y.floats!, expected), "transA \(ta) transB \(tb) C \(cShape)")
        }
    }
    // Without C.
    let op = try GemmOperator(context("Gemm", [[m, k], [k, n]]))
    #expect(close(try op.run([Tensor(shape: [m, k], floats: a), Tensor(shape: [k, n], floats: b)])[0].floats!, ab))
}

@Test func gemmHandComputed() throws {
    // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]; + C [1, 2] broadcast over rows.
    let op = try GemmOperator(context("Gemm", [[2, 2], [2, 2], [2]]))
    let y = try op.run([Tensor(shape: [2, 2], floats: [1, 2, 3, 4]), Tensor(shape: [2, 2], floats: [5, 6, 7, 8]),
                        Tensor(shape: [2], floats: [1, 2])])[0]
    #expect(y.floats! == [20, 24, 44, 52])
}

@Test func gemmRejectsBadShapes() {
    #expect(throws: GraphError.self) { try GemmOperator(context("Gemm", [[2, 3], [2, 3]])) }               // K mismatch
    #expect(throws: GraphError.self) { try GemmOperator(context("Gemm", [[2, 3, 1], [3, 2]])) }            // rank 3
    #expect(throws: GraphError.self) { try GemmOperator(context("Gemm", [[2, 3], [3, 4], [3]])) }          // C does not broadcast
    #expect(throws: GraphError.self) { try GemmOperator(context("Gemm", [[2, 3], [3, 4], [2, 4, 1]])) }
    #expect(throws: GraphError.self) { try GemmOperator(context("Gemm", [[2, 3], [3, 4]], ["transA": .int(2)])) }
    #expect(throws: GraphError.self) {
        try GemmOperator(OperatorContext(node: Node(name: "g", opType: "Gemm", inputs: ["a", "b"], outputs: ["y"]), opset: 13,
                                         inputTypes: [TensorType(.int64, [2, 3]), TensorType(.float32, [3, 2])], constants: [nil, nil]))
    }
}

/// Naive NumPy matmul for tests: broadcast batch dims, 1-D promotion.
private func naiveNumpyMatMul(_ a: [Float], _ aShape: [Int], _ b: [Float], _ bShape: [Int]) -> (values: [Float], shape: [Int]) {
    let a2 = aShape.count == 1 ? [1] + aShape : aShape, b2 = bShape.count == 1 ? bShape + [1] : bShape
    let m = a2[a2.count - 2], k = a2.last!, n = b2.last!
    let ab = Array(a2.dropLast(2)), bb = Array(b2.dropLast(2))
    let r = max(ab.count, bb.count)
    let ap = [Int](repeating: 1, count: r - ab.count) + ab, bp = [Int](repeating: 1, count: r - bb.count) + bb
    let batch = (0..<r).map { max(ap[$0], bp[$0]) }
    let count = batch.reduce(1, *)
    var out: [Float] = []
    for i in 0..<count {
        var rem = i, ai = 0, bi = 0, amul = 1, bmul = 1
        for d in stride(from: r - 1, through: 0, by: -1) {
            let idx = rem % batch[d]; rem /= batch[d]
            ai += (ap[d] == 1 ? 0 : idx) * amul; amul *= ap[d]
            bi += (bp[d] == 1 ? 0 : idx) * bmul; bmul *= bp[d]
        }
        out += naiveMatMul(Array(a[(ai * m * k)..<((ai + 1) * m * k)]), Array(b[(bi * k * n)..<((bi + 1) * k * n)]), m: m, k: k, n: n)
    }
    var shape = batch
    if aShape.count > 1 { shape.append(m) }
    if bShape.count > 1 { shape.append(n) }
    return (out, shape)
}

@Test("MatMul matches NumPy semantics", arguments: [
    ([3, 4], [4, 5]),
    ([2, 3, 4], [4, 5]),          // shared 2-D B: one big sgemm
    ([4], [4, 5]),                // 1-D A
    ([3, 4], [4]),                // 1-D B
    ([4], [4]),                   // dot product → scalar
    ([2, 3, 4], [2, 4, 5]),
    ([2, 1, 3, 4], [3, 4, 2]),    // broadcast batch dims both ways
    ([3, 4], [2, 4, 5]),          // A broadcast over B's batch
    ([1, 3, 4], [2, 4, 5]),
    ([2, 3, 4], [4]),
    ([4], [2, 4, 3]),
])
private func matMulMatchesNaive(_ shapes: ([Int], [Int])) throws {
    let (aShape, bShape) = shapes
    let a = randomFloats(aShape.reduce(1, *), seed: 7), b = randomFloats(bShape.reduce(1, *), seed: 8)
    let expected = naiveNumpyMatMul(a, aShape, b, bShape)
    let op = try MatMulOperator(context("MatMul", [aShape, bShape]))
    #expect(op.outputTypes == [TensorType(.float32, expected.shape)])
    let y = try op.run([Tensor(shape: aShape, floats: a), Tensor(shape: bShape, floats: b)])[0]
    #expect(y.shape == expected.shape)
    #expect(close(y.floats!, expected.values), "\(aShape) × \(bShape)")
}

@Test func matMulRejectsBadShapes() {
    #expect(throws: GraphError.self) { try MatMulOperator(context("MatMul", [[3, 4], [5, 6]])) }
    #expect(throws: GraphError.self) { try MatMulOperator(context("MatMul", [[2, 3, 4], [3, 4, 5]])) }   // batch 2 vs 3
    #expect(throws: GraphError.self) { try MatMulOperator(context("MatMul", [[], [3]])) }                // scalar
    #expect(throws: GraphError.self) { try MatMulOperator(context("MatMul", [[4], [5]])) }
}
