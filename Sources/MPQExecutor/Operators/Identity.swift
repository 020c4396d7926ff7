import MPQGraph

/// Identity, and Dropout at inference: the input passes through unchanged; Dropout's optional
/// mask output is all true.
public struct IdentityOperator: Operator {
    public let outputTypes: [TensorType]
    let wantsMask: Bool
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let outputs = context.node.outputs
        wantsMask = context.node.opType == "Dropout" && outputs.count > 1 && !outputs[1].isEmpty
        if context.node.opType == "Identity" && outputs.count > 1 {
            throw context.invalid("Identity has exactly one output, found \(outputs.count)")
        }
        outputTypes = wantsMask ? [x, TensorType(.bool, x.shape)] : [x]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: outputTypes[0])
        if wantsMask {
            return [x, Tensor(shape: x.shape, bools: [Bool](repeating: true, count: x.count))]
        }
        return [x]
    }
}
