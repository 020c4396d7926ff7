import Foundation
import Testing
@testable import MPQQuantization

@Suite struct VectorPowerTests {
    /// Against libm over magnitudes from 1e-4 to 1e4 (errors in quantization steps) and LAPQ's p values:
    /// float32's rounding of p · ln x bounds the relative error by about 1e-7 · |p · ln x|.
    @Test func matchesPowWithinFloatPrecisionOfTheExponent() {
        var rng = SeededGenerator(seed: 7)
        for p in stride(from: 1.0, through: 4.0, by: 2.0 / 9.0) {
            for _ in 0..<200 {
                var x = SIMD8<Float>()
                for k in 0..<8 { x[k] = Float(Foundation.pow(10, Double(rng.uniform()) * 8 - 4)) * (k % 2 == 0 ? 1 : -1) }
                let fast = VectorPower.power(x, Float(p))
                for k in 0..<8 {
                    let exact = Foundation.pow(Double(abs(x[k])), p)
                                        let bound = 1.5e-7 * (2 + abs(p * Foundation.log(Double(abs(x[k])))))
                    #expect(abs(Double(fast[k]) - exact) <= bound * exact, "|\(x[k])|^\(p): \(fast[k]) vs \(exact)")
                }
            }
        }
    }

    @Test func zeroAndTinyGiveZero() {
        let x = SIMD8<Float>(repeating: 0).replacing(with: 1e-38, where: SIMD8<Int32>(0, 1, 0, 1, 0, 1, 0, 1) .== 1)
        #expect(VectorPower.power(x, 2.5) == SIMD8<Float>(repeating: 0))
    }

    /// The SIMD mean error equals a Double-precision scalar reference for integer and fractional p.
    @Test func meanErrorMatchesScalarReference() throws {
        let values = LpClippingTests.samples("laplace", count: 10_007, seed: 3)
        for p in [2.0, 2.2222, 3.0, 3.5555, 4.0] {
            for bits in [4, 8] {
                let params = try QuantizationGrid.signedSymmetric(bits: bits).parameters(alpha: 2.5)
                var reference = 0.0
                for v in values {
                    let c = min(max(v * params.inverseScales[0] + params.zeroPoints[0], Float(params.qmin)), Float(params.qmax)).rounded(.toNearestOrEven)
                    reference += Foundation.pow(Double(abs((c - params.zeroPoints[0]) * params.scales[0] - v)), p)
                }
                reference /= Double(values.count)
                let fast = LpClipping.lpError(values, parameters: params, p: p)
                #expect(abs(fast - reference) <= 1e-5 * reference, "p \(p), \(bits) bits: \(fast) vs \(reference)")
            }
        }
    }
}
