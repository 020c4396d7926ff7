/// An activation on eight lanes in registers, for kernels that apply it before their store.
///
/// Kernels take it as a generic parameter chosen once per call (`DepthwisePlane.compute`), so the compiler inlines
/// it into the store loop; a switch over `Activation` per vector was left outlined (a call per eight values).
protocol LaneActivation {
    func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float>
}

/// No activation.
struct IdentityLanes: LaneActivation {
    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> { v }
}

/// ReLU with the scalar path's result for NaN (0).
struct ReLULanes: LaneActivation {
    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> { v.replacing(with: 0, where: .!(v .> 0)) }
}

/// Clip to `[lo, hi]`; NaN passes, as in the scalar path.
struct ClipLanes: LaneActivation {
    let lo: SIMD8<Float>, hi: SIMD8<Float>

    init(lo: Float, hi: Float) {
        self.lo = SIMD8(repeating: lo)
        self.hi = SIMD8(repeating: hi)
    }

    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let b = v.replacing(with: lo, where: v .< lo)
        return b.replacing(with: hi, where: b .> hi)
    }
}
