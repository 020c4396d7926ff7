import MPQGraph

/// Max, Min, Sum and Mean over one or more inputs with multidirectional broadcasting, on float32
/// (all four) or int64 (Max, Min, Sum). Max and Min propagate NaN like ONNX Runtime.
public struct VariadicOperator: Operator {
    enum Kind: Sendable { case max, min, sum, mean }

    public let outputTypes: [TensorType]
    let kind: Kind
    let types: [TensorType]
    /// Pairwise plans: plans[i] folds input i + 1 into the running result (broadcast so far).
    let plans: [Broadcasting.BinaryPlan]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let kinds: [String: Kind] = ["Max": .max, "Min": .min, "Sum": .sum, "Mean": .mean]
        guard let k = kinds[context.node.opType] else {
            throw context.invalid("VariadicOperator does not implement \(context.node.opType)")
        }
        kind = k
        var types: [TensorType] = []
        for i in 0..<context.inputTypes.count { types.append(try context.inputType(i)) }
        guard let first = types.first else { throw context.invalid("needs at least one input") }
        guard types.allSatisfy({ $0.elementType == first.elementType }) else {
            throw context.invalid("inputs have different element types (\(types.map(\.description).joined(separator: ", "))); Cast them to one type")
        }
        guard first.elementType == .float32 || (first.elementType == .int64 && k != .mean) else {
            throw context.invalid("inputs are \(first.elementType); \(context.node.opType) supports float32\(k == .mean ? "" : " and int64")")
        }
        var shape = first.shape
        var plans: [Broadcasting.BinaryPlan] = []
        for t in types.dropFirst() {
            guard let out = Broadcasting.shape(shape, t.shape) else {
                throw context.invalid("input shapes \(types.map { TensorLayout.describe($0.shape) }.joined(separator: ", ")) do not broadcast together")
            }
            plans.append(Broadcasting.BinaryPlan(a: shape, b: t.shape, out: out))
            shape = out
        }
        self.types = types
        self.plans = plans
        outputTypes = [TensorType(first.elementType, shape)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        var tensors: [Tensor] = []
        for (i, t) in types.enumerated() { tensors.append(try label.input(inputs, i, expecting: t)) }
        let shape = outputTypes[0].shape
        switch tensors[0].storage {
        case .float(var acc):
            for (i, t) in tensors.dropFirst().enumerated() {
                guard let v = t.floats else { throw label.error("input #\(i + 1) must be float32") }
                switch kind {
                case .max: acc = plans[i].map(acc, v) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
                case .min: acc = plans[i].map(acc, v) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
                case .sum, .mean: acc = plans[i].map(acc, v) { $0 + $1 }
                }
            }
            if kind == .mean {
                let r = 1 / Float(tensors.count)
                for i in acc.indices { acc[i] *= r }
            }
            return [Tensor(shape: shape, floats: acc)]
        case .int64(var acc):
            for (i, t) in tensors.dropFirst().enumerated() {
                guard let v = t.int64s else { throw label.error("input #\(i + 1) must be int64") }
                switch kind {
                case .max: acc = plans[i].map(acc, v) { Swift.max($0, $1) }
                case .min: acc = plans[i].map(acc, v) { Swift.min($0, $1) }
                case .sum, .mean: acc = plans[i].map(acc, v) { $0 &+ $1 }
                }
            }
            return [Tensor(shape: shape, int64s: acc)]
        case .bool:
            throw label.error("bool inputs are not supported")
        }
    }
}
