import MPQGraph

/// The `axes` of Squeeze / Unsqueeze: the attribute before opset 13, the (constant) input #1 from 13.
private func axesArgument(_ context: OperatorContext) throws -> [Int]? {
    if context.opset < 13 {
        return try context.node.ints("axes")
    }
    guard context.hasInput(1) else { return nil }
    return try context.constantInts(1, what: "axes")
}

/// Squeeze: removes the listed dimensions (which must be 1), or every 1-dimension when no axes are given.
public struct SqueezeOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let rank = x.shape.count
        var out: [Int] = []
        if let raw = try axesArgument(context), !raw.isEmpty {
            let axes = try context.normalizedAxes(raw, rank: rank)
            for a in axes where x.shape[a] != 1 {
                throw context.invalid("cannot squeeze axis \(a) of shape \(TensorLayout.describe(x.shape)): its size is \(x.shape[a]), not 1; remove it from axes")
            }
            out = x.shape.enumerated().filter { !axes.contains($0.offset) }.map { $0.element }
        } else {
            out = x.shape.filter { $0 != 1 }
        }
        inputType = x
        outputTypes = [TensorType(x.elementType, out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        return [x.reshaped(outputTypes[0].shape)]
    }
}

/// Unsqueeze: inserts 1-dimensions at `axes`, which index the output (rank + number of axes).
public struct UnsqueezeOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        guard let raw = try axesArgument(context), !raw.isEmpty else {
            throw context.invalid(context.opset < 13
                ? "needs the axes attribute (the output positions of the new 1-dimensions)"
                : "needs the axes input #1 (the output positions of the new 1-dimensions)")
        }
        let outRank = x.shape.count + raw.count
        let axes = try context.normalizedAxes(raw, rank: outRank)
        var out: [Int] = []
        var next = 0
        for i in 0..<outRank {
            if axes.contains(i) {
                out.append(1)
            } else {
                out.append(x.shape[next])
                next += 1
            }
        }
        inputType = x
        outputTypes = [TensorType(x.elementType, out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        return [x.reshaped(outputTypes[0].shape)]
    }
}
