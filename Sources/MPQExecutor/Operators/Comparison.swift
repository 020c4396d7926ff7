import MPQGraph

/// Equal, Less, LessOrEqual, Greater and GreaterOrEqual with broadcasting, producing bool.
/// Operands must share one element type: float32 or int64 (Equal also accepts bool).
public struct ComparisonOperator: Operator {
    enum Kind: Sendable { case equal, less, lessOrEqual, greater, greaterOrEqual }

    public let outputTypes: [TensorType]
    let kind: Kind
    let plan: Broadcasting.BinaryPlan
    let aType: TensorType
    let bType: TensorType
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let kinds: [String: Kind] = ["Equal": .equal, "Less": .less, "LessOrEqual": .lessOrEqual,
                                     "Greater": .greater, "GreaterOrEqual": .greaterOrEqual]
        guard let k = kinds[context.node.opType] else {
            throw context.invalid("ComparisonOperator does not implement \(context.node.opType)")
        }
        kind = k
        let a = try context.inputType(0), b = try context.inputType(1)
        guard a.elementType == b.elementType else {
            throw context.invalid("operands have different element types (\(a) and \(b)); Cast one so both match")
        }
        guard a.elementType != .bool || k == .equal else {
            throw context.invalid("ordering comparisons of bool tensors are not supported; Cast them to int64 first")
        }
        guard let out = Broadcasting.shape(a.shape, b.shape) else {
            throw context.invalid("shapes \(TensorLayout.describe(a.shape)) and \(TensorLayout.describe(b.shape)) do not broadcast: aligned from the right, each dimension pair must be equal or contain a 1")
        }
        plan = Broadcasting.BinaryPlan(a: a.shape, b: b.shape, out: out)
        aType = a
        bType = b
        outputTypes = [TensorType(.bool, out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try label.input(inputs, 0, expecting: aType)
        let b = try label.input(inputs, 1, expecting: bType)
        let shape = outputTypes[0].shape
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): return [Tensor(shape: shape, bools: compare(x, y))]
        case (.int64(let x), .int64(let y)): return [Tensor(shape: shape, bools: compare(x, y))]
        case (.bool(let x), .bool(let y)): return [Tensor(shape: shape, bools: plan.map(x, y) { $0 == $1 })]
        default: throw label.error("unsupported operand element types \(a.elementType) and \(b.elementType)")
        }
    }

    private func compare<T: Comparable>(_ x: [T], _ y: [T]) -> [Bool] {
        switch kind {
        case .equal: return plan.map(x, y) { $0 == $1 }
        case .less: return plan.map(x, y) { $0 < $1 }
        case .lessOrEqual: return plan.map(x, y) { $0 <= $1 }
        case .greater: return plan.map(x, y) { $0 > $1 }
        case .greaterOrEqual: return plan.map(x, y) { $0 >= $1 }
        }
    }
}
