import MPQGraph
import MPQKernels

/// ONNX MatMul with NumPy semantics: 1-D operands are promoted (and the added axis removed from the
/// result), leading batch dimensions broadcast.
///
/// A linear layer's bias Add fused by the graph optimizer (`GraphOptimizer.fuseMatMulBiases`) is a constant third
/// input of N values, added to each block of the product while it is in cache, before a fused activation.
public struct MatMulOperator: Operator {
    public let outputTypes: [TensorType]
    let m: Int, n: Int, k: Int
    /// Element offsets of each batch matrix in A, B and the output.
    let aOffsets: [Int], bOffsets: [Int], cOffsets: [Int]
    /// One sgemm of (batch·M)×K by K×N suffices (B shared by every batch, A not broadcast).
    let singleGemmRows: Int?
    /// Activation fused by the graph optimizer.
    let activation: Activation
    /// Bias fused by the graph optimizer: one value per output column.
    let bias: [Float]?

    public init(_ context: OperatorContext) throws {
        let a = try convPoolFloatType(context, 0, "A"), b = try convPoolFloatType(context, 1, "B")
        guard a.shape.count >= 1, b.shape.count >= 1 else {
            throw context.invalid("MatMul operands must have rank ≥ 1; got shapes \(a.shape) and \(b.shape)")
        }
        let aShape = a.shape.count == 1 ? [1] + a.shape : a.shape
        let bShape = b.shape.count == 1 ? b.shape + [1] : b.shape
        m = aShape[aShape.count - 2]; k = aShape[aShape.count - 1]
        let kb = bShape[bShape.count - 2]; n = bShape[bShape.count - 1]
        guard k == kb else {
            throw context.invalid("inner dimensions differ: A \(a.shape) has K = \(k) but B \(b.shape) has K = \(kb)")
        }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let rank = max(aBatch.count, bBatch.count)
        let aB = [Int](repeating: 1, count: rank - aBatch.count) + aBatch
        let bB = [Int](repeating: 1, count: rank - bBatch.count) + bBatch
        var batch: [Int] = []
        for i in 0..<rank {
            guard aB[i] == bB[i] || aB[i] == 1 || bB[i] == 1 else {
                throw context.invalid("batch dimensions of A \(a.shape) and B \(b.shape) do not broadcast (axis \(i): \(aB[i]) vs \(bB[i]))")
            }
            batch.append(aB[i] == 1 ? bB[i] : aB[i])
        }
        var outShape = batch
        if a.shape.count > 1 { outShape.append(m) }
        if b.shape.count > 1 { outShape.append(n) }
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
        if bCount == 1 && aCount == count {
            singleGemmRows = count * m
            aOffsets = []; bOffsets = []; cOffsets = []
        } else {
            singleGemmRows = nil
            // Row-major strides of the broadcast batch index into A's and B's batch dims.
            func strides(_ dims: [Int]) -> [Int] {
                var s = [Int](repeating: 0, count: dims.count), acc = 1
                for i in stride(from: dims.count - 1, through: 0, by: -1) { s[i] = dims[i] == 1 ? 0 : acc; acc *= dims[i] }
                return s
            }
            let aS = strides(aB), bS = strides(bB)
            var ao: [Int] = [], bo: [Int] = [], co: [Int] = []
            ao.reserveCapacity(count); bo.reserveCapacity(count); co.reserveCapacity(count)
            var index = [Int](repeating: 0, count: rank)
            for i in 0..<count {
                var ai = 0, bi = 0
                for d in 0..<rank { ai += index[d] * aS[d]; bi += index[d] * bS[d] }
                ao.append(ai * m * k); bo.append(bi * k * n); co.append(i * m * n)
                var d = rank - 1
                while d >= 0 { index[d] += 1; if index[d] < batch[d] { break }; index[d] = 0; d -= 1 }
            }
            aOffsets = ao; bOffsets = bo; cOffsets = co
        }
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try convPoolFloats(inputs, 0), b = try convPoolFloats(inputs, 1)
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
                        Gemm.sgemmBatched(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, aOffsets: aOffsets,
                                          b: bp.baseAddress!, ldb: n, bOffsets: bOffsets,
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
