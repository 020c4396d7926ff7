import MPQGraph
import MPQKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// LayerNormalization (opset 17): normalises over the trailing dimensions from `axis` (default
/// −1), `y = (x − mean) / sqrt(var + epsilon) · scale + bias`, with the (biased) variance, the
/// optional bias, and the optional Mean and InvStdDev outputs (shaped like the input with the
/// normalised dimensions set to 1). Statistics are accumulated in double precision
/// (stash_type 1, float32, is the only type and computes at least as precisely).
///
/// A residual Add fused by the graph optimizer (`GraphOptimizer.fuseResidualAdds`: attribute `mpq_residual`, the
/// Add's second operand as input 3) is summed row by row into the output before the row is normalised.
public struct LayerNormalizationOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    /// The fused residual operand's type, and whether it is summed row by row (same shape as X) or first as a
    /// broadcast into a new tensor.
    let residualType: TensorType?
    let residualPlan: Broadcasting.BinaryPlan?
    let epsilon: Float
    /// Rows normalised and their length.
    let rows: Int
    let n: Int
    /// The normalised trailing dimensions; scale and bias broadcast to them.
    let normalizedShape: [Int]
    let scaleType: TensorType
    let biasType: TensorType?
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let input = try context.inputType(0)
        guard input.elementType == .float32 else { throw context.invalid("input X must be float32, found \(input)") }
        var x = input
        if context.node.attributes[GraphOptimizer.residualKey] != nil {
            let r = try context.inputType(3)
            guard r.elementType == .float32, let sum = Broadcasting.shape(input.shape, r.shape) else {
                throw context.invalid("the fused residual (input #3) \(r) must be float32 and broadcast with X \(input)")
            }
            residualType = r
            x = TensorType(.float32, sum)
            residualPlan = r.shape == input.shape ? nil : Broadcasting.BinaryPlan(a: input.shape, b: r.shape, out: sum)
        } else {
            residualType = nil
            residualPlan = nil
        }
        inputType = input
        let rank = x.shape.count
        guard rank >= 1 else { throw context.invalid("input X must have rank ≥ 1") }
        let axis = try context.normalizedAxis(try context.node.int("axis", default: -1), rank: rank)
        epsilon = try context.node.float("epsilon", default: 1e-5)
        guard epsilon >= 0, epsilon.isFinite else { throw context.invalid("epsilon \(epsilon) must be a finite value ≥ 0") }
        let stash = try context.node.int("stash_type", default: 1)
        guard stash == 1 else {
            throw context.invalid("stash_type=\(stash) is not supported; only 1 (float32 statistics) is")
        }
        let normalized = Array(x.shape[axis...])
        let scale = try context.inputType(1)
        guard scale.elementType == .float32, let s = Broadcasting.shape(scale.shape, normalized), s == normalized else {
            throw context.invalid("Scale \(scale) must be float32 and broadcast to the normalised shape \(TensorLayout.describe(normalized))")
        }
        var bias: TensorType? = nil
        if context.hasInput(2) {
            let b = try context.inputType(2)
            guard b.elementType == .float32, let s = Broadcasting.shape(b.shape, normalized), s == normalized else {
                throw context.invalid("B \(b) must be float32 and broadcast to the normalised shape \(TensorLayout.describe(normalized))")
            }
            bias = b
        }
        normalizedShape = normalized
        rows = TensorLayout.product(x.shape[..<axis])
        n = TensorLayout.product(normalized)
        scaleType = scale
        biasType = bias
        let statShape = Array(x.shape[..<axis]) + [Int](repeating: 1, count: rank - axis)
        outputTypes = [x, TensorType(.float32, statShape), TensorType(.float32, statShape)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        var x = try label.input(inputs, 0, expecting: inputType)
        let scale = try label.input(inputs, 1, expecting: scaleType)
        let bias = try biasType.map { try label.input(inputs, 2, expecting: $0) }
        var residual = try residualType.map { try label.input(inputs, 3, expecting: $0).floats ?? [] }
        if let plan = residualPlan, let r = residual {
            x = Tensor(shape: outputTypes[0].shape, floats: plan.floats(.add, x.floats ?? [], r))
            residual = nil
        }
        guard let xv = x.floats, let sv = row(scale).floats else {
            throw label.error("inputs must be float32")
        }
        let bv = bias.flatMap { row($0).floats }
        let rows = self.rows, n = self.n, eps = Double(epsilon)
        var means = [Float](repeating: 0, count: rows)
        var invStd = [Float](repeating: 0, count: rows)
        let total = xv.count
        if total == 0 { return [x, Tensor(shape: outputTypes[1].shape, floats: means), Tensor(shape: outputTypes[2].shape, floats: invStd)] }
        let y = [Float](unsafeUninitializedCapacity: total) { out, initialized in
            xv.withUnsafeBufferPointer { xb in
                sv.withUnsafeBufferPointer { sb in
                    means.withUnsafeMutableBufferPointer { mb in
                        invStd.withUnsafeMutableBufferPointer { ib in
                          (bv ?? []).withUnsafeBufferPointer { bb in
                           (residual ?? []).withUnsafeBufferPointer { rb in
                            let xp = xb.baseAddress!, op = out.baseAddress!, sp = sb.baseAddress!
                            let mp = mb.baseAddress!, ip = ib.baseAddress!
                            let bp = bv == nil ? nil : bb.baseAddress
                            let rp = residual == nil ? nil : rb.baseAddress
                            // Rows are independent: split them over the kernel threads when large.
                            KernelThreads.forEachRange(count: rows, grain: max(1, (1 << 15) / max(n, 1))) { range in
                                for r in range {
                                    var source = UnsafePointer(xp + r &* n)
                                    if let rp {
                                        // The residual sum, in the output row while it is in cache.
                                        ElementwiseBinary.add.run(source, aStep: 1, rp + r &* n, bStep: 1, op + r &* n, count: n)
                                        source = UnsafePointer(op + r &* n)
                                    }
                                    LayerNormRow.normalize(source, into: op + r &* n, count: n, scale: sp,
                                                           bias: bp, epsilon: eps, mean: mp + r, invStd: ip + r)
                                }
                            }
                           }
                          }
                        }
                    }
                }
            }
            initialized = total
        }
        return [Tensor(shape: outputTypes[0].shape, floats: y),
                Tensor(shape: outputTypes[1].shape, floats: means),
                Tensor(shape: outputTypes[2].shape, floats: invStd)]
    }

    /// Scale or bias as one dense row of the normalised length.
    private func row(_ t: Tensor) -> Tensor {
        t.count == n ? t.reshaped([n]) : Broadcasting.expand(t, to: normalizedShape).reshaped([n])
    }
}

/// One row of LayerNormalization, with 16-lane partial sums (the scalar `sum +=` chain could not
/// vectorise). Two passes: the mean, then the centred sum of squares (no cancellation).
enum LayerNormRow {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func normalize(_ row: UnsafePointer<Float>, into w: UnsafeMutablePointer<Float>, count n: Int,
                          scale sp: UnsafePointer<Float>, bias bp: UnsafePointer<Float>?, epsilon eps: Double,
                          mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>) {
        let vectorEnd = n & ~15
        var acc = V(repeating: 0)
        var i = 0
        while i < vectorEnd { acc += UnsafeRawPointer(row + i).loadUnaligned(as: V.self); i &+= 16 }
        var sum = acc.sum()
        while i < n { sum += row[i]; i &+= 1 }
        let m = Float(Double(sum) / Double(n))
        let mv = V(repeating: m)
        var sq = V(repeating: 0)
        i = 0
        while i < vectorEnd {
            let c = UnsafeRawPointer(row + i).loadUnaligned(as: V.self) - mv
            UnsafeMutableRawPointer(w + i).storeBytes(of: c, as: V.self)
            sq += c * c
            i &+= 16
        }
        var sqSum = sq.sum()
        while i < n { let c = row[i] - m; w[i] = c; sqSum += c * c; i &+= 1 }
        let inv = Float(1 / (Double(sqSum) / Double(n) + eps).squareRoot())
        mean.pointee = m
        invStd.pointee = inv
        if let bp {
            for j in 0..<n { w[j] = w[j] * inv * sp[j] + bp[j] }
        } else {
            for j in 0..<n { w[j] = w[j] * inv * sp[j] }
        }
    }
}
