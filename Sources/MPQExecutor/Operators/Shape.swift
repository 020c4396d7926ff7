import MPQGraph

/// Shape: the input's dimensions as an int64 vector, optionally sliced by `start` / `end`
/// (opset 15; negative values count from the end, out-of-range values are clamped).
///
/// The result depends only on the input's compiled type, so the plan folds it to a constant.
public struct ShapeOperator: Operator {
    public static var needsInputValues: Bool { false }
    public let outputTypes: [TensorType]
    let value: Tensor

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let rank = x.shape.count
        let start = try context.node.int("start", default: 0)
        let end = try context.node.int("end", default: rank)
        if context.opset < 15, context.node.attributes["start"] != nil || context.node.attributes["end"] != nil {
            throw context.invalid("attributes start/end need opset 15 or later; the model imports opset \(context.opset)")
        }
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let lo = clamp(start), hi = max(clamp(end), lo)
        let dims = x.shape[lo..<hi].map { Int64($0) }
        value = Tensor(shape: [dims.count], int64s: dims)
        outputTypes = [TensorType(.int64, value.shape)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] { [value] }
}

/// Size: the input's element count as an int64 scalar; folded to a constant like Shape.
public struct SizeOperator: Operator {
    public static var needsInputValues: Bool { false }
    public let outputTypes: [TensorType]
    let value: Tensor

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        value = Tensor(shape: [], int64s: [Int64(x.count)])
        outputTypes = [TensorType(.int64, [])]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] { [value] }
}
