import MPQGraph
import MPQKernels

/// ONNX Gemm: `Y = alpha · A' · B' + beta · C`, where `A'`/`B'` are `A`/`B` optionally transposed
/// (`transA`, `transB`) and the optional `C` broadcasts unidirectionally to `[M, N]`.
public struct GemmOperator: Operator {
    public let outputTypes: [TensorType]
    let transA: Bool, transB: Bool
    let alpha: Float, beta: Float
    let m: Int, n: Int, k: Int
    /// Shape of C as [rows, cols] with rows ∈ {1, M}, cols ∈ {1, N}; nil without C.
    let cShape: (rows: Int, cols: Int)?
    /// Activation fused by the graph optimizer.
    let activation: Activation

    public init(_ context: OperatorContext) throws {
        let a = try convPoolFloatType(context, 0, "A"), b = try convPoolFloatType(context, 1, "B")
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw context.invalid("A has shape \(a.shape) and B has shape \(b.shape); Gemm needs 2-D A and B (use MatMul or Flatten first)")
        }
        let ta = try context.node.int("transA", default: 0), tb = try context.node.int("transB", default: 0)
        guard (ta == 0 || ta == 1), (tb == 0 || tb == 1) else {
            throw context.invalid("attributes 'transA' (\(ta)) and 'transB' (\(tb)) must be 0 or 1")
        }
        transA = ta == 1; transB = tb == 1
        alpha = try context.node.float("alpha", default: 1)
        beta = try context.node.float("beta", default: 1)
        m = transA ? a.shape[1] : a.shape[0]
        k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0]
        n = transB ? b.shape[0] : b.shape[1]
        guard k == kb else {
            throw context.invalid("inner dimensions differ: A\(transA ? "ᵀ" : "") is \(m)×\(k) but B\(transB ? "ᵀ" : "") is \(kb)×\(n) (shapes \(a.shape), \(b.shape)); check transA/transB")
        }
        if context.hasInput(2) {
            let c = try convPoolFloatType(context, 2, "C")
            guard c.shape.count <= 2 else {
                throw context.invalid("C has shape \(c.shape); it must broadcast to [\(m), \(n)] (rank ≤ 2)")
            }
            let dims = [Int](repeating: 1, count: 2 - c.shape.count) + c.shape
            guard dims[0] == 1 || dims[0] == m, dims[1] == 1 || dims[1] == n else {
                throw context.invalid("C has shape \(c.shape), which does not broadcast to [\(m), \(n)]; each dimension must be 1 or match")
            }
            cShape = (dims[0], dims[1])
        } else {
            cShape = nil
        }
        activation = try fusedActivation(context)
        outputTypes = [TensorType(.float32, [m, n])]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try convPoolFloats(inputs, 0), b = try convPoolFloats(inputs, 1)
        let c = cShape != nil ? try convPoolFloats(inputs, 2) : nil
        let (m, n, k) = (self.m, self.n, self.k)
        var out = [Float](repeating: 0, count: m * n)
        var beta: Float = 0
        if let c, let cs = cShape, self.beta != 0 {
            beta = self.beta
            for i in 0..<m {
                let ci = cs.rows == 1 ? 0 : i
                for j in 0..<n { out[i * n + j] = c[ci * cs.cols + (cs.cols == 1 ? 0 : j)] }
            }
        }
        if m > 0, n > 0, k > 0 {
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { op in
                        Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                   a: ap.baseAddress!, lda: transA ? m : k,
                                   b: bp.baseAddress!, ldb: transB ? k : n,
                                   beta: beta, c: op.baseAddress!, ldc: n)
                    }
                }
            }
        } else if beta != 1 {
            for i in 0..<out.count { out[i] *= beta }
        }
        if !activation.isIdentity, !out.isEmpty {
            out.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
        }
        return [Tensor(shape: [m, n], floats: out)]
    }
}
