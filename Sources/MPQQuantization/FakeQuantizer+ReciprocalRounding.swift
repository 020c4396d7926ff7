import MPQGEMM
import MPQKernels

extension FakeQuantizer {
    /// Fake quantization by a product with the reciprocal where that provably rounds as the division does.
    ///
    /// The division bounds the kernel (one `vdivps` per 8 lanes); on the AVX-512 machine the loop below took a
    /// quantization pass over 1 MB in cache from 0.24 to 0.16 ns per value. x · (1/s) lies within |x/s| · 3u
    /// (u = 2⁻²⁴) of the correctly rounded x / s, so both round to the same integer unless the product is that close to
    /// a half-integer; then its 16-lane vector is quantized by division. Clamping before rounding (to the code range
    /// less the integer zero point) equals clamping after: the bounds are integers and rounding is monotone. From the
    /// rounded value on the steps are the division kernel's, so results are bit-identical to it, the sign of zero
    /// included; a NaN fails the test and is divided too.
    struct ReciprocalRounding {
        let scale: Float, reciprocal: Float, zeroPoint: Float
        /// The code range less the zero point: clamping here before rounding equals clamping the code after.
        let low: Float, high: Float
        /// Half a step less the error bound at the range's largest magnitude: a product whose distance from its
        /// rounded value is below this rounds as the quotient does.
        let bound: Float

        /// The largest code magnitude (less the zero point) it takes: 2¹⁰, where the bound is 0.5 − 2⁻¹¹ and about
        /// one 16-lane vector in 60 falls back to the division; wider grids (12 and 16 bits) divide.
        static let largestMagnitude: Float = 1024

        /// Whether the loop runs at all: only its AVX-512 form beats the division (one `vdivps` per 16 lanes against
        /// a dozen cheaper instructions); an eight-lane form measured slower than the division.
        static let isAvailable = GemmBackend.usesAVX512(unlessDisabledBy: "MPQ_RECIPROCAL_ROUNDING")

        /// Nil where the loop does not run, the reciprocal is not accurate to float precision (a scale or its
        /// reciprocal outside the normal range), the zero point is not an integer or the code range is too wide.
        init?(scale: Float, zeroPoint: Float, qmin: Float, qmax: Float) {
            let reciprocal = 1 / scale
            let (low, high) = (qmin - zeroPoint, qmax - zeroPoint)
            let largest = max(-low, high)
            guard Self.isAvailable, scale.isNormal, scale > 0, reciprocal.isNormal, zeroPoint == zeroPoint.rounded(),
                  largest <= Self.largestMagnitude else { return nil }
            self.scale = scale
            self.reciprocal = reciprocal
            self.zeroPoint = zeroPoint
            (self.low, self.high) = (low, high)
            // 2⁻²¹ > 3u relative (the reciprocal's, the product's and the quotient's rounding) with room for
            // subnormal results, at the largest |x / s| that is not clamped (one more than the range).
            bound = 0.5 - (largest + 1) * 0x1p-21
        }

        /// Quantizes 16-lane vectors from the start of `source` (which may be `destination`) up to the first one
        /// whose product lies near a rounding tie; returns how many values it did.
        @inline(__always)
        func fakeQuantizeUntilTie(_ source: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, count: Int) -> Int {
            RoundingByReciprocal.fakeQuantizeUntilTie(source, into: p, count: count, reciprocal: reciprocal, scale: scale,
                                                      zeroPoint: zeroPoint, low: low, high: high, bound: bound)
        }
    }
}
