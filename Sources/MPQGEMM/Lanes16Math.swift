import CVectorLanes

/// Sixteen-lane forms of `MPQKernels.VectorMath`'s building blocks for the AVX-512 kernels of this module: the same
/// IEEE operations in the same order, so each lane's value is bit-identical to the eight-lane form's.
public enum Lanes16Math {
    public typealias V = SIMD16<Float>

    @inline(__always)
    public static func fma(_ a: V, _ b: V, _ c: V) -> V { mpq_fma16(a, b, c) }

    /// `VectorMath.expNonPositive` on sixteen lanes.
    @inline(__always)
    public static func expNonPositive(_ x: V) -> V {
        let lo = V(repeating: -87.33654)
        let xc = mpq_max16(lo, x)
        let magic = V(repeating: 12582912)
        let t = xc * V(repeating: 1.44269504088896341) + magic
        let n = t - magic
        var r = fma(n, V(repeating: -0.693359375), xc)
        r = fma(n, V(repeating: 2.12194440e-4), r)
        var p = V(repeating: 1.9875691500e-4)
        p = fma(p, r, V(repeating: 1.3981999507e-3))
        p = fma(p, r, V(repeating: 8.3334519073e-3))
        p = fma(p, r, V(repeating: 4.1665795894e-2))
        p = fma(p, r, V(repeating: 1.6666665459e-1))
        p = fma(p, r, V(repeating: 5.0000001201e-1))
        p = fma(p * r, r, r) + V(repeating: 1)
        let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        let scale = unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
        return mpq_select_less16(x, lo, V(repeating: 0), p * scale)
    }
}

/// Softmax's exponentiation and normalisation on sixteen lanes (AVX-512 CPUs, after a run-time check), with the
/// eight-lane form's results bit for bit: exponentials are per lane, and the sum is accumulated in eight partial sums
/// in the eight-lane order (each 16-float block's low half, then its high half), so plans do not depend on the CPU.
public enum Softmax16 {
    public typealias V = SIMD16<Float>

    /// `dst = exp(src − m) / Σ exp(src − m)` for a row of `n` floats whose maximum is `m` (finite, or already mapped
    /// as `VectorMath.normalizedRow` maps it); `src` may equal `dst`.
    public static func normalizedRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count n: Int,
                                     maximum m: Float) {
        let mb = V(repeating: m)
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i &+ 16 <= n {
            let e = Lanes16Math.expNonPositive(UnsafeRawPointer(src + i).loadUnaligned(as: V.self) - mb)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: e, as: V.self)
            acc += e.lowHalf
            acc += e.highHalf
            i &+= 16
        }
        if i &+ 8 <= n {
            var v = V(repeating: -.infinity)
            v.lowHalf = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self) - mb.lowHalf
            let e = Lanes16Math.expNonPositive(v).lowHalf
            UnsafeMutableRawPointer(dst + i).storeBytes(of: e, as: SIMD8<Float>.self)
            acc += e
            i &+= 8
        }
        var sum = acc.sum()
        if i < n {
            var v = V(repeating: -.infinity)
            for j in 0..<(n &- i) { v[j] = src[i &+ j] - m }
            let e = Lanes16Math.expNonPositive(v)
            for j in 0..<(n &- i) { dst[i &+ j] = e[j]; sum += e[j] }
        }
        let r = V(repeating: 1 / sum)
        i = 0
        while i &+ 16 <= n {
            let p = UnsafeMutableRawPointer(dst + i)
            p.storeBytes(of: p.loadUnaligned(as: V.self) * r, as: V.self)
            i &+= 16
        }
        while i < n { dst[i] *= r[0]; i &+= 1 }
    }
}
