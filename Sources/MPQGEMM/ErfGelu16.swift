import CVectorLanes

/// The erf GELU on sixteen lanes for AVX-512 CPUs (this module is compiled for znver4; call it only after a run-time
/// check): the same IEEE operations in the same order as `MPQKernels.VectorMath.erf`/`ErfGelu` on eight lanes, so
/// every value is bit-identical to theirs, in half the instructions and with 32 registers (no constant reloads).
public enum ErfGelu16 {
    public typealias V = SIMD16<Float>

    /// `dst[i] = gelu(src[i])` for the whole 16-float vectors of `count` (returns how many floats it wrote; the
    /// caller finishes the tail). Parameters as `MPQKernels.ErfGelu`: the argument is `x / c` (`divides`) or
    /// `x · c`; `a = erf(argument) + offset`; `grouping` 0: `(x·a)·h`, 1: `x·(a·h)`, 2: `(x·h)·a`.
    public static func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int,
                             divides: Bool, argument c: Float, offset: Float, half h: Float, grouping: Int) -> Int {
        switch (divides, grouping) {
        case (true, 0): return map(src, dst, count) { x in let a = erf(x / V(repeating: c)) + V(repeating: offset); return (x * a) * V(repeating: h) }
        case (true, 1): return map(src, dst, count) { x in let a = erf(x / V(repeating: c)) + V(repeating: offset); return x * (a * V(repeating: h)) }
        case (true, _): return map(src, dst, count) { x in let a = erf(x / V(repeating: c)) + V(repeating: offset); return (x * V(repeating: h)) * a }
        case (false, 0): return map(src, dst, count) { x in let a = erf(x * V(repeating: c)) + V(repeating: offset); return (x * a) * V(repeating: h) }
        case (false, 1): return map(src, dst, count) { x in let a = erf(x * V(repeating: c)) + V(repeating: offset); return x * (a * V(repeating: h)) }
        case (false, _): return map(src, dst, count) { x in let a = erf(x * V(repeating: c)) + V(repeating: offset); return (x * V(repeating: h)) * a }
        }
    }

    @inline(__always)
    private static func map(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
                            _ f: (V) -> V) -> Int {
        var i = 0
        while i &+ 16 <= count {
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: f(v), as: V.self)
            i &+= 16
        }
        return i
    }

    @inline(__always)
    private static func fma(_ a: V, _ b: V, _ c: V) -> V { Lanes16Math.fma(a, b, c) }

    /// `VectorMath.erf` on sixteen lanes.
    @inline(__always)
    static func erf(_ x: V) -> V {
        let a = unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & SIMD16<UInt32>(repeating: 0x7FFF_FFFF), to: V.self)
        let z = x * x
        var s = V(repeating: -1.0 / 1320)
        s = fma(s, z, V(repeating: 1.0 / 216))
        s = fma(s, z, V(repeating: -1.0 / 42))
        s = fma(s, z, V(repeating: 1.0 / 10))
        s = fma(s, z, V(repeating: -1.0 / 3))
        s = fma(s, z, V(repeating: 1))
        let small = s * x * V(repeating: 1.1283791670955126)
        let t = V(repeating: 1) / fma(V(repeating: 0.3275911), a, V(repeating: 1))
        var q = V(repeating: 1.061405429)
        q = fma(q, t, V(repeating: -1.453152027))
        q = fma(q, t, V(repeating: 1.421413741))
        q = fma(q, t, V(repeating: -0.284496736))
        q = fma(q, t, V(repeating: 0.254829592))
        q = q * t
        let e = Lanes16Math.expNonPositive(-z)
        var large = fma(-q, e, V(repeating: 1))
        large = mpq_select_less16(V(repeating: 4), a, V(repeating: 1), large)
        let signBit = SIMD16<UInt32>(repeating: 0x8000_0000)
        let signed = unsafeBitCast(unsafeBitCast(large, to: SIMD16<UInt32>.self) | (unsafeBitCast(x, to: SIMD16<UInt32>.self) & signBit), to: V.self)
        let result = mpq_select_less16(a, V(repeating: 0.5), small, signed)
        return mpq_select_nan16(x, x, result)
    }
}
