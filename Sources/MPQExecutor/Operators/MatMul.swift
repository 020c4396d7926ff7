import MPQGraph
import MPQKernels

/// ONNX MatMul with NumPy semantics: 1-D operands are promoted (and the added axis removed from the
/// result), leading batch dimensions broadcast.
///
/// A linear layer's bias Add fused by the graph optimizer (`GraphOptimizer.fuseMatMulBiases`) is a constant third
/// input of N values, added to each block of the product while it is in cache, before a fused activation.
/// A Transpose fused into an operand (`GraphOptimizer.fuseMatMulTransposes`: attributes `mpq_perm_a`, `mpq_perm_b`)
/// is read as a strided view: attention's per-head matrices straight from the [batch, tokens, heads, width] tensor.
public struct MatMulOperator: Operator {
    public let outputTypes: [TensorType]
    let m: Int, n: Int, k: Int
    let a: MatMulOperand, b: MatMulOperand
    /// Element offsets of each batch matrix in A, B and the output.
    let aOffsets: [Int], bOffsets: [Int], cOffsets: [Int]
    /// One sgemm of (batch·M)×K by K×N suffices (B shared by every batch, A not broadcast).
    let singleGemmRows: Int?
    /// Activation fused by the graph optimizer.
    let activation: Activation
    /// Bias fused by the graph optimizer: one value per output column.
    let bias: [Float]?

    public init(_ context: OperatorContext) throws {
        let aType = try convPoolFloatType(context, 0, "A"), bType = try convPoolFloatType(context, 1, "B")
        guard aType.shape.count >= 1, bType.shape.count >= 1 else {
            throw context.invalid("MatMul operands must have rank ≥ 1; got shapes \(aType.shape) and \(bType.shape)")
        }
        let permA = try Self.permutation(context, GraphOptimizer.matMulPermAKey, rank: aType.shape.count)
        let permB = try Self.permutation(context, GraphOptimizer.matMulPermBKey, rank: bType.shape.count)
        a = MatMulOperand(inputShape: aType.shape, perm: permA) { $0 == 1 ? [1] + aType.shape : aType.shape }
        b = MatMulOperand(inputShape: bType.shape, perm: permB) { $0 == 1 ? bType.shape + [1] : bType.shape }
        let aShape = a.shape, bShape = b.shape
        m = aShape[aShape.count - 2]; k = aShape[aShape.count - 1]
        let kb = bShape[bShape.count - 2]; n = bShape[bShape.count - 1]
        guard k == kb else {
            throw context.invalid("inner dimensions differ: A \(aShape) has K = \(k) but B \(bShape) has K = \(kb)")
        }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let rank = max(aBatch.count, bBatch.count)
        let aB = [Int](repeating: 1, count: rank - aBatch.count) + aBatch
        let bB = [Int](repeating: 1, count: rank - bBatch.count) + bBatch
        var batch: [Int] = []
        for i in 0..<rank {
            guard aB[i] == bB[i] || aB[i] == 1 || bB[i] == 1 else {
                throw context.invalid("batch dimensions of A \(aShape) and B \(bShape) do not broadcast (axis \(i): \(aB[i]) vs \(bB[i]))")
            }
            batch.append(aB[i] == 1 ? bB[i] : aB[i])
        }
        var outShape = batch
        if aType.shape.count > 1 { outShape.append(m) }
        if bType.shape.count > 1 { outShape.append(n) }
        outputTypes = [TensorType(.float32, outShape)]
        activation = try fusedActivation(context)
        if context.hasInput(2) {
            let t = try context.constant(2, what: "the fused bias")
            guard let values = t.floats, t.rank == 1, values.count == n, b.shape.count > 1 else {
                throw context.invalid("a fused bias (input #2) must be \(n) float32 values, one per output column; found \(t.elementType) \(t.shape)")
            }
            bias = values
        } else {
            bias = nil
        }

        let count = batch.reduce(1, *)
        let bCount = bB.reduce(1, *), aCount = aB.reduce(1, *)
        if bCount == 1 && aCount == count && permA == nil && permB == nil {
            singleGemmRows = count * m
            aOffsets = []; bOffsets = []; cOffsets = []
        } else {
            singleGemmRows = nil
            let aS = a.batchStrides(rank: rank), bS = b.batchStrides(rank: rank)
            var ao: [Int] = [], bo: [Int] = [], co: [Int] = []
            ao.reserveCapacity(count); bo.reserveCapacity(count); co.reserveCapacity(count)
            var index = [Int](repeating: 0, count: rank)
            for i in 0..<count {
                var ai = 0, bi = 0
                for d in 0..<rank { ai += index[d] * aS[d]; bi += index[d] * bS[d] }
                ao.append(ai); bo.append(bi); co.append(i * m * n)
                var d = rank - 1
                while d >= 0 { index[d] += 1; if index[d] < batch[d] { break }; index[d] = 0; d -= 1 }
            }
            aOffsets = ao; bOffsets = bo; cOffsets = co
        }
    }

    /// A fused Transpose's permutation of an operand of `rank` axes, nil when there is none.
    private static func permutation(_ context: OperatorContext, _ key: String, rank: Int) throws -> [Int]? {
        guard let perm = try context.node.ints(key) else { return nil }
        guard perm.count == rank, Set(perm) == Set(0..<rank), rank >= 2 else {
            throw context.invalid("attribute '\(key)' \(perm) is not a permutation of the operand's \(rank) axes")
        }
        return perm
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = self.a.readable(try convPoolFloats(inputs, 0)), b = self.b.readable(try convPoolFloats(inputs, 1))
        let total = outputTypes[0].count
        var out: [Float]
        guard total > 0 && k > 0 else {
            out = [Float](repeating: 0, count: total)
            finish(&out, rows: total / max(n, 1))
            return [Tensor(shape: outputTypes[0].shape, floats: out)]
        }
        // No zero fill: every product writes its whole output block (beta = 0).
        out = [Float](unsafeUninitializedCapacity: total) { _, count in count = total }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    if let rows = singleGemmRows {
                        (bias ?? []).withUnsafeBufferPointer { biasPointer in
                            // Bias and activation per block of the product, while it is in cache.
                            let epilogue = GemmEpilogue(columnBias: bias == nil ? nil : biasPointer.baseAddress, activation: activation)
                            Gemm.sgemm(m: rows, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n,
                                       c: op.baseAddress!, ldc: n, epilogue: epilogue)
                        }
                    } else {
                        Gemm.sgemmBatched(transA: self.a.transposed, transB: self.b.transposed, m: m, n: n, k: k,
                                          a: ap.baseAddress!, lda: self.a.leading, aOffsets: aOffsets,
                                          b: bp.baseAddress!, ldb: self.b.leading, bOffsets: bOffsets,
                                          c: op.baseAddress!, ldc: n, cOffsets: cOffsets)
                    }
                }
            }
        }
        if singleGemmRows == nil { finish(&out, rows: total / n) }
        return [Tensor(shape: outputTypes[0].shape, floats: out)]
    }

    /// The bias and activation as passes over the whole output (products the epilogue did not cover).
    private func finish(_ out: inout [Float], rows: Int) {
        guard !out.isEmpty, bias != nil || !activation.isIdentity else { return }
        (bias ?? []).withUnsafeBufferPointer { biasPointer in
            let epilogue = GemmEpilogue(columnBias: bias == nil ? nil : biasPointer.baseAddress, activation: activation)
            out.withUnsafeMutableBufferPointer { epilogue.apply($0.baseAddress!, ldc: n, rows: 0..<rows, columns: 0..<n) }
        }
    }
}
