import MPQGraph

/// Slice with NumPy semantics on any element type. Opset ≥ 10 takes constant int64 inputs
/// `starts`, `ends` and optional `axes` and `steps`; opset < 10 (kept for completeness) takes the
/// `starts`, `ends`, `axes` attributes. Negative starts/ends count from the end; out-of-range
/// values are clamped (to [0, d] for positive steps, [−1, d − 1] for negative steps), so
/// INT64_MAX / INT64_MIN mean "to the end".
public struct SliceOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    /// Element offset of the first element read, and per-axis strides (input stride × step).
    let offset: Int
    let strides: [Int]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let rank = x.shape.count
        let starts: [Int], ends: [Int], rawAxes: [Int]?, steps: [Int]?
        if context.opset < 10 {
            starts = try context.node.ints("starts") ?? []
            ends = try context.node.ints("ends") ?? []
            rawAxes = try context.node.ints("axes")
            steps = nil
        } else {
            starts = try context.constantInts(1, what: "starts")
            ends = try context.constantInts(2, what: "ends")
            rawAxes = context.hasInput(3) ? try context.constantInts(3, what: "axes") : nil
            steps = context.hasInput(4) ? try context.constantInts(4, what: "steps") : nil
        }
        guard starts.count == ends.count else {
            throw context.invalid("starts has \(starts.count) entries but ends has \(ends.count); they must match")
        }
        let axes = try context.normalizedAxes(rawAxes ?? Array(0..<starts.count), rank: rank)
        guard axes.count == starts.count else {
            throw context.invalid("axes has \(axes.count) entries but starts has \(starts.count); they must match")
        }
        let stepList = steps ?? [Int](repeating: 1, count: starts.count)
        guard stepList.count == starts.count else {
            throw context.invalid("steps has \(stepList.count) entries but starts has \(starts.count); they must match")
        }
        var shape = x.shape
        var begin = [Int](repeating: 0, count: rank)
        var step = [Int](repeating: 1, count: rank)
        for (k, a) in axes.enumerated() {
            let d = x.shape[a], st = stepList[k]
            guard st != 0 else { throw context.invalid("steps \(TensorLayout.describe(stepList)) contains 0 (axis \(a)); steps must be non-zero") }
            var s = starts[k], e = ends[k]
            if s < 0 { s = s &+ d }
            if e < 0 { e = e &+ d }
            let n: Int
            if st > 0 {
                s = min(max(s, 0), d)
                e = min(max(e, 0), d)
                n = e > s ? (e - s + st - 1) / st : 0
            } else {
                s = min(max(s, -1), d - 1)
                e = min(max(e, -1), d - 1)
                n = s > e ? (s - e + (-st) - 1) / (-st) : 0
            }
            shape[a] = n
            begin[a] = n > 0 ? s : 0
            step[a] = st
        }
        let own = TensorLayout.strides(x.shape)
        offset = zip(begin, own).reduce(0) { $0 + $1.0 * $1.1 }
        strides = zip(step, own).map { $0 * $1 }
        inputType = x
        outputTypes = [TensorType(x.elementType, shape)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        let type = outputTypes[0]
        let storage = x.storage.withRawBytes { src in
            Tensor.Storage.make(type.elementType, count: type.count) { dst in
                guard let dst, let src else { return }
                StridedCopy.gather(src: src, srcOffset: offset, srcStrides: strides, shape: type.shape, dst: dst,
                                   elementSize: type.elementType.storageSize)
            }
        }
        return [Tensor(shape: type.shape, storage: storage)]
    }
}
