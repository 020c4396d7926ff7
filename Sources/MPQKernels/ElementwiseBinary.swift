/// Float Add, Sub, Mul and Div over one run of a broadcast plan, as tight loops the compiler
/// vectorises (the operator chooses the kind once per tensor, not per element).
public enum ElementwiseBinary: Sendable {
    case add, sub, mul, div

    /// `out[i] = a[i·aStep] ∘ b[i·bStep]` for `i < count`, where each step is 1 or 0 (broadcast).
    /// `out` may equal `a` or `b` when that operand's step is 1.
    ///
    /// Eight lanes at a time, each chunk read before it is written: LLVM's own vectorisation guarded these loops with
    /// an overlap check that an in-place call (`out == a`) fails, so in-place runs were scalar.
    @inlinable
    public func run(_ a: UnsafePointer<Float>, aStep: Int, _ b: UnsafePointer<Float>, bStep: Int,
                    _ out: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .add: Self.lanes(a, aStep, b, bStep, out, count, { $0 + $1 }, { $0 + $1 })
        case .sub: Self.lanes(a, aStep, b, bStep, out, count, { $0 - $1 }, { $0 - $1 })
        case .mul: Self.lanes(a, aStep, b, bStep, out, count, { $0 * $1 }, { $0 * $1 })
        // Division, not multiplication by the reciprocal: results stay bit-identical to ONNX's.
        case .div: Self.lanes(a, aStep, b, bStep, out, count, { $0 / $1 }, { $0 / $1 })
        }
    }

    /// `run`, then `activation` on the result, piece by piece while each piece is in L1 (an activation fused into
    /// a residual Add: one pass over the tensor instead of two, and the same floats as the two operators).
    @inlinable
    public func run(_ a: UnsafePointer<Float>, aStep: Int, _ b: UnsafePointer<Float>, bStep: Int,
                    _ out: UnsafeMutablePointer<Float>, count: Int, then activation: Activation) {
        guard !activation.isIdentity else { return run(a, aStep: aStep, b, bStep: bStep, out, count: count) }
        var start = 0
        while start < count {
            let n = Swift.min(Self.activationPiece, count &- start)
            run(a + start &* aStep, aStep: aStep, b + start &* bStep, bStep: bStep, out + start, count: n)
            activation.apply(out + start, count: n)
            start &+= n
        }
    }

    /// Floats per piece of `run(…, then:)`: 8 KiB, well inside L1 with both operands.
    public static let activationPiece = 2048

    @inlinable @inline(__always)
    static func lanes(_ a: UnsafePointer<Float>, _ aStep: Int, _ b: UnsafePointer<Float>, _ bStep: Int,
                      _ out: UnsafeMutablePointer<Float>, _ count: Int,
                      _ vector: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>, _ scalar: (Float, Float) -> Float) {
        @inline(__always) func load(_ p: UnsafePointer<Float>, _ step: Int, _ i: Int) -> SIMD8<Float> {
            step == 0 ? SIMD8(repeating: p.pointee) : UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        if aStep == 0 && bStep == 0 {
            out.update(repeating: scalar(a.pointee, b.pointee), count: count)
            return
        }
        var i = 0
        while i &+ 8 <= count {
            UnsafeMutableRawPointer(out + i).storeBytes(of: vector(load(a, aStep, i), load(b, bStep, i)), as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            out[i] = scalar(a[i &* aStep], b[i &* bStep])
            i &+= 1
        }
    }
}
