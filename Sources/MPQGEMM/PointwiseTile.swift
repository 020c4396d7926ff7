import CVectorLanes

/// The AVX-512 form of `Conv2D`'s direct pointwise kernel: 12 output channels × 16 pixels per block in sixteen-lane
/// registers (the module is compiled for znver4; call only when the CPU has AVX-512F).
public enum PointwiseTile {
    /// Output channels per block.
    public static let rows = 12
    /// Pixels per run.
    public static let columns = 16

    /// The activation applied in registers before the store.
    public enum Clamp: Sendable {
        case none, relu
        case clip(Float, Float)
    }

    /// Output channels `o ..< o + 12` of one image at pixels `t0 ..< t1`, in runs of 16 (a run past the plane's end is
    /// shifted left to end there): `destination[c·plane + p] = clamp(bias[c] + Σ_i weights[c·depth + i] ·
    /// source[i·plane + p])`, summed in input-channel order.
    public static func run(depth: Int, plane: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                           source: UnsafePointer<Float>, destination: UnsafeMutablePointer<Float>,
                           channel o: Int, pixels t0: Int, _ t1: Int, clamp: Clamp) {
        switch clamp {
        case .none: sweep(depth, plane, weights, bias, source, destination, o, t0, t1, Identity())
        case .relu: sweep(depth, plane, weights, bias, source, destination, o, t0, t1, ReLU())
        case let .clip(lo, hi): sweep(depth, plane, weights, bias, source, destination, o, t0, t1, Clip(lo: lo, hi: hi))
        }
    }

    private static func sweep<A: Lanes16>(_ depth: Int, _ plane: Int, _ weights: UnsafePointer<Float>,
                                          _ bias: UnsafePointer<Float>?, _ source: UnsafePointer<Float>,
                                          _ destination: UnsafeMutablePointer<Float>, _ o: Int, _ t0: Int, _ t1: Int,
                                          _ activation: A) {
        var next = t0
        while next < t1 {
            let p = min(next, plane &- columns)
            block(depth, plane, weights, bias, source + p, destination + p, o, activation)
            next = p &+ columns
        }
    }

    @inline(__always)
    private static func block<A: Lanes16>(_ depth: Int, _ plane: Int, _ weights: UnsafePointer<Float>,
                                          _ bias: UnsafePointer<Float>?, _ source: UnsafePointer<Float>,
                                          _ destination: UnsafeMutablePointer<Float>, _ o: Int, _ activation: A) {
        let z = SIMD16<Float>(repeating: 0)
        var a0 = z
        var a1 = z
        var a2 = z
        var a3 = z
        var a4 = z
        var a5 = z
        var a6 = z
        var a7 = z
        var a8 = z
        var a9 = z
        var a10 = z
        var a11 = z
        let w = weights + o &* depth, k = depth
        var s = source
        for i in 0..<depth {
            let x = UnsafeRawPointer(s).loadUnaligned(as: SIMD16<Float>.self)
            a0 = a0.addingProduct(x, SIMD16<Float>(repeating: w[i]))
            a1 = a1.addingProduct(x, SIMD16<Float>(repeating: w[1 &* k &+ i]))
            a2 = a2.addingProduct(x, SIMD16<Float>(repeating: w[2 &* k &+ i]))
            a3 = a3.addingProduct(x, SIMD16<Float>(repeating: w[3 &* k &+ i]))
            a4 = a4.addingProduct(x, SIMD16<Float>(repeating: w[4 &* k &+ i]))
            a5 = a5.addingProduct(x, SIMD16<Float>(repeating: w[5 &* k &+ i]))
            a6 = a6.addingProduct(x, SIMD16<Float>(repeating: w[6 &* k &+ i]))
            a7 = a7.addingProduct(x, SIMD16<Float>(repeating: w[7 &* k &+ i]))
            a8 = a8.addingProduct(x, SIMD16<Float>(repeating: w[8 &* k &+ i]))
            a9 = a9.addingProduct(x, SIMD16<Float>(repeating: w[9 &* k &+ i]))
            a10 = a10.addingProduct(x, SIMD16<Float>(repeating: w[10 &* k &+ i]))
            a11 = a11.addingProduct(x, SIMD16<Float>(repeating: w[11 &* k &+ i]))
            s += plane
        }
        @inline(__always) func store(_ v: SIMD16<Float>, _ r: Int) {
            let b = SIMD16<Float>(repeating: bias?[o &+ r] ?? 0)
            UnsafeMutableRawPointer(destination + (o &+ r) &* plane).storeBytes(of: activation(v + b), as: SIMD16<Float>.self)
        }
        store(a0, 0)
        store(a1, 1)
        store(a2, 2)
        store(a3, 3)
        store(a4, 4)
        store(a5, 5)
        store(a6, 6)
        store(a7, 7)
        store(a8, 8)
        store(a9, 9)
        store(a10, 10)
        store(a11, 11)
    }
}

/// An activation on sixteen lanes in registers.
protocol Lanes16 {
    func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
}

private struct Identity: Lanes16 {
    @inline(__always) func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float> { v }
}

private struct ReLU: Lanes16 {
    @inline(__always) func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float> { mpq_relu16(v) }
}

private struct Clip: Lanes16 {
    let lo: SIMD16<Float>, hi: SIMD16<Float>
    init(lo: Float, hi: Float) { self.lo = SIMD16(repeating: lo); self.hi = SIMD16(repeating: hi) }
    @inline(__always) func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float> { mpq_clamp16(v, lo, hi) }
}
