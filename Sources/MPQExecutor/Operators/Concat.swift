import MPQGraph

/// Placeholder until implemented.
public struct ConcatOperator: Operator {
    public let outputTypes: [TensorType]
    public init(_ context: OperatorContext) throws { throw context.invalid("not implemented yet") }
    public func run(_ inputs: [Tensor?]) throws -> [Tensor] { [] }
}

