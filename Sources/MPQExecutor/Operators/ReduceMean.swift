import MPQGraph

/// ReduceMean over `axes` (attribute before opset 18, optional constant input #1 from 18;
/// negative allowed), with `keepdims` (default 1) and `noop_with_empty_axes` (default 0).
public struct ReduceMeanOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    /// Reduced axes, ascending; empty with `noop` means identity.
    let axes: [Int]
    let noop: Bool
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        guard x.elementType == .float32 else { throw context.invalid("input must be float32, found \(x)") }
        let rank = x.shape.count
        let raw: [Int]
        if context.opset < 18 {
            raw = try context.node.ints("axes") ?? []
        } else if context.hasInput(1) {
            raw = try context.constantInts(1, what: "axes")
        } else {
            raw = []
        }
        let keepDims = try context.node.int("keepdims", default: 1) != 0
        let noopEmpty = try context.node.int("noop_with_empty_axes", default: 0) != 0
        var axes = try context.normalizedAxes(raw, rank: rank).sorted()
        noop = axes.isEmpty && noopEmpty
        if axes.isEmpty && !noopEmpty { axes = Array(0..<rank) }
        self.axes = axes
        var out: [Int] = []
        for (i, d) in x.shape.enumerated() {
            if axes.contains(i) {
                if keepDims { out.append(1) }
            } else {
                out.append(d)
            }
        }
        if axes.contains(where: { x.shape[$0] == 0 }) {
            throw context.invalid("cannot average over an empty dimension of shape \(TensorLayout.describe(x.shape))")
        }
        inputType = x
        outputTypes = [TensorType(.float32, noop ? x.shape : out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        if noop { return [x] }
        guard var v = x.floats else { throw label.error("input must be float32") }
        var shape = x.shape
        // Sum one axis at a time, innermost first, so earlier axis indices stay valid.
        for a in axes.reversed() {
            v = ReduceMeanOperator.sum(v, outer: TensorLayout.product(shape[..<a]), n: shape[a],
                                       inner: TensorLayout.product(shape[(a + 1)...]))
            shape[a] = 1
        }
        let count = TensorLayout.product(axes.map { x.shape[$0] })
        let scale = 1 / Float(count)
        for i in v.indices { v[i] *= scale }
        return [Tensor(shape: outputTypes[0].shape, floats: v)]
    }

    /// Sums a [outer, n, inner] array along n.
    static func sum(_ v: [Float], outer: Int, n: Int, inner: Int) -> [Float] {
        let total = outer &* inner
        if total == 0 { return [] }
        var out = [Float](repeating: 0, count: total)
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
}
