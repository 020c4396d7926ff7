import MPQGraph
import MPQKernels

/// Add, Sub, Mul and Div with NumPy multidirectional broadcasting, on float32 or int64 operands.
///
/// Operands are viewed through a collapsed broadcast plan, so equal shapes, scalars and
/// per-channel `[C, 1, 1]` operands all run as long vectorisable inner loops.
public struct BinaryOperator: Operator {
    enum Kind: Sendable { case add, sub, mul, div }

    public let outputTypes: [TensorType]
    let kind: Kind
    let plan: Broadcasting.BinaryPlan
    let aType: TensorType
    let bType: TensorType
    /// An activation fused in by the graph optimizer (`fuseActivations`), applied to each piece of the result.
    let activation: Activation
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        switch context.node.opType {
        case "Add": kind = .add
        case "Sub": kind = .sub
        case "Mul": kind = .mul
        case "Div": kind = .div
        default: throw context.invalid("BinaryOperator handles Add, Sub, Mul and Div, not \(context.node.opType)")
        }
        let a = try context.inputType(0)
        let b = try context.inputType(1)
        guard a.elementType == b.elementType else {
            throw context.invalid("operands have different element types (\(a) and \(b)); insert a Cast so both are float32 or both int64")
        }
        guard a.elementType != .bool else {
            throw context.invalid("arithmetic on bool tensors is not supported; Cast them to float32 or int64 first")
        }
        guard let out = Broadcasting.shape(a.shape, b.shape) else {
            throw context.invalid("shapes \(TensorLayout.describe(a.shape)) and \(TensorLayout.describe(b.shape)) do not broadcast: aligned from the right, each dimension pair must be equal or contain a 1")
        }
        activation = try fusedActivation(context)
        guard activation.isIdentity || a.elementType == .float32 else {
            throw context.invalid("a fused activation needs float32 operands, not \(a.elementType); remove the '\(Node.fusedActivationKey)' attribute")
        }
        aType = a
        bType = b
        plan = Broadcasting.BinaryPlan(a: a.shape, b: b.shape, out: out)
        outputTypes = [TensorType(a.elementType, out)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try label.input(inputs, 0, expecting: aType)
        let b = try label.input(inputs, 1, expecting: bType)
        let shape = outputTypes[0].shape
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            return [Tensor(shape: shape, floats: compute(x, y))]
        case (.int64(let x), .int64(let y)):
            if kind == .div, y.contains(0) {
                throw label.error("integer division by zero: the divisor (input #1) contains 0")
            }
            return [Tensor(shape: shape, int64s: compute(x, y))]
        default:
            throw label.error("unsupported operand element types \(a.elementType) and \(b.elementType)")
        }
    }

    /// Operand 0 or 1 when it already has the output's shape (then the result can overwrite it).
    public var inPlaceInput: Int? {
        guard aType.elementType == .float32 else { return nil }
        if aType.shape == outputTypes[0].shape { return 0 }
        if bType.shape == outputTypes[0].shape { return 1 }
        return nil
    }

    public func run(consuming inputs: consuming [Tensor?]) throws -> [Tensor] {
        guard let k = inPlaceInput, k < inputs.count else { return try run(inputs) }
        _ = try label.input(inputs, 0, expecting: aType)
        _ = try label.input(inputs, 1, expecting: bType)
        guard var target = Tensor.takeFloats(&inputs[k]), let other = inputs[1 - k]?.floats else { return try run(inputs) }
        // The in-place operand is read at index i just before out[i] is written (its step is 1).
        let op = kernel, activation = activation
        target.withUnsafeMutableBufferPointer { tb in
            other.withUnsafeBufferPointer { ob in
                let t = tb.baseAddress!, o = ob.baseAddress!
                plan.forEachRunInParallel { ao, bo, oo, count, aStep, bStep in
                    if k == 0 {
                        op.run(t + ao, aStep: aStep, o + bo, bStep: bStep, t + oo, count: count, then: activation)
                    } else {
                        op.run(o + ao, aStep: aStep, t + bo, bStep: bStep, t + oo, count: count, then: activation)
                    }
                }
            }
        }
        return [Tensor(shape: outputTypes[0].shape, floats: target)]
    }

    private var kernel: ElementwiseBinary {
        switch kind {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        }
    }

    /// Float operands: one vectorised kernel call per inner run of the broadcast plan.
    private func compute(_ x: [Float], _ y: [Float]) -> [Float] { plan.floats(kernel, x, y, then: activation) }

    private func compute(_ x: [Int64], _ y: [Int64]) -> [Int64] {
        switch kind {
        case .add: return apply(x, y) { $0 &+ $1 }
        case .sub: return apply(x, y) { $0 &- $1 }
        case .mul: return apply(x, y) { $0 &* $1 }
        // Truncating division; the divisor was checked for zero, and Int64.min / -1 wraps.
        case .div: return apply(x, y) { $1 == -1 ? 0 &- $0 : $0 / $1 }
        }
    }

    @inline(__always)
    private func apply<T>(_ x: [T], _ y: [T], _ f: (T, T) -> T) -> [T] {
        let n = plan.count
        if n == 0 { return [] }
        return [T](unsafeUninitializedCapacity: n) { out, initialized in
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeBufferPointer { yb in
                    let xp = xb.baseAddress!, yp = yb.baseAddress!, op = out.baseAddress!
                    plan.forEachRun { ao, bo, oo, count, aStep, bStep in
                        let xs = xp + ao, ys = yp + bo, os = op + oo
                        if aStep == 1 && bStep == 1 {
                            for i in 0..<count { (os + i).initialize(to: f(xs[i], ys[i])) }
                        } else if aStep == 1 {
                            let v = ys.pointee
                            for i in 0..<count { (os + i).initialize(to: f(xs[i], v)) }
                        } else if bStep == 1 {
                            let u = xs.pointee
                            for i in 0..<count { (os + i).initialize(to: f(u, ys[i])) }
                        } else {
                            let r = f(xs.pointee, ys.pointee)
                            for i in 0..<count { (os + i).initialize(to: r) }
                        }
                    }
                }
            }
            initialized = n
        }
    }
}
