import MPQGraph

/// Where: `condition ? X : Y` element-wise with three-way broadcasting; X and Y share any element
/// type, the condition is bool. The common attention-mask case (condition full-size, X and Y
/// scalars) is a single select loop.
public struct WhereOperator: Operator {
    public let outputTypes: [TensorType]
    let types: [TensorType]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let c = try context.inputType(0), x = try context.inputType(1), y = try context.inputType(2)
        guard c.elementType == .bool else {
            throw context.invalid("condition (input #0) is \(c); it must be bool (Cast to bool, to=9)")
        }
        guard x.elementType == y.elementType else {
            throw context.invalid("X is \(x) but Y is \(y); they must have the same element type")
        }
        guard let xy = Broadcasting.shape(x.shape, y.shape), let out = Broadcasting.shape(c.shape, xy) else {
            throw context.invalid("shapes \(TensorLayout.describe(c.shape)), \(TensorLayout.describe(x.shape)) and \(TensorLayout.describe(y.shape)) do not broadcast together")
        }
        types = [c, x, y]
        outputTypes = [TensorType(x.elementType, out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let shape = outputTypes[0].shape
        let c = Broadcasting.expand(try label.input(inputs, 0, expecting: types[0]), to: shape)
        let x = try label.input(inputs, 1, expecting: types[1])
        let y = try label.input(inputs, 2, expecting: types[2])
        guard let cond = c.bools else { throw label.error("condition must be bool") }
        func select<T>(_ a: [T], _ b: [T]) -> [T] {
            let n = cond.count
            let ea = a.count == 1 || a.count == n ? a : WhereOperator.dense(a, from: x.shape, to: shape)
            let eb = b.count == 1 || b.count == n ? b : WhereOperator.dense(b, from: y.shape, to: shape)
            if n == 0 { return [] }
            return [T](unsafeUninitializedCapacity: n) { out, initialized in
                cond.withUnsafeBufferPointer { cb in
                    ea.withUnsafeBufferPointer { ab in
                        eb.withUnsafeBufferPointer { bb in
                            let c = cb.baseAddress!, p = ab.baseAddress!, q = bb.baseAddress!, o = out.baseAddress!
                            // Scalar operands (mask constants) are read once, not materialised.
                            switch (ea.count == 1 && n > 1, eb.count == 1 && n > 1) {
                            case (true, true):
                                let u = p[0], v = q[0]
                                for i in 0..<n { (o + i).initialize(to: c[i] ? u : v) }
                            case (true, false):
                                let u = p[0]
                                for i in 0..<n { (o + i).initialize(to: c[i] ? u : q[i]) }
                            case (false, true):
                                let v = q[0]
                                for i in 0..<n { (o + i).initialize(to: c[i] ? p[i] : v) }
                            case (false, false):
                                for i in 0..<n { (o + i).initialize(to: c[i] ? p[i] : q[i]) }
                            }
                        }
                    }
                }
                initialized = n
            }
        }
        switch (x.storage, y.storage) {
        case (.float(let a), .float(let b)): return [Tensor(shape: shape, floats: select(a, b))]
        case (.int64(let a), .int64(let b)): return [Tensor(shape: shape, int64s: select(a, b))]
        case (.bool(let a), .bool(let b)): return [Tensor(shape: shape, bools: select(a, b))]
        default: throw label.error("X and Y must have the same element type")
        }
    }

    /// Elements broadcast from `from` to the shape `to`.
    private static func dense<T>(_ v: [T], from: [Int], to: [Int]) -> [T] {
        let strides = Broadcasting.strides(of: from, broadcastTo: to)
        let count = TensorLayout.product(to)
        if count == 0 { return [] }
        return [T](unsafeUninitializedCapacity: count) { out, n in
            v.withUnsafeBytes { src in
                StridedCopy.gather(src: src.baseAddress!, srcStrides: strides, shape: to,
                                   dst: UnsafeMutableRawPointer(out.baseAddress!), elementSize: MemoryLayout<T>.stride)
            }
            n = count
        }
    }
}
