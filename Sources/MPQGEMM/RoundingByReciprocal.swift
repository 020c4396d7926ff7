import CVectorLanes

/// The AVX-512 loop of fake quantization by a reciprocal (see `FakeQuantizer.ReciprocalRounding`, which proves it and
/// calls this only after a run-time AVX-512F check): sixteen lanes in one register, the same IEEE operations in the
/// same order as its eight-lane form, so each lane's value is bit-identical to it.
public enum RoundingByReciprocal {
    /// Fake-quantizes 16-lane vectors from the start of `source` (which may be `destination`) up to the first one
    /// with a lane near a rounding tie or not a number; returns how many values it did.
    ///
    /// `low` and `high` are the code range less the (integer) zero point; `bound` is half a step less the error
    /// bound of the reciprocal's product at the range's largest magnitude.
    public static func fakeQuantizeUntilTie(_ source: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, count: Int,
                                            reciprocal: Float, scale: Float, zeroPoint: Float, low: Float, high: Float,
                                            bound: Float) -> Int {
        typealias V = SIMD16<Float>
        let r = V(repeating: reciprocal), s = V(repeating: scale), z = V(repeating: zeroPoint)
        let lo = V(repeating: low), hi = V(repeating: high), limit = V(repeating: bound)
        let raw = UnsafeMutableRawPointer(p), input = UnsafeRawPointer(source)
        var i = 0
        while i + 16 <= count {
            let x = input.loadUnaligned(fromByteOffset: i &* 4, as: V.self)
            let c = mpq_clamp16(x * r, lo, hi)
            let n = c.rounded(.toNearestOrEven)
            let g = unsafeBitCast(unsafeBitCast(c - n, to: SIMD16<UInt32>.self) & 0x7fff_ffff, to: V.self)
            guard all(g .< limit) else { break }
            raw.storeBytes(of: (n + z - z) * s, toByteOffset: i &* 4, as: V.self)
            i &+= 16
        }
        return i
    }
}
