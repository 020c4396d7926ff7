import MPQKernels

/// |x|^p on 8 lanes at once: exp(p · log|x|) with Cephes-style polynomials.
///
/// The relative error is about 6e-8 · (1 + |p · ln x|): under 1e-6 for |x| within 1e-4…1e4, which is
/// how `LpClipping` uses it (errors measured in quantization steps).
///
/// The Lp clipping search spends most of its time raising rounding errors to a non-integer p; libm's
/// scalar `powf` costs ~20 ns a value there, this ~1.4 ns (8 lanes suit the AVX2 target of the numeric
/// modules: 16-lane vectors compile to slower code there). Polynomials are written as explicit
/// `addingProduct` on splatted constants, which LLVM keeps vectorised (`y * f + c` was scalarised). Zero, subnormal and non-finite inputs are
/// not expected (errors are finite); zero and subnormals give 0, which is exact enough for p ≥ 1.
enum VectorPower {
    typealias V = SIMD8<Float>
    typealias U = SIMD8<UInt32>

    /// |x|^p for every lane (p ≥ 1 and p · log|x| within float32's exponent range).
    @inline(__always)
    static func power(_ x: V, _ p: Float) -> V {
        let tiny = V(repeating: 1e-30)
        let a = magnitude(x)
        let safe = a.replacing(with: V(repeating: 1), where: a .< tiny)
        let result = exp(V(repeating: p) * log(safe))
        return result.replacing(with: V(repeating: 0), where: a .< tiny)
    }

    /// Natural logarithm of positive normal floats.
    @inline(__always)
    static func log(_ x: V) -> V {
        let bits = unsafeBitCast(x, to: U.self)
        // x = m · 2^e with m in [1, 2); shift to m in [√½, √2) so that f = m − 1 is small.
        // The exponent as a float without a lane-wise int→float conversion (Swift's generic SIMD
        // conversions run lane by lane): 2^23 + k has k in its low mantissa bits.
        var e = unsafeBitCast((bits &>> U(repeating: 23)) | U(repeating: 0x4B00_0000), to: V.self) - V(repeating: 8_388_608 + 127)
        var m = unsafeBitCast((bits & U(repeating: 0x007F_FFFF)) | U(repeating: 0x3F80_0000), to: V.self)
        let big = m .> V(repeating: 1.41421356)
        m = m.replacing(with: m * V(repeating: 0.5), where: big)
        e = e.replacing(with: e + V(repeating: 1), where: big)
        let f = m - V(repeating: 1)
        let z = f * f
        var y = V(repeating: 7.0376836292e-2)
        y = V(repeating: -1.1514610310e-1).addingProduct(y, f)
        y = V(repeating: 1.1676998740e-1).addingProduct(y, f)
        y = V(repeating: -1.2420140846e-1).addingProduct(y, f)
        y = V(repeating: 1.4249322787e-1).addingProduct(y, f)
        y = V(repeating: -1.6668057665e-1).addingProduct(y, f)
        y = V(repeating: 2.0000714765e-1).addingProduct(y, f)
        y = V(repeating: -2.4999993993e-1).addingProduct(y, f)
        y = V(repeating: 3.3333331174e-1).addingProduct(y, f)
        y = y * f * z
        y = y + e * V(repeating: -2.12194440e-4)
        y = y - z * V(repeating: 0.5)
        return f + y + e * V(repeating: 0.693359375)
    }

    /// e^x for x within float32's range (results below the smallest normal flush to 0).
    @inline(__always)
    static func exp(_ x: V) -> V {
        let clampedX = x.replacing(with: V(repeating: -87), where: x .< V(repeating: -87)).replacing(with: V(repeating: 88), where: x .> V(repeating: 88))
        // Round to the nearest integer by adding and subtracting 1.5 · 2^23 (|n| ≤ 127), which also
        // leaves n + 127 in the low mantissa bits of the sum: 2^n is built from those bits.
        let magic = V(repeating: 12_582_912 + 127)
        let shifted = clampedX * V(repeating: 1.44269504088896341) + magic
        let n = shifted - magic
        var r = clampedX - n * V(repeating: 0.693359375)
        r = r - n * V(repeating: -2.12194440e-4)
        let z = r * r
        var y = V(repeating: 1.9875691500e-4)
        y = V(repeating: 1.3981999507e-3).addingProduct(y, r)
        y = V(repeating: 8.3334519073e-3).addingProduct(y, r)
        y = V(repeating: 4.1665795894e-2).addingProduct(y, r)
        y = V(repeating: 1.6666665459e-1).addingProduct(y, r)
        y = V(repeating: 5.0000001201e-1).addingProduct(y, r)
        y = y * z + r + V(repeating: 1)
        let scale = unsafeBitCast((unsafeBitCast(shifted, to: U.self) & U(repeating: 0xFF)) &<< U(repeating: 23), to: V.self)
        return (y * scale).replacing(with: V(repeating: 0), where: x .< V(repeating: -87))
    }

    /// Lane-wise |v|.
    @inline(__always)
    static func magnitude(_ v: V) -> V { v.replacing(with: -v, where: v .< V(repeating: 0)) }

    /// Lane-wise clamp (`SIMD8.laneClamped`: a max and a min instruction; a NaN lane passes through).
    @inline(__always)
    static func clamp(_ v: V, _ lo: V, _ hi: V) -> V { v.laneClamped(lo, hi) }

    /// Lane-wise clamp of 16 lanes (the fake-quantization kernel's width): the eight-lane clamp on each half.
    @inline(__always)
    static func clamp(_ v: SIMD16<Float>, _ lo: SIMD16<Float>, _ hi: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16(lowHalf: clamp(v.lowHalf, lo.lowHalf, hi.lowHalf), highHalf: clamp(v.highHalf, lo.highHalf, hi.highHalf))
    }
}
