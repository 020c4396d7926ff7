import MPQGraph

/// Constant: outputs the tensor given by exactly one of `value`, `value_float`, `value_floats`,
/// `value_int` or `value_ints`.
public struct ConstantOperator: Operator {
    public let outputTypes: [TensorType]
    let value: Tensor

    public init(_ context: OperatorContext) throws {
        let node = context.node
        let supported = ["value", "value_float", "value_floats", "value_int", "value_ints"]
        let present = node.attributes.keys.filter { supported.contains($0) }.sorted()
        let unsupported = node.attributes.keys.filter { $0.hasPrefix("value") || $0 == "sparse_value" }
            .filter { !supported.contains($0) }.sorted()
        guard unsupported.isEmpty else {
            throw context.invalid("attribute \(unsupported.joined(separator: ", ")) is not supported; use one of \(supported.joined(separator: ", "))")
        }
        guard present.count == 1, let key = present.first else {
            throw context.invalid(present.isEmpty
                ? "needs one of the attributes \(supported.joined(separator: ", "))"
                : "has several value attributes (\(present.joined(separator: ", "))); keep exactly one")
        }
        guard context.inputTypes.allSatisfy({ $0 == nil }) else {
            throw context.invalid("Constant takes no inputs, found \(context.inputTypes.count)")
        }
        switch key {
        case "value":
            guard let t = try node.tensor("value") else { throw context.invalid("attribute value is missing its tensor") }
            value = t
        case "value_float": value = Tensor(shape: [], floats: [try node.float("value_float")])
        case "value_floats":
            let v = try node.floats("value_floats") ?? []
            value = Tensor(shape: [v.count], floats: v)
        case "value_int": value = Tensor(shape: [], int64s: [Int64(try node.int("value_int"))])
        default:
            let v = try node.ints("value_ints") ?? []
            value = Tensor(shape: [v.count], int64s: v.map { Int64($0) })
        }
        outputTypes = [TensorType(value.elementType, value.shape)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] { [value] }
}
