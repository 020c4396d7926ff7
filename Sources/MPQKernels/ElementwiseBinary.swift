/// Float Add, Sub, Mul and Div over one run of a broadcast plan, as tight loops the compiler
/// vectorises (the operator chooses the kind once per tensor, not per element).
public enum ElementwiseBinary: Sendable {
    case add, sub, mul, div

    /// `out[i] = a[i·aStep] ∘ b[i·bStep]` for `i < count`, where each step is 1 or 0 (broadcast).
    /// `out` may equal `a` or `b` when that operand's step is 1.
    @inlinable
    public func run(_ a: UnsafePointer<Float>, aStep: Int, _ b: UnsafePointer<Float>, bStep: Int,
                    _ out: UnsafeMutablePointer<Float>, count: Int) {
        switch (aStep, bStep) {
        case (1, 1):
            switch self {
            case .add: for i in 0..<count { out[i] = a[i] + b[i] }
            case .sub: for i in 0..<count { out[i] = a[i] - b[i] }
            case .mul: for i in 0..<count { out[i] = a[i] * b[i] }
            case .div: for i in 0..<count { out[i] = a[i] / b[i] }
            }
        case (1, _):
            let v = b.pointee
            switch self {
            case .add: for i in 0..<count { out[i] = a[i] + v }
            case .sub: for i in 0..<count { out[i] = a[i] - v }
            case .mul: for i in 0..<count { out[i] = a[i] * v }
            // Division, not multiplication by the reciprocal: results stay bit-identical to ONNX's.
            case .div: for i in 0..<count { out[i] = a[i] / v }
            }
        case (_, 1):
            let u = a.pointee
            switch self {
            case .add: for i in 0..<count { out[i] = u + b[i] }
            case .sub: for i in 0..<count { out[i] = u - b[i] }
            case .mul: for i in 0..<count { out[i] = u * b[i] }
            case .div: for i in 0..<count { out[i] = u / b[i] }
            }
        default:
            let r: Float
            switch self {
            case .add: r = a.pointee + b.pointee
            case .sub: r = a.pointee - b.pointee
            case .mul: r = a.pointee * b.pointee
            case .div: r = a.pointee / b.pointee
            }
            out.update(repeating: r, count: count)
        }
    }
}
