import MPQGraph

/// ConstantOfShape: a tensor of the (constant) int64 shape in input #0, filled with the one-element
/// `value` attribute (float32 0 when absent); float, integer and bool values are supported.
public struct ConstantOfShapeOperator: Operator {
    public let outputTypes: [TensorType]
    let value: Tensor

    public init(_ context: OperatorContext) throws {
        let shape = try context.constantInts(0, what: "the output shape")
        if let bad = shape.first(where: { $0 < 0 }) {
            throw context.invalid("shape \(TensorLayout.describe(shape)) has negative dimension \(bad); dimensions must be ≥ 0")
        }
        let fill: Tensor
        if let t = try context.node.tensor("value") {
            guard t.count == 1 else {
                throw context.invalid("attribute value must hold exactly one element, found \(t.count) (shape \(TensorLayout.describe(t.shape)))")
            }
            fill = t
        } else {
            fill = Tensor(shape: [1], floats: [0])
        }
        let n = TensorLayout.product(shape)
        switch fill.storage {
        case .float(let v): value = Tensor(shape: shape, floats: [Float](repeating: v[0], count: n))
        case .int64(let v): value = Tensor(shape: shape, int64s: [Int64](repeating: v[0], count: n))
        case .bool(let v): value = Tensor(shape: shape, bools: [Bool](repeating: v[0], count: n))
        }
        outputTypes = [TensorType(value.elementType, shape)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] { [value] }
}
