import MPQGraph
import MPQKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax and LogSoftmax, numerically stable (the maximum is subtracted before exponentiating).
///
/// Opset < 13 coerces the input to 2-D at `axis` (default 1) and normalises each row of the
/// flattened `[prod(dims[..<axis]), prod(dims[axis...])]` matrix; opset ≥ 13 normalises along the
/// single dimension `axis` (default -1).
///
/// A Softmax that absorbed its input's scale and mask (`GraphOptimizer.fuseSoftmaxInputs`) first computes
/// `x · s` (or `x / s`), then `+ mask` (its second input, broadcast), row by row while each row is in cache.
public struct SoftmaxOperator: Operator {
    public let outputTypes: [TensorType]
    let log: Bool
    let prelude: SoftmaxPrelude?
    /// The tensor viewed as [outer, n, inner]; normalisation runs along n.
    let outer: Int
    let n: Int
    let inner: Int
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        switch context.node.opType {
        case "Softmax": log = false
        case "LogSoftmax": log = true
        default: throw context.invalid("SoftmaxOperator handles Softmax and LogSoftmax, not \(context.node.opType)")
        }
        let input = try context.inputType(0)
        guard input.elementType == .float32 else {
            throw context.invalid("input must be float32, found \(input)")
        }
        var prelude = try SoftmaxPrelude(context, input: input)
        let x = prelude?.outputType ?? input
        let rank = x.shape.count
        if context.opset < 13 {
            let axis = try context.node.int("axis", default: 1)
            // Coercion to 2-D accepts axis == rank (everything in the outer dimension).
            let a = try context.normalizedAxis(axis, rank: rank, allowEnd: true)
            outer = TensorLayout.product(x.shape[..<a])
            n = TensorLayout.product(x.shape[a...])
            inner = 1
        } else {
            let axis = try context.node.int("axis", default: -1)
            if rank == 0 {
                guard axis == 0 || axis == -1 else {
                    throw context.invalid("axis \(axis) is out of range for a scalar input; use -1 or 0")
                }
                outer = 1; n = 1; inner = 1
            } else {
                let a = try context.normalizedAxis(axis, rank: rank)
                outer = TensorLayout.product(x.shape[..<a])
                n = x.shape[a]
                inner = TensorLayout.product(x.shape[(a + 1)...])
            }
        }
        if inner == 1 { prelude?.prepareRows(n) }
        self.prelude = prelude
        outputTypes = [x]
        label = OperatorLabel(context)
    }

    /// Softmax rows (not LogSoftmax) can overwrite their input when it already has the output's shape.
    public var inPlaceInput: Int? {
        !log && inner == 1 && (prelude == nil || prelude?.rowOffsets != nil) ? 0 : nil
    }

    public func run(consuming inputs: consuming [Tensor?]) throws -> [Tensor] {
        guard inPlaceInput != nil else { return try run(inputs) }
        // Only the shape is kept: a live reference to the input's storage would make the in-place write copy it.
        let shape = try label.input(inputs, 0, expecting: prelude?.inputType ?? outputTypes[0]).shape
        let mask = try prelude?.mask(inputs, label)
        guard var v = Tensor.takeFloats(&inputs[0]), n > 0, !v.isEmpty else { return try run(inputs) }
        v.withUnsafeMutableBufferPointer { b in
            rows(b.baseAddress!, b.baseAddress!, prelude: prelude, mask: mask)
        }
        return [Tensor(shape: shape, floats: v)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        var x = try label.input(inputs, 0, expecting: prelude?.inputType ?? outputTypes[0])
        if let prelude, prelude.rowOffsets == nil {
            // Scale and mask the whole tensor first, then normalise it.
            x = try prelude.apply(x, mask: prelude.mask(inputs, label))
            return try normalise(x, prelude: nil, mask: nil)
        }
        return try normalise(x, prelude: prelude, mask: prelude?.mask(inputs, label))
    }

    /// Row kernels on contiguous rows (`inner == 1`), the prelude applied per block of rows; `src` may equal `dst`.
    private func rows(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, prelude: SoftmaxPrelude?, mask: [Float]?) {
        let (n, log) = (self.n, self.log)
        // Rows are independent: split them over the kernel threads when there is work.
        KernelThreads.forEachRange(count: outer, grain: max(1, (1 << 16) / max(n, 1))) { rows in
            if let prelude, let mask {
                mask.withUnsafeBufferPointer { m in prelude.softmaxRows(rows, n: n, s, m.baseAddress!, d) }
            } else if let prelude {
                prelude.softmaxRows(rows, n: n, s, nil, d)
            } else {
                for o in rows { VectorMath.softmaxRow(s + o &* n, d + o &* n, count: n, log: log) }
            }
        }
    }

    /// Softmax of `x`, after `prelude` (which must have rows prepared) when one is given.
    private func normalise(_ x: Tensor, prelude: SoftmaxPrelude?, mask: [Float]?) throws -> [Tensor] {
        guard let v = x.floats else { throw label.error("input must be float32") }
        let total = v.count
        if total == 0 || n == 0 { return [x] }
        let out = [Float](unsafeUninitializedCapacity: total) { buf, c in
            v.withUnsafeBufferPointer { src in
                let s = src.baseAddress!, d = buf.baseAddress!
                if inner == 1 {
                    rows(s, d, prelude: prelude, mask: mask)
                } else {
                    var scratch = [Float](repeating: 0, count: inner)
                    scratch.withUnsafeMutableBufferPointer { acc in
                        for o in 0..<outer {
                            let base = o &* n &* inner
                            strided(s + base, d + base, acc.baseAddress!)
                        }
                    }
                }
            }
            c = total
        }
        return [Tensor(shape: x.shape, floats: out)]
    }

    /// One [n, inner] block normalised along n, vectorised across inner.
    @inline(__always)
    private func strided(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ acc: UnsafeMutablePointer<Float>) {
        // Column maxima into d's first row position is not possible (d is written later), so keep
        // the maxima in the output's first row temporarily and the sums in `acc`.
        let m = d
        for j in 0..<inner { m[j] = s[j] }
        for i in 1..<max(n, 1) {
            let r = s + i &* inner
            for j in 0..<inner { m[j] = max(m[j], r[j]) }
        }
        for j in 0..<inner where !m[j].isFinite && !m[j].isNaN { m[j] = m[j] > 0 ? m[j] : 0 }
        let maxima = [Float](unsafeUninitializedCapacity: inner) { b, c in
            for j in 0..<inner { b[j] = m[j] }
            c = inner
        }
        maxima.withUnsafeBufferPointer { mb in
            let mx = mb.baseAddress!
            for j in 0..<inner { acc[j] = 0 }
            for i in 0..<n {
                let r = s + i &* inner, w = d + i &* inner
                for j in 0..<inner {
                    let e = expf(r[j] - mx[j])
                    w[j] = e
                    acc[j] += e
                }
            }
            if log {
                for j in 0..<inner { acc[j] = logf(acc[j]) }
                for i in 0..<n {
                    let r = s + i &* inner, w = d + i &* inner
                    for j in 0..<inner { w[j] = (r[j] - mx[j]) - acc[j] }
                }
            } else {
                for j in 0..<inner { acc[j] = 1 / acc[j] }
                for i in 0..<n {
                    let w = d + i &* inner
                    for j in 0..<inner { w[j] *= acc[j] }
                }
            }
        }
    }
}
