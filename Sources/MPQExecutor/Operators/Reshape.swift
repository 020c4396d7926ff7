import MPQGraph

/// Reshape to a constant target shape: 0 copies the input dimension (unless `allowzero` = 1),
/// and one -1 is inferred from the element count.
public struct ReshapeOperator: Operator {
    public let outputTypes: [TensorType]
    let inputType: TensorType
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let requested = try context.constantInts(1, what: "the target shape")
        let allowZero = try context.node.int("allowzero", default: 0) != 0
        let shape = try ReshapeOperator.resolve(requested, input: x.shape, allowZero: allowZero, context: context)
        inputType = x
        outputTypes = [TensorType(x.elementType, shape)]
        label = OperatorLabel(context)
    }

    static func resolve(_ requested: [Int], input: [Int], allowZero: Bool, context: OperatorContext) throws -> [Int] {
        let req = TensorLayout.describe(requested)
        var shape = requested
        var inferred: Int? = nil
        for (i, d) in requested.enumerated() {
            if d == -1 {
                guard inferred == nil else {
                    throw context.invalid("shape \(req) has more than one -1; at most one dimension can be inferred")
                }
                inferred = i
            } else if d == 0 && !allowZero {
                guard i < input.count else {
                    throw context.invalid("shape \(req) has 0 at position \(i), which copies an input dimension, but the input \(TensorLayout.describe(input)) has only \(input.count) dimensions")
                }
                shape[i] = input[i]
            } else if d < 0 {
                throw context.invalid("shape \(req) has invalid dimension \(d); dimensions must be ≥ 0 or -1 (inferred)")
            }
        }
        if allowZero, inferred != nil, shape.contains(0) {
            throw context.invalid("shape \(req) combines -1 with 0 while allowzero=1; the -1 cannot be inferred")
        }
        let total = TensorLayout.product(input)
        if let k = inferred {
            let known = TensorLayout.product(shape.enumerated().filter { $0.offset != k }.map { $0.element })
            guard known != 0, total % known == 0 else {
                throw context.invalid("cannot reshape input \(TensorLayout.describe(input)) (\(total) elements) to \(req): \(total) is not divisible by the product \(known) of the other dimensions")
            }
            shape[k] = total / known
        }
        guard TensorLayout.product(shape) == total else {
            throw context.invalid("cannot reshape input \(TensorLayout.describe(input)) (\(total) elements) to \(req) (resolved \(TensorLayout.describe(shape)), \(TensorLayout.product(shape)) elements); the element counts must match")
        }
        return shape
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        return [x.reshaped(outputTypes[0].shape)]
    }
}
