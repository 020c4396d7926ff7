import MPQGraph

/// Boolean logic: And, Or and Xor with broadcasting, and Not; bool operands only.
public struct LogicalOperator: Operator {
    enum Kind: Sendable { case and, or, xor, not }

    public let outputTypes: [TensorType]
    let kind: Kind
    let plan: Broadcasting.BinaryPlan?
    let aType: TensorType
    let bType: TensorType?
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let kinds: [String: Kind] = ["And": .and, "Or": .or, "Xor": .xor, "Not": .not]
        guard let k = kinds[context.node.opType] else {
            throw context.invalid("LogicalOperator does not implement \(context.node.opType)")
        }
        kind = k
        let a = try context.inputType(0)
        guard a.elementType == .bool else {
            throw context.invalid("input #0 is \(a); \(context.node.opType) needs bool inputs (Cast to bool, to=9)")
        }
        aType = a
        if k == .not {
            bType = nil
            plan = nil
            outputTypes = [a]
        } else {
            let b = try context.inputType(1)
            guard b.elementType == .bool else {
                throw context.invalid("input #1 is \(b); \(context.node.opType) needs bool inputs (Cast to bool, to=9)")
            }
            guard let out = Broadcasting.shape(a.shape, b.shape) else {
                throw context.invalid("shapes \(TensorLayout.describe(a.shape)) and \(TensorLayout.describe(b.shape)) do not broadcast")
            }
            bType = b
            plan = Broadcasting.BinaryPlan(a: a.shape, b: b.shape, out: out)
            outputTypes = [TensorType(.bool, out)]
        }
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try label.input(inputs, 0, expecting: aType)
        guard let x = a.bools else { throw label.error("input #0 must be bool") }
        let shape = outputTypes[0].shape
        guard let plan, let bType else { return [Tensor(shape: shape, bools: x.map { !$0 })] }
        guard let y = try label.input(inputs, 1, expecting: bType).bools else { throw label.error("input #1 must be bool") }
        switch kind {
        case .and: return [Tensor(shape: shape, bools: plan.map(x, y) { $0 && $1 })]
        case .or: return [Tensor(shape: shape, bools: plan.map(x, y) { $0 || $1 })]
        default: return [Tensor(shape: shape, bools: plan.map(x, y) { $0 != $1 })]
        }
    }
}
