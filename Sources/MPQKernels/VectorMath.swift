import CVectorLanes
import Foundation
import MPQGEMM

/// Vectorised `exp` and `erf` on 8 floats at a time, and the row kernels built on them.
///
/// libm's `expf`/`erff` are scalar calls (≈ 8 % and 11 % of a MiniLM forward pass before these);
/// these polynomial versions (Horner steps as FMAs) are within ~2 ulp of libm for `exp` and 2e-7 absolute for `erf`,
/// far inside the executor's 1e-4 agreement with ONNX Runtime. The results do not depend on the
/// thread count.
///
/// Eight lanes with the comparisons and selects as AVX intrinsics (`CVectorLanes`): on 16 lanes, with
/// `replacing(with:where:)`, `exp` was left outlined and ran on 4-lane registers (14 % of a MiniLM forward pass).
public enum VectorMath {
    public typealias V = SIMD8<Float>

    /// e^x for each lane; inputs below −87.3 give 0 (no denormals), above 88.7 give +inf, NaN stays NaN.
    @inline(__always)
    public static func exp(_ x: V) -> V {
        // exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x − n·ln 2 (Cody–Waite split), exp(r) by a
        // degree-6 polynomial on |r| ≤ ln 2 / 2.
        let lo = V(repeating: -87.33654), hi = V(repeating: 88.72284)
        let xc = x.laneClamped(lo, hi)
        let (p, ni) = reducedExp(xc)
        // 2^n by building the exponent bits; n ∈ [−126, 128]: split 2^n = 2^(n/2)·2^(n−n/2) so
        // n = 128 (x near 88.7) does not overflow the exponent field.
        let half = ni &>> 1
        let s1 = unsafeBitCast((half &+ 127) &<< 23, to: V.self)
        let s2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: V.self)
        let result = mpq_select_less8(x, lo, V(repeating: 0), p * s1 * s2)
        // A NaN lane passed the clamp and the arithmetic, so it is NaN already.
        return mpq_select_less8(hi, x, V(repeating: .infinity), result)
    }

    /// exp's reduction and polynomial for a clamped `xc`: exp(r) = `p` with xc = n·ln 2 + r, and n as an integer.
    /// Rounds to nearest via the 1.5·2^23 trick: the low mantissa bits then hold n.
    @inline(__always)
    static func reducedExp(_ xc: V) -> (p: V, n: SIMD8<Int32>) {
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
        return (p, unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self))
    }

    /// e^x for lanes x ≤ 0 (or NaN): `exp`'s values bit for bit, without its overflow handling. Softmax exponentiates
    /// x − max and erf e^(−x²), both ≤ 0, so a third of `exp`'s instructions were spent on a case that cannot occur.
    @inline(__always)
    static func expNonPositive(_ x: V) -> V {
        let lo = V(repeating: -87.33654)
        // maxps returns its second operand when one is NaN: a NaN lane stays NaN through the arithmetic.
        let xc = mpq_max8(lo, x)
        let (p, ni) = reducedExp(xc)
        // n ∈ [−126, 0]: 2^n is a normal float, and p · 2^n rounds exactly as `exp`'s p · 2^(n/2) · 2^(n − n/2) does.
        let scale = unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
        return mpq_select_less8(x, lo, V(repeating: 0), p * scale)
    }

    /// erf(x) for each lane: a Taylor series for |x| < 0.5 (relative accuracy near 0), else
    /// Abramowitz–Stegun 7.1.26 (absolute error ≤ 1.5e-7); ±1 beyond |x| = 4.
    @inline(__always)
    public static func erf(_ x: V) -> V {
        let a = abs(x)
        // Small |x|: 2/√π · (x − x³/3 + x⁵/10 − x⁷/42 + x⁹/216 − x¹¹/1320).
        let z = x * x
        var s = V(repeating: -1.0 / 1320)
        s = fma(s, z, V(repeating: 1.0 / 216))
        s = fma(s, z, V(repeating: -1.0 / 42))
        s = fma(s, z, V(repeating: 1.0 / 10))
        s = fma(s, z, V(repeating: -1.0 / 3))
        s = fma(s, z, V(repeating: 1))
        let small = s * x * V(repeating: 1.1283791670955126)
        // Large |x|: 1 − (a1 t + … + a5 t⁵) e^(−x²), t = 1 / (1 + p|x|).
        let t = V(repeating: 1) / fma(V(repeating: 0.3275911), a, V(repeating: 1))
        var q = V(repeating: 1.061405429)
        q = fma(q, t, V(repeating: -1.453152027))
        q = fma(q, t, V(repeating: 1.421413741))
        q = fma(q, t, V(repeating: -0.284496736))
        q = fma(q, t, V(repeating: 0.254829592))
        q = q * t
        let e = expNonPositive(-z)
        var large = fma(-q, e, V(repeating: 1))
        large = mpq_select_less8(V(repeating: 4), a, V(repeating: 1), large)
        // Copy the sign of x onto the odd function's value.
        let signBit = SIMD8<UInt32>(repeating: 0x8000_0000)
        let signed = unsafeBitCast(unsafeBitCast(large, to: SIMD8<UInt32>.self) | (unsafeBitCast(x, to: SIMD8<UInt32>.self) & signBit), to: V.self)
        let result = mpq_select_less8(a, V(repeating: 0.5), small, signed)
        return mpq_select_nan8(x, x, result)
    }

    /// a · b + c with one rounding.
    @inline(__always)
    static func fma(_ a: V, _ b: V, _ c: V) -> V { mpq_fma8(a, b, c) }

    @inline(__always)
    static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7FFF_FFFF), to: V.self)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// Applies an 8-lane function to `count` floats, the tail through a zero-padded vector.
    @inline(__always)
    static func map(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V) -> V) {
        var i = 0
        while i &+ 8 <= count {
            store(f(load(src + i)), dst + i)
            i &+= 8
        }
        if i < count {
            var v = V(repeating: 0)
            for j in 0..<(count &- i) { v[j] = src[i &+ j] }
            let r = f(v)
            for j in 0..<(count &- i) { dst[i &+ j] = r[j] }
        }
    }

    /// `dst[i] = exp(src[i])` (`src` may equal `dst`).
    public static func exp(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        map(src, dst, count) { exp($0) }
    }

    /// `dst[i] = erf(src[i])` (`src` may equal `dst`).
    public static func erf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        map(src, dst, count) { erf($0) }
    }

    /// Softmax of one contiguous row: `dst = exp(src − max) / Σ exp(src − max)`; with `log`,
    /// `dst = (src − max) − log Σ exp(src − max)`. A row whose maximum is ±inf is shifted by 0
    /// (−inf) or the maximum (+inf), as the scalar version did. `src` may equal `dst` unless `log`.
    public static func softmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count n: Int, log: Bool) {
        guard n > 0 else { return }
        var mv = V(repeating: -.infinity)
        var i = 0
        while i &+ 8 <= n {
            mv = mpq_max8(load(src + i), mv)
            i &+= 8
        }
        var m = mv.max()
        while i < n { m = Swift.max(m, src[i]); i &+= 1 }
        normalizedRow(src, dst, count: n, maximum: m, log: log)
    }

    /// Softmax of `scale`d (multiplied, or divided with `dividesByScale`) and `mask`ed (added; `maskStep` 1 for a row of
    /// the mask, 0 for one value) row `src`, written to `dst` (which may be `src`): the scores are formed, stored and
    /// their maximum taken in one pass, with the same float operations as separate Mul/Div and Add nodes.
    public static func softmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count n: Int,
                                  scale: Float?, dividesByScale: Bool, mask: UnsafePointer<Float>?, maskStep: Int) {
        guard n > 0 else { return }
        let s = V(repeating: scale ?? 1)
        @inline(__always) func score(_ x: V, _ i: Int) -> V {
            var v = x
            if scale != nil { v = dividesByScale ? v / s : v * s }
            if let mask { v = v + (maskStep == 0 ? V(repeating: mask.pointee) : load(mask + i)) }
            return v
        }
        var mv = V(repeating: -.infinity)
        var i = 0
        while i &+ 8 <= n {
            let v = score(load(src + i), i)
            store(v, dst + i)
            mv = mpq_max8(v, mv)
            i &+= 8
        }
        var m = mv.max()
        while i < n {
            var v = src[i]
            if let scale { v = dividesByScale ? v / scale : v * scale }
            if let mask { v = v + mask[i &* maskStep] }
            dst[i] = v
            m = Swift.max(m, v)
            i &+= 1
        }
        normalizedRow(dst, dst, count: n, maximum: m, log: false)
    }

    /// Whether Softmax rows are exponentiated and normalised on sixteen lanes (AVX-512 CPUs; `MPQ_SOFTMAX_AVX512=0`
    /// disables it): the same values bit for bit.
    static let usesAVX512Softmax = GemmBackend.usesAVX512(unlessDisabledBy: "MPQ_SOFTMAX_AVX512")

    /// The softmax passes after the maximum `m` of row `src` is known.
    @inline(__always)
    static func normalizedRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count n: Int,
                              maximum: Float, log: Bool) {
        var m = maximum
        // A NaN input needs no special case: its exp is NaN, so the sum and every output are NaN.
        if !m.isFinite { m = m.isNaN ? m : (m > 0 ? m : 0) }
        if !log && usesAVX512Softmax {
            Softmax16.normalizedRow(src, dst, count: n, maximum: m)
        } else {
            normalizedRow8(src, dst, count: n, maximum: m, log: log)
        }
    }

    /// `normalizedRow` on eight lanes, for a maximum `m` already mapped.
    @inline(__always)
    static func normalizedRow8(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count n: Int,
                               maximum m: Float, log: Bool) {
        let mb = V(repeating: m)
        var acc = V(repeating: 0)
        var i = 0
        while i &+ 8 <= n {
            let e = expNonPositive(load(src + i) - mb)
            store(e, dst + i)
            acc += e
            i &+= 8
        }
        var sum = acc.sum()
        if i < n {
            var v = V(repeating: -.infinity)
            for j in 0..<(n &- i) { v[j] = src[i &+ j] - m }
            let e = expNonPositive(v)
            for j in 0..<(n &- i) { dst[i &+ j] = e[j]; sum += e[j] }
        }
        if log {
            let ls = _logf(sum)
            for j in 0..<n { dst[j] = (src[j] - m) - ls }
        } else {
            let r = V(repeating: 1 / sum)
            i = 0
            while i &+ 8 <= n {
                store(load(dst + i) * r, dst + i)
                i &+= 8
            }
            while i < n { dst[i] *= r[0]; i &+= 1 }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _logf(_ x: Float) -> Float { logf(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _logf(_ x: Float) -> Float { logf(x) }
#endif
