import MPQGraph

/// Flatten to 2-D: `[prod(dims[..<axis]), prod(dims[axis...])]`; axis in [-rank, rank], default 1.
public struct FlattenOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let axis = try context.normalizedAxis(try context.node.int("axis", default: 1), rank: x.shape.count, allowEnd: true)
        inputType = x
        outputTypes = [TensorType(x.elementType, [TensorLayout.product(x.shape[..<axis]), TensorLayout.product(x.shape[axis...])])]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        return [x.reshaped(outputTypes[0].shape)]
    }
}
