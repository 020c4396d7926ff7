import MPQGraph
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL1, ReduceL2 and ReduceSumSquare on float32
/// over `axes` (negative allowed), with `keepdims` (default 1) and `noop_with_empty_axes`
/// (default 0). Axes are the `axes` attribute before the opset where they became an optional
/// constant input (13 for ReduceSum, 18 for the others); no axes means every axis.
public struct ReduceOperator: Operator {
    enum Kind: Sendable { case sum, mean, max, min, l1, l2, sumSquare }

    public let outputTypes: [TensorType]
    let kind: Kind
    let inputType: TensorType
    /// Reduced axes, ascending; empty with `noop` means identity.
    let axes: [Int]
    let noop: Bool
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let kinds: [String: (Kind, Int)] = [
            "ReduceSum": (.sum, 13), "ReduceMean": (.mean, 18), "ReduceMax": (.max, 18), "ReduceMin": (.min, 18),
            "ReduceL1": (.l1, 18), "ReduceL2": (.l2, 18), "ReduceSumSquare": (.sumSquare, 18),
        ]
        guard let (k, axesInputOpset) = kinds[context.node.opType] else {
            throw context.invalid("ReduceOperator does not implement \(context.node.opType)")
        }
        kind = k
        let x = try context.inputType(0)
        guard x.elementType == .float32 else {
            throw context.invalid("input is \(x); \(context.node.opType) supports float32 (Cast it to float32 first)")
        }
        let rank = x.shape.count
        let raw: [Int]
        if context.opset < axesInputOpset {
            raw = try context.node.ints("axes") ?? []
        } else {
            if context.node.attributes["axes"] != nil {
                throw context.invalid("from opset \(axesInputOpset) the axes are input #1, not an attribute; the model imports opset \(context.opset)")
            }
            raw = context.hasInput(1) ? try context.constantInts(1, what: "axes") : []
        }
        let keepDims = try context.node.int("keepdims", default: 1) != 0
        let noopEmpty = try context.node.int("noop_with_empty_axes", default: 0) != 0
        var axes = try context.normalizedAxes(raw, rank: rank).sorted()
        noop = axes.isEmpty && noopEmpty
        if axes.isEmpty && !noopEmpty { axes = Array(0..<rank) }
        self.axes = axes
        if [Kind.mean, .max, .min].contains(k), axes.contains(where: { x.shape[$0] == 0 }) {
            throw context.invalid("cannot take \(context.node.opType) over an empty dimension of shape \(TensorLayout.describe(x.shape))")
        }
        var out: [Int] = []
        for (i, d) in x.shape.enumerated() {
            if axes.contains(i) {
                if keepDims { out.append(1) }
            } else {
                out.append(d)
            }
        }
        inputType = x
        outputTypes = [TensorType(.float32, noop ? x.shape : out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        if noop { return [x] }
        guard var v = x.floats else { throw label.error("input must be float32") }
        switch kind {
        case .l1: v = v.map { abs($0) }
        case .l2, .sumSquare: v = v.map { $0 * $0 }
        default: break
        }
        var shape = x.shape
        // Reduce one axis at a time, innermost first, so earlier axis indices stay valid.
        for a in axes.reversed() {
            let outer = TensorLayout.product(shape[..<a]), n = shape[a], inner = TensorLayout.product(shape[(a + 1)...])
            switch kind {
            case .max: v = ReduceOperator.reduce(v, outer: outer, n: n, inner: inner) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
            case .min: v = ReduceOperator.reduce(v, outer: outer, n: n, inner: inner) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
            default: v = ReduceOperator.sum(v, outer: outer, n: n, inner: inner)
            }
            shape[a] = 1
        }
        switch kind {
        case .mean:
            let scale = 1 / Float(TensorLayout.product(axes.map { x.shape[$0] }))
            for i in v.indices { v[i] *= scale }
        case .l2:
            for i in v.indices { v[i] = v[i].squareRoot() }
        default: break
        }
        return [Tensor(shape: outputTypes[0].shape, floats: v)]
    }

    /// Sums a [outer, n, inner] array along n (0 when n is 0).
    static func sum(_ v: [Float], outer: Int, n: Int, inner: Int) -> [Float] {
        let total = outer &* inner
        if total == 0 { return [] }
        var out = [Float](repeating: 0, count: total)
        if n == 0 { return out }
        v.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                if inner == 1 {
                    for o in 0..<outer {
                        let row = s + o &* n
                        var acc: Float = 0
                        for i in 0..<n { acc += row[i] }
                        d[o] = acc
                    }
                } else {
                    for o in 0..<outer {
                        let block = s + o &* n &* inner, w = d + o &* inner
                        for i in 0..<n {
                            let r = block + i &* inner
                            for j in 0..<inner { w[j] += r[j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Folds a [outer, n ≥ 1, inner] array along n with `f`, starting from the first element.
    @inline(__always)
    static func reduce(_ v: [Float], outer: Int, n: Int, inner: Int, _ f: (Float, Float) -> Float) -> [Float] {
        let total = outer &* inner
        if total == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: total) { dst, c in
            v.withUnsafeBufferPointer { src in
                let s = src.baseAddress!, d = dst.baseAddress!
                for o in 0..<outer {
                    let block = s + o &* n &* inner, w = d + o &* inner
                    for j in 0..<inner { w[j] = block[j] }
                    for i in 1..<Swift.max(n, 1) {
                        let r = block + i &* inner
                        for j in 0..<inner { w[j] = f(w[j], r[j]) }
                    }
                }
            }
            c = total
        }
    }
}
