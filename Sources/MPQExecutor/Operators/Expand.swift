import MPQGraph

/// Expand: broadcasts the input with the (constant) int64 shape input #1, NumPy style; the
/// output shape is the broadcast of both, so a 1 in the requested shape keeps the input's size.
public struct ExpandOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let requested = try context.constantInts(1, what: "the target shape")
        if let bad = requested.first(where: { $0 < 0 }) {
            throw context.invalid("shape \(TensorLayout.describe(requested)) has negative dimension \(bad); dimensions must be ≥ 0")
        }
        guard let out = Broadcasting.shape(x.shape, requested) else {
            throw context.invalid("input shape \(TensorLayout.describe(x.shape)) cannot be expanded to \(TensorLayout.describe(requested)): aligned from the right, each input dimension must equal the requested one or be 1")
        }
        inputType = x
        outputTypes = [TensorType(x.elementType, out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        return [Broadcasting.expand(x, to: outputTypes[0].shape)]
    }
}
